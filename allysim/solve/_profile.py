"""Mixed-profile arithmetic shared by every solver (private).

A mixed profile of a game of shape ``(s1, ..., sn)`` is ``sigma: (C, S)``,
``S = s1 + ... + sn``: the players' mixed strategies concatenated in player
order (Gambit's flattening). This module is the one place that computes

* the block layout (:class:`Layout`: offsets, owners, per-player sums, maxima,
  normalisation and softmax),
* strategy values ``v_ik(sigma)``, player i's expected payoff from its pure
  strategy k against the others' mixes (:func:`strategy_values`; for many
  evaluations on the same games, :class:`PreparedValues`),
* cross values ``W[k, l]``, the payoff of k's owner from k when l's owner plays
  l and everybody else mixes -- the derivatives of the strategy values
  (:func:`cross_values`),
* the logit response and its residual (:func:`softmax`, :func:`logit_residual`),
* the support equations of a Nash equilibrium and their Jacobian
  (:func:`support_equations`), whose Newton steps the mixed search and the
  logit trace's refinement both take.

The logit continuation keeps its own stacked pair-layout kernels
(:mod:`allysim.solve._logit_pairs`, compiled in :mod:`allysim.solve._logit_numba`),
which are tested equal to these.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

_LETTERS = "abcdefghijklmnopqrstuvwxy"


class Layout:
    """Block bookkeeping of profiles of one game shape ``(s1, ..., sn)``.

    >>> lay = Layout((2, 3))
    >>> lay.size, lay.offsets.tolist(), lay.owner.tolist()
    (5, [0, 2, 5], [0, 0, 1, 1, 1])
    >>> lay.block_sum(np.array([[1., 2., 3., 4., 5.]])).tolist()
    [[3.0, 3.0, 12.0, 12.0, 12.0]]
    """

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(int(s) for s in shape)
        self.n = len(self.shape)
        self.size = int(sum(self.shape))
        self.offsets = np.concatenate([[0], np.cumsum(self.shape)]).astype(np.intp)
        self.owner = np.repeat(np.arange(self.n), self.shape)
        self.same = (self.owner[:, None] == self.owner[None, :]).astype(float)

    def split(self, x: np.ndarray) -> list[np.ndarray]:
        """Per-player views ``(C, s_i)`` of ``x: (C, S)``."""
        return split_profile(x, self.shape)

    def block_sum(self, x: np.ndarray) -> np.ndarray:
        """Per-player sums of ``x: (C, S)``, broadcast back to ``(C, S)``."""
        return np.add.reduceat(x, self.offsets[:-1], axis=1)[:, self.owner]

    def block_max(self, x: np.ndarray) -> np.ndarray:
        """Per-player maxima of ``x: (C, S)``, broadcast back to ``(C, S)``."""
        return np.maximum.reduceat(x, self.offsets[:-1], axis=1)[:, self.owner]

    def normalise(self, x: np.ndarray) -> np.ndarray:
        """Scale each player's block of ``x: (C, S)`` to sum to 1."""
        return x / self.block_sum(x)

    def softmax(self, z: np.ndarray) -> np.ndarray:
        """Per-player softmax of ``z: (C, S)`` (numerically stable)."""
        e = np.exp(z - self.block_max(z))
        return e / self.block_sum(e)

    def first(self, supp: np.ndarray) -> np.ndarray:
        """For supports ``supp: (C, S)`` bool, the index of each player's first
        support strategy, broadcast to ``(C, S)``."""
        out = np.empty(supp.shape, dtype=np.intp)
        for i in range(self.n):
            lo, hi = self.offsets[i], self.offsets[i + 1]
            out[:, lo:hi] = (lo + np.argmax(supp[:, lo:hi], axis=1))[:, None]
        return out


@lru_cache(maxsize=64)
def layout(shape: tuple[int, ...]) -> Layout:
    """The (cached) :class:`Layout` of a game shape."""
    return Layout(shape)


def split_profile(sigma: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Split ``sigma: (..., sum(shape))`` into per-player views ``(..., s_i)``."""
    return np.split(np.asarray(sigma, dtype=float), np.cumsum(shape)[:-1], axis=-1)


def strategy_values(payoffs: np.ndarray, sigma: np.ndarray) -> list[np.ndarray]:
    """Expected payoff of each pure strategy against the others' mixed strategies.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    sigma : ndarray of float, shape (B, s1 + ... + sn)

    Returns
    -------
    values : list of n arrays, ``values[i]`` of shape (B, s_i):
        ``values[i][b, k]`` = player i's expected payoff from strategy k.

    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> [v.tolist() for v in strategy_values(pennies, np.full((1, 4), 0.5))]
    [[[0.0, 0.0]], [[0.0, 0.0]]]
    """
    batch, n = payoffs.shape[:2]
    shape = payoffs.shape[2:]
    mixes = split_profile(sigma, shape)
    values = []
    for i in range(n):
        u = payoffs[:, i]
        # Contract the other players' axes, last first, so axis numbers stay valid.
        for j in reversed(range(n)):
            if j == i:
                continue
            w = mixes[j].reshape((batch,) + (1,) * j + (shape[j],) + (1,) * (u.ndim - j - 2))
            u = (u * w).sum(axis=j + 1)
        values.append(u.reshape(batch, shape[i]))
    return values


class PreparedValues:
    """Strategy values of one batch of games at many profiles (dynamics integrate
    thousands of steps on the same games): the payoffs are rearranged once, player
    i's as ``(B, s_i, prod_{j != i} s_j)``, and each call contracts them with the
    Kronecker product of the others' mixes (prefix and suffix products) in a
    handful of NumPy calls whatever the number of players. Equal to
    :func:`strategy_values` up to rounding (the sums run in another order).

    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> PreparedValues(pennies)(np.array([[1., 0., 0.5, 0.5]])).tolist()
    [[0.0, 0.0, -1.0, 1.0]]
    """

    def __init__(self, payoffs: np.ndarray):
        batch, self.n = payoffs.shape[:2]
        self.shape = payoffs.shape[2:]
        self.offsets = np.concatenate([[0], np.cumsum(self.shape)[:-1]]).astype(np.intp)
        self.own = [np.ascontiguousarray(np.moveaxis(payoffs[:, i], i + 1, 1).reshape(batch, s, -1))
                    for i, s in enumerate(self.shape)]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Concatenated strategy values ``(B, S)`` at ``x: (B, S)``."""
        batch, n = x.shape[0], self.n
        xs = [x[:, o:o + s] for o, s in zip(self.offsets, self.shape)]
        if n == 1:
            return np.ascontiguousarray(self.own[0][:, :, 0])
        pre = [None, xs[0]]                               # pre[i]: players 0..i-1
        for j in range(1, n - 1):
            pre.append((pre[-1][:, :, None] * xs[j][:, None, :]).reshape(batch, -1))
        suf = [xs[n - 1]]                                 # built from the end
        for j in range(n - 2, 0, -1):
            suf.append((xs[j][:, :, None] * suf[-1][:, None, :]).reshape(batch, -1))
        suf = [None] + suf[::-1] + [None]                 # suf[i]: players i+1..n-1
        out = []
        for i in range(n):
            if i == 0:
                k = suf[1]
            elif i == n - 1:
                k = pre[n - 1]
            else:
                k = (pre[i][:, :, None] * suf[i + 1][:, None, :]).reshape(batch, -1)
            out.append(np.matmul(self.own[i], k[:, :, None])[:, :, 0])
        return np.concatenate(out, axis=1)


def cross_values(u: np.ndarray, sigma: np.ndarray, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Second-order values of mixed profiles.

    u : (C, n, s1, ..., sn) payoffs; sigma : (C, S).
    Returns ``W: (C, S, S)`` with ``W[c, k, l]`` = the payoff of k's owner i from
    playing k when l's owner j plays l and everybody else mixes (0 when i = j),
    and the strategy values ``v: (C, S)``.
    """
    n, count = lay.n, u.shape[0]
    letters = _LETTERS[:n]
    blocks = split_profile(sigma, lay.shape)
    W = np.zeros((count, lay.size, lay.size))
    v = np.zeros((count, lay.size))
    if n == 1:
        v[:] = u[:, 0]
        return W, v
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            others = [k for k in range(n) if k not in (i, j)]
            spec = ("z" + letters + "".join(",z" + letters[k] for k in others)
                    + "->z" + letters[i] + letters[j])
            t = np.einsum(spec, u[:, i], *[blocks[k] for k in others])
            W[:, lay.offsets[i]:lay.offsets[i + 1], lay.offsets[j]:lay.offsets[j + 1]] = t
            if j == (i + 1) % n:
                v[:, lay.offsets[i]:lay.offsets[i + 1]] = np.einsum("zkl,zl->zk", t, blocks[j])
    return W, v


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable ``exp(z) / sum(exp(z))`` along ``axis``."""
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def logit_residual(payoffs: np.ndarray, sigma: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """max |sigma - logit(lambda v(sigma))| per row: 0 at an exact logit QRE.

    payoffs (R, m, *S); sigma (R, sum S); lam (R,). Returns (R,).
    """
    shape = payoffs.shape[2:]
    lam = np.broadcast_to(np.asarray(lam, dtype=float), (payoffs.shape[0],))
    values = strategy_values(payoffs, sigma)
    target = np.concatenate([softmax(lam[:, None] * v) for v in values], axis=1)
    return np.abs(np.asarray(sigma) - target).max(axis=1) if len(shape) else np.zeros(len(lam))


def support_equations(W: np.ndarray, v: np.ndarray, sigma: np.ndarray, supp: np.ndarray,
                      first: np.ndarray, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """The Nash conditions of given supports and their Jacobian in the full profile.

    For each player i with support ``T_i`` and first support strategy ``r``:
    ``v_ik = v_ir`` for k in T_i (k != r), ``sigma_ik = 0`` for k not in T_i, and
    ``sum_k sigma_ik = 1`` (the equation in row r).

    W, v : :func:`cross_values` at ``sigma``; sigma, supp : (C, S); first : (C, S)
    from :meth:`Layout.first`. Returns ``F: (C, S)`` and ``J: (C, S, S)``.
    """
    rows = np.arange(len(sigma))[:, None]
    is_first = first == np.arange(lay.size)
    F = np.where(is_first, lay.block_sum(sigma) - 1.0,
                 np.where(supp, v - v[rows, first], sigma))
    J = np.where(is_first[:, :, None], lay.same[None],
                 np.where(supp[:, :, None], W - W[rows, first], np.eye(lay.size)[None]))
    return F, J
