"""All pure-strategy Nash equilibria of a batch of games."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._status import STATUS
from .best_response import best_response_mask
from .regret import DEFAULT_TOL, as_payoffs, pure_regret
from .result import Result, one_hot


@dataclass(frozen=True)
class PureNashResult(Result):
    """Pure Nash equilibria of B games (the :mod:`~allysim.solve.result` contract).

    Attributes
    ----------
    mask : ndarray of bool, shape (B, s1, ..., sn)
        True at every equilibrium profile.
    count : ndarray of int64, shape (B,)
    status : ndarray of int8, shape (B,)
        ``ok``; ``no_pure`` (count 0); ``degenerate`` (some equilibrium is
        weak: a player has another best reply within tolerance).
    parameters : ``{"tol": ...}``
    method : ``"pure_nash"``

    Derived (computed when first read): ``pure (B, M, n)`` strategy indices of each
    equilibrium in canonical (lexicographic) order, -1 padding; ``profiles (B, M, S)``
    the same as 0/1 mixed profiles, NaN padding; ``regret (B, M)``.
    """

    mask: np.ndarray
    count: np.ndarray
    status: np.ndarray
    parameters: dict
    payoffs: np.ndarray
    method: str = "pure_nash"

    @cached_property
    def pure(self) -> np.ndarray:
        batch = self.mask.shape[0]
        n = self.mask.ndim - 1
        game, *idx = np.nonzero(self.mask)
        m = max(int(self.count.max(initial=0)), 1)
        out = np.full((batch, m, n), -1, dtype=np.int64)
        slot = np.arange(len(game)) - np.concatenate([[0], np.cumsum(self.count)[:-1]])[game]
        out[game, slot] = np.stack(idx, axis=1) if n else np.zeros((len(game), 0), np.int64)
        return out

    @cached_property
    def profiles(self) -> np.ndarray:
        return one_hot(self.pure, self.mask.shape[1:])

    @cached_property
    def regret(self) -> np.ndarray:
        pure = self.pure
        out = np.full(pure.shape[:2], np.nan)
        game, slot = np.nonzero(pure[:, :, 0] >= 0) if pure.shape[2] else (np.zeros(0, int),) * 2
        if len(game):
            out[game, slot] = pure_regret(self.payoffs[game], pure[game, slot]).max(axis=1)
        return out

    def pure_profiles(self, b: int) -> np.ndarray:
        """Equilibria of game ``b`` as ``(k, n)`` strategy indices, canonical
        (lexicographic) order."""
        return self.pure[b, :int(self.count[b])]


def pure_nash(payoffs: np.ndarray, *, tol: float = DEFAULT_TOL) -> PureNashResult:
    """Find every pure Nash equilibrium of each game in a batch.

    A profile is an equilibrium when every player's strategy is within
    ``tol * payoff_scale(payoffs)`` of its best reply to the others.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    tol : float, default 1e-9, relative to each game's :func:`~allysim.solve.payoff_scale`

    Returns
    -------
    PureNashResult

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> res = pure_nash(pd)
    >>> res.pure_profiles(0).tolist(), res.equilibria(0).tolist()   # (Defect, Defect)
    ([[1, 1]], [[0.0, 1.0, 0.0, 1.0]])
    """
    if not tol >= 0:
        raise ValueError(f"pure_nash(): tol must be >= 0, got {tol}")
    payoffs = as_payoffs(payoffs, "pure_nash")
    best = best_response_mask(payoffs, tol=tol)
    mask = best.all(axis=1)
    batch, n = payoffs.shape[:2]
    count = mask.reshape(batch, -1).sum(axis=1).astype(np.int64)
    # Weak equilibrium: some player has another best reply (within tol) to the others' play.
    ties = np.zeros_like(mask)
    for i in range(n):
        ties |= best[:, i].sum(axis=i + 1, keepdims=True) > 1
    weak = ties & mask
    status = np.full(batch, STATUS["ok"], dtype=np.int8)
    status[weak.reshape(batch, -1).any(axis=1)] = STATUS["degenerate"]
    status[count == 0] = STATUS["no_pure"]
    return PureNashResult(mask=mask, count=count, status=status, parameters={"tol": float(tol)},
                          payoffs=payoffs)
