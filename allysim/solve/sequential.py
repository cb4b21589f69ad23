"""Sequential play over a normal-form game: subgame-perfect equilibria and agent logit QRE.

A *stage order* splits the n players into stages, e.g. for the four-power model
``[["US"], ["Japan"], ["China", "NorthKorea"]]`` (docs/model.md, "The sequential
variant"): the players of a stage move simultaneously, and every stage observes
all moves of the earlier stages. The payoffs of each terminal history are the
normal-form payoffs ``payoffs[b, :, a1, ..., an]`` of the profile it spells out.

Histories and their numbering
-----------------------------
Let stage t's players be ``p_1, ..., p_m`` (in the order the stage lists them)
and ``A_t = s_{p_1} * ... * s_{p_m}`` their joint moves. A *history* at stage
t is the profile of all moves of stages ``0, ..., t-1``; there are
``H_t = A_0 * ... * A_{t-1}`` of them (``H_0 = 1``: the root), numbered in
row-major order over the earlier players in stage order, so the history after
``h`` and joint move ``a`` is ``h * A_t + a`` and a joint move is numbered
row-major over the stage's players. :func:`history_profile` decodes a number.

Solution concepts
-----------------
* :func:`subgame_perfect` -- backward induction in pure strategies. At every
  history the stage is a simultaneous game (its payoffs: the continuation
  payoffs of the later stages) solved for *all* its pure Nash equilibria with
  :func:`allysim.solve.pure_nash`, batched over games x histories. Where a
  stage game has several equilibria every selection is followed, so the result
  lists every pure SPE (up to ``max_equilibria``, then ``truncated``). Where a
  stage game on some branch has none, that branch has no pure SPE; a point with
  no pure SPE at all gets status ``no_pure`` (nothing is invented).
* :func:`agent_logit_qre` -- the agent logit QRE (McKelvey & Palfrey 1998):
  each player at each history is an agent with a logit response to its
  continuation values. Computed by backward induction: single-player stages
  are closed-form logit responses; a simultaneous stage is solved for its logit
  QRE on the principal branch (traced from lambda = 0), which is where the
  principal branch of the whole game's agent QRE restricts to each subgame.

Both verify their output independently of how they found it: the SPE through
the one-shot deviation principle with the shared certificate
:func:`allysim.solve.verify` on every stage game, the agent QRE through the
logit residual at every information set.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import ScenarioError, suggest
from ._profile import logit_residual, softmax
from ._status import STATUS
from .pure_nash import pure_nash
from .regret import DEFAULT_TOL, as_payoffs, payoff_scale, pure_to_mixed, regret, verify
from .result import Result, one_hot

__all__ = ["resolve_stages", "history_profile", "SubgamePerfectResult", "subgame_perfect",
           "spe_regret", "AgentQREResult", "agent_logit_qre"]

#: Default residual accepted for an agent QRE: max |sigma - logit(lambda Q)| over information sets.
QRE_TOL = 1e-10


def resolve_stages(stages: Sequence[Sequence[str | int]], players: Sequence[str] | int,
                   where: str = "resolve_stages(): stages") -> tuple[tuple[int, ...], ...]:
    """Check a stage order and turn it into player indices.

    Parameters
    ----------
    stages : list of stages, each a list of player names (or indices)
    players : the game's player names in axis order, or the number of players
    where : how the message names the input (default ``--stages``)

    Returns
    -------
    tuple of tuples of int: each player exactly once.

    Raises
    ------
    ScenarioError naming the unknown, missing or repeated player.

    >>> resolve_stages([["US"], ["Japan"], ["China", "NorthKorea"]],
    ...                ["US", "Japan", "China", "NorthKorea"])
    ((0,), (1,), (2, 3))
    """
    names = tuple(str(k) for k in range(players)) if isinstance(players, int) else tuple(players)
    text = ">".join(",".join(str(p) for p in stage) for stage in stages)
    out, seen = [], set()
    if not len(stages) or any(not len(stage) for stage in stages):
        raise ScenarioError(f"{where} {text!r}: expected stages of players, e.g. "
                            f"{'>'.join(names[:2])}{',' + ','.join(names[2:]) if len(names) > 2 else ''}")
    for stage in stages:
        idx = []
        for p in stage:
            if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
                if not 0 <= p < len(names):
                    raise ScenarioError(f"{where} {text!r}: player index {p} out of range; "
                                        f"expected 0..{len(names) - 1}")
                k = int(p)
            elif p in names:
                k = names.index(p)
            else:
                raise ScenarioError(f"{where} {text!r}: unknown player {p!r}{suggest(str(p), names)}; "
                                    f"expected one of {', '.join(names)}")
            if k in seen:
                raise ScenarioError(f"{where} {text!r}: player {names[k]!r} appears more than once; "
                                    "expected each player in exactly one stage")
            seen.add(k)
            idx.append(k)
        out.append(tuple(idx))
    missing = [names[k] for k in range(len(names)) if k not in seen]
    if missing:
        raise ScenarioError(f"{where} {text!r}: player(s) {', '.join(missing)} missing; "
                            f"expected every one of {', '.join(names)} in some stage")
    return tuple(out)


@dataclass(frozen=True)
class _Layout:
    shape: tuple[int, ...]                   # s_1..s_n in absolute player order
    stages: tuple[tuple[int, ...], ...]
    order: tuple[int, ...]                   # players in stage order
    stage_shapes: tuple[tuple[int, ...], ...]
    n_act: tuple[int, ...]                   # A_t
    n_hist: tuple[int, ...]                  # H_t; n_hist[T] = all profiles

    @property
    def stage_of(self) -> tuple[int, ...]:
        out = [0] * len(self.shape)
        for t, stage in enumerate(self.stages):
            for p in stage:
                out[p] = t
        return tuple(out)


def _layout(shape: tuple[int, ...], stages: tuple[tuple[int, ...], ...]) -> _Layout:
    stage_shapes = tuple(tuple(shape[p] for p in st) for st in stages)
    n_act = tuple(int(np.prod(s)) for s in stage_shapes)
    n_hist = tuple(int(np.prod(n_act[:t])) for t in range(len(stages) + 1))
    order = tuple(p for st in stages for p in st)
    return _Layout(tuple(shape), stages, order, stage_shapes, n_act, n_hist)


def _unravel(index, dims) -> tuple[np.ndarray, ...]:
    """``np.unravel_index`` by arithmetic. NumPy 2.4's ``unravel_index`` returns
    wrong values for arrays with a trailing length-1 axis and more than 8192
    elements (e.g. shape (9000, 1)), which is what batched histories look like."""
    index = np.asarray(index)
    out = []
    for d in reversed(tuple(dims)):
        out.append(index % d)
        index = index // d
    return tuple(reversed(out))


def history_profile(shape: Sequence[int], stages: Sequence[Sequence[int]], t: int,
                    h: int | np.ndarray) -> dict[int, np.ndarray]:
    """Decode history number(s) ``h`` at stage ``t`` into the earlier players' moves.

    Returns ``{player: move index}`` for every player of stages ``0..t-1``.

    >>> history_profile((3, 3, 3, 3), ((0,), (1,), (2, 3)), 2, 5)
    {0: 1, 1: 2}
    """
    lay = _layout(tuple(shape), tuple(tuple(s) for s in stages))
    players = [p for st in lay.stages[:t] for p in st]
    if not players:
        return {}
    moves = _unravel(h, [lay.shape[p] for p in players])
    return {p: (int(m) if np.ndim(m) == 0 else m) for p, m in zip(players, moves)}


def _terminal_values(payoffs: np.ndarray, lay: _Layout) -> np.ndarray:
    """(B, n, *S) -> (B, H_T, n): payoff vectors of every terminal history (stage order)."""
    B, n = payoffs.shape[:2]
    perm = np.transpose(payoffs, (0, 1) + tuple(2 + p for p in lay.order))
    return np.ascontiguousarray(perm.reshape(B, n, -1).transpose(0, 2, 1))


def _stage_games(values: np.ndarray, lay: _Layout, t: int) -> np.ndarray:
    """Continuation values ``(R, H_{t+1}, n)`` -> all players' stage games ``(R*H_t, n, *S_t)``."""
    R, _, n = values.shape
    g = values.reshape((R, lay.n_hist[t]) + lay.stage_shapes[t] + (n,))
    g = np.moveaxis(g, -1, 2)
    return np.ascontiguousarray(g.reshape((R * lay.n_hist[t], n) + lay.stage_shapes[t]))


@dataclass(frozen=True)
class SubgamePerfectResult(Result):
    """Pure subgame-perfect equilibria of B games under one stage order (the
    :mod:`~allysim.solve.result` contract: a solution is an SPE, its profile the path).

    Up to ``M = max(count)`` equilibria per point, in canonical order
    (lexicographic in the strategies, earliest stage first); slots beyond a
    point's ``count`` are padding (moves -1, payoffs NaN).

    Attributes
    ----------
    stages : the stage order, player indices
    shape : (s1, ..., sn)
    choices : tuple of n arrays; ``choices[i]: (B, M, H_t)`` int, player i's move
        at every history of its stage t (numbered as in the module docstring)
    pure : (B, M, n) int, the equilibrium path: the profile actually played
    payoff : (B, M, n) float, the payoffs on the path
    count : (B,) int, number of pure SPE found
    truncated : (B,) bool, enumeration stopped at ``max_equilibria`` (count is a lower bound)
    regret : (B, M) float, the certificate: the largest one-shot deviation gain
        at any history (0 at an exact SPE; NaN in padding)
    status : (B,) int8: ``ok``; ``degenerate`` (a stage game somewhere has a
        weak equilibrium, i.e. ties); ``no_pure`` (no pure SPE: some stage game
        on every branch has no pure equilibrium); ``timeout`` (none found before
        the enumeration bound); ``failed`` (an answer failed the certificate)
    parameters : ``tol``, ``max_equilibria``; method : ``"subgame_perfect"``

    Derived: ``profiles (B, M, S)``, the paths as 0/1 profiles; ``valid (B, M)``.
    """

    stages: tuple[tuple[int, ...], ...]
    shape: tuple[int, ...]
    choices: tuple[np.ndarray, ...]
    pure: np.ndarray
    payoff: np.ndarray
    count: np.ndarray
    truncated: np.ndarray
    regret: np.ndarray
    status: np.ndarray
    parameters: dict
    method: str = "subgame_perfect"

    @cached_property
    def profiles(self) -> np.ndarray:
        return one_hot(self.pure, self.shape)

    @property
    def valid(self) -> np.ndarray:
        """(B, M) bool: which slots hold an SPE."""
        return np.arange(self.pure.shape[1]) < self.count[:, None]

    def stage_choices(self, t: int) -> np.ndarray:
        """Stage t's moves as ``(B, M, H_t, m)``: every stage player's move at every history."""
        return np.stack([self.choices[p] for p in self.stages[t]], axis=-1)


def subgame_perfect(payoffs: np.ndarray, stages: Sequence[Sequence[int | str]],
                    *, tol: float = DEFAULT_TOL, max_equilibria: int = 256) -> SubgamePerfectResult:
    """All pure subgame-perfect equilibria of each game under a stage order.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    stages : list of stages, each a list of player indices (names only if the
        players are named ``"0"``, ``"1"``, ...; use :func:`resolve_stages` first)
    tol : float, default 1e-9, relative to the payoff scale of each stage game (and of
        the whole game for the certificate); best-response comparisons use it, and a
        tie within it counts as a tie
    max_equilibria : int, default 256; the enumeration of selections among
        several stage equilibria stops at this many SPE per point (``truncated``)

    Returns
    -------
    SubgamePerfectResult

    Examples
    --------
    Entry deterrence: the entrant (player 0) chooses Out or In, the incumbent
    (player 1) then Fight or Accommodate. The simultaneous game has two pure
    equilibria; backward induction keeps the one where the entrant enters and
    the incumbent accommodates. After Out the incumbent's move changes nothing,
    so it is a tie and both moves there are part of an SPE (two SPE, one path).

    >>> u = np.array([[[[0., 0.], [-1., 1.]], [[2., 2.], [-1., 1.]]]])
    >>> res = subgame_perfect(u, [[0], [1]])
    >>> res.count.tolist(), res.pure[0].tolist()
    ([2], [[1, 1], [1, 1]])
    >>> res.choices[1][0].tolist()        # incumbent after (Out, In)
    [[0, 1], [1, 1]]
    """
    if not tol >= 0:
        raise ValueError(f"subgame_perfect(): tol must be >= 0, got {tol}")
    if max_equilibria < 1:
        raise ValueError(f"subgame_perfect(): max_equilibria must be >= 1, got {max_equilibria}")
    payoffs = as_payoffs(payoffs, "subgame_perfect")
    B, n = payoffs.shape[:2]
    lay = _layout(payoffs.shape[2:], resolve_stages(stages, n, where="subgame_perfect(): stages"))
    T = len(lay.stages)
    values = _terminal_values(payoffs, lay)               # rows x H_{t+1} x n
    owner = np.arange(B)
    chosen: list[np.ndarray | None] = [None] * T           # per stage: (R, H_t) joint move
    degenerate = np.zeros(B, dtype=bool)
    truncated = np.zeros(B, dtype=bool)
    for t in reversed(range(T)):
        R, H, A = len(owner), lay.n_hist[t], lay.n_act[t]
        if R == 0:
            break
        games = _stage_games(values, lay, t)[:, list(lay.stages[t])]
        res = pure_nash(games, tol=tol)
        mask = res.mask.reshape(R, H, A)
        k = mask.sum(axis=2)                               # equilibria per history
        deg_rows = (res.status == STATUS["degenerate"]).reshape(R, H).any(axis=1)
        np.logical_or.at(degenerate, owner, deg_rows)
        # Equilibrium moves of each history, lexicographic, first k valid.
        eq_moves = np.argsort(~mask, axis=2, kind="stable")
        # Combinations per row (product of k over histories), capped.
        cap = max_equilibria + 1
        combos = np.ones(R, dtype=np.int64)
        for hh in range(H):
            combos = np.minimum(combos * k[:, hh], cap)
        # Keep at most max_equilibria per point (rows of a point are contiguous).
        before = np.cumsum(combos) - combos
        first = np.searchsorted(owner, owner, side="left")
        within = before - before[first]
        kept = np.clip(max_equilibria - within, 0, combos)
        np.logical_or.at(truncated, owner, kept < combos)
        parent = np.repeat(np.arange(R), kept)
        c = np.arange(len(parent)) - np.repeat(np.cumsum(kept) - kept, kept)
        digits = np.empty((len(parent), H), dtype=np.intp)
        kp = k[parent]
        for hh in reversed(range(H)):                      # first history varies slowest
            digits[:, hh] = c % kp[:, hh]
            c = c // kp[:, hh]
        moves = np.take_along_axis(eq_moves[parent], digits[:, :, None], axis=2)[:, :, 0]   # (R', H)
        nxt = values.reshape(R, H, A, n)[parent[:, None], np.arange(H)[None, :], moves]      # (R', H, n)
        owner = owner[parent]
        chosen = [c_[parent] if c_ is not None else None for c_ in chosen]
        chosen[t] = moves
        values = nxt
    R = len(owner)
    if R:
        # Canonical order per point: lexicographic in (stage 0 moves, stage 1 moves, ...).
        keys = np.concatenate([chosen[t] for t in range(T)], axis=1)
        order = np.lexsort(tuple(keys[:, ::-1].T) + (owner,))
        owner, keys = owner[order], keys[order]
        chosen = [c_[order] for c_ in chosen]
        values = values[order]
    count = np.bincount(owner, minlength=B).astype(np.int64)
    M = max(int(count.max()) if B else 0, 1)
    slot = np.arange(R) - (np.cumsum(count) - count)[owner]
    choices = []
    for p in range(n):
        t = lay.stage_of[p]
        j = lay.stages[t].index(p)
        arr = np.full((B, M, lay.n_hist[t]), -1, dtype=np.intp)
        if R:
            arr[owner, slot] = _unravel(chosen[t], lay.stage_shapes[t])[j]
        choices.append(arr)
    path = np.full((B, M, n), -1, dtype=np.intp)
    payoff = np.full((B, M, n), np.nan)
    if R:
        h = np.zeros(R, dtype=np.intp)
        for t in range(T):
            a = chosen[t][np.arange(R), h]
            moves = _unravel(a, lay.stage_shapes[t])
            for j, p in enumerate(lay.stages[t]):
                path[owner, slot, p] = moves[j]
            h = h * lay.n_act[t] + a
        payoff[owner, slot] = values[:, 0, :]
    reg = np.full((B, M), np.nan)
    if R:
        ch = tuple(c[owner, slot][:, None] for c in choices)
        r, ok = _spe_certificate(payoffs[owner], lay, ch, tol)
        reg[owner, slot] = r[:, 0]
        okp = np.ones(B, dtype=bool)
        np.logical_and.at(okp, owner, ok[:, 0])
        rows_path = path[owner, slot]                                    # (R, n)
        direct = payoffs[(owner[:, None], np.arange(n)[None, :])
                         + tuple(rows_path[:, p][:, None] for p in range(n))]
        slack = (tol * payoff_scale(payoffs))[owner][:, None]
        okp &= np.bincount(owner, weights=(np.abs(direct - values[:, 0, :]) > slack).any(axis=1),
                           minlength=B) == 0
    else:
        okp = np.ones(B, dtype=bool)
    status = np.full(B, STATUS["ok"], dtype=np.int8)
    status[degenerate] = STATUS["degenerate"]
    status[count == 0] = STATUS["no_pure"]
    status[(count == 0) & truncated] = STATUS["timeout"]
    status[~okp] = STATUS["failed"]
    return SubgamePerfectResult(stages=lay.stages, shape=lay.shape, choices=tuple(choices), pure=path,
                                payoff=payoff, count=count, truncated=truncated, regret=reg,
                                status=status, parameters={"tol": float(tol),
                                                           "max_equilibria": int(max_equilibria)})


def _follow(lay: _Layout, choices: tuple[np.ndarray, ...], t: int) -> np.ndarray:
    """Terminal profiles ``(R, K, H_t * A_t, n)`` reached from every (history, joint move)
    of stage t when the later stages follow ``choices`` (each ``(R, K, H_t')``)."""
    R, K = choices[0].shape[:2]
    n = len(lay.shape)
    nodes = lay.n_hist[t + 1]
    prof = np.zeros((R, K, nodes, n), dtype=np.intp)
    earlier = [p for st in lay.stages[:t + 1] for p in st]
    moves = _unravel(np.arange(nodes), [lay.shape[p] for p in earlier])
    for p, m in zip(earlier, moves):
        prof[..., p] = m
    h = np.broadcast_to(np.arange(nodes), (R, K, nodes))
    for s in range(t + 1, len(lay.stages)):
        a = 0
        for p in lay.stages[s]:
            mv = np.take_along_axis(choices[p], h, axis=2)
            prof[..., p] = mv
            a = a * lay.shape[p] + mv
        h = h * lay.n_act[s] + a
    return prof


def _spe_certificate(payoffs, lay, choices, tol):
    """One-shot deviation regret of pure strategies: (R, K) max gain, (R, K) verified."""
    R, K = choices[0].shape[:2]
    n = len(lay.shape)
    worst = np.zeros((R, K))
    ok = np.ones((R, K), dtype=bool)
    bidx = np.arange(R)[:, None, None]
    for t, stage in enumerate(lay.stages):
        prof = _follow(lay, choices, t)                          # (R, K, H*A, n)
        vals = payoffs[(bidx[..., None], np.arange(n)) + tuple(prof[..., p][..., None] for p in range(n))]
        # vals: (R, K, H*A, n) payoff vectors of each (history, joint move) under continuation
        H = lay.n_hist[t]
        g = vals.reshape((R * K, H) + lay.stage_shapes[t] + (n,))
        g = np.moveaxis(g, -1, 2)[:, :, list(stage)]
        g = np.ascontiguousarray(g.reshape((R * K * H, len(stage)) + lay.stage_shapes[t]))
        prof_t = np.stack([choices[p].reshape(R * K * H) for p in stage], axis=1)
        sigma = pure_to_mixed(prof_t, lay.stage_shapes[t])
        worst = np.maximum(worst, regret(g, sigma).max(axis=1).reshape(R, K, H).max(axis=2))
        ok &= verify(g, sigma, tol).reshape(R, K, H).all(axis=2)
    return worst, ok


def spe_regret(payoffs: np.ndarray, stages: Sequence[Sequence[int]], choices: Sequence[np.ndarray],
               tol: float = DEFAULT_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Certificate of pure strategies in the staged game (one-shot deviation principle).

    For every stage and history, the stage game whose payoffs are the
    continuation payoffs under ``choices`` (found by following the strategies
    forward to the terminal profile, not by backward induction) is checked with
    the shared :func:`allysim.solve.verify`.

    Parameters
    ----------
    payoffs : (B, n, s1, ..., sn)
    stages : stage order (player indices)
    choices : n arrays, ``choices[i]: (B, K, H_t)`` or ``(B, H_t)`` int
    tol : float, default 1e-9

    Returns
    -------
    regret : (B, K) (or (B,)) the largest gain of any player from a one-shot deviation at any history
    ok : same shape, bool: every stage game passes ``verify`` (an SPE within tol)

    >>> u = np.array([[[[0., 0.], [-1., 1.]], [[2., 2.], [-1., 1.]]]])
    >>> r, ok = spe_regret(u, [[0], [1]], [np.array([[0]]), np.array([[0, 0]])])
    >>> r.tolist(), ok.tolist()           # (Out; Fight after In) is Nash, not perfect
    ([2.0], [False])
    """
    payoffs = as_payoffs(payoffs, "spe_regret")
    n = payoffs.shape[1]
    lay = _layout(payoffs.shape[2:], resolve_stages(stages, n, where="spe_regret(): stages"))
    ch = [np.asarray(c, dtype=np.intp) for c in choices]
    squeeze = ch[0].ndim == 2
    if squeeze:
        ch = [c[:, None, :] for c in ch]
    for p, c in enumerate(ch):
        want = lay.n_hist[lay.stage_of[p]]
        if c.shape[2] != want or c.shape[0] != payoffs.shape[0]:
            raise ValueError(f"spe_regret(): choices[{p}] must have {want} histories per point, "
                             f"got shape {c.shape}")
    r, ok = _spe_certificate(payoffs, lay, tuple(ch), tol)
    return (r[:, 0], ok[:, 0]) if squeeze else (r, ok)


@dataclass(frozen=True)
class AgentQREResult(Result):
    """Agent logit QRE of B games under one stage order, at L precisions (the
    :mod:`~allysim.solve.result` contract: one slot per lambda, the solution's
    profile the move probabilities on the play of the game).

    Attributes
    ----------
    stages, shape : as in :class:`SubgamePerfectResult`
    lambdas : (L,) the precisions (raw payoff units, as Gambit)
    behaviour : tuple of n arrays; ``behaviour[i]: (B, L, H_t, s_i)``, player i's
        logit response at every history of its stage t
    outcome : (B, L, s1, ..., sn) probability of each terminal profile
    profiles : (B, L, s1 + ... + sn) each player's move probabilities on the
        play of the game (the outcome's marginals, e.g. P(China SEIZE))
    count : (B,) L
    payoff : (B, L, n) expected payoffs
    residual : (B, L) max |sigma - logit(lambda Q)| over every information set
    regret : (B, L) the largest gain any agent could make by a pure deviation at its
        information set (payoff units; it shrinks as lambda grows)
    lambda_status : (B, L) int8: ``ok``; ``bifurcation``/``not_converged`` from a
        simultaneous stage's trace; ``failed`` if the residual exceeds ``residual_tol``
    status : (B,) the largest code of ``lambda_status``
    parameters : ``residual_tol``, ``max_steps``; method ``"agent_logit_qre"``
    """

    stages: tuple[tuple[int, ...], ...]
    shape: tuple[int, ...]
    lambdas: np.ndarray
    behaviour: tuple[np.ndarray, ...]
    outcome: np.ndarray
    profiles: np.ndarray
    count: np.ndarray
    payoff: np.ndarray
    residual: np.ndarray
    regret: np.ndarray
    lambda_status: np.ndarray
    status: np.ndarray
    parameters: dict
    method: str = "agent_logit_qre"


def agent_logit_qre(payoffs: np.ndarray, stages: Sequence[Sequence[int]],
                    lambdas: float | Sequence[float], *, residual_tol: float = QRE_TOL,
                    max_steps: int = 1000) -> AgentQREResult:
    """Agent logit QRE of the staged game, by backward induction of logit responses.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    stages : stage order (player indices)
    lambdas : float or sequence of L floats >= 0, on raw payoffs (as Gambit)
    tol : float, default 1e-10; the largest logit residual
        max |sigma - logit(lambda Q)| accepted at any information set
    max_steps : per simultaneous stage game, cap on the branch tracer's steps

    Returns
    -------
    AgentQREResult

    Examples
    --------
    Entry deterrence at lambda = 1: after In the incumbent accommodates with
    probability e/(e + 1/e); after Out it is indifferent (1/2 each).

    >>> u = np.array([[[[0., 0.], [-1., 1.]], [[2., 2.], [-1., 1.]]]])
    >>> q = agent_logit_qre(u, [[0], [1]], 1.0)
    >>> np.round(q.behaviour[1][0, 0], 4).tolist()
    [[0.5, 0.5], [0.1192, 0.8808]]
    >>> round(float(q.profiles[0, 0, 1]), 4)   # P(entrant enters)
    0.6817
    """
    payoffs = as_payoffs(payoffs, "agent_logit_qre")
    lam = np.atleast_1d(np.asarray(lambdas, dtype=float))
    if lam.ndim != 1 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"agent_logit_qre(): lambdas must be finite numbers >= 0, got {lambdas!r}")
    tol = residual_tol
    if not tol > 0:
        raise ValueError(f"agent_logit_qre(): residual_tol must be > 0, got {tol}")
    B, n = payoffs.shape[:2]
    shape = payoffs.shape[2:]
    L = len(lam)
    lay = _layout(shape, resolve_stages(stages, n, where="agent_logit_qre(): stages"))
    T = len(lay.stages)
    # Treat (point, lambda) as one batch axis of B*L rows.
    rows_lam = np.tile(lam, B)
    values = np.repeat(_terminal_values(payoffs, lay), L, axis=0)  # (B*L, H_T, n)
    status = np.full(B * L, STATUS["ok"], dtype=np.int8)
    stage_sigma: list[np.ndarray | None] = [None] * T               # (B*L, H_t, A_t) joint probs
    behaviour: list[np.ndarray | None] = [None] * n
    for t in reversed(range(T)):
        H, A = lay.n_hist[t], lay.n_act[t]
        games = _stage_games(values, lay, t)                        # (BL*H, n, *S_t)
        stage = lay.stages[t]
        own = games[:, list(stage)]
        lam_h = np.repeat(rows_lam, H)
        if len(stage) == 1:
            sig = softmax(lam_h[:, None] * own[:, 0])
            st = np.zeros(len(sig), dtype=np.int8)
        else:
            sig, st = _stage_logit_qre(own, lam_h, max_steps)
        status = np.maximum(status, st.reshape(B * L, H).max(axis=1))
        blocks = np.split(sig, np.cumsum(lay.stage_shapes[t])[:-1], axis=1)
        joint = blocks[0]
        for b in blocks[1:]:
            joint = (joint[:, :, None] * b[:, None, :]).reshape(len(joint), -1)
        stage_sigma[t] = joint.reshape(B * L, H, A)
        for j, p in enumerate(stage):
            behaviour[p] = blocks[j].reshape(B, L, H, shape[p])
        values = np.einsum("rha,rhan->rhn", stage_sigma[t], values.reshape(B * L, H, A, n))
    # Outcome distribution: reach probabilities forward, then back to absolute axis order.
    reach = np.ones((B * L, 1))
    for t in range(T):
        reach = (reach[:, :, None] * stage_sigma[t]).reshape(B * L, -1)
    stage_order_shape = tuple(shape[p] for p in lay.order)
    outcome = reach.reshape((B, L) + stage_order_shape)
    outcome = np.transpose(outcome, (0, 1) + tuple(2 + lay.order.index(p) for p in range(n)))
    outcome = np.ascontiguousarray(outcome)
    marg = []
    for p in range(n):
        axes = tuple(2 + q for q in range(n) if q != p)
        marg.append(outcome.sum(axis=axes))
    marginals = np.concatenate(marg, axis=2)
    value = np.einsum("blk,bnk->bln", outcome.reshape(B, L, -1), payoffs.reshape(B, n, -1))
    residual, agent_regret = _agent_residual(payoffs, lay, tuple(behaviour), lam)
    status = status.reshape(B, L)
    status[(residual > tol) & (status == STATUS["ok"])] = STATUS["failed"]
    return AgentQREResult(stages=lay.stages, shape=lay.shape, lambdas=lam, behaviour=tuple(behaviour),
                          outcome=outcome, profiles=marginals, count=np.full(B, L, dtype=np.int64),
                          payoff=value, residual=residual, regret=agent_regret,
                          lambda_status=status, status=status.max(axis=1, initial=0),
                          parameters={"residual_tol": float(tol), "max_steps": int(max_steps)})


def _stage_logit_qre(games: np.ndarray, lam: np.ndarray, max_steps: int):
    """Logit QRE of each simultaneous stage game at its own row's precision.

    games: (R, m, *S) the stage's players only; lam: (R,). Rows sharing a
    lambda go to :func:`allysim.solve.logit_qre.logit_qre` together (its answer
    for a game does not depend on the rest of its batch). Returns
    ``sigma (R, sum S)`` and ``status (R,)``.
    """
    from .logit_qre import logit_qre

    sigma = np.empty((len(games), int(sum(games.shape[2:]))))
    status = np.empty(len(games), dtype=np.int8)
    for value in np.unique(lam):
        rows = np.flatnonzero(lam == value)
        res = logit_qre(games[rows], [float(value)], max_steps=max_steps)
        sigma[rows], status[rows] = res.profiles[:, 0], res.lambda_status[:, 0]
    return sigma, status


def _agent_residual(payoffs, lay, behaviour, lam):
    """max |sigma - logit(lambda Q)| and the largest agent regret over all information
    sets, recomputed from the behaviour alone: continuation values by expectation from
    the terminal payoffs. Returns two (B, L)."""
    B, n = payoffs.shape[:2]
    L = len(lam)
    T = len(lay.stages)
    values = np.repeat(_terminal_values(payoffs, lay), L, axis=0)
    worst = np.zeros(B * L)
    gain = np.zeros(B * L)
    for t in reversed(range(T)):
        H = lay.n_hist[t]
        stage = lay.stages[t]
        games = _stage_games(values, lay, t)
        own = np.ascontiguousarray(games[:, list(stage)])
        sig = np.concatenate([behaviour[p].reshape(B * L * H, lay.shape[p]) for p in stage], axis=1)
        res = logit_residual(own, sig, np.repeat(np.tile(lam, B), H))
        worst = np.maximum(worst, res.reshape(B * L, H).max(axis=1))
        gain = np.maximum(gain, regret(own, sig).max(axis=1).reshape(B * L, H).max(axis=1))
        joint = np.ones((B * L * H, 1))
        for p in stage:
            joint = (joint[:, :, None] * behaviour[p].reshape(B * L * H, 1, lay.shape[p])).reshape(B * L * H, -1)
        values = np.einsum("rha,rhan->rhn", joint.reshape(B * L, H, -1),
                           values.reshape(B * L, H, lay.n_act[t], n))
    return worst.reshape(B, L), gain.reshape(B, L)
