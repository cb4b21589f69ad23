"""Logit quantal response equilibria on the principal branch, batched over games.

The maths
---------
A logit QRE at precision ``lam >= 0`` (McKelvey & Palfrey 1995) is a mixed
profile ``p`` in which each player i plays strategy k with probability
proportional to ``exp(lam * v_ik(p))``, ``v_ik(p)`` being k's expected payoff
against the others' mixed strategies. ``lam`` multiplies raw payoffs, as in
Gambit, so it is in inverse payoff units: doubling every payoff halves the
``lam`` at which the same profile is reached. Adding to a player's payoffs
anything that does not depend on its own strategy changes nothing.

Coordinates: for each player, the log-odds of every strategy against the
player's first strategy, ``r_ik = log(p_ik / p_i0)`` for k >= 1, so that
``p_i = softmax(0, r_i)`` is always a probability vector. With
R = sum(s_i - 1) unknowns, a QRE solves::

    F(r, lam) = r_ik - lam * (v_ik(p) - v_i0(p)) = 0          (R equations)

At ``lam = 0`` the unique solution is the uniform profile ``r = 0``; the
solutions connected to it form the *principal branch* (Turocy 2005, GEB 51),
a smooth curve in ``(r, lam)`` that converges as ``lam -> inf`` to one Nash
equilibrium, the logit selection. The curve may turn back in ``lam`` (a fold)
before going on, so it is followed by arclength, not by ``lam``, as Gambit's
``logit`` does (Gambit works in log-probabilities with sum-to-one equations;
the curve is the same).

The method
----------
Pseudo-arclength predictor-corrector continuation (Allgower & Georg 1990,
ch. 2) for every game of the batch at once, with its own adaptive step:

* predictor: an Euler step ``y + h t`` along the unit tangent ``t``;
* corrector: Newton on ``F = 0`` with the step kept orthogonal to ``t``,
  i.e. the bordered ``(R+1, R+1)`` Jacobian ``[[F_r, F_lam], [t]]``, stacked
  over games and solved by ``np.linalg.solve``; the same solve (second
  right-hand side) gives the next tangent, oriented to keep going forward;
* a step is rejected and halved when the first Newton step is too long,
  Newton contracts too slowly, the tangent turns too far, or the bordered
  determinant changes sign (a jump onto a leg of the curve run the other way);
  otherwise the next step aims at a set first Newton step, contraction and
  turn, growing by at most ``max_accel`` (see ``_Settings``);
* the first crossing of each requested ``lam`` is polished by Newton on
  ``F(r, lam) = 0`` (R x R) and certified by its residual, computed
  independently by :func:`allysim.solve.strategy_values`;
* a determinant sign change that persists down to tiny steps is a branch
  point (common in symmetric games): the curve is followed through it and
  later answers are kept, certified, but flagged ``bifurcation``;
* games whose quick pass ends in anything but ``ok`` are traced again with
  small, careful steps.

:func:`logit_trace` follows the same curve towards ``lam -> inf`` and stops on
regret: once the QRE is near equilibrium it solves, by Newton's method, the
indifference conditions of the support the branch is converging to, and
returns that equilibrium when the branch comes within 1e-2 of it; every limit
is certified by :func:`allysim.solve.verify`.

Only the loop over continuation steps is in Python; each step does the same
array work for every game still tracing, and finished games drop out.

Backends: with ``backend="numba"`` (the default ``"auto"`` when numba is
installed, the ``fast`` extra) the per-game work of a step (the corrector
iterations with their bordered solves, the polish, the strategy values and the
support Newton steps of the trace) runs in compiled loops over the games
(:mod:`allysim.solve._logit_numba`); the step control, bookkeeping and the
independent residual check stay here, shared. The NumPy path is the reference:
the two agree to about 1e-12 in probabilities (their sums run in different
orders), and each is independent of the batch bit for bit. The exception is the
trace to the limit of a game with payoff ties and a continuum of equilibria:
its trace runs to lambda ~ 1e8, where rounding decides which certified
equilibrium (or QRE) it ends on, so the paths can differ there.

Performance (four-power model, lambda = 1.5, about 15 Jacobian evaluations per
game): NumPy ~170 us per game in a batch of thousands, numba ~55 us
(pygambit's ``logit_solve_lambda``: ~13-20 ms); see ``benchmarks/bench_qre.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ._status import STATUS, status_names
from .regret import DEFAULT_TOL, as_payoffs, regret, strategy_values, verify

#: Default tolerance of a QRE: max |p - logit response to p| (probability units).
DEFAULT_QRE_TOL = 1e-10

_MAX_CONTR = 0.5     # reject a step whose Newton iterates contract slower
_DENSE = 0.9         # evaluate all games of a step while this share of them still iterates
_CORR_ITERS = 8      # corrector iterations per step
_MIN_STEP = 1e-10    # a step below this means the curve cannot be followed here
_BRANCH_STEP = 1e-5  # a determinant sign change on a step this short is a branch point
_POLISH_ITERS = 25   # Newton iterations of the polish at a requested lambda
_JUMP = 0.25         # the polish may move a path point at most this far (else another branch)


# ----------------------------------------------------------------------------- layout and kernels

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


def _equations(batch: _Batch, r: np.ndarray, lam: np.ndarray):
    """The QRE equations in log-odds and their Jacobian.

    r : (A, R); lam : (A,), for the A games of ``batch``.
    Returns ``F: (A, R)``, ``F_r: (A, R, R)``, ``F_lam: (A, R)``.
    """
    lay = batch.lay
    p = _probs(r, lay)
    if batch.single is not None:
        values, flat = batch.single, np.zeros((r.shape[0], 1))
    else:
        values, flat = _pair_derivs(batch.upairs, p, lay)
    dv = values[:, lay.odds] - values[:, lay.ref]
    f = r - lam[:, None] * dv
    # d(dv_x)/d r_y = p_y * (dD[x, y] - dv_x) for y of another player, 0 for the same player.
    dd = flat[:, lay.d_odd] - flat[:, lay.d_ref]
    dd -= dv[:, :, None]
    dd *= p[:, None, lay.odds] * lay.cross
    dd *= -lam[:, None, None]
    dd[:, np.arange(lay.r), np.arange(lay.r)] += 1.0
    return f, dd, -dv


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
BACKENDS = ("auto", "numba", "numpy")


def _kernels(where: str, backend: str):
    """The compiled-kernel module for ``backend``, or None for the NumPy path."""
    if backend not in BACKENDS:
        raise ValueError(f"{where}(): backend must be one of {', '.join(map(repr, BACKENDS))}, "
                         f"got {backend!r}")
    if backend == "numpy":
        return None
    try:
        from . import _logit_numba
    except ImportError:
        if backend == "numba":
            raise ImportError(f"{where}(): backend 'numba' needs numba, which is not installed; "
                              "pip install 'allysim[fast]'") from None
        return None
    return _logit_numba


# ----------------------------------------------------------------------------- continuation

@dataclass(frozen=True)
class _Settings:
    """Step control of the continuation (private). The public functions expose
    ``first_step``, ``max_accel`` and ``max_steps``; :meth:`careful` is the retry
    used for games whose first, quick pass did not end well."""

    first_step: float
    max_accel: float
    max_steps: int
    aim: float = 0.6        # the step aims at a first Newton correction this long
    max_dist: float = 1.0   # reject a step whose first Newton correction is longer
    max_turn: float = 0.6   # reject a step whose tangent turns more (radians)
    corr_tol: float = 1e-2  # the corrector stops when its Newton step is shorter
    # Trace to the limit only: beyond lam * payoff range = ``relative``, measure the
    # first correction relative to lam (log-odds grow like lam there); 0 = off.
    relative: float = 0.0

    def careful(self) -> _Settings:
        return replace(self, first_step=min(self.first_step, 0.05),
                       max_accel=min(self.max_accel, 1.3), aim=0.05, max_dist=0.3,
                       max_turn=0.25, corr_tol=1e-6)


@dataclass
class _Trace:
    """State of the batched continuation (private, mutable)."""

    y: np.ndarray         # (B, R+1) current point (r, lam)
    t: np.ndarray         # (B, R+1) unit tangent
    h: np.ndarray         # (B,) next step length
    steps: np.ndarray     # (B,) steps tried (accepted and rejected)
    det_sign: np.ndarray  # (B,) sign of the bordered Jacobian's determinant at y
    branch: np.ndarray    # (B,) True once a branch point was passed
    active: np.ndarray    # (B,) still tracing
    stuck: np.ndarray     # (B,) the step collapsed: the curve could not be followed
    scale: np.ndarray     # (B,) payoff range (max - min payoff, 1 if 0)


def _start(batch: _Batch, b: int, first_step: float, scale=None) -> _Trace:
    """The uniform profile at lam = 0 and the principal branch's tangent there."""
    lay = batch.lay
    y = np.zeros((b, lay.r + 1))
    if batch.kern is not None:
        p = _probs(y[:, :-1], lay)
        values = _values(batch, p, np.arange(b))
        f_lam = values[:, lay.ref] - values[:, lay.odds]
    else:
        _, _, f_lam = _equations(batch, y[:, :-1], y[:, -1])
    # At lam = 0, F_r = I, so the tangent is proportional to (-F_lam, 1).
    t = np.concatenate([-f_lam, np.ones((b, 1))], axis=1)
    t /= np.sqrt(_dot_last(t, t))[:, None]
    return _Trace(y=y, t=t, h=np.full(b, float(first_step)), steps=np.zeros(b, dtype=np.int64),
                  det_sign=np.ones(b), branch=np.zeros(b, dtype=bool),
                  active=np.ones(b, dtype=bool), stuck=np.zeros(b, dtype=bool),
                  scale=np.ones(b) if scale is None else scale)


def _step(batch: _Batch, y, t, h, det_sign, st: _Settings, unit=None):
    """One predictor-corrector step for the A games of ``batch``.

    y, t : (A, R+1) points and unit tangents; h : (A,) step lengths;
    det_sign : (A,) bordered determinant signs at y; unit : (A,) or None, the
    length in which the first correction is measured (default 1).
    Returns ``accepted (A,)``, new points ``(A, R+1)``, tangents ``(A, R+1)``,
    step growth factors ``(A,)`` (0.5 where rejected), determinant signs ``(A,)``.
    """
    a, r1 = y.shape
    r = r1 - 1
    u = y + h[:, None] * t
    accepted = np.zeros(a, dtype=bool)
    going = np.ones(a, dtype=bool)
    first = np.zeros(a)
    contr_max = np.zeros(a)
    prev = np.full(a, np.inf)
    t_new = t.copy()
    sign = np.zeros(a)
    for it in range(_CORR_ITERS):
        idx = np.flatnonzero(going)
        if idx.size == 0:
            break
        # Evaluate every game when most are still going: cheaper than copying a subset.
        dense = idx.size >= _DENSE * a
        if dense:
            idx, sub = np.arange(a), batch
        else:
            sub = batch.take(idx)
        live = going[idx]
        uu = u[idx]
        f, f_r, f_lam = _equations(sub, uu[:, :r], uu[:, r])
        m = np.empty((idx.size, r1, r1))
        m[:, :r, :r] = f_r
        m[:, :r, r] = f_lam
        m[:, r, :] = t[idx]
        rhs = np.zeros((idx.size, r1, 2))
        rhs[:, :r, 0] = -f
        rhs[:, r, 1] = 1.0
        sol = _solve(m, rhs)
        du, z = sol[..., 0], sol[..., 1]
        dist = np.sqrt(_dot_last(du, du))
        contr = dist / (prev[idx] + 0.1 * st.corr_tol)
        bad = ~np.isfinite(dist) | ~np.isfinite(z).all(axis=1)
        if it == 0:
            first[idx] = dist if unit is None else dist / unit[idx]
            bad |= first[idx] > st.max_dist
        else:
            bad |= contr > _MAX_CONTR
            contr_max[idx[live]] = np.maximum(contr_max[idx[live]],
                                              np.where(np.isfinite(contr[live]), contr[live], 0.0))
        bad &= live
        going[idx[bad]] = False
        keep = live & ~bad
        u[idx[keep]] += du[keep]
        prev[idx[live]] = dist[live]
        done = keep & (dist <= st.corr_tol)
        if done.any():
            d_idx = idx[done]
            zz = z[done]
            t_new[d_idx] = zz / np.sqrt(_dot_last(zz, zz))[:, None]
            sign[d_idx] = np.sign(np.linalg.det(m[done]))
            accepted[d_idx] = True
            going[d_idx] = False
    angle = np.arccos(np.clip(_dot_last(t, t_new), -1.0, 1.0))
    flipped = (sign * det_sign < 0) & (h > _BRANCH_STEP)
    accepted &= (angle <= st.max_turn) & ~flipped & (sign != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Aim at a first correction of ``aim``, a contraction of _MAX_CONTR / 2 and a
        # turn of max_turn / 2 (corrections grow like h**2, turns like h).
        grow = np.minimum(np.minimum(np.sqrt(st.aim / first), np.sqrt(_MAX_CONTR / 2 / contr_max)),
                          0.5 * st.max_turn / angle)
    grow = np.clip(np.nan_to_num(grow, nan=st.max_accel, posinf=st.max_accel), 0.5, st.max_accel)
    return accepted, u, t_new, np.where(accepted, grow, 0.5), sign


def _step_compiled(batch: _Batch, idx, y, t, h, det_sign, st: _Settings, unit=None):
    """:func:`_step` by the compiled kernel, for the games ``idx: (A,)`` of ``batch``
    (no payoffs are copied); same arguments otherwise, same outputs."""
    a = idx.size
    accepted = np.zeros(a, dtype=np.bool_)
    u = np.empty_like(y)
    t_new = np.empty_like(t)
    grow = np.empty(a)
    sign = np.empty(a)
    batch.kern.step(batch.upairs, idx.astype(np.intp, copy=False), y, t, h, det_sign,
                    np.ones(a) if unit is None else np.ascontiguousarray(unit, dtype=float),
                    st.aim, st.max_dist, st.max_turn, st.corr_tol, st.max_accel, _CORR_ITERS,
                    *batch.lay_args(), accepted, u, t_new, grow, sign)
    return accepted, u, t_new, grow, sign


def _advance(batch: _Batch, tr: _Trace, cap: np.ndarray, st: _Settings):
    """One continuation step for every active game.

    cap : (B,) largest step allowed (to land just past the next target lambda).
    Returns the games that moved ``(M,)`` and their previous points ``(M, R+1)``.
    """
    idx = np.flatnonzero(tr.active)
    h = np.minimum(tr.h[idx], cap[idx])
    unit = None
    if st.relative > 0:
        unit = np.maximum(1.0, tr.y[idx, -1] * tr.scale[idx] / st.relative)
    if batch.kern is not None:
        accepted, u, t_new, grow, sign = _step_compiled(batch, idx, tr.y[idx], tr.t[idx], h,
                                                        tr.det_sign[idx], st, unit)
    else:
        sub = batch if idx.size == tr.y.shape[0] else batch.take(idx)
        accepted, u, t_new, grow, sign = _step(sub, tr.y[idx], tr.t[idx], h, tr.det_sign[idx],
                                               st, unit)
    tr.steps[idx] += 1
    # A step shortened to land on a target does not shrink the next one.
    tr.h[idx] = np.where(accepted, np.maximum(h * grow, np.minimum(tr.h[idx], h * st.max_accel)),
                         h * grow)
    moved = idx[accepted]
    old = tr.y[moved].copy()
    tr.y[moved] = u[accepted]
    tr.t[moved] = t_new[accepted]
    tr.branch[moved[sign[accepted] * tr.det_sign[moved] < 0]] = True
    tr.det_sign[moved] = sign[accepted]
    collapsed = idx[tr.h[idx] < _MIN_STEP]
    tr.stuck[collapsed] = True
    tr.active[collapsed] = False
    tr.active[idx[tr.steps[idx] >= st.max_steps]] = False
    return moved, old


def _polish(batch: _Batch, games: np.ndarray, r0: np.ndarray, lam: np.ndarray):
    """Newton on ``F(r, lam) = 0`` at fixed lam for the games ``games: (A,)`` of ``batch``,
    from ``r0: (A, R)``; lam : (A,).

    Returns ``r: (A, R)`` and ``converged: (A,)`` (last step below 1e-12 relative).
    """
    r = np.array(r0, dtype=float, order="C")
    if batch.kern is not None:
        converged = np.zeros(r.shape[0], dtype=np.bool_)
        batch.kern.polish(batch.upairs, games.astype(np.intp, copy=False), r,
                          np.ascontiguousarray(lam, dtype=float), _POLISH_ITERS,
                          *batch.lay_args(), converged)
        return r, converged
    batch = batch.take(games)
    converged = np.zeros(r.shape[0], dtype=bool)
    going = np.ones(r.shape[0], dtype=bool)
    for _ in range(_POLISH_ITERS):
        idx = np.flatnonzero(going)
        if idx.size == 0:
            break
        sub = batch if idx.size == r.shape[0] else batch.take(idx)
        f, f_r, _ = _equations(sub, r[idx], lam[idx])
        dr = _solve(f_r, -f[..., None])[..., 0]
        finite = np.isfinite(dr).all(axis=1)
        r[idx[finite]] += dr[finite]
        size = np.where(finite, np.abs(dr).max(axis=1, initial=0.0), np.inf)
        small = size <= 1e-12 * (1.0 + np.abs(r[idx]).max(axis=1, initial=0.0))
        converged[idx[small]] = True
        going[idx[small | ~finite]] = False
    return r, converged


def _run_targets(batch: _Batch, b: int, targets: np.ndarray, st: _Settings):
    """Follow the branch of ``b`` games and polish its first crossing of each of the
    sorted ``targets (T,)``. Returns log-odds ``(b, T, R)`` (NaN where not found),
    ``reached (b, T)``, ``via_branch (b, T)``, ``stuck (b,)``, ``steps (b,)``."""
    rr, n_t = batch.lay.r, targets.size
    r_found = np.full((b, n_t, rr), np.nan)
    reached = np.zeros((b, n_t), dtype=bool)
    via_branch = np.zeros((b, n_t), dtype=bool)
    tr = _start(batch, b, st.first_step)
    nxt = np.zeros(b, dtype=np.intp)  # index of the next target, per game

    def collect(games, old):
        """Polish every target crossed between ``old`` and the current point."""
        while games.size:
            tgt = targets[nxt[games]]
            crossed = tr.y[games, rr] >= tgt
            games, old, tgt = games[crossed], old[crossed], tgt[crossed]
            if games.size == 0:
                return
            new = tr.y[games]
            span = new[:, rr] - old[:, rr]
            w = np.clip((tgt - old[:, rr]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
            r0 = old[:, :rr] + w[:, None] * (new[:, :rr] - old[:, :rr])
            r_pol, conv = _polish(batch, games, r0, tgt)
            hop = np.abs(new[:, :rr] - old[:, :rr]).max(axis=1, initial=0.0)
            near = np.abs(r_pol - r0).max(axis=1, initial=0.0) <= _JUMP * (1.0 + hop)
            slot = nxt[games]
            good = conv & near
            r_found[games[good], slot[good]] = r_pol[good]
            reached[games, slot] = True
            via_branch[games, slot] = tr.branch[games]
            nxt[games] += 1
            more = nxt[games] < n_t
            tr.active[games[~more]] = False
            games, old = games[more], old[more]

    collect(np.arange(b), tr.y.copy())  # targets at lambda = 0
    while tr.active.any():
        # Going forward in lambda, cap the step so the predictor lands just past the target.
        tl = tr.t[:, rr]
        gap = targets[np.minimum(nxt, n_t - 1)] - tr.y[:, rr]
        with np.errstate(divide="ignore", invalid="ignore"):
            cap = np.where(tl > 1e-12, gap / tl * (1 + 1e-6) + 1e-9, np.inf)
        moved, old = _advance(batch, tr, cap, st)
        if moved.size:
            collect(moved, old)
    return r_found, reached, via_branch, tr.stuck, tr.steps


def _qre_check(payoffs: np.ndarray, p: np.ndarray, lam: np.ndarray):
    """Independent check of QREs ``p: (A, K)`` at ``lam: (A,)``, by
    :func:`allysim.solve.strategy_values`: returns max |p - logit response to p|
    ``(A,)`` and max regret ``(A,)``."""
    resid = np.zeros(p.shape[0])
    reg = np.zeros(p.shape[0])
    start = 0
    for v in strategy_values(payoffs, p):
        blk = p[:, start:start + v.shape[1]]
        z = lam[:, None] * v
        e = np.exp(z - z.max(axis=1, keepdims=True))
        resid = np.maximum(resid, np.abs(blk - e / _rowsum(e)[:, None]).max(axis=1))
        reg = np.maximum(reg, v.max(axis=1) - _dot_last(v, blk))
        start += v.shape[1]
    return resid, reg


# ----------------------------------------------------------------------------- QRE at given lambdas

@dataclass(frozen=True)
class LogitQREResult:
    """Logit QREs of B games at L precisions, on the principal branch.

    Attributes
    ----------
    lambdas : ndarray of float, shape (L,)
        The requested precisions, in the caller's order.
    profiles : ndarray of float, shape (B, L, s1 + ... + sn)
        The QRE (player blocks in order); NaN where no certified QRE was found.
    status : ndarray of int8, shape (B, L)
        ``ok``; ``bifurcation``: the curve passed a branch point before this
        lambda (the profile is a certified QRE but may be off the principal
        branch) or could not be followed past one (profile NaN);
        ``not_converged``: the step cap was hit or the polish failed (profile NaN).
    residual : ndarray of float, shape (B, L)
        max |p - logit response to p|, <= tol wherever a profile is given.
    regret : ndarray of float, shape (B, L)
        Max regret (payoff units) of each QRE as an approximate Nash
        equilibrium; it shrinks as lambda grows.
    steps : ndarray of int64, shape (B,)
        Continuation steps tried per game (accepted and rejected, both passes).
    tol, max_steps, first_step, max_accel : the settings used.
    backend : ``"numba"`` or ``"numpy"``, the path that computed the result.
    method : ``"logit_qre"``
    """

    lambdas: np.ndarray
    profiles: np.ndarray
    status: np.ndarray
    residual: np.ndarray
    regret: np.ndarray
    steps: np.ndarray
    tol: float
    max_steps: int
    first_step: float
    max_accel: float
    backend: str = "numpy"
    method: str = "logit_qre"


def _check_settings(where, tol, max_steps, first_step, max_accel):
    if not (isinstance(tol, (int, float, np.floating)) and tol > 0):
        raise ValueError(f"{where}(): tol must be a number > 0, got {tol!r}")
    if not (isinstance(max_steps, (int, np.integer)) and max_steps >= 1):
        raise ValueError(f"{where}(): max_steps must be an integer >= 1, got {max_steps!r}")
    if not (first_step > 0 and np.isfinite(first_step)):
        raise ValueError(f"{where}(): first_step must be > 0, got {first_step!r}")
    if not (max_accel > 1 and np.isfinite(max_accel)):
        raise ValueError(f"{where}(): max_accel must be > 1, got {max_accel!r}")


def _qre_pass(payoffs, batch, targets, st, tol):
    """One pass of :func:`logit_qre` over sorted targets: probabilities ``(b, T, K)``,
    residual, regret, status ``(b, T)`` and steps ``(b,)``."""
    b = payoffs.shape[0]
    lay = batch.lay
    n_t = targets.size
    r_found, reached, via_branch, stuck, steps = _run_targets(batch, b, targets, st)
    flat = r_found.reshape(b * n_t, lay.r)
    good = np.isfinite(flat).all(axis=1)
    probs = np.full((b * n_t, lay.k), np.nan)
    resid = np.full(b * n_t, np.nan)
    reg = np.full(b * n_t, np.nan)
    if good.any():
        game = np.repeat(np.arange(b), n_t)[good]
        probs[good] = _probs(flat[good], lay)
        resid[good], reg[good] = _qre_check(payoffs[game], probs[good], np.tile(targets, b)[good])
    probs, resid, reg = probs.reshape(b, n_t, lay.k), resid.reshape(b, n_t), reg.reshape(b, n_t)
    certified = np.isfinite(resid) & (resid <= tol)
    probs[~certified] = np.nan
    status = np.full((b, n_t), STATUS["not_converged"], dtype=np.int8)
    status[certified] = STATUS["ok"]
    status[certified & via_branch] = STATUS["bifurcation"]
    status[~reached & stuck[:, None]] = STATUS["bifurcation"]
    return probs, resid, reg, status, steps


def logit_qre(payoffs: np.ndarray, lambdas, *, tol: float = DEFAULT_QRE_TOL, max_steps: int = 1000,
              first_step: float = 1.0, max_accel: float = 3.0,
              backend: str = "auto") -> LogitQREResult:
    """Logit QREs on the principal branch at given precisions, for a batch of games.

    Follows the branch from the uniform profile at lambda = 0 by
    pseudo-arclength continuation (all games at once, one adaptive step per
    game) and polishes its first crossing of each requested lambda by Newton's
    method. Games whose quick pass ends in anything but ``ok`` are traced once
    more with small, careful steps. No Python loop runs over games.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    lambdas : float or sequence of L floats >= 0
        Precisions on raw payoffs (as in Gambit's ``logit_solve_lambda``).
    tol : float, default 1e-10
        A profile is returned only if max |p - logit response to p| <= tol.
    max_steps : int, default 1000
        Cap on continuation steps per game and pass.
    first_step : float, default 1.0
        Arclength of the first step (in log-odds and lambda).
    max_accel : float, default 3.0
        Largest growth factor of the step from one step to the next.
    backend : {"auto", "numba", "numpy"}, default "auto"
        ``"numba"`` runs the per-game work (corrector steps, polish) in compiled
        kernels (the ``fast`` extra); ``"numpy"`` is the reference path;
        ``"auto"`` takes numba when it is importable. The two agree to about
        1e-12 in probabilities (not bit for bit); each is independent of the
        batch bit for bit.

    Returns
    -------
    LogitQREResult
        ``profiles: (B, L, s1 + ... + sn)``, ``status: (B, L)``, residuals,
        regrets and steps.

    Examples
    --------
    Matching pennies: the QRE is uniform at every lambda.

    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> res = logit_qre(pennies, [0.0, 2.0])
    >>> np.round(res.profiles[0], 6).tolist()
    [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]

    Prisoner's dilemma: Defect gains 2 (or 1) whatever the other does, so at
    lambda = 1 each player defects with probability well above 1/2.

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> res = logit_qre(pd, 1.0)
    >>> round(float(res.profiles[0, 0, 1]), 4), status_names(res.status[0]).tolist()  # as Gambit
    (0.7732, ['ok'])
    """
    payoffs = as_payoffs(payoffs, "logit_qre")
    lams = np.atleast_1d(np.asarray(lambdas, dtype=float))
    if lams.ndim != 1 or lams.size == 0:
        raise ValueError(f"logit_qre(): lambdas must be a number or a 1-d sequence, got {lambdas!r}")
    if not np.all(np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError(f"logit_qre(): lambdas must be finite and >= 0, got {lams.tolist()}")
    _check_settings("logit_qre", tol, max_steps, first_step, max_accel)
    kern = _kernels("logit_qre", backend)
    used = "numpy" if kern is None else "numba"
    st = _Settings(first_step=float(first_step), max_accel=float(max_accel), max_steps=int(max_steps))
    k, b = int(sum(payoffs.shape[2:])), payoffs.shape[0]
    if b == 0:
        return LogitQREResult(lambdas=lams, profiles=np.zeros((0, lams.size, k)),
                              status=np.zeros((0, lams.size), dtype=np.int8),
                              residual=np.zeros((0, lams.size)), regret=np.zeros((0, lams.size)),
                              steps=np.zeros(0, dtype=np.int64), tol=float(tol),
                              max_steps=int(max_steps), first_step=float(first_step),
                              max_accel=float(max_accel), backend=used)
    order = np.argsort(lams, kind="stable")
    targets = lams[order]
    batch = _Batch.of(payoffs, kern)
    probs, resid, reg, status, steps = _qre_pass(payoffs, batch, targets, st, tol)
    retry = np.flatnonzero((status != STATUS["ok"]).any(axis=1))
    if retry.size:
        again = _qre_pass(payoffs[retry], batch.take(retry), targets, st.careful(), tol)
        better = (again[3] == STATUS["ok"]).sum(axis=1) > (status[retry] == STATUS["ok"]).sum(axis=1)
        take = retry[better]
        for full, part in zip((probs, resid, reg, status), again[:4]):
            full[take] = part[better]
        steps[retry] += again[4]
    back = np.argsort(order)
    return LogitQREResult(lambdas=lams, profiles=probs[:, back], status=status[:, back],
                          residual=resid[:, back], regret=reg[:, back], steps=steps,
                          tol=float(tol), max_steps=int(max_steps), first_step=float(first_step),
                          max_accel=float(max_accel), backend=used)


# ----------------------------------------------------------------------------- trace to the limit

_REFINE_FROM = 1e-3  # try the support Newton step once the QRE's regret is below this x payoff range
_REFINE_DIST = 1e-2  # ... and accept its equilibrium only this close to the QRE (max |dp|)
_SUPPORTS = (1e-2, 1e-6)  # supports tried: strategies with p >= this x the player's largest
_REFINE_ITERS = 10
_RELATIVE = 50.0     # trace: beyond lam * payoff range = 50, step control is relative to lam


def _support(p: np.ndarray, lay: _Layout, cut: float) -> np.ndarray:
    """The support a profile ``p: (A, K)`` suggests: each player's strategies with
    probability >= ``cut`` times that player's largest. Returns bool ``(A, K)``."""
    big = np.maximum.reduceat(p, lay.offsets[:-1], axis=1)[:, lay.owner]
    return p >= cut * big


def _refine(batch: _Batch, games: np.ndarray, p0: np.ndarray, supp: np.ndarray):
    """Newton on the Nash conditions of the supports ``supp: (A, K)`` of the games
    ``games: (A,)`` of ``batch``, from ``p0: (A, K)``.

    The unknowns are the full profile; the K equations say that each player's
    support strategies have equal values, its other strategies probability 0,
    and its block sums to 1. Returns the profile ``(A, K)`` and whether Newton
    converged ``(A,)``; the caller certifies it by its regret.
    """
    lay = batch.lay
    a, k = p0.shape
    owner = lay.owner
    p = np.where(supp, p0, 0.0)
    p /= _block_sum(p, lay)[:, owner]
    # Row k0 (the first support strategy of each player) holds the sum-to-one equation.
    first = np.empty((a, len(lay.shape)), dtype=np.intp)
    for i, (lo, hi) in enumerate(zip(lay.offsets[:-1], lay.offsets[1:])):
        first[:, i] = lo + np.argmax(supp[:, lo:hi], axis=1)
    k0 = first[:, owner]
    is_k0 = k0 == np.arange(k)
    same = (owner[:, None] == owner[None, :]).astype(float)
    eye = np.eye(k)
    converged = np.zeros(a, dtype=bool)
    if batch.kern is not None:
        p = np.ascontiguousarray(p)
        batch.kern.refine(batch.upairs, games.astype(np.intp, copy=False), p,
                          np.ascontiguousarray(supp),
                          np.ascontiguousarray(k0), _REFINE_ITERS, lay.w_index, lay.v_src,
                          lay.v_col, lay.d_full, lay.cross_full, owner, lay.offsets, converged)
        return p, converged
    batch = batch.take(games)
    going = np.ones(a, dtype=bool)
    last = np.full(a, np.inf)
    with np.errstate(all="ignore"):  # a wrong support may send Newton far away: it is dropped
        for _ in range(_REFINE_ITERS):
            _refine_step(batch, p, supp, k0, is_k0, same, eye, converged, going, last)
    return p, converged


def _refine_step(batch, p, supp, k0, is_k0, same, eye, converged, going, last):
    """One Newton iteration of :func:`_refine` on the games still ``going`` (in place);
    ``last`` holds each game's previous Newton step length."""
    lay, owner, k = batch.lay, batch.lay.owner, p.shape[1]
    idx = np.flatnonzero(going)
    if idx.size == 0:
        return
    sub = batch if idx.size == p.shape[0] else batch.take(idx)
    pp = p[idx]
    if sub.single is not None:
        values, dfull = sub.single, np.zeros((idx.size, k, k))
    else:
        values, flat = _pair_derivs(sub.upairs, pp, lay)
        dfull = flat[:, lay.d_full] * lay.cross_full
    kk, rows = k0[idx], np.arange(idx.size)[:, None]
    blocksum = _block_sum(pp, lay)[:, owner]
    g = np.where(is_k0[idx], blocksum - 1.0,
                 np.where(supp[idx], values - values[rows, kk], pp))
    jac = np.where(is_k0[idx][:, :, None], same[None],
                   np.where(supp[idx][:, :, None], dfull - dfull[rows, kk], eye[None]))
    dp = _solve(jac, -g[..., None])[..., 0]
    size = np.abs(dp).max(axis=1)
    # Give up where Newton diverges or stops contracting (a wrong support, or a singular one).
    fine = np.isfinite(size) & (size <= 1.0) & ((size <= 0.5 * last[idx]) | (size <= 1e-10))
    p[idx[fine]] += dp[fine]
    last[idx] = size
    small = fine & (size <= 1e-13)
    converged[idx[small]] = True
    going[idx[small | ~fine]] = False


@dataclass(frozen=True)
class LogitTraceResult:
    """The limits of the principal logit branches of B games: an equilibrium selection.

    Attributes
    ----------
    profiles : ndarray of float, shape (B, s1 + ... + sn)
        The selected equilibrium: the exact equilibrium on the support the
        branch converges to (``refined``), else the last QRE of the trace.
    regret : ndarray of float, shape (B,)
        Max regret of ``profiles`` (payoff units), by :func:`allysim.solve.regret`.
    status : ndarray of int8, shape (B,)
        ``ok``: ``verify(payoffs, profiles, regret_tol)`` holds; ``bifurcation``:
        verified, but the trace passed a branch point (it may have left the
        principal branch), or it stopped at one; ``not_converged``: the regret
        stayed above ``regret_tol`` up to ``max_lambda`` or ``max_steps``.
    lambdas : ndarray of float, shape (B,)
        The lambda the trace reached.
    qre_profiles : ndarray of float, shape (B, s1 + ... + sn)
        The QRE at ``lambdas``.
    refined : ndarray of bool, shape (B,)
        Whether ``profiles`` came from the support Newton step.
    steps : ndarray of int64, shape (B,)
    regret_tol, max_lambda, max_steps, first_step, max_accel : the settings used.
    backend : ``"numba"`` or ``"numpy"``, the path that computed the result.
    method : ``"logit_trace"``
    """

    profiles: np.ndarray
    regret: np.ndarray
    status: np.ndarray
    lambdas: np.ndarray
    qre_profiles: np.ndarray
    refined: np.ndarray
    steps: np.ndarray
    regret_tol: float
    max_lambda: float
    max_steps: int
    first_step: float
    max_accel: float
    backend: str = "numpy"
    method: str = "logit_trace"


def _trace_pass(payoffs, batch, st, regret_tol, max_lambda, refine):
    """One pass of :func:`logit_trace`; returns its fields as arrays over the B games."""
    b = payoffs.shape[0]
    lay = batch.lay
    rr = lay.r
    scale = np.ptp(payoffs.reshape(b, -1), axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    limit = np.full((b, lay.k), np.nan)
    qre = np.full((b, lay.k), np.nan)
    reg = np.full(b, np.inf)
    refined = np.zeros(b, dtype=bool)
    done = np.zeros(b, dtype=bool)
    tr = _start(batch, b, st.first_step, scale)
    # Per support threshold: the support last tried and the verified equilibrium on it.
    tried = np.zeros((len(_SUPPORTS), b, lay.k), dtype=bool)
    tried_at = np.full((len(_SUPPORTS), b), np.inf)   # the QRE's regret at that try
    cand = np.full((len(_SUPPORTS), b, lay.k), np.nan)

    def check(games):
        p = _probs(tr.y[games, :rr], lay)
        qre[games] = p
        r_qre = _max_regret(_values(batch, p, games), p, lay)
        limit[games], reg[games] = p, r_qre
        finished = r_qre <= regret_tol
        if refine:
            # Solve each new support once the QRE is near equilibrium ...
            near = r_qre <= _REFINE_FROM * scale[games]
            for c, cut in enumerate(_SUPPORTS):
                supp = _support(p, lay, cut)
                # A new support, or one that failed when the QRE was 10 times farther off.
                new = near & ((supp != tried[c, games]).any(axis=1) | (
                    np.isnan(cand[c, games]).any(axis=1) & (r_qre <= 0.1 * tried_at[c, games])))
                if c:  # a finer support only where the coarser ones gave nothing
                    new &= np.isnan(cand[:c, games]).all(axis=(0, 2))
                if not new.any():
                    continue
                g = games[new]
                tried[c, g] = supp[new]
                tried_at[c, g] = r_qre[new]
                p_ne, conv = _refine(batch, g, p[new], supp[new])
                p_ne[np.abs(p_ne) <= 1e-13] = 0.0
                p_ne = np.where(conv[:, None], p_ne, p[new])
                # A quick check here; the shared certificate (verify) runs on every output.
                conv &= (p_ne >= 0).all(axis=1) & (
                    _max_regret(_values(batch, p_ne, g), p_ne, lay) <= regret_tol)
                cand[c, g] = np.where(conv[:, None], p_ne, np.nan)
            # ... and take its equilibrium once the branch has come close to it.
            dist = np.abs(cand[:, games] - p).max(axis=2)           # (len(_SUPPORTS), M)
            best = np.argmin(np.where(np.isnan(dist), np.inf, dist), axis=0)
            ok = np.take_along_axis(dist, best[None], axis=0)[0] <= _REFINE_DIST
            if ok.any():
                g = games[ok]
                limit[g] = cand[best[ok], g]
                refined[g] = True
                finished |= ok
        finished |= tr.y[games, rr] >= max_lambda
        done[games[finished]] = True
        tr.active[games[finished]] = False

    check(np.arange(b))
    while tr.active.any():
        moved, _ = _advance(batch, tr, np.full(b, np.inf), st)
        if moved.size:
            check(moved)
    certified = verify(payoffs, limit, regret_tol)
    reg = regret(payoffs, limit).max(axis=1)
    status = np.full(b, STATUS["not_converged"], dtype=np.int8)
    status[certified] = STATUS["ok"]
    status[(certified & tr.branch) | tr.stuck] = STATUS["bifurcation"]
    return limit, reg, status, tr.y[:, rr].copy(), qre, refined, tr.steps.copy()


def logit_trace(payoffs: np.ndarray, *, regret_tol: float = DEFAULT_TOL, max_lambda: float = 1e10,
                max_steps: int = 1000, first_step: float = 1.0, max_accel: float = 3.0,
                refine: bool = True, backend: str = "auto") -> LogitTraceResult:
    """Follow each game's principal logit branch to its limit, a Nash equilibrium.

    The trace stops on regret, not on a fixed lambda (lambda is in inverse
    payoff units; Gambit #365): as soon as the QRE's max regret is
    <= ``regret_tol``, or, with ``refine``, as soon as the support the branch is
    converging to yields, by Newton's method on its indifference conditions, an
    exact equilibrium within 1e-2 of the QRE whose regret is <= ``regret_tol``.
    Every returned equilibrium is certified by :func:`allysim.solve.verify`.
    The principal branch converges to one equilibrium: this is the logit
    (tracing) selection of McKelvey & Palfrey (1995) and Turocy (2005), the
    limit that Gambit's ``logit_solve`` approximates.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    regret_tol : float, default 1e-9
        Payoff units. Gambit's ``logit_solve`` instead uses ``maxregret`` times
        each game's payoff range.
    max_lambda : float, default 1e10
        Stop (``not_converged``) if the regret is still above ``regret_tol`` here.
    max_steps : int, default 1000
        Cap on continuation steps per game and pass.
    first_step, max_accel : float
        Step control, as in :func:`logit_qre`.
    refine : bool, default True
        Use the support Newton step (without it, mixed limits need lambda of
        order payoff range / regret_tol).
    backend : {"auto", "numba", "numpy"}, default "auto"
        As in :func:`logit_qre`. On games with a continuum of equilibria (payoff
        ties) the two paths may end on different certified equilibria.

    Returns
    -------
    LogitTraceResult
        ``profiles: (B, s1 + ... + sn)``, ``regret: (B,)``, ``status: (B,)``,
        ``lambdas: (B,)`` reached, ...

    Examples
    --------
    Stag hunt: of the two strict equilibria the branch selects the
    risk-dominant one, (Hare, Hare); in matching pennies the uniform profile at
    lambda = 0 is already the (mixed) equilibrium, so the trace stops there.

    >>> stag = np.array([[[[4., 0.], [3., 3.]], [[4., 3.], [0., 3.]]]])
    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> res = logit_trace(np.concatenate([stag, pennies]))
    >>> res.profiles.round(6).tolist(), status_names(res.status).tolist(), res.regret.tolist()
    ([[0.0, 1.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5]], ['ok', 'ok'], [0.0, 0.0])
    """
    payoffs = as_payoffs(payoffs, "logit_trace")
    _check_settings("logit_trace", regret_tol, max_steps, first_step, max_accel)
    kern = _kernels("logit_trace", backend)
    used = "numpy" if kern is None else "numba"
    if not (max_lambda > 0):
        raise ValueError(f"logit_trace(): max_lambda must be > 0, got {max_lambda!r}")
    st = _Settings(first_step=float(first_step), max_accel=float(max_accel), max_steps=int(max_steps),
                   relative=_RELATIVE)
    if payoffs.shape[0] == 0:
        k = int(sum(payoffs.shape[2:]))
        empty = np.zeros(0)
        return LogitTraceResult(profiles=np.zeros((0, k)), regret=empty,
                                status=np.zeros(0, dtype=np.int8), lambdas=empty,
                                qre_profiles=np.zeros((0, k)), refined=np.zeros(0, dtype=bool),
                                steps=np.zeros(0, dtype=np.int64), regret_tol=float(regret_tol),
                                max_lambda=float(max_lambda), max_steps=int(max_steps),
                                first_step=float(first_step), max_accel=float(max_accel),
                                backend=used)
    batch = _Batch.of(payoffs, kern)
    out = list(_trace_pass(payoffs, batch, st, regret_tol, max_lambda, refine))
    retry = np.flatnonzero(out[2] == STATUS["bifurcation"])
    if retry.size:
        again = _trace_pass(payoffs[retry], batch.take(retry), st.careful(), regret_tol,
                            max_lambda, refine)
        better = again[2] == STATUS["ok"]
        for full, part in zip(out[:6], again[:6]):
            full[retry[better]] = part[better]
        out[6][retry] += again[6]
    return LogitTraceResult(profiles=out[0], regret=out[1], status=out[2], lambdas=out[3],
                            qre_profiles=out[4], refined=out[5], steps=out[6],
                            regret_tol=float(regret_tol), max_lambda=float(max_lambda),
                            max_steps=int(max_steps), first_step=float(first_step),
                            max_accel=float(max_accel), backend=used)
