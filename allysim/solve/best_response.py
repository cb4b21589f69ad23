"""Pure best responses over a batch of games."""
from __future__ import annotations

import numpy as np

from .regret import DEFAULT_TOL, as_payoffs, payoff_scale


def best_response_mask(payoffs: np.ndarray, *, tol: float = DEFAULT_TOL) -> np.ndarray:
    """Which strategies are best responses to each profile of the others.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    tol : a strategy within ``tol * payoff_scale(payoffs)`` of the best payoff counts as a
        best response.

    Returns
    -------
    mask : ndarray of bool, shape (B, n, s1, ..., sn)
        ``mask[b, i, a1, ..., an]`` is True when ``ai`` is a best response of
        player i to the others' ``a_{-i}``.

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> best_response_mask(pd)[0, 0].tolist()   # Row: defect whatever Column does
    [[False, False], [True, True]]
    """
    payoffs = as_payoffs(payoffs, "best_response_mask")
    batch, n = payoffs.shape[:2]
    slack = (tol * payoff_scale(payoffs)).reshape((batch,) + (1,) * n)
    mask = np.empty(payoffs.shape, dtype=bool)
    for i in range(n):
        u = payoffs[:, i]
        np.greater_equal(u, u.max(axis=i + 1, keepdims=True) - slack, out=mask[:, i])
    return mask
