"""The result contract every solver follows (after pygambit's ``NashComputationResult``).

Every solution-concept solver returns a frozen dataclass with

``method`` : str
    the algorithm (``"pure_nash"``, ``"support_enumeration"``, ``"logit_qre"``, ...);
``parameters`` : dict
    every setting used, by the names of the solver's keyword arguments (``tol``,
    ``residual_tol``, ``seed``, the ``backend`` actually run, ...);
``status`` : ndarray of int8, shape (B,)
    one code of :data:`allysim.solve.STATUS_NAMES` per game;
``count`` : ndarray of int64, shape (B,)
    how many solutions each game has in slots ``0 .. count[b] - 1`` of
``profiles`` : ndarray of float64, shape (B, M, s1 + ... + sn)
    the solutions as mixed profiles (player blocks in order; a pure equilibrium
    is a 0/1 profile), in canonical order, NaN padding;
``regret`` : ndarray of float64, shape (B, M)
    the max regret of each solution (payoff units: what some player could gain by
    deviating; 0 at an exact equilibrium), NaN padding;

and :meth:`Result.equilibria`. What a concept adds is a further field with one
spelling across solvers: ``pure (B, M, n)`` strategy indices of pure solutions,
``lambdas (L,)`` and ``residual`` for logit QREs (whose slots are the requested
lambdas), ``stability`` of rest points, ``choices`` of an SPE, ``component`` and
``continuum`` of equilibrium sets.

Tolerances: ``tol`` always means the best-reply and regret tolerance, relative to
each game's :func:`~allysim.solve.payoff_scale`; ``residual_tol`` the logit QRE
residual (probability units); ``flow_tol`` a dynamic's speed at a rest point.
"""
from __future__ import annotations

import numpy as np


class Result:
    """Base of every solver's result: the accessor shared by all of them.

    Subclasses are frozen dataclasses with the fields listed in the module docstring.
    """

    method: str
    parameters: dict
    status: np.ndarray
    count: np.ndarray
    profiles: np.ndarray
    regret: np.ndarray

    def equilibria(self, b: int) -> np.ndarray:
        """Game ``b``'s solutions, ``(count[b], s1 + ... + sn)``, canonical order."""
        return self.profiles[b, :int(self.count[b])]

    def __len__(self) -> int:
        return len(self.status)


def pad(game: np.ndarray, rows: np.ndarray, n_games: int, fill=np.nan) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``(E, ...)`` of games ``game: (E,)`` (ascending) into a padded ``(B, M, ...)``
    array, and the counts ``(B,)``.

    >>> out, count = pad(np.array([0, 0, 2]), np.array([[1.], [2.], [3.]]), 3)
    >>> count.tolist(), out[..., 0].tolist()
    ([2, 0, 1], [[1.0, 2.0], [nan, nan], [3.0, nan]])
    """
    count = np.bincount(game, minlength=n_games).astype(np.int64)
    m = max(int(count.max(initial=0)), 1)
    out = np.full((n_games, m) + rows.shape[1:], fill, dtype=np.result_type(rows.dtype, type(fill)))
    slot = np.arange(len(game)) - np.concatenate([[0], np.cumsum(count)[:-1]])[game]
    out[game, slot] = rows
    return out, count


def one_hot(pure: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Mixed profiles ``(..., S)`` of pure profiles ``(..., n)`` (strategy indices; a
    row with a negative index gives NaN)."""
    pure = np.asarray(pure)
    offsets = np.concatenate([[0], np.cumsum(shape)[:-1]]).astype(np.intp)
    flat = pure.reshape(-1, len(shape))
    out = np.zeros((len(flat), int(sum(shape))))
    valid = (flat >= 0).all(axis=1)
    rows = np.flatnonzero(valid)
    out[rows[:, None], flat[valid] + offsets] = 1.0
    out[~valid] = np.nan
    return out.reshape(pure.shape[:-1] + (out.shape[1],))
