"""Regret, the shared equilibrium certificate, and the payoff scale of tolerances.

Profiles
--------
A pure profile is ``profile: (B, n) int``, one strategy index per player.
A mixed profile is ``sigma: (B, s1 + ... + sn) float64``: the players' mixed
strategies concatenated in player order (Gambit's flattening); use
:func:`split_profile` to get the per-player blocks ``(B, s_i)``.
"""
from __future__ import annotations

import numpy as np

from ._profile import split_profile, strategy_values

#: Default tolerance for every best-response and regret comparison, relative to each
#: game's :func:`payoff_scale` (so a result does not change under a positive affine
#: change of the payoffs).
DEFAULT_TOL = 1e-9


def as_payoffs(payoffs, where: str) -> np.ndarray:
    """Validate a payoff array: float64, C-contiguous, shape ``(B, n, s1, ..., sn)``."""
    arr = np.ascontiguousarray(payoffs, dtype=np.float64)
    if arr.ndim < 3 or arr.shape[1] != arr.ndim - 2:
        raise ValueError(f"{where}(): payoffs must have shape (B, n, s1, ..., sn), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}(): payoffs contain NaN or inf")
    return arr


def payoff_scale(payoffs: np.ndarray) -> np.ndarray:
    """Each game's payoff scale: the largest regret any profile of it can have.

    ``max`` over players i and the others' pure profiles of (i's best minus i's worst
    payoff against them). Every tolerance ``tol`` is applied as ``tol * scale``, so
    answers do not change when a game's payoffs are multiplied by a positive number
    or shifted, nor when a player's payoffs gain a term that depends only on the
    others' strategies. A game in which no player can ever gain by deviating has
    scale ``max(max |payoff|, 1)``.

    payoffs: (B, n, s1, ..., sn). Returns (B,) float64, > 0.

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> payoff_scale(pd).tolist(), payoff_scale(1e6 * pd + 7).tolist()
    ([2.0], [2000000.0])
    """
    payoffs = np.asarray(payoffs, dtype=np.float64)
    batch, n = payoffs.shape[:2]
    scale = np.zeros(batch)
    for i in range(n):
        u = payoffs[:, i]
        spread = u.max(axis=i + 1) - u.min(axis=i + 1)
        scale = np.maximum(scale, spread.reshape(batch, -1).max(axis=1, initial=0.0)
                           if batch else scale)
    flat = np.abs(payoffs.reshape(batch, -1)) if batch else np.zeros((0, 1))
    fallback = np.maximum(flat.max(axis=1, initial=0.0), 1.0)
    return np.where(scale > 0, scale, fallback)


def regret(payoffs: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Each player's regret (gain from the best deviation) at a mixed profile.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    sigma : ndarray of float, shape (B, s1 + ... + sn)

    Returns
    -------
    regret : ndarray of float, shape (B, n), each entry >= 0 up to rounding.

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> regret(pd, np.array([[1., 0., 1., 0.]])).tolist()
    [[2.0, 2.0]]
    """
    payoffs = as_payoffs(payoffs, "regret")
    best, expected = _best_and_expected(payoffs, sigma)
    return best - expected


def _best_and_expected(payoffs: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each player's best pure-strategy value and expected value at ``sigma``: two (B, n)."""
    values = strategy_values(payoffs, sigma)
    mixes = split_profile(sigma, payoffs.shape[2:])
    best = np.stack([v.max(axis=1) for v in values], axis=1)
    expected = np.stack([(v * m).sum(axis=1) for v, m in zip(values, mixes)], axis=1)
    return best, expected


def pure_to_mixed(profile: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """One-hot mixed profile ``(B, sum(shape))`` of a pure profile ``(B, n)``."""
    profile = np.atleast_2d(np.asarray(profile, dtype=np.intp))
    offsets = np.concatenate([[0], np.cumsum(shape)[:-1]])
    sigma = np.zeros((profile.shape[0], int(np.sum(shape))))
    np.put_along_axis(sigma, profile + offsets, 1.0, axis=1)
    return sigma


def pure_regret(payoffs: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Each player's regret at a pure profile.

    payoffs: (B, n, s1, ..., sn); profile: (B, n) int. Returns (B, n).
    Read off each player's row of own-strategy payoffs directly (no mixed contraction).

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> pure_regret(pd, np.array([[0, 0]])).tolist()
    [[2.0, 2.0]]
    """
    payoffs = as_payoffs(payoffs, "pure_regret")
    profile = np.atleast_2d(np.asarray(profile, dtype=np.intp))
    batch, n = payoffs.shape[:2]
    rows = np.arange(batch)
    out = np.empty((batch, n))
    for i in range(n):
        index = [rows, i] + [profile[:, j] for j in range(n)]
        own = payoffs[tuple(index)]
        index[2 + i] = slice(None)
        # Advanced indices around a slice put the batch axis first: (B, s_i).
        out[:, i] = payoffs[tuple(index)].max(axis=1) - own
    return out


def verify(payoffs: np.ndarray, sigma: np.ndarray, tol: float = DEFAULT_TOL) -> np.ndarray:
    """The shared equilibrium certificate every solver's output goes through.

    True where ``sigma`` is a mixed profile (each block >= -tol, summing to 1
    within tol) and its max regret is <= ``tol * payoff_scale(payoffs)``.

    payoffs: (B, n, s1, ..., sn); sigma: (B, sum S). Returns (B,) bool.
    """
    payoffs = as_payoffs(payoffs, "verify")
    sigma = np.asarray(sigma, dtype=float)
    mixes = split_profile(sigma, payoffs.shape[2:])
    valid = np.all(sigma >= -tol, axis=1) & np.isfinite(sigma).all(axis=1)
    for m in mixes:
        valid &= np.abs(m.sum(axis=1) - 1.0) <= tol
    # Written as expected >= best - tol, the very comparison pure_nash and the sweep kernel
    # make, so a pure profile passes here exactly when they call it an equilibrium.
    best, expected = _best_and_expected(payoffs, np.where(np.isfinite(sigma), sigma, 0.0))
    slack = tol * payoff_scale(payoffs)
    return valid & np.all(expected >= best - slack[:, None], axis=1)
