"""Stacked pair-layout kernels of the logit QRE continuation (private).

The logit QRE equations and their Jacobian need, at every step, each player's
strategy values and their derivatives with respect to every other player's
mixed strategy. For a batch of games these are computed here from the payoffs
rearranged once per ordered pair of players (:class:`_Layout`), with fixed-order
sums so that a game's answer does not depend on the batch it is in. The same
quantities are computed generically (and more slowly) by
:func:`allysim.solve._profile.cross_values`; the tests check the two agree. The
compiled twins of these kernels are in :mod:`allysim.solve._logit_numba`.

Log-odds coordinates: for each player, ``r_ik = log(p_ik / p_i0)`` for k >= 1,
so ``p_i = softmax(0, r_i)``; R = sum(s_i - 1) unknowns.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._backend import resolve_backend

#: ``backend="auto"`` uses the compiled kernels for batches of at least this many games
#: (below that, loading them costs more than they save).
AUTO_NUMBA_MIN = 512

@dataclass(frozen=True)
class _Layout:
    """Index bookkeeping for one game shape ``(s1, ..., sn)`` (private).

    Full profiles have K = sum s_i entries; log-odds R = sum (s_i - 1). The
    derivative ``dv_i/dp_j`` (an s_i x s_j block) of every ordered pair q = (i, j)
    is computed as one contraction of player i's payoffs, rearranged to
    ``(s_i * s_j, rest)``, with the product of the other players' mixed
    strategies; all pairs are stacked (zero-padded to common sizes) so that one
    stacked matmul does them all. Everything else is a gather with the arrays below.
    """

    shape: tuple[int, ...]
    offsets: np.ndarray      # (n+1,) start of each player's block in the full profile
    odds: np.ndarray         # (R,) full index of each non-reference strategy
    ref: np.ndarray          # (R,) full index of the same player's reference strategy
    cross: np.ndarray        # (R, R) 1.0 where the two log-odds belong to different players
    pairs: tuple             # ((i, j), ...) ordered pairs of distinct players, Q of them
    kl: int                  # padded s_i * s_j
    rest: int                # padded size of the product of the other players' strategies
    w_index: np.ndarray      # (Q, rest, n-2) full index of each factor of the rest weights (K: 1)
    v_src: np.ndarray        # (K, smax) flat pair-derivative index for the values (pad: 0)
    v_col: np.ndarray        # (K, smax) full index of the matching probability (pad: K, a 0)
    d_odd: np.ndarray        # (R, R) flat pair-derivative index of d v[odds k] / d p[odds l]
    d_ref: np.ndarray        # (R, R) same for the reference strategy's row (same player: 0,
                             # masked by ``cross``)
    d_full: np.ndarray       # (K, K) flat pair-derivative index of d v[k] / d p[l] (same player: 0)
    cross_full: np.ndarray   # (K, K) 1.0 where k and l belong to different players
    owner: np.ndarray        # (K,) player of each full index
    t_src: np.ndarray        # (Q, rest, kl) flat index into one game's payoffs (n, s1..sn)
                             # of each transposed pair payoff (pad: -1)

    @property
    def k(self) -> int:
        return int(self.offsets[-1])

    @property
    def r(self) -> int:
        return int(self.odds.size)


@lru_cache(maxsize=64)
def _layout(shape: tuple[int, ...]) -> _Layout:
    n = len(shape)
    offsets = np.concatenate([[0], np.cumsum(shape)]).astype(np.intp)
    k_full = int(offsets[-1])
    odds = np.array([offsets[i] + k for i, s in enumerate(shape) for k in range(1, s)], dtype=np.intp)
    owner_full = np.repeat(np.arange(n), shape)
    ref = offsets[owner_full[odds]] if odds.size else np.zeros(0, dtype=np.intp)
    owner = owner_full[odds]
    # The pairs (i, i+1 mod n) come first: their derivatives alone give the values.
    first_pairs = [(i, (i + 1) % n) for i in range(n)] if n > 1 else []
    pairs = tuple(first_pairs + [(i, j) for i in range(n) for j in range(n)
                                 if i != j and (i, j) not in first_pairs])
    kl = max((shape[i] * shape[j] for i, j in pairs), default=1)
    rest_sizes = [int(np.prod([shape[m] for m in range(n) if m not in q], dtype=np.int64))
                  for q in pairs]
    rest = max(rest_sizes, default=1)
    w_index = np.full((len(pairs), rest, max(n - 2, 0)), k_full, dtype=np.intp)
    pos = {}  # (i, j, a_i, a_j) -> flat index into the stacked pair derivatives
    for q, (i, j) in enumerate(pairs):
        others = [m for m in range(n) if m not in (i, j)]
        for rflat, combo in enumerate(np.ndindex(*[shape[m] for m in others])):
            for t, (m, a) in enumerate(zip(others, combo)):
                w_index[q, rflat, t] = offsets[m] + a
        for a in range(shape[i]):
            for b in range(shape[j]):
                pos[i, j, a, b] = q * kl + a * shape[j] + b
    zero = 0
    smax = max(shape)
    v_src = np.full((k_full, smax), zero, dtype=np.intp)
    v_col = np.full((k_full, smax), k_full, dtype=np.intp)
    if n > 1:
        for i in range(n):
            j = (i + 1) % n
            for a in range(shape[i]):
                for b in range(shape[j]):
                    v_src[offsets[i] + a, b] = pos[i, j, a, b]
                    v_col[offsets[i] + a, b] = offsets[j] + b
    d_odd = np.full((odds.size, odds.size), zero, dtype=np.intp)
    d_ref = np.full((odds.size, odds.size), zero, dtype=np.intp)
    for x, fx in enumerate(odds):
        for y, fy in enumerate(odds):
            i, j = owner[x], owner[y]
            if i != j:
                d_odd[x, y] = pos[i, j, fx - offsets[i], fy - offsets[j]]
                d_ref[x, y] = pos[i, j, 0, fy - offsets[j]]
    d_full = np.zeros((k_full, k_full), dtype=np.intp)
    for x in range(k_full):
        for y in range(k_full):
            i, j = owner_full[x], owner_full[y]
            if i != j:
                d_full[x, y] = pos[i, j, x - offsets[i], y - offsets[j]]
    return _Layout(shape=shape, offsets=offsets, odds=odds, ref=ref,
                   cross=(owner[:, None] != owner[None, :]).astype(float), pairs=pairs, kl=kl,
                   rest=rest, w_index=w_index, v_src=v_src, v_col=v_col, d_odd=d_odd, d_ref=d_ref,
                   d_full=d_full,
                   cross_full=(owner_full[:, None] != owner_full[None, :]).astype(float),
                   owner=owner_full, t_src=_transposed_sources(shape, pairs, rest, kl))


def _transposed_sources(shape, pairs, rest, kl) -> np.ndarray:
    """``t_src`` of :class:`_Layout`: where each entry of the transposed pair payoffs
    ``[q, rest profile, a_i * s_j + a_j]`` comes from in the flat payoffs of one game."""
    n = len(shape)
    out = np.full((len(pairs), rest, kl), -1, dtype=np.intp)
    for q, (i, j) in enumerate(pairs):
        others = [m for m in range(n) if m not in (i, j)]
        for rflat, combo in enumerate(np.ndindex(*[shape[m] for m in others])):
            prof = [0] * n
            for m, a in zip(others, combo):
                prof[m] = a
            for a in range(shape[i]):
                for b in range(shape[j]):
                    prof[i], prof[j] = a, b
                    out[q, rflat, a * shape[j] + b] = np.ravel_multi_index((i, *prof), (n, *shape))
    return out


def _pair_payoffs(payoffs: np.ndarray, lay: _Layout) -> np.ndarray:
    """Player i's payoffs rearranged per ordered pair q = (i, j): ``(B, Q, kl, rest)``,
    ``[b, q, a_i * s_j + a_j, rest profile]``, zero-padded. (The compiled kernels take
    the same with the last two axes swapped, gathered by ``lay.t_src``.)"""
    b, n = payoffs.shape[:2]
    out = np.zeros((b, len(lay.pairs), lay.kl, lay.rest))
    for q, (i, j) in enumerate(lay.pairs):
        u = np.moveaxis(payoffs[:, i], (i + 1, j + 1), (1, 2))
        si, sj = lay.shape[i], lay.shape[j]
        rest = int(np.prod(u.shape[3:], dtype=np.int64))
        out[:, q, :si * sj, :rest] = u.reshape(b, si * sj, rest)
    return out


def _probs(r: np.ndarray, lay: _Layout) -> np.ndarray:
    """Mixed profile ``(A, K)`` from log-odds ``r: (A, R)`` (per-player softmax)."""
    z = np.zeros((r.shape[0], lay.k))
    z[:, lay.odds] = r
    p = np.empty_like(z)
    for lo, hi in zip(lay.offsets[:-1], lay.offsets[1:]):
        blk = z[:, lo:hi]
        e = np.exp(blk - blk.max(axis=1, keepdims=True))
        p[:, lo:hi] = e / _rowsum(e)[:, None]
    return p


def _contract(upairs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``out[a, q, k] = sum_r upairs[a, q, k, r] * w[a, q, r]``: (A, Q, kl).

    Each game's result must not depend on the batch it is in (sweeps are
    reproducible bit for bit whatever the chunking): einsum's summation order
    follows the operands' memory layout, so this is a stacked matmul on
    C-contiguous operands, one BLAS product per game and pair.
    """
    return np.matmul(np.ascontiguousarray(upairs), np.ascontiguousarray(w)[..., None])[..., 0]


def _dot_last(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``sum_s x[..., s] * y[..., s]`` in a fixed order. NumPy's own reductions may
    add in a different order for a batch of 1 than for a larger batch (pairwise vs
    sequential), and results must not depend on the batch."""
    out = x[..., 0] * y[..., 0]
    for s in range(1, x.shape[-1]):
        out += x[..., s] * y[..., s]
    return out


def _rowsum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=-1)`` in a fixed order (see :func:`_dot_last`)."""
    out = x[..., 0].copy()
    for s in range(1, x.shape[-1]):
        out += x[..., s]
    return out


def _block_sum(x: np.ndarray, lay: _Layout) -> np.ndarray:
    """Per-player sums ``(A, n)`` of ``x: (A, K)``, in a fixed order."""
    return np.stack([_rowsum(x[:, lo:hi]) for lo, hi in zip(lay.offsets[:-1], lay.offsets[1:])],
                    axis=1)


def _pair_derivs(upairs: np.ndarray, p: np.ndarray, lay: _Layout):
    """Strategy values ``v: (A, K)`` and the stacked pair derivatives ``(A, Q*kl)``
    at the mixed profile ``p: (A, K)``."""
    a = p.shape[0]
    p1 = np.concatenate([p, np.ones((a, 1))], axis=1)
    if lay.w_index.shape[2]:
        w = p1[:, lay.w_index[..., 0]]
        for t in range(1, lay.w_index.shape[2]):
            w *= p1[:, lay.w_index[..., t]]
    else:
        w = np.ones((a, len(lay.pairs), lay.rest))
    flat = _contract(upairs, w).reshape(a, -1)
    p1[:, -1] = 0.0  # padded terms of the values pick this zero
    return _dot_last(flat[:, lay.v_src], p1[:, lay.v_col]), flat


@dataclass(frozen=True)
class _Batch:
    """Games prepared for the kernels (private): the layout and either the stacked pair
    payoffs ``(A, Q, kl, rest)`` or, for one-player games, the payoffs ``(A, s1)``;
    ``kern`` is the compiled-kernel module (:mod:`._logit_numba`) or None for NumPy
    (one-player games always use NumPy: there is nothing to contract). The kernels
    take the pair payoffs with the last two axes swapped, ``(A, Q, rest, kl)``,
    which is what ``upairs`` holds when ``kern`` is set."""

    lay: _Layout
    upairs: np.ndarray | None
    single: np.ndarray | None
    kern: object = None

    @classmethod
    def of(cls, payoffs: np.ndarray, kern=None) -> _Batch:
        lay = _layout(tuple(payoffs.shape[2:]))
        if payoffs.shape[1] == 1:
            return cls(lay, None, payoffs[:, 0].copy())
        if kern is not None:
            up = np.empty((payoffs.shape[0],) + lay.t_src.shape)
            kern.gather(np.ascontiguousarray(payoffs).reshape(payoffs.shape[0], -1), lay.t_src, up)
            return cls(lay, up, None, kern)
        return cls(lay, _pair_payoffs(payoffs, lay), None)

    def take(self, idx: np.ndarray) -> _Batch:
        if self.single is not None:
            return _Batch(self.lay, None, self.single[idx])
        return _Batch(self.lay, self.upairs[idx], None, self.kern)

    def lay_args(self) -> tuple:
        """The layout's index arrays, in the order the compiled kernels take them."""
        lay = self.lay
        return (lay.odds, lay.ref, lay.offsets, lay.cross, lay.w_index, lay.v_src, lay.v_col,
                lay.d_odd, lay.d_ref)


def _values(batch: _Batch, p: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Strategy values ``(A, K)`` of games ``idx: (A,)`` of ``batch`` at the mixed profiles
    ``p: (A, K)`` (cheaper than :func:`_pair_derivs`: only the n pairs (i, i+1) are
    contracted, and only they are copied)."""
    lay = batch.lay
    if batch.single is not None:
        return batch.single[idx]
    a, n = p.shape[0], len(lay.shape)
    if batch.kern is not None:
        out = np.empty((a, lay.k))
        batch.kern.values(batch.upairs, np.ascontiguousarray(idx, dtype=np.intp),
                          np.ascontiguousarray(p, dtype=float), n, lay.w_index, lay.v_src,
                          lay.v_col, out)
        return out
    p1 = np.concatenate([p, np.ones((a, 1))], axis=1)
    widx = lay.w_index[:n]
    if widx.shape[2]:
        w = p1[:, widx[..., 0]]
        for t in range(1, widx.shape[2]):
            w *= p1[:, widx[..., t]]
    else:
        w = np.ones((a, n, lay.rest))
    flat = _contract(batch.upairs[idx, :n], w).reshape(a, -1)
    p1[:, -1] = 0.0
    return _dot_last(flat[:, lay.v_src], p1[:, lay.v_col])


def _max_regret(values: np.ndarray, p: np.ndarray, lay: _Layout) -> np.ndarray:
    """Max regret ``(A,)`` from strategy values and profiles ``(A, K)``."""
    best = np.maximum.reduceat(values, lay.offsets[:-1], axis=1)
    got = _block_sum(values * p, lay)
    return (best - got).max(axis=1)


def _equations(batch: _Batch, r: np.ndarray, lam: np.ndarray, prec=None):
    """The QRE equations in log-odds and their Jacobian.

    r : (A, R); lam : (A,), for the A games of ``batch``; prec : (A, R) or None, a
    relative precision per log-odds (the equations become ``r - lam * prec * dv``).
    Returns ``F: (A, R)``, ``F_r: (A, R, R)``, ``F_lam: (A, R)``.
    """
    lay = batch.lay
    p = _probs(r, lay)
    if batch.single is not None:
        values, flat = batch.single, np.zeros((r.shape[0], 1))
    else:
        values, flat = _pair_derivs(batch.upairs, p, lay)
    dv = values[:, lay.odds] - values[:, lay.ref]
    scaled = dv if prec is None else dv * prec
    f = r - lam[:, None] * scaled
    # d(dv_x)/d r_y = p_y * (dD[x, y] - dv_x) for y of another player, 0 for the same player.
    dd = flat[:, lay.d_odd] - flat[:, lay.d_ref]
    dd -= dv[:, :, None]
    dd *= p[:, None, lay.odds] * lay.cross
    dd *= -lam[:, None, None]
    if prec is not None:
        dd *= prec[:, :, None]
    dd[:, np.arange(lay.r), np.arange(lay.r)] += 1.0
    return f, dd, -scaled


def _solve(m: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched ``np.linalg.solve`` of ``m: (A, N, N)``, ``rhs: (A, N, M)``; systems that
    are singular or not finite give NaN solutions instead of an exception."""
    with np.errstate(all="ignore"):
        try:
            out = np.linalg.solve(m, rhs)
        except np.linalg.LinAlgError:
            # Exactly singular somewhere: det (the same LU, no exception) finds them.
            singular = ~(np.linalg.det(np.nan_to_num(m)) != 0) | ~np.isfinite(m).all(axis=(1, 2))
            m = m.copy()
            m[singular] = np.eye(m.shape[1])
            out = np.linalg.solve(m, rhs)
            out[singular] = np.nan
        out[~np.isfinite(m).all(axis=(1, 2))] = np.nan
        return out


#: Values of the ``backend`` argument: ``"auto"`` (compiled kernels if numba is
#: importable, else NumPy), ``"numba"`` (compiled, an error without numba), ``"numpy"``.

def _kernels(where: str, backend: str, batch: int):
    """The compiled-kernel module for ``backend`` (resolved for ``batch`` games), or None
    for the NumPy path."""
    if resolve_backend(backend, where, batch=batch, min_batch=AUTO_NUMBA_MIN) == "numpy":
        return None
    from . import _logit_numba
    return _logit_numba

