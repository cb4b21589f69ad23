"""Mixed Nash equilibria of n-player games: a certified search from many starts.

The maths
---------
A mixed profile ``sigma = (sigma_1, ..., sigma_n)`` (``(S,)`` with
``S = s1 + ... + sn``, player blocks in order) is a Nash equilibrium with
supports ``T_i`` when, for every player i,

    v_ik(sigma) = v_ir(sigma)    for k in T_i  (r the first strategy of T_i)
    sigma_ik = 0                 for k not in T_i,      sum_k sigma_ik = 1,

``sigma >= 0`` and no strategy outside ``T_i`` is worth more than ``v_ir``.
Here ``v_ik`` is player i's expected payoff from strategy k against the
others' mixes (:func:`allysim.solve.strategy_values`). The equations are S
polynomial (multilinear) equations in S unknowns; for two players they are
linear, which is why two-player games are solved exactly by
:func:`allysim.solve.support_enumeration` instead.

The search
----------
With three or more players that have a choice, equilibria are searched for
from many starts, all batched over games and starts:

* ``pure``: the pure equilibria (:func:`allysim.solve.pure_nash`);
* ``qre``: the limit of the principal logit QRE branch
  (:func:`allysim.solve.logit_qre.logit_trace`, when that module is present);
* ``random``: ``n_random`` profiles drawn uniformly from the product of
  simplices (the same draws for every game of the batch, so a batch equals a
  loop), each first moved downhill on Gambit's Lyapunov function
  ``L = sum_ik max(0, v_ik - u_i)^2`` by projected gradient steps;
* ``supports``: when there are at most ``max_supports`` support profiles, every
  one of them, from the uniform profile on it (Porter, Nudelman & Shoham 2008
  enumerate supports in the same way);
* ``gnm``: the global Newton method of Govindan & Wilson (2003), as Gambit's
  ``gnm``, along ``n_rays`` random rays (the same for every game): each path
  from a pure profile that a large perturbation makes dominant crosses the game
  at every equilibrium it meets (:mod:`allysim.solve._global_newton`);
* ``polymatrix``: in games detected to be polymatrix (pairwise interactions,
  exactly up to rounding), every support profile with at most
  ``max_polymatrix_supports`` profiles, each a *linear* system solved exactly
  (:mod:`allysim.solve._polymatrix`); where no support system that could hold
  an equilibrium is singular, the list is complete (``complete``).

Each start gives a candidate support (its strategies with probability at least
1e-3 of the player's largest), and Newton's method, damped in the
Levenberg-Marquardt way so that singular Jacobians do no harm, solves the
equations above on it. A result counts only if it is a mixed profile whose max
regret (:func:`allysim.solve.verify`) is at most ``tol``. Results are
deduplicated and sorted canonically (descending lexicographic).

A search is not an enumeration: for three or more players it can miss
equilibria (polymatrix games aside). ``searched`` says how many starts of each
kind were tried and ``converged`` how many gave a certified equilibrium. An
equilibrium is ``regular`` when its equation Jacobian is nonsingular and no
strategy outside its support is a best reply; a game with an irregular
equilibrium gets status ``degenerate`` and a
:class:`~allysim.errors.DegenerateGameWarning`.

Continua
--------
In a degenerate game the search lands on many points of a connected set of
equilibria. Their sets are walked (:mod:`allysim.solve._components`): one
player's polytope of moves (exact vertex enumeration), the pieces and edges
of the set through each vertex (traced numerically), certified straight
segments. Each set found is then reported once: by the extreme points the
walk reached (sample points shown to lie strictly inside a segment or curve of
equilibria are dropped), under one ``component`` label, with its dimension and a
representative. Labels are sound (points with one label are joined by a walked
path of equilibria); a set the search never landed on is missing, and a walk
stopped at ``max_component_points`` (``components_capped``) may leave one set
under two labels.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import product
from math import comb

import numpy as np

from ..errors import DegenerateGameWarning
from ._status import STATUS
from .pure_nash import pure_nash
from ._backend import check_backend
from ._profile import Layout as _Layout
from ._profile import cross_values as _cross_values
from ._profile import support_equations
from ._seed import as_generator, seed_record
from .regret import as_payoffs, pure_to_mixed, regret, verify
from .result import Result
from .support_enumeration import _dedupe as _pairwise_dedupe
from .support_enumeration import support_enumeration

#: Default certificate: every equilibrium returned has max regret <= this (payoff units).
MIXED_TOL = 1e-8

#: The kinds of start, in the order they are tried.
START_KINDS: tuple[str, ...] = ("pure", "qre", "random", "supports", "gnm", "polymatrix")

_SUPPORT = 1e-3      # a strategy is in a start's support if p >= this x its player's largest p
_SAME = 1e-6         # equilibria closer than this (max abs difference) are one
_RESIDUAL = 1e-12    # Newton stops when max |F| <= this (payoffs scaled to [0, 1])
_CHUNK = 4096        # candidates per Newton batch
_BLOCK = 64          # games searched together (bounds the memory of the support starts)
_SINGULAR = 1e-9     # smallest / largest singular value of the Jacobian below this: singular
_ZERO = 1e-10        # probabilities below this in a Newton result are zeros
_STALL = 8           # Newton gives up on a start whose residual has not halved in this many steps


@dataclass(frozen=True)
class MixedNashResult(Result):
    """Mixed Nash equilibria of B games (the :mod:`~allysim.solve.result` contract).

    Attributes
    ----------
    profiles : ndarray of float, shape (B, K, s1 + ... + sn)
        Game ``b``'s equilibria in ``profiles[b, :count[b]]``, canonical order
        (descending lexicographic: pure profiles on earlier strategies first);
        NaN beyond ``count[b]``. ``K = max(count)`` (at least 1).
    count : ndarray of int64, shape (B,)
    regret : ndarray of float, shape (B, K)
        Max regret of each equilibrium (payoff units), <= ``tol * payoff_scale`` (the
        certificate); NaN padding.
    regular : ndarray of bool, shape (B, K)
        Nonsingular equation Jacobian and no unused best reply. For games solved
        by support enumeration: the game is nondegenerate.
    component : ndarray of int64, shape (B, K)
        Labels 0, 1, ... per game, numbered in canonical order; equilibria with one
        label lie in one connected set of equilibria. Two players: exact (see
        :class:`SupportEnumerationResult`). Search: joined by a walked path of
        equilibria (see Continua above). -1 padding.
    status : ndarray of int8, shape (B,)
        ``ok``; ``degenerate`` (some equilibrium is not regular; for two players,
        see :class:`SupportEnumerationResult`); ``not_converged`` (the search
        found nothing).
    complete : ndarray of bool, shape (B,)
        True where the list is provably every equilibrium (two players with a
        choice, nondegenerate: support enumeration) or every extreme equilibrium
        (degenerate two-player game); False for a search.
    continuum : ndarray of bool, shape (B,)
        A connected set of equilibria that is not a point was found
        (``component_dimension >= 1``).
    searched : dict of str -> ndarray of int64, shape (B,)
        Starts tried per kind (``pure``, ``qre``, ``random``, ``supports``, ``gnm``:
        the crossings of the global Newton paths, ``polymatrix``: the support
        systems solved), with ``supports_pruned`` and ``polymatrix_pruned``
        (support profiles skipped: conditionally dominated), ``gnm_rays`` and
        ``gnm_unfinished`` (paths that did not reach their far end); or
        ``{"support_pairs": ...}`` for support enumeration.
    converged : dict of str -> ndarray of int64, shape (B,)
        Starts of each kind that ended at a certified equilibrium (before
        deduplication).
    n_components : ndarray of int64, shape (B,)
        Connected sets of equilibria found (each listed once).
    component_dimension : ndarray of int64, shape (B, C)
        Per label, the largest local dimension found in the set: 0 for an isolated
        equilibrium (-1 padding). Two players: the affine dimension of its extreme
        equilibria (its dimension when the set is convex, an upper bound otherwise).
    component_representative : ndarray of int64, shape (B, C)
        Per label, the index (into ``equilibria(b)``) of its first equilibrium.
    component_traced : ndarray of bool, shape (B, C)
        Some of the set's points were joined by a numerically traced curve rather
        than an exact or certified segment.
    components_capped : ndarray of bool, shape (B,)
        The walk stopped at ``max_component_points`` new points.
    shape : (s1, ..., sn)
    parameters : ``tol``, ``n_random``, ``max_supports``, ``support_starts``, ``n_rays``,
        ``max_polymatrix_supports``, ``max_component_points``, ``seed``, ``backend``
    method : ``"search"`` or ``"support_enumeration"`` (two players with a choice).
    notes : tuple of str, e.g. why the QRE starts were not used.
    """

    profiles: np.ndarray
    count: np.ndarray
    regret: np.ndarray
    regular: np.ndarray
    component: np.ndarray
    status: np.ndarray
    complete: np.ndarray
    continuum: np.ndarray
    searched: dict = field(repr=False)
    converged: dict = field(repr=False)
    shape: tuple[int, ...] = ()
    parameters: dict = field(default_factory=dict)
    method: str = "search"
    notes: tuple[str, ...] = ()
    n_components: np.ndarray | None = field(default=None, repr=False)
    component_dimension: np.ndarray | None = field(default=None, repr=False)
    component_representative: np.ndarray | None = field(default=None, repr=False)
    component_traced: np.ndarray | None = field(default=None, repr=False)
    components_capped: np.ndarray | None = field(default=None, repr=False)


# ----------------------------------------------------------------------------- helpers

def _project(x: np.ndarray, lay: _Layout) -> np.ndarray:
    """Euclidean projection of each player's block of ``x: (C, S)`` onto its simplex."""
    out = np.empty_like(x)
    for i in range(lay.n):
        y = x[:, lay.offsets[i]:lay.offsets[i + 1]]
        s = y.shape[1]
        srt = -np.sort(-y, axis=1)
        css = np.cumsum(srt, axis=1) - 1.0
        ind = np.arange(1, s + 1)
        rho = (srt - css / ind > 0).sum(axis=1)
        theta = css[np.arange(len(y)), rho - 1] / rho
        out[:, lay.offsets[i]:lay.offsets[i + 1]] = np.maximum(y - theta[:, None], 0.0)
    return out


def _lyapunov(u: np.ndarray, sigma: np.ndarray, lay: _Layout):
    """Gambit's Lyapunov function ``L (C,)`` and its gradient ``(C, S)`` at ``sigma``."""
    W, v = _cross_values(u, sigma, lay)
    payoff = lay.block_sum(sigma * v)
    r = np.maximum(v - payoff, 0.0)
    R = lay.block_sum(r)
    w = r - R * sigma
    grad = 2.0 * np.einsum("zk,zkl->zl", w, W) - 2.0 * R * v
    return (r ** 2).sum(axis=1), grad


def _descend(u: np.ndarray, sigma: np.ndarray, lay: _Layout, steps: int = 150) -> np.ndarray:
    """Projected gradient descent on the Lyapunov function, batched, with a step
    size per start that grows after a success and shrinks after a failure."""
    L, g = _lyapunov(u, sigma, lay)
    eta = np.full(len(sigma), 0.5)
    for _ in range(steps):
        trial = _project(sigma - eta[:, None] * g, lay)
        L2, g2 = _lyapunov(u, trial, lay)
        better = (L2 < L) & (L > 1e-20)   # solved starts stay put: no batch dependence
        sigma = np.where(better[:, None], trial, sigma)
        g = np.where(better[:, None], g2, g)
        L = np.where(better, L2, L)
        eta = np.where(better, eta * 1.5, eta * 0.3)
        if (L <= 1e-20).all():
            break
    return sigma


def _support_of(sigma: np.ndarray, lay: _Layout) -> np.ndarray:
    """The support a profile suggests: bool ``(C, S)``."""
    return sigma >= _SUPPORT * lay.block_max(sigma)


def _equations(u, sigma, supp, first, lay):
    """Residual ``F (C, S)`` and Jacobian ``(C, S, S)`` of the support equations."""
    W, v = _cross_values(u, sigma, lay)
    return support_equations(W, v, sigma, supp, first, lay)


def _newton(u, sigma0, supp, lay: _Layout, max_iter: int = 60):
    """Levenberg-Marquardt-damped Newton on the support equations, batched.

    u : (C, n, *S) payoffs scaled to [0, 1]; sigma0, supp : (C, S).
    Returns the profiles ``(C, S)`` and whether each converged ``(C,)``.
    """
    C = len(sigma0)
    sigma = lay.normalise(np.where(supp, sigma0, 0.0))
    first = lay.first(supp)
    converged = np.zeros(C, dtype=bool)
    going = np.arange(C)
    eye = np.eye(lay.size)
    best = np.full(C, np.inf)         # smallest residual so far ...
    since = np.zeros(C, dtype=np.intp)  # ... and iterations since it last halved
    for _ in range(max_iter):
        if going.size == 0:
            break
        F, J = _equations(u[going], sigma[going], supp[going], first[going], lay)
        res = np.abs(F).max(axis=1)
        done = res <= _RESIDUAL
        converged[going[done]] = True
        halved = res <= 0.5 * best[going]
        best[going] = np.where(halved, res, best[going])
        since[going] = np.where(halved, 0, since[going] + 1)
        # Stop where solved, or where Newton has stalled (no root near this start).
        keep = ~done & (since[going] < _STALL)
        going, F, J, res = going[keep], F[keep], J[keep], res[keep]
        if going.size == 0:
            break
        Jt = np.swapaxes(J, 1, 2)
        mu = (res ** 2 + 1e-14)[:, None, None]
        step = -np.linalg.solve(Jt @ J + mu * eye, (Jt @ F[:, :, None]))[:, :, 0]
        size = np.abs(step).max(axis=1)
        step *= np.minimum(1.0, 0.5 / np.maximum(size, 1e-300))[:, None]
        sigma[going] += step
        alive = np.isfinite(sigma[going]).all(axis=1) & (np.abs(sigma[going]).max(axis=1) < 10)
        going = going[alive]
    return sigma, converged


def _regularity(u, sigma, lay: _Layout, tol) -> tuple[np.ndarray, np.ndarray]:
    """For equilibria ``sigma (E, S)`` of scaled payoffs ``u (E, n, *S)``: whether the
    support equations' Jacobian is nonsingular, and whether a strategy outside the
    support is a best reply (within ``tol``, broadcast against ``(E, S)``)."""
    if len(sigma) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    supp = sigma > 0
    first = lay.first(supp)
    _, J = _equations(u, sigma, supp, first, lay)
    sv = np.linalg.svd(J, compute_uv=False)
    nonsingular = sv[:, -1] > _SINGULAR * sv[:, 0]
    _, v = _cross_values(u, sigma, lay)
    unused_best = (~supp & (v >= lay.block_max(v) - tol)).any(axis=1)
    return nonsingular, unused_best


def _undominated(u: np.ndarray, supp: np.ndarray, lay: _Layout, tol: float) -> np.ndarray:
    """Which support profiles survive conditional dominance (Porter et al. 2008):
    no support strategy of any player is strictly worse, by more than ``tol``,
    than another of its strategies against every profile of the others' supports.

    u : (C, n, *S) payoffs; supp : (C, S) bool. Returns bool ``(C,)``.
    """
    C, n = u.shape[:2]
    ok = np.ones(C, dtype=bool)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        ui = np.moveaxis(u[:, i], i + 1, 1).reshape(C, lay.shape[i], -1)      # (C, s_i, prod s_-i)
        mask = np.ones((C, 1), dtype=bool)
        for j in others:  # the others' support profiles, in their axis order
            sj = supp[:, lay.offsets[j]:lay.offsets[j + 1]]
            mask = (mask[:, :, None] & sj[:, None, :]).reshape(C, -1)
        diff = ui[:, :, None, :] - ui[:, None, :, :]                           # (C, k', k, a)
        worst = np.where(mask[:, None, None, :], diff, np.inf).min(axis=-1)     # (C, k', k)
        dominated = (worst > tol).any(axis=1)                                   # (C, k)
        ok &= ~(dominated & supp[:, lay.offsets[i]:lay.offsets[i + 1]]).any(axis=1)
    return ok


def _support_profiles(shape: tuple[int, ...]) -> np.ndarray:
    """Every support profile: bool ``(prod(2^s_i - 1), S)``."""
    per_player = [[np.array(bits, dtype=bool) for bits in product([False, True], repeat=s) if any(bits)]
                  for s in shape]
    return np.array([np.concatenate(p) for p in product(*per_player)])


def _qre_starts(payoffs: np.ndarray, notes: list[str], backend: str):
    """Limits of the principal logit branches ``(B, S)`` and which exist ``(B,)``,
    from :func:`allysim.solve.logit_qre.logit_trace` if that is available."""
    try:
        from .logit_trace import logit_trace  # lazy: it imports this module's neighbours
    except ImportError as exc:
        if f"qre starts not used: {exc}" not in notes:
            notes.append(f"qre starts not used: {exc}")
        return None
    try:
        res = logit_trace(payoffs, backend=backend)
        prof = np.asarray(res.profiles[:, 0], dtype=float)
        ok = np.isfinite(prof).all(axis=1)
        return prof, ok
    except Exception as exc:  # the QRE module's failure must not sink the search
        note = f"qre starts not used: logit_trace failed ({type(exc).__name__}: {exc})"
        if note not in notes:
            notes.append(note)
        return None


# ----------------------------------------------------------------------------- the two paths

def _two_player(payoffs: np.ndarray, active: list[int], tol: float, backend: str):
    """Games where at most two players have a choice: support enumeration on the
    reduced two-player game, mapped back to full profiles."""
    B, n = payoffs.shape[:2]
    shape = payoffs.shape[2:]
    lay = _Layout(shape)
    # The two players kept: the active ones, filled up with fixed ones (or a dummy).
    pair = sorted((active + [i for i in range(n) if i not in active])[:2])
    sizes = [shape[i] for i in pair] + [1] * (2 - len(pair))
    reduced = np.zeros((B, 2, sizes[0], sizes[1]))
    for slot, i in enumerate(pair):
        reduced[:, slot] = payoffs[:, i].reshape(B, sizes[0], sizes[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)
        res = support_enumeration(reduced, tol=tol, backend=backend)
    m = sizes[0]
    eqs = np.full(res.profiles.shape[:2] + (lay.size,), np.nan)
    found = np.isfinite(res.profiles[:, :, :1])
    for i in range(n):
        lo, hi = lay.offsets[i], lay.offsets[i + 1]
        if i == pair[0]:
            eqs[:, :, lo:hi] = res.profiles[:, :, :m]
        elif len(pair) > 1 and i == pair[1]:
            eqs[:, :, lo:hi] = res.profiles[:, :, m:]
        else:
            eqs[:, :, lo:hi] = np.where(found, 1.0, np.nan)
    valid = np.arange(eqs.shape[1]) < res.count[:, None]
    regular = valid & (res.status == STATUS["ok"])[:, None]
    pairs = sum(comb(sizes[0], k) * comb(sizes[1], k) for k in range(1, min(sizes) + 1))
    searched = {"support_pairs": np.full(B, pairs, dtype=np.int64)}
    converged = {"support_pairs": res.count.copy()}
    return (eqs, res.count, res.regret, regular, res.component, res.status,
            np.ones(B, dtype=bool), res.continuum, searched, converged)


def _scaled(payoffs: np.ndarray) -> np.ndarray:
    """Each game's payoffs mapped onto [0, 1] (equilibria are unchanged)."""
    B = payoffs.shape[0]
    flat = payoffs.reshape(B, -1)
    lo, spread = flat.min(axis=1), np.ptp(flat, axis=1)
    spread = np.where(spread > 0, spread, 1.0)
    expand = (B,) + (1,) * (payoffs.ndim - 1)
    return (payoffs - lo.reshape(expand)) / spread.reshape(expand)


def _search(payoffs, tol, random_draws, support_draws, max_supports, notes, backend,
            ray_draws=None, max_polymatrix_supports=0):
    """The n-player search on a block of games; returns flat certified equilibria
    (game index within the block, profile) and per-kind counts ``(B,)``.

    random_draws : (n_random, S) random starts, the same for every game.
    support_draws : (support_starts - 1, n_support_profiles, S) weights of the
        random starts on each support profile, the same for every game.
    """
    B = payoffs.shape[0]
    shape = payoffs.shape[2:]
    lay = _Layout(shape)
    scaled = _scaled(payoffs)

    cand_game, cand_start, cand_supp, cand_kind = [], [], [], []
    searched = {k: np.zeros(B, dtype=np.int64) for k in START_KINDS}

    def add(kind, games, starts, supports):
        cand_game.append(games)
        cand_start.append(starts)
        cand_supp.append(supports)
        cand_kind.append(np.full(len(games), START_KINDS.index(kind)))
        np.add.at(searched[kind], games, 1)

    # Pure equilibria.
    pn = pure_nash(payoffs, tol=tol)
    idx = np.argwhere(pn.mask)
    if len(idx):
        start = pure_to_mixed(idx[:, 1:], shape)
        add("pure", idx[:, 0], start, start > 0)
    # QRE limits.
    q = _qre_starts(payoffs, notes, backend)
    if q is not None:
        prof, ok = q
        games = np.flatnonzero(ok)
        if games.size:
            p = np.clip(prof[games], 0.0, None)
            add("qre", games, p, _support_of(p, lay))
    # Random starts, the same for every game, moved downhill first.
    n_random = len(random_draws)
    if n_random:
        games = np.repeat(np.arange(B), n_random)
        starts = np.tile(random_draws, (B, 1))
        for c in range(0, len(games), _CHUNK):
            sl = slice(c, c + _CHUNK)
            starts[sl] = _descend(scaled[games[sl]], starts[sl], lay)
        add("random", games, starts, _support_of(starts, lay))
    # Every support profile, from its uniform profile.
    n_supports = int(np.prod([2 ** s - 1 for s in shape], dtype=np.float64))
    if n_supports <= max_supports:
        supports = _support_profiles(shape)
        which = np.tile(np.arange(len(supports)), B)
        games = np.repeat(np.arange(B), len(supports))
        supp = supports[which]
        alive = np.zeros(len(games), dtype=bool)
        for c in range(0, len(games), _CHUNK):
            sl = slice(c, c + _CHUNK)
            alive[sl] = _undominated(scaled[games[sl]], supp[sl], lay, 1e-12)
        searched["supports_pruned"] = np.bincount(games[~alive], minlength=B).astype(np.int64)
        games, supp, which = games[alive], supp[alive], which[alive]
        # The uniform profile on each support, then random ones, the same for every
        # game (a support can hold several equilibria: Newton finds the one whose
        # basin holds its start).
        for st in [supp.astype(float)] + [d[which] * supp for d in support_draws]:
            add("supports", games, lay.normalise(st), supp)
    else:
        searched["supports_pruned"] = np.zeros(B, dtype=np.int64)
        note = (f"supports not enumerated: {n_supports} support profiles > "
                f"max_supports={max_supports}")
        if note not in notes:
            notes.append(note)

    # ---- begin n-player start kinds (issue 14): global Newton rays, polymatrix enumeration ----
    from . import _global_newton, _polymatrix   # lazy: both import this module's helpers
    g, sg, sp, unfinished = _global_newton.candidates(
        scaled, ray_draws if ray_draws is not None else np.zeros((0, lay.size)))
    add("gnm", g, sg, sp)
    searched["gnm_rays"] = np.full(B, 0 if ray_draws is None else len(ray_draws), dtype=np.int64)
    searched["gnm_unfinished"] = unfinished
    g, sg, sp, solved, pruned, poly_complete = _polymatrix.candidates(payoffs, max_polymatrix_supports)
    add("polymatrix", g, sg, sp)
    searched["polymatrix"] = solved          # support systems solved, not candidates
    searched["polymatrix_pruned"] = pruned
    if _polymatrix.count_profiles(shape) > max_polymatrix_supports:
        note = (f"polymatrix supports not enumerated: {_polymatrix.count_profiles(shape)} support "
                f"profiles > max_polymatrix_supports={max_polymatrix_supports}")
        if note not in notes:
            notes.append(note)
    # ---- end n-player start kinds ----

    game = np.concatenate(cand_game)
    start = np.concatenate(cand_start)
    supp = np.concatenate(cand_supp)
    kind = np.concatenate(cand_kind)
    sigma = np.empty_like(start)
    conv = np.zeros(len(game), dtype=bool)
    for c in range(0, len(game), _CHUNK):
        sl = slice(c, c + _CHUNK)
        sigma[sl], conv[sl] = _newton(scaled[game[sl]], start[sl], supp[sl], lay)
    # Certify: a mixed profile (tiny negatives are rounding) with max regret <= tol.
    conv &= (sigma >= -1e-9).all(axis=1)
    sigma = np.where(conv[:, None], np.clip(sigma, 0.0, None), 0.0)
    sigma[sigma < _ZERO] = 0.0   # a boundary root of a larger support: drop the ~0 entries
    sigma[conv] = lay.normalise(sigma[conv])
    good = np.flatnonzero(conv)
    good = good[verify(payoffs[game[good]], sigma[good], tol)]
    converged = {k: np.bincount(game[good][kind[good] == i], minlength=B).astype(np.int64)
                 for i, k in enumerate(START_KINDS)}
    return game[good], sigma[good], kind[good], searched, converged, poly_complete


def _dedupe(game: np.ndarray, sigma: np.ndarray, n_games: int) -> np.ndarray:
    """Indices of the first of each group of equilibria of one game within ``_SAME``."""
    if game.size == 0:
        return np.zeros(0, dtype=np.intp)
    # Collapse exact repeats (the usual case) first, then compare the rest pairwise.
    _, first = np.unique(np.column_stack([game, np.round(sigma, 10)]), axis=0, return_index=True)
    first = np.sort(first)
    keep = _pairwise_dedupe(game[first], sigma[first], n_games, _SAME)
    return first[keep]


# ----------------------------------------------------------------------------- public

def mixed_nash(payoffs: np.ndarray, *, tol: float = MIXED_TOL, seed=0, n_random: int = 16,
               max_supports: int = 4096, support_starts: int = 8, n_rays: int = 8,
               max_polymatrix_supports: int = 1 << 20, max_component_points: int = 500,
               backend: str = "auto") -> MixedNashResult:
    """Mixed Nash equilibria of each game in a batch, each certified by its regret.

    Games in which at most two players have more than one strategy (e.g. a
    four-power game with two players fixed by :meth:`allysim.game.Game.restrict`)
    are solved completely by :func:`support_enumeration` on the two-player game.
    Others are searched from pure equilibria, the logit QRE limit, ``n_random``
    random starts, (when there are at most ``max_supports``) every support
    profile, the crossings of ``n_rays`` global Newton paths and, in polymatrix
    games, every support profile's linear system, each refined by Newton's
    method on its support equations. The sets of equilibria of degenerate games
    are walked, and each is listed once (see Continua in the module docstring).

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    tol : float, default 1e-8
        Certificate, relative to each game's :func:`~allysim.solve.payoff_scale`: every
        equilibrium returned has max regret <= tol * scale; also the best-reply
        tolerance for pure starts and ties.
    seed : int, SeedSequence, Generator or None, default 0
        For the random starts (see :func:`as_generator`).
    n_random : int, default 16
        Random starts per game.
    max_supports : int, default 4096
        Enumerate support profiles only if there are at most this many (the
        four-power model has 7^4 = 2401). Profiles in which a player's support
        strategy is conditionally dominated are skipped.
    support_starts : int, default 8
        Newton starts per support profile: its uniform profile and
        ``support_starts - 1`` random ones.
    n_rays : int, default 8
        Global Newton paths per game (random rays, the same for every game).
    max_polymatrix_supports : int, default 2**20
        Enumerate the support profiles of a polymatrix game only if there are at
        most this many (big_polym, 5 players x 4 strategies: 759,375).
    max_component_points : int, default 500
        New points the walk of a degenerate game's sets of equilibria may add; 0
        switches the walk off (every equilibrium found is then its own component).
    backend : {"auto", "numba", "numpy"}, default "auto"
        For :func:`support_enumeration` (two players) and the QRE starts
        (:func:`~allysim.solve.logit_trace`).

    Returns
    -------
    MixedNashResult

    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> mixed_nash(pennies).equilibria(0).tolist()
    [[0.5, 0.5, 0.5, 0.5]]

    A three-player game (Nau et al. 2004, sec. 4) whose only equilibrium is irrational:

    >>> u = np.zeros((1, 3, 2, 2, 2))
    >>> u[0, 0] = [[[3, 1], [0, 0]], [[0, 0], [1, 2]]]
    >>> u[0, 1] = [[[0, 0], [2, 1]], [[1, 3], [0, 0]]]
    >>> u[0, 2] = [[[2, 0], [0, 0]], [[0, 0], [0, 3]]]
    >>> res = mixed_nash(u)
    >>> res.count.tolist(), res.equilibria(0).round(4).tolist()
    ([1], [[0.6192, 0.3808, 0.4798, 0.5202, 0.3788, 0.6212]])
    """
    if not (isinstance(tol, (int, float, np.floating)) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"mixed_nash(): tol must be a finite number >= 0, got {tol!r}")
    if not (isinstance(n_random, (int, np.integer)) and n_random >= 0):
        raise ValueError(f"mixed_nash(): n_random must be an integer >= 0, got {n_random!r}")
    if not (isinstance(max_supports, (int, np.integer)) and max_supports >= 0):
        raise ValueError(f"mixed_nash(): max_supports must be an integer >= 0, got {max_supports!r}")
    if not (isinstance(support_starts, (int, np.integer)) and support_starts >= 1):
        raise ValueError(f"mixed_nash(): support_starts must be an integer >= 1, got {support_starts!r}")
    if not (isinstance(n_rays, (int, np.integer)) and n_rays >= 0):
        raise ValueError(f"mixed_nash(): n_rays must be an integer >= 0, got {n_rays!r}")
    if not (isinstance(max_component_points, (int, np.integer)) and max_component_points >= 0):
        raise ValueError("mixed_nash(): max_component_points must be an integer >= 0, "
                         f"got {max_component_points!r}")
    if not (isinstance(max_polymatrix_supports, (int, np.integer)) and max_polymatrix_supports >= 0):
        raise ValueError("mixed_nash(): max_polymatrix_supports must be an integer >= 0, "
                         f"got {max_polymatrix_supports!r}")
    payoffs = as_payoffs(payoffs, "mixed_nash")
    check_backend(backend, "mixed_nash")
    rng = as_generator(seed, "mixed_nash")
    B, n = payoffs.shape[:2]
    shape = tuple(payoffs.shape[2:])
    lay = _Layout(shape)
    active = [i for i, s in enumerate(shape) if s > 1]
    notes: list[str] = []
    settings = dict(shape=shape, parameters=dict(
        tol=float(tol), n_random=int(n_random), max_supports=int(max_supports),
        support_starts=int(support_starts), n_rays=int(n_rays),
        max_polymatrix_supports=int(max_polymatrix_supports),
        max_component_points=int(max_component_points), seed=seed_record(seed), backend=backend))

    if len(active) <= 2:
        (eqs, count, reg, regular, component, status, complete, continuum,
         searched, converged) = _two_player(payoffs, active, tol, backend)
        if (status == STATUS["degenerate"]).any():
            warnings.warn(f"mixed_nash(): {int((status == STATUS['degenerate']).sum())} of {B} "
                          "game(s) degenerate (two players with a choice: their extreme equilibria "
                          "are listed" + (f"; {int(continuum.sum())} with a continuum"
                                          if continuum.any() else "") + ")",
                          DegenerateGameWarning, stacklevel=2)
        from ._components import two_player_components   # issue 14: the component fields
        return MixedNashResult(profiles=eqs, count=count, regret=reg, regular=regular,
                               component=component, status=status, complete=complete, continuum=continuum,
                               searched=searched, converged=converged,
                               method="support_enumeration", notes=tuple(notes),
                               **two_player_components(eqs, count, component), **settings)

    # The random draws are made once, so every game (and every block) gets the same
    # starts: a batch equals a loop, whatever the block size.
    random_draws = (np.concatenate([rng.dirichlet(np.ones(s), size=n_random) for s in shape], axis=1)
                    if n_random else np.zeros((0, lay.size)))
    n_supports = int(np.prod([2 ** s - 1 for s in shape], dtype=np.float64))
    support_draws = (rng.random((support_starts - 1, n_supports, lay.size)) + 1e-3
                     if n_supports <= max_supports else np.zeros((0, 0, lay.size)))
    from ._global_newton import rays as _rays   # lazy (imports this module); drawn last, so
    ray_draws = _rays(rng, n_rays, shape)        # the other starts are those of earlier versions
    parts = []
    poly_complete = []
    for lo in range(0, B, _BLOCK):
        g, sg, kd, se, cv, pc = _search(payoffs[lo:lo + _BLOCK], tol, random_draws, support_draws,
                                        max_supports, notes, backend, ray_draws,
                                        max_polymatrix_supports)
        parts.append((g + lo, sg, se, cv, kd))
        poly_complete.append(pc)
    game = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.intp)
    sigma = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, lay.size))
    kinds = list(START_KINDS) + ["supports_pruned", "gnm_rays", "gnm_unfinished", "polymatrix_pruned"]
    searched = {k: np.concatenate([p[2][k] for p in parts]) if parts else np.zeros(0, np.int64)
                for k in kinds}
    converged = {k: np.concatenate([p[3][k] for p in parts]) if parts else np.zeros(0, np.int64)
                 for k in START_KINDS}
    scaled = _scaled(payoffs)
    kind = np.concatenate([p[4] for p in parts]) if parts else np.zeros(0, dtype=np.intp)
    # Of several starts that reached one equilibrium keep the one from the start least
    # dependent on the rest of the batch (support, pure, random; the QRE trace last), so
    # the digits reported do not depend on which games were solved together.
    prefer = np.array([2, 5, 3, 1, 4, 0])[kind] if len(kind) else kind   # by START_KINDS index
    order = np.lexsort((np.arange(len(game)), prefer, game))
    game, sigma = game[order], sigma[order]
    keep = _dedupe(game, sigma, B)
    game, sigma = game[keep], sigma[keep]
    spread = np.ptp(payoffs.reshape(B, -1), axis=1).clip(1e-300)
    # ---- begin components (issue 14): walk the sets of equilibria of degenerate games ----
    from . import _components   # lazy: it imports this module's helpers
    nonsingular, unused = _regularity(scaled[game], sigma, lay, (tol / spread[game])[:, None])
    walk_games = np.zeros(B, dtype=bool)
    walk_games[game[~(nonsingular & ~unused)]] = max_component_points > 0
    summary = _components.summarise(payoffs, game, sigma, walk_games, tol, max_component_points)
    game, sigma, label = summary.game, summary.sigma, summary.label
    order = np.lexsort(tuple(-np.round(sigma, 9).T[::-1]) + (game,))
    game, sigma, label = game[order], sigma[order], label[order]
    label, comp_dim, comp_traced = _components.relabel(game, label, summary.dimension, summary.traced)
    # ---- end components ----
    count = np.bincount(game, minlength=B).astype(np.int64)
    K = max(int(count.max(initial=0)), 1)
    slot = np.arange(len(game)) - np.concatenate([[0], np.cumsum(count)[:-1]])[game]
    eqs = np.full((B, K, lay.size), np.nan)
    eqs[game, slot] = sigma
    reg = np.full((B, K), np.nan)
    reg[game, slot] = regret(payoffs[game], sigma).max(axis=1) if len(game) else []
    nonsingular, unused = _regularity(scaled[game], sigma, lay, (tol / spread[game])[:, None])
    regular = np.zeros((B, K), dtype=bool)
    regular[game, slot] = nonsingular & ~unused
    component = np.full((B, K), -1, dtype=np.int64)
    component[game, slot] = label
    # Each component's representative: its first equilibrium in canonical order.
    representative = np.full(comp_dim.shape, -1, dtype=np.int64)
    if len(game):
        _, first = np.unique(np.column_stack([game, label]), axis=0, return_index=True)
        representative[game[first], label[first]] = slot[first]
    continuum = (comp_dim >= 1).any(axis=1)
    status = np.full(B, STATUS["ok"], dtype=np.int8)
    irregular = np.zeros(B, dtype=bool)
    irregular[game[~(nonsingular & ~unused)]] = True
    status[irregular] = STATUS["degenerate"]
    status[count == 0] = STATUS["not_converged"]
    if irregular.any():
        warnings.warn(f"mixed_nash(): {int(irregular.sum())} of {B} game(s) have an irregular "
                      "equilibrium (an unused best reply, or a singular Jacobian); "
                      f"{int(continuum.sum())} with a continuum of equilibria (each connected set "
                      "found is listed once: its extreme points, one label)",
                      DegenerateGameWarning, stacklevel=2)
    # A polymatrix game whose supports were all solved is complete when nondegenerate.
    complete = np.concatenate(poly_complete) & (status == STATUS["ok"])
    return MixedNashResult(profiles=eqs, count=count, regret=reg, regular=regular,
                           component=component, status=status,
                           complete=complete, continuum=continuum,
                           searched=searched, converged=converged, method="search",
                           notes=tuple(notes), n_components=summary.n_components,
                           component_dimension=comp_dim, component_representative=representative,
                           component_traced=comp_traced, components_capped=summary.capped,
                           **settings)
