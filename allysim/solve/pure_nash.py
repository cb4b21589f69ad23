"""All pure-strategy Nash equilibria of a batch of games."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._status import STATUS
from .best_response import best_response_mask
from .regret import DEFAULT_TOL, as_payoffs


@dataclass(frozen=True)
class PureNashResult:
    """Pure Nash equilibria of B games.

    Attributes
    ----------
    mask : ndarray of bool, shape (B, s1, ..., sn)
        True at every equilibrium profile.
    count : ndarray of int64, shape (B,)
    status : ndarray of int8, shape (B,)
        ``ok``; ``no_pure`` (count 0); ``degenerate`` (some equilibrium is
        weak: a player has another best reply within ``tol``).
    tol : the tolerance used.
    method : ``"pure_nash"``.
    """

    mask: np.ndarray
    count: np.ndarray
    status: np.ndarray
    tol: float
    method: str = "pure_nash"

    def profiles(self, b: int) -> np.ndarray:
        """Equilibria of game ``b`` as ``(k, n)`` strategy indices, in canonical
        (lexicographic) order."""
        return np.argwhere(self.mask[b])


def pure_nash(payoffs: np.ndarray, tol: float = DEFAULT_TOL) -> PureNashResult:
    """Find every pure Nash equilibrium of each game in a batch.

    A profile is an equilibrium when every player's strategy is within
    ``tol * payoff_scale(payoffs)``
    of its best reply to the others.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    tol : float, default 1e-9, relative to each game's :func:`~allysim.solve.payoff_scale`

    Returns
    -------
    PureNashResult

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> pure_nash(pd).profiles(0).tolist()   # (Defect, Defect)
    [[1, 1]]
    """
    if tol < 0:
        raise ValueError(f"pure_nash(): tol must be >= 0, got {tol}")
    payoffs = as_payoffs(payoffs, "pure_nash")
    best = best_response_mask(payoffs, tol)
    mask = best.all(axis=1)
    batch, n = payoffs.shape[:2]
    count = mask.reshape(batch, -1).sum(axis=1)
    # Weak equilibrium: some player has another best reply (within tol) to the others' play.
    ties = np.zeros_like(mask)
    for i in range(n):
        ties |= best[:, i].sum(axis=i + 1, keepdims=True) > 1
    weak = ties & mask
    status = np.full(batch, STATUS["ok"], dtype=np.int8)
    status[weak.reshape(batch, -1).any(axis=1)] = STATUS["degenerate"]
    status[count == 0] = STATUS["no_pure"]
    return PureNashResult(mask=mask, count=count, status=status, tol=tol)
