"""Iterated elimination of strictly dominated strategies (IESDS), batched.

Domination is by pure strategies, as in Gambit's ``undominated_strategies``
default: strategy a of player i is eliminated when some surviving strategy b
of i pays more than a by more than ``tol`` against every surviving profile of
the others. Strict dominance makes the order of elimination irrelevant, so
each round removes every dominated strategy of every player at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._status import STATUS
from .regret import DEFAULT_TOL, as_payoffs, payoff_scale, pure_regret
from .result import Result, one_hot


@dataclass(frozen=True)
class DominanceResult(Result):
    """Strategies surviving IESDS (the :mod:`~allysim.solve.result` contract).

    surviving : list of n arrays of bool, ``surviving[i]`` of shape (B, s_i)
    rounds : ndarray of int64, shape (B,): rounds of elimination that removed something
    solved : ndarray of bool, shape (B,): one strategy left per player (dominance solvable)
    status : ndarray of int8, shape (B,): ``ok`` (elimination always runs to its end)
    count : ndarray of int64, shape (B,): 1 where dominance solvable, else 0
    pure : (B, 1, n) the surviving profile where dominance solvable (-1 elsewhere);
    profiles : (B, 1, S) the same as a 0/1 profile (NaN elsewhere); regret : (B, 1) its
        max regret (0: a dominance solution is the unique Nash equilibrium)
    parameters : ``{"tol": ...}``
    """

    surviving: list
    rounds: np.ndarray
    solved: np.ndarray
    status: np.ndarray
    count: np.ndarray
    pure: np.ndarray
    profiles: np.ndarray
    regret: np.ndarray
    parameters: dict
    method: str = "iterated_dominance"


def _dominated(u: np.ndarray, i: int, alive: list[np.ndarray], tol: np.ndarray) -> np.ndarray:
    """Strategies of player i strictly dominated by a surviving one: (B, s_i) bool."""
    batch, n = u.shape[0], len(alive)
    v = np.moveaxis(u, i + 1, 1)                      # (B, s_i, others...)
    others = np.ones((batch,) + v.shape[2:], dtype=bool)
    k = 0
    for j in range(n):
        if j == i:
            continue
        shape = [batch] + [1] * (n - 1)
        shape[k + 1] = alive[j].shape[1]
        others = others & alive[j].reshape(shape)
        k += 1
    diff = v[:, None, :] - v[:, :, None]              # (B, a, b, others): u(b) - u(a)
    diff = np.where(others[:, None, None], diff, np.inf)
    margin = diff.reshape(batch, v.shape[1], v.shape[1], -1).min(axis=3)
    strictly = (margin > tol[:, None, None]) & alive[i][:, None, :]
    return strictly.any(axis=2) & alive[i]


def iterated_dominance(payoffs: np.ndarray, *, tol: float = DEFAULT_TOL) -> DominanceResult:
    """Iteratively remove strictly dominated pure strategies in each game.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    tol : a strategy must be beaten by more than ``tol * payoff_scale(payoffs)`` everywhere
        to be dominated.

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> [s.tolist() for s in iterated_dominance(pd).surviving]
    [[[False, True]], [[False, True]]]
    """
    if not tol >= 0:
        raise ValueError(f"iterated_dominance(): tol must be >= 0, got {tol}")
    payoffs = as_payoffs(payoffs, "iterated_dominance")
    batch, n = payoffs.shape[:2]
    alive = [np.ones((batch, s), dtype=bool) for s in payoffs.shape[2:]]
    slack = tol * payoff_scale(payoffs)
    rounds = np.zeros(batch, dtype=np.int64)
    while True:
        removed = [_dominated(payoffs[:, i], i, alive, slack) for i in range(n)]
        changed = np.any([r.any(axis=1) for r in removed], axis=0)
        if not changed.any():
            break
        rounds += changed
        alive = [a & ~r for a, r in zip(alive, removed)]
    solved = np.all([a.sum(axis=1) == 1 for a in alive], axis=0)
    pure = np.stack([np.where(solved, a.argmax(axis=1), -1) for a in alive], axis=1)[:, None, :]
    regret = np.full((batch, 1), np.nan)
    if solved.any():
        regret[solved, 0] = pure_regret(payoffs[solved], pure[solved, 0]).max(axis=1)
    return DominanceResult(surviving=alive, rounds=rounds, solved=solved,
                           status=np.full(batch, STATUS["ok"], dtype=np.int8),
                           count=solved.astype(np.int64), pure=pure,
                           profiles=one_hot(pure, payoffs.shape[2:]), regret=regret,
                           parameters={"tol": float(tol)})
