"""Private kernels shared by the sequential and dynamics solvers.

* :func:`cross_values` -- the bilinear pieces of a player's expected payoff:
  ``M[i][j][r, k, l]`` = player i's expected payoff when i plays k, j plays l
  and everyone else mixes as in ``sigma`` (the derivative of ``v_ik`` with
  respect to ``sigma_jl``).
* :func:`logit_trace` -- the logit QRE of a batch of small normal-form games
  at per-row precisions, found by following the principal branch from
  lambda = 0 (arclength predictor-corrector in ``(log sigma, lambda)``, as
  Gambit's ``logit`` does; Turocy 2005) and polishing with Newton at the
  target lambda. It serves the simultaneous stages of
  :func:`allysim.solve.sequential.agent_logit_qre`.

All arrays are batch-first: ``payoffs (R, m, s1, ..., sm)``, profiles
``(R, s1 + ... + sm)``.
"""
from __future__ import annotations

import numpy as np

from ._status import STATUS
from .regret import split_profile, strategy_values

_LETTERS = "abcdefghijklmnopqrstuvwxy"


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable ``exp(z) / sum(exp(z))`` along ``axis``."""
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def block_softmax(z: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Softmax of each player's block of ``z: (R, sum(shape))``."""
    return np.concatenate([softmax(b) for b in split_profile(z, shape)], axis=-1)


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


def _system(payoffs, y, shape, offsets, with_jacobian=True):
    """Residual H (R, N) and Jacobian dH/d(x, lambda) (R, N, N+1) of the logit
    equations in ``y = (x, lambda)``, x = log sigma.

    Player i's rows: ``sum_k exp(x_ik) - 1`` (row o_i) and
    ``x_ik - x_i0 - lambda (v_ik - v_i0)`` (rows o_i + k, k >= 1).
    """
    R = y.shape[0]
    N = y.shape[1] - 1
    x, lam = y[:, :N], y[:, N]
    sigma = np.exp(x)
    values = strategy_values(payoffs, sigma)
    blocks = split_profile(sigma, shape)
    xs = split_profile(x, shape)
    H = np.empty((R, N))
    for i, (o, s) in enumerate(zip(offsets, shape)):
        H[:, o] = blocks[i].sum(axis=1) - 1.0
        H[:, o + 1:o + s] = (xs[i][:, 1:] - xs[i][:, :1]
                             - lam[:, None] * (values[i][:, 1:] - values[i][:, :1]))
    if not with_jacobian:
        return H, None
    J = np.zeros((R, N, N + 1))
    cross = cross_values(payoffs, sigma) if len(shape) > 1 else None
    for i, (o, s) in enumerate(zip(offsets, shape)):
        J[:, o, o:o + s] = blocks[i]
        for k in range(1, s):
            J[:, o + k, o + k] = 1.0
            J[:, o + k, o] -= 1.0
        J[:, o + 1:o + s, N] = -(values[i][:, 1:] - values[i][:, :1])
        for j, (oj, sj) in enumerate(zip(offsets, shape)):
            if j == i:
                continue
            M = cross[i][j]                                   # (R, s_i, s_j)
            d = (M[:, 1:, :] - M[:, :1, :]) * blocks[j][:, None, :]
            J[:, o + 1:o + s, oj:oj + sj] = -lam[:, None, None] * d
    return H, J


def _tangent(J: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
    """Unit null vectors ``(R, N+1)`` of ``J: (R, N, N+1)``.

    With ``ref`` (R, N+1), solve the bordered system ``[J; ref] t = [0; 1]``
    (Allgower & Georg), which also orients t along ref; rows where that system
    is singular, and all rows without ``ref``, use the SVD.
    """
    if ref is not None:
        A = np.concatenate([J, ref[:, None, :]], axis=1)
        rhs = np.zeros(J.shape[:1] + (J.shape[2],))
        rhs[:, -1] = 1.0
        t, ok = _bordered_solve(A, rhs)
        t /= np.linalg.norm(t, axis=1, keepdims=True)
        if ok.all():
            return t
        bad = ~ok
        t[bad] = _tangent(J[bad])
        return t
    _, _, vh = np.linalg.svd(J)
    return vh[:, -1, :]


def _bordered_solve(A: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve square systems ``A x = rhs`` (R, M, M) row by row; rows whose matrix is
    (numerically) singular get the least-squares answer and ``ok`` False."""
    ok = np.ones(len(A), dtype=bool)
    try:
        x = np.linalg.solve(A, rhs[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        x = np.empty_like(rhs)
        for r in range(len(A)):           # rare: only when some matrix is exactly singular
            try:
                x[r] = np.linalg.solve(A[r], rhs[r])
            except np.linalg.LinAlgError:
                x[r] = np.linalg.lstsq(A[r], rhs[r], rcond=None)[0]
                ok[r] = False
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        x[bad] = np.einsum("rij,rj->ri", np.linalg.pinv(A[bad]), rhs[bad])
        ok[bad] = False
    return x, ok


def logit_trace(payoffs: np.ndarray, lam: np.ndarray, *, max_steps: int = 20000,
                first_step: float = 0.03, max_accel: float = 1.1,
                newton_tol: float = 1e-13) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit QRE on the principal branch of each game at its own precision.

    Parameters
    ----------
    payoffs : ndarray of float, shape (R, m, s1, ..., sm)
    lam : ndarray of float, shape (R,), each >= 0 (raw payoff units, as in Gambit)
    max_steps : cap on predictor-corrector steps per row (then ``not_converged``)
    first_step, max_accel : initial arclength and step growth (Gambit's defaults)
    newton_tol : the final Newton polish stops when max |H| <= newton_tol

    Returns
    -------
    sigma : (R, s1 + ... + sm) the QRE profiles
    status : (R,) int8: ``ok``; ``bifurcation`` (the step size collapsed at a
        turning point it could not pass); ``not_converged`` (step cap, or the
        Newton polish failed)
    steps : (R,) int, predictor-corrector steps taken
    """
    R, m = payoffs.shape[:2]
    shape = payoffs.shape[2:]
    N = int(sum(shape))
    offsets = np.concatenate([[0], np.cumsum(shape)[:-1]]).astype(int)
    lam = np.broadcast_to(np.asarray(lam, dtype=float), (R,)).copy()
    x0 = np.concatenate([np.full(s, -np.log(s)) for s in shape])
    y = np.concatenate([np.tile(x0, (R, 1)), np.zeros((R, 1))], axis=1)
    status = np.full(R, STATUS["ok"], dtype=np.int8)
    steps = np.zeros(R, dtype=np.int64)
    done = lam <= 0.0
    out = y.copy()
    h = np.full(R, first_step)
    tan = np.zeros((R, N + 1))
    if (~done).any():
        idx = np.flatnonzero(~done)
        _, J = _system(payoffs[idx], y[idx], shape, offsets)
        t = _tangent(J)
        tan[idx] = t * np.sign(t[:, N:N + 1] + (t[:, N:N + 1] == 0))
    c_tol, max_dist, max_contr, eta = 1e-4, 0.4, 0.6, 0.1
    while (~done).any():
        idx = np.flatnonzero(~done)
        over = steps[idx] >= max_steps
        if over.any():
            status[idx[over]] = STATUS["not_converged"]
            out[idx[over]] = y[idx[over]]
            done[idx[over]] = True
            idx = idx[~over]
            if not len(idx):
                break
        steps[idx] += 1
        P = payoffs[idx]
        y0, t0, hh = y[idx], tan[idx], h[idx]
        yc = y0 + hh[:, None] * t0
        ok = np.ones(len(idx), dtype=bool)
        conv = np.zeros(len(idx), dtype=bool)
        prev = np.full(len(idx), np.inf)
        decel = np.full(len(idx), 1.0 / max_accel)
        for it in range(10):
            live = ok & ~conv
            if not live.any():
                break
            H, J = _system(P[live], yc[live], shape, offsets)
            li = np.flatnonzero(live)
            # Newton step orthogonal to the predictor tangent: [J; t0] d = [-H; 0].
            A = np.concatenate([J, t0[li][:, None, :]], axis=1)
            delta, _ = _bordered_solve(A, np.concatenate([-H, np.zeros((len(li), 1))], axis=1))
            dist = np.linalg.norm(delta, axis=1)
            if it == 0:
                bad = dist > max_dist
                decel[li] = np.maximum(decel[li], np.sqrt(dist / max_dist))
            else:
                contr = dist / (prev[li] + eta * c_tol)
                bad = contr > max_contr
                decel[li] = np.maximum(decel[li], np.sqrt(contr / max_contr))
            bad |= ~np.isfinite(dist)
            ok[li[bad]] = False
            good = li[~bad]
            yc[good] += delta[~bad]
            prev[good] = dist[~bad]
            conv[good[dist[~bad] < c_tol]] = True
        acc = ok & conv
        # Orient the new tangent along the old one; refuse sharp turns.
        if acc.any():
            ai = np.flatnonzero(acc)
            _, J = _system(P[ai], yc[ai], shape, offsets)
            tn = _tangent(J, t0[ai])
            dot = np.einsum("ri,ri->r", tn, t0[ai])
            sharp = np.abs(dot) < 0.9
            acc[ai[sharp]] = False
            tn = tn * np.sign(dot + (dot == 0))[:, None]
            keep = ai[~sharp]
            tan[idx[keep]] = tn[~sharp]
        rej = ~acc
        # Step size: shrink on rejection, grow (at most max_accel) on acceptance.
        h[idx[rej]] *= 0.5
        h[idx[acc]] = hh[acc] / np.clip(decel[acc], 1.0 / max_accel, 2.0)
        collapsed = rej & (h[idx] < 1e-10)
        if collapsed.any():
            status[idx[collapsed]] = STATUS["bifurcation"]
            out[idx[collapsed]] = y[idx[collapsed]]
            done[idx[collapsed]] = True
        ai = np.flatnonzero(acc)
        y[idx[ai]] = yc[ai]
        crossed = ai[yc[ai, N] >= lam[idx[ai]]]
        if len(crossed):
            rows = idx[crossed]
            # Start the polish from the chord between the last two points, at lambda = target.
            a, b = y0[crossed], yc[crossed]
            w = ((lam[rows] - a[:, N]) / np.where(b[:, N] > a[:, N], b[:, N] - a[:, N], 1.0))[:, None]
            start = a + np.clip(w, 0.0, 1.0) * (b - a)
            start[:, N] = lam[rows]
            out[rows], good = _polish(payoffs[rows], start, shape, offsets, newton_tol)
            status[rows[~good]] = STATUS["not_converged"]
            done[rows] = True
    sigma = np.exp(out[:, :N])
    blocks = split_profile(sigma, shape)
    sigma = np.concatenate([b / b.sum(axis=1, keepdims=True) for b in blocks], axis=1)
    return sigma, status, steps


def _polish(payoffs, y, shape, offsets, newton_tol, iterations=40):
    """Newton on the logit equations at fixed lambda; returns (y, converged)."""
    N = y.shape[1] - 1
    y = y.copy()
    conv = np.zeros(len(y), dtype=bool)
    for _ in range(iterations):
        live = np.flatnonzero(~conv)
        if not len(live):
            break
        H, J = _system(payoffs[live], y[live], shape, offsets)
        res = np.abs(H).max(axis=1)
        conv[live[res <= newton_tol]] = True
        step = live[res > newton_tol]
        if not len(step):
            break
        sel = res > newton_tol
        try:
            delta = np.linalg.solve(J[sel][:, :, :N], -H[sel][:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            delta = -np.einsum("rij,rj->ri", np.linalg.pinv(J[sel][:, :, :N]), H[sel])
        y[step, :N] += delta
    if (~conv).any():
        H, _ = _system(payoffs[~conv], y[~conv], shape, offsets, with_jacobian=False)
        # Accept rows that stalled at rounding level.
        conv[np.flatnonzero(~conv)[np.abs(H).max(axis=1) <= 1e3 * newton_tol]] = True
    return y, conv


def logit_residual(payoffs: np.ndarray, sigma: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """max |sigma - logit(lambda v(sigma))| per row: 0 at an exact logit QRE.

    payoffs (R, m, *S); sigma (R, sum S); lam (R,). Returns (R,).
    """
    shape = payoffs.shape[2:]
    lam = np.broadcast_to(np.asarray(lam, dtype=float), (payoffs.shape[0],))
    values = strategy_values(payoffs, sigma)
    target = np.concatenate([softmax(lam[:, None] * v) for v in values], axis=1)
    return np.abs(np.asarray(sigma) - target).max(axis=1) if len(shape) else np.zeros(len(lam))
