"""What the analysis commands measure at a parameter point (private, shared).

Every analysis reads a solution concept's result through the registry
(:mod:`allysim.concepts`), so ``--solver pure``, ``qre-limit``, ``spe`` and ``qre`` all
work the same way:

* the *solution set* of a game: its solutions named by each player's support
  (``TRANS/SUPPORT/SLICE/FREEZE``, ``TRANS/SUPPORT+ARM/SLICE/FREEZE`` for a mixed
  one), sorted; ``none`` when it has none;
* an *outcome* ``PLAYER=STRATEGY``: whether that strategy is in the support of some
  solution (pure concepts: "played in some equilibrium"), or, for concepts with one
  mixed solution per point (``qre``), its probability.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..concepts._sweep import payoffs_of
from ..errors import DegenerateGameWarning, InputError, quote
from ..solve import STATUS, STATUS_NAMES

#: A strategy is in a solution's support when its probability is at least this.
SUPPORT = 1e-6
#: Statuses whose answer is not trusted: they are named in a solution set's label.
UNSURE = frozenset(int(STATUS[s]) for s in ("not_converged", "timeout", "failed"))


@dataclass(frozen=True)
class Outcome:
    """``PLAYER=STRATEGY`` of a model: the player's index, the strategy's index and its
    column in a mixed profile ``(S,)``."""

    player: str
    strategy: str
    player_index: int
    strategy_index: int
    column: int

    @property
    def text(self) -> str:
        return f"{self.player}={self.strategy}"


def parse_outcome(text: str, model, flag: str = "--outcome") -> Outcome:
    """``"China=SEIZE"`` as an :class:`Outcome` of ``model``; unknown names are refused
    with the nearest valid one.

    >>> from allysim import load_model
    >>> parse_outcome("China=SEIZE", load_model("four-power")).column
    8
    """
    if not isinstance(text, str):
        raise InputError(f"{flag} {quote(text)}: expected PLAYER=STRATEGY, e.g. China=SEIZE")
    player, sep, strategy = text.partition("=")
    player, strategy = player.strip(), strategy.strip()
    if not sep or not player or not strategy:
        raise InputError(f"{flag} {quote(text)}: expected PLAYER=STRATEGY, e.g. China=SEIZE")
    try:
        i, k = model.strategy_index(player, strategy)
    except ValueError as exc:
        raise InputError(f"{flag} {quote(text)}: {exc}") from None
    return Outcome(player, strategy, i, k, int(sum(model.shape[:i])) + k)


def solve_points(concept, options: dict, model, params: np.ndarray):
    """Solve the games of ``model`` at ``params: (B, P)`` with ``concept``.

    Returns the result for the finite games and their indices ``(A,)`` in ``params``
    (points whose payoffs are not finite are left out: the caller marks them failed).
    """
    payoffs, finite = payoffs_of(model, np.ascontiguousarray(params, dtype=float))
    idx = np.flatnonzero(finite)
    if not idx.size:
        return None, idx
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)   # a status says it
        result = concept.solve(payoffs[idx], options, model)
    return result, idx


def support_name(model, prob: np.ndarray) -> str:
    """``TRANS/SUPPORT+ARM/SLICE/FREEZE``: each player's support, in strategy order."""
    parts, o = [], 0
    for ss in model.strategies:
        parts.append("+".join(s for s, p in zip(ss, prob[o:o + len(ss)]) if p >= SUPPORT))
        o += len(ss)
    return "/".join(parts)


def solution_sets(model, result, idx: np.ndarray, n_points: int) -> list[str]:
    """Per point, the label of its solution set: its solutions' support names sorted and
    joined by `` + ``, ``none`` without any, ``failed`` where the payoffs were not finite;
    an untrusted status (``not_converged``, ...) is added in brackets."""
    labels = ["failed"] * n_points
    if result is None:
        return labels
    profiles = result.profiles
    for a, b in enumerate(idx.tolist()):
        names = sorted({support_name(model, p) for p in profiles[a, :int(result.count[a])]
                        if np.isfinite(p).all()})
        label = " + ".join(names) if names else "none"
        status = int(result.status[a])
        if status in UNSURE:
            label += f" [{STATUS_NAMES[status]}]"
        labels[b] = label
    return labels


def outcome_values(result, idx: np.ndarray, n_points: int, column: int, *,
                   probability: bool) -> np.ndarray:
    """Per point: the largest probability any solution gives strategy ``column``
    (``probability``), or whether that strategy is in some solution's support (1.0/0.0).
    NaN where the point failed or has no certified solution and ``probability`` is set."""
    out = np.full(n_points, np.nan)
    if result is None:
        return out
    prof = result.profiles
    if prof.ndim == 2:
        prof = prof[:, None]
    m = prof.shape[1]
    have = np.arange(m)[None, :] < np.asarray(result.count)[:, None]
    col = np.where(have, prof[:, :, column], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # all-NaN rows: no solution
        best = np.nanmax(col, axis=1) if m else np.full(len(idx), np.nan)
    if probability:
        out[idx] = best
    else:
        out[idx] = np.where(np.isfinite(best), (best >= SUPPORT).astype(float), 0.0)
    return out
