"""Private kernels shared by the sequential and dynamics solvers.

* :func:`softmax` -- a numerically stable logit response.
* :func:`cross_values` -- the bilinear pieces of a player's expected payoff:
  ``M[i][j][r, k, l]`` = player i's expected payoff when i plays k, j plays l
  and everyone else mixes as in ``sigma`` (the derivative of ``v_ik`` with
  respect to ``sigma_jl``).
* :func:`logit_residual` -- how far a profile is from a logit QRE.

The logit QRE itself is :func:`allysim.solve.logit_qre.logit_qre`.
All arrays are batch-first: ``payoffs (R, m, s1, ..., sm)``, profiles
``(R, s1 + ... + sm)``.
"""
from __future__ import annotations

import numpy as np

from .regret import strategy_values, split_profile

_LETTERS = "abcdefghijklmnopqrstuvwxy"


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable ``exp(z) / sum(exp(z))`` along ``axis``."""
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def cross_values(payoffs: np.ndarray, sigma: np.ndarray) -> list[list[np.ndarray | None]]:
    """``M[i][j]: (R, s_i, s_j)``, player i's payoff with i at k and j at l, others mixed.

    ``M[i][i]`` is None (a player's values do not depend on its own mix).
    payoffs: (R, m, s1, ..., sm); sigma: (R, s1 + ... + sm).
    """
    m = payoffs.shape[1]
    shape = payoffs.shape[2:]
    mixes = split_profile(sigma, shape)
    letters = _LETTERS[:m]
    out: list[list[np.ndarray | None]] = [[None] * m for _ in range(m)]
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            others = [k for k in range(m) if k not in (i, j)]
            spec = ("z" + letters + "".join("," + "z" + letters[k] for k in others)
                    + "->z" + letters[i] + letters[j])
            out[i][j] = np.einsum(spec, payoffs[:, i], *[mixes[k] for k in others])
    return out


def logit_residual(payoffs: np.ndarray, sigma: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """max |sigma - logit(lambda v(sigma))| per row: 0 at an exact logit QRE.

    payoffs (R, m, *S); sigma (R, sum S); lam (R,). Returns (R,).
    """
    shape = payoffs.shape[2:]
    lam = np.broadcast_to(np.asarray(lam, dtype=float), (payoffs.shape[0],))
    values = strategy_values(payoffs, sigma)
    target = np.concatenate([softmax(lam[:, None] * v) for v in values], axis=1)
    return np.abs(np.asarray(sigma) - target).max(axis=1) if len(shape) else np.zeros(len(lam))
