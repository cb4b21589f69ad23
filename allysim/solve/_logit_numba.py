"""Compiled (numba) kernels of the logit QRE continuation (private).

Used by :mod:`allysim.solve.logit_qre` when numba is importable (the ``fast``
extra) and ``backend`` is ``"auto"`` or ``"numba"``; the NumPy code there is the
reference and the fallback, and the two are tested to agree to 1e-10 in
probabilities (their floating-point sums run in different orders, so they are
not bit-identical to each other).

Each kernel loops over the games it is given and does, per game, exactly what
the NumPy reference does for that game in one batched step: the corrector
iterations of one predictor-corrector step (:func:`step`; on a perturbed game's
curve past a branch point, :func:`_perturb`), the Newton polish at
one lambda (:func:`polish`), the strategy values (:func:`values`) and the Newton
steps on a support's Nash conditions in the trace to the limit (:func:`refine`).
A game's numbers depend only on its own payoffs and state, never on the other
games of the batch, and every sum runs in a fixed order (no ``fastmath``), so
results are independent of the batch bit for bit.

The payoffs are the stacked pair payoffs of ``_logit_pairs._pair_payoffs`` with
the last two axes swapped, ``upairs: (B, Q, rest, kl)``, and the index arrays are those of
``_logit_pairs._Layout``; games are picked by an index array ``idx`` into the
batch, so no payoffs are copied.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_MAX_CONTR = 0.5
_BRANCH_STEP = 1e-5


@njit(cache=True, nogil=True, error_model="numpy")
def _probs(r, odds, offsets, p):
    """Per-player softmax of log-odds ``r: (R,)`` into ``p: (K,)`` (in place)."""
    for i in range(p.size):
        p[i] = 0.0
    for x in range(odds.size):
        p[odds[x]] = r[x]
    for i in range(offsets.size - 1):
        lo, hi = offsets[i], offsets[i + 1]
        mx = p[lo]
        for s in range(lo + 1, hi):
            if p[s] > mx:
                mx = p[s]
        tot = 0.0
        for s in range(lo, hi):
            p[s] = math.exp(p[s] - mx)
            tot += p[s]
        for s in range(lo, hi):
            p[s] = p[s] / tot


@njit(cache=True, nogil=True, error_model="numpy")
def _derivs(up, p1, w_index, nq, w, flat):
    """Stacked pair derivatives ``flat: (Q*kl,)`` of the first ``nq`` pairs of one game,
    ``up: (Q, rest, kl)`` (the pair payoffs transposed), at ``p1: (K+1,)`` (the profile
    and a trailing 1). Each sum runs over ``rest`` in order; the kl sums of a pair
    advance together (independent, so the compiler can vectorise them)."""
    rest, kl = up.shape[1], up.shape[2]
    nt = w_index.shape[2]
    for q in range(nq):
        for rr in range(rest):
            acc = 1.0
            for t in range(nt):
                acc *= p1[w_index[q, rr, t]]
            w[rr] = acc
        base = q * kl
        for kk in range(kl):
            flat[base + kk] = 0.0
        for rr in range(rest):
            wr = w[rr]
            for kk in range(kl):
                flat[base + kk] += up[q, rr, kk] * wr


@njit(cache=True, nogil=True, error_model="numpy")
def _values(flat, pz, v_src, v_col, v):
    """Strategy values ``v: (K,)`` from the pair derivatives and ``pz: (K+1,)`` (the
    profile and a trailing 0)."""
    for k in range(v_src.shape[0]):
        s = flat[v_src[k, 0]] * pz[v_col[k, 0]]
        for c in range(1, v_src.shape[1]):
            s += flat[v_src[k, c]] * pz[v_col[k, c]]
        v[k] = s


@njit(cache=True, nogil=True, error_model="numpy")
def _equations(up, r, lam, odds, ref, offsets, cross, w_index, v_src, v_col, d_odd, d_ref,
               p1, pz, w, flat, v, dv, f, jac):
    """F (R,), F_r (R, R) and -F_lam = dv (R,) of one game at log-odds ``r``.
    (:func:`_perturb` turns them into those of a perturbed game.)"""
    k = offsets[offsets.size - 1]
    nr = odds.size
    _probs(r, odds, offsets, p1)
    p1[k] = 1.0
    for i in range(k):
        pz[i] = p1[i]
    pz[k] = 0.0
    _derivs(up, p1, w_index, up.shape[0], w, flat)
    _values(flat, pz, v_src, v_col, v)
    for x in range(nr):
        dv[x] = v[odds[x]] - v[ref[x]]
        f[x] = r[x] - lam * dv[x]
    for x in range(nr):
        for y in range(nr):
            jac[x, y] = ((flat[d_odd[x, y]] - flat[d_ref[x, y]]) - dv[x]) * (
                p1[odds[y]] * cross[x, y]) * (-lam)
        jac[x, x] += 1.0


@njit(cache=True, nogil=True, error_model="numpy")
def _perturb(prec, add, dv, f, jac, r, lam):
    """In place, the equations of :func:`_equations` of the perturbed game ``r - lam *
    prec * dv + add = 0`` (``prec``, ``add``: (R,); see ``_continuation._Trace``)."""
    for x in range(dv.size):
        for y in range(dv.size):
            if y == x:
                jac[x, y] = (jac[x, y] - 1.0) * prec[x] + 1.0
            else:
                jac[x, y] = jac[x, y] * prec[x]
        dv[x] = dv[x] * prec[x]
        f[x] = r[x] - lam * dv[x] + add[x]


@njit(cache=True, nogil=True, error_model="numpy")
def _lu_solve(a, b):
    """Solve ``a x = b`` in place by Gaussian elimination with partial pivoting; ``a: (N,
    N)``, ``b: (N, M)`` (overwritten: ``b`` holds x). Returns the sign of det(a) (0 if a
    is singular or not finite: then b is NaN) and log |det(a)|."""
    n, m = a.shape[0], b.shape[1]
    sgn = 1.0
    logabs = 0.0
    finite = True
    for i in range(n):
        for j in range(n):
            if not np.isfinite(a[i, j]):
                finite = False
    if finite:
        for c in range(n):
            piv = c
            big = abs(a[c, c])
            for rw in range(c + 1, n):
                val = abs(a[rw, c])
                if val > big:
                    big = val
                    piv = rw
            if not (big > 0.0):
                finite = False
                break
            if piv != c:
                sgn = -sgn
                for j in range(n):
                    tmp = a[c, j]
                    a[c, j] = a[piv, j]
                    a[piv, j] = tmp
                for j in range(m):
                    tmp = b[c, j]
                    b[c, j] = b[piv, j]
                    b[piv, j] = tmp
            d = a[c, c]
            if d < 0.0:
                sgn = -sgn
            logabs += math.log(abs(d))
            for rw in range(c + 1, n):
                fac = a[rw, c] / d
                for j in range(c + 1, n):
                    a[rw, j] -= fac * a[c, j]
                for j in range(m):
                    b[rw, j] -= fac * b[c, j]
    if not finite:
        for i in range(n):
            for j in range(m):
                b[i, j] = np.nan
        return 0.0, -np.inf
    for c in range(n - 1, -1, -1):
        for j in range(m):
            s = b[c, j]
            for k in range(c + 1, n):
                s -= a[c, k] * b[k, j]
            b[c, j] = s / a[c, c]
    return sgn, logabs


@njit(cache=True, nogil=True, error_model="numpy")
def _bordered(up, ua, ta, prec, add, a, use_pert, odds, ref, offsets, cross, w_index, v_src,
              v_col, d_odd, d_ref, p1, pz, w, flat, v, dv, f, jac, m, rhs):
    """The bordered system ``[[F_r, F_lam], [ta]] x = [(-F, 0), (0, 1)]`` at ``ua: (R+1,)``
    (of the perturbed game ``prec[a], add[a]`` if ``use_pert``), solved into ``rhs: (R+1,
    2)``; returns the determinant's sign and log size (see :func:`_lu_solve`)."""
    nr = odds.size
    _equations(up, ua[:nr], ua[nr], odds, ref, offsets, cross, w_index, v_src, v_col, d_odd, d_ref,
               p1, pz, w, flat, v, dv, f, jac)
    if use_pert:
        _perturb(prec[a], add[a], dv, f, jac, ua[:nr], ua[nr])
    for x in range(nr):
        for c in range(nr):
            m[x, c] = jac[x, c]
        m[x, nr] = -dv[x]
        rhs[x, 0] = -f[x]
        rhs[x, 1] = 0.0
    for c in range(nr + 1):
        m[nr, c] = ta[c]
    rhs[nr, 0] = 0.0
    rhs[nr, 1] = 1.0
    return _lu_solve(m, rhs)


@njit(cache=True, nogil=True, error_model="numpy")
def step(upairs, idx, y, t, h, det_sign, det_log, unit, prec, add, use_pert, aim, max_dist,
         max_turn, corr_tol, max_accel, drop_log, n_iters, odds, ref, offsets, cross, w_index,
         v_src, v_col, d_odd, d_ref, accepted, u, t_new, grow, sign, logdet):
    """One predictor-corrector step of the games ``idx: (A,)`` of the batch (see
    ``_continuation._step``, whose outputs ``accepted, u, t_new, grow, sign, logdet`` it
    fills).

    y, t : (A, R+1); h, det_sign, det_log, unit : (A,) (``unit`` all 1 when not
    relative); prec, add : (A, R), the perturbed game's when ``use_pert`` (else not read);
    drop_log : log of ``_continuation._DROP``.
    """
    nr = odds.size
    r1 = nr + 1
    k = offsets[offsets.size - 1]
    rest, kl = upairs.shape[2], upairs.shape[3]
    p1 = np.empty(k + 1)
    pz = np.empty(k + 1)
    w = np.empty(rest)
    flat = np.empty(upairs.shape[1] * kl)
    v = np.empty(k)
    dv = np.empty(nr)
    f = np.empty(nr)
    jac = np.empty((nr, nr))
    m = np.empty((r1, r1))
    rhs = np.empty((r1, 2))
    for a in range(idx.size):
        up = upairs[idx[a]]
        for c in range(r1):
            u[a, c] = y[a, c] + h[a] * t[a, c]
            t_new[a, c] = t[a, c]
        acc = False
        sg = 0.0
        ld = -np.inf
        first = 0.0
        contr_max = 0.0
        prev = np.inf
        for it in range(n_iters):
            det, ldet = _bordered(up, u[a], t[a], prec, add, a, use_pert, odds, ref, offsets, cross,
                                  w_index, v_src, v_col, d_odd, d_ref, p1, pz, w, flat, v, dv, f,
                                  jac, m, rhs)
            ss = 0.0
            zfinite = True
            for c in range(r1):
                ss += rhs[c, 0] * rhs[c, 0]
                if not np.isfinite(rhs[c, 1]):
                    zfinite = False
            dist = math.sqrt(ss)
            contr = dist / (prev + 0.1 * corr_tol)
            bad = not (np.isfinite(dist) and zfinite)
            if it == 0:
                first = dist / unit[a]
                if first > max_dist:
                    bad = True
            else:
                if contr > _MAX_CONTR:
                    bad = True
                if np.isfinite(contr) and contr > contr_max:
                    contr_max = contr
            if bad:
                break
            for c in range(r1):
                u[a, c] += rhs[c, 0]
            prev = dist
            if dist <= corr_tol:
                zz = 0.0
                for c in range(r1):
                    zz += rhs[c, 1] * rhs[c, 1]
                zn = math.sqrt(zz)
                for c in range(r1):
                    t_new[a, c] = rhs[c, 1] / zn
                sg = det
                ld = ldet
                acc = True
                break
        if acc and ld < det_log[a] + drop_log:
            # |det| fell sharply: a branch point may lie between the last iterate and u.
            sg, ld = _bordered(up, u[a], t[a], prec, add, a, use_pert, odds, ref, offsets, cross,
                               w_index, v_src, v_col, d_odd, d_ref, p1, pz, w, flat, v, dv, f, jac,
                               m, rhs)
        dot = 0.0
        for c in range(r1):
            dot += t[a, c] * t_new[a, c]
        angle = math.acos(min(max(dot, -1.0), 1.0))
        flipped = (sg * det_sign[a] < 0.0) and (h[a] > _BRANCH_STEP)
        acc = acc and (angle <= max_turn) and not flipped and (sg != 0.0)
        accepted[a] = acc
        sign[a] = sg
        logdet[a] = ld
        if acc:
            g = math.sqrt(aim / first) if first > 0.0 else np.inf
            if contr_max > 0.0:
                g = min(g, math.sqrt(_MAX_CONTR / 2 / contr_max))
            if angle > 0.0:
                g = min(g, 0.5 * max_turn / angle)
            if not (g < np.inf):
                g = max_accel
            grow[a] = min(max(g, 0.5), max_accel)
        else:
            grow[a] = 0.5


@njit(cache=True, nogil=True, error_model="numpy")
def polish(upairs, idx, r, lam, n_iters, slow, odds, ref, offsets, cross, w_index, v_src, v_col,
           d_odd, d_ref, converged):
    """Newton on F(r, lam) = 0 at fixed lam for the games ``idx: (A,)`` of the batch, from
    and into ``r: (A, R)`` (see ``_continuation._polish``: also converged if the last of
    ``n_iters`` steps is below ``slow``, relative); fills ``converged: (A,)``."""
    nr = odds.size
    k = offsets[offsets.size - 1]
    rest, kl = upairs.shape[2], upairs.shape[3]
    p1 = np.empty(k + 1)
    pz = np.empty(k + 1)
    w = np.empty(rest)
    flat = np.empty(upairs.shape[1] * kl)
    v = np.empty(k)
    dv = np.empty(nr)
    f = np.empty(nr)
    jac = np.empty((nr, nr))
    rhs = np.empty((nr, 1))
    for a in range(idx.size):
        up = upairs[idx[a]]
        converged[a] = False
        last = np.inf
        for _ in range(n_iters):
            _equations(up, r[a], lam[a], odds, ref, offsets, cross, w_index, v_src, v_col,
                       d_odd, d_ref, p1, pz, w, flat, v, dv, f, jac)
            for x in range(nr):
                rhs[x, 0] = -f[x]
            _lu_solve(jac, rhs)
            finite = True
            for x in range(nr):
                if not np.isfinite(rhs[x, 0]):
                    finite = False
            if not finite:
                # No Newton step (F_r singular, at a branch point): converged if F is ~0.
                big = 0.0
                fmax = 0.0
                for x in range(nr):
                    big = max(big, abs(r[a, x]))
                    fmax = max(fmax, abs(f[x]))
                if fmax <= 1e-14 * (1.0 + big):
                    converged[a] = True
                last = np.inf
                break
            size = 0.0
            for x in range(nr):
                r[a, x] += rhs[x, 0]
                if abs(rhs[x, 0]) > size:
                    size = abs(rhs[x, 0])
            big = 0.0
            for x in range(nr):
                if abs(r[a, x]) > big:
                    big = abs(r[a, x])
            last = size / (1.0 + big)
            if size <= 1e-12 * (1.0 + big):
                converged[a] = True
                break
        if last <= slow:   # still creeping in (near a singular point): the residual decides
            converged[a] = True


@njit(cache=True, nogil=True, error_model="numpy")
def values(upairs, idx, p, n_pairs, w_index, v_src, v_col, out):
    """Strategy values ``out: (A, K)`` of the games ``idx: (A,)`` at profiles ``p: (A, K)``
    (only the first ``n_pairs`` pairs, (i, i+1), are contracted)."""
    k = p.shape[1]
    rest, kl = upairs.shape[2], upairs.shape[3]
    p1 = np.empty(k + 1)
    pz = np.empty(k + 1)
    w = np.empty(rest)
    flat = np.empty(upairs.shape[1] * kl)
    for a in range(idx.size):
        for i in range(k):
            p1[i] = p[a, i]
            pz[i] = p[a, i]
        p1[k] = 1.0
        pz[k] = 0.0
        _derivs(upairs[idx[a]], p1, w_index, n_pairs, w, flat)
        _values(flat, pz, v_src, v_col, out[a])


@njit(cache=True, nogil=True, error_model="numpy")
def refine(upairs, idx, p, supp, k0, n_iters, w_index, v_src, v_col, d_full, cross_full, owner,
           offsets, converged):
    """Newton on the Nash conditions of the supports ``supp: (A, K)`` for the games
    ``idx: (A,)`` of the batch, from and into ``p: (A, K)`` (see
    ``logit_trace._refine_step``; ``k0: (A, K)`` is the row of each entry's player that
    holds the sum-to-one equation); fills ``converged: (A,)``."""
    k = p.shape[1]
    rest, kl = upairs.shape[2], upairs.shape[3]
    n = offsets.size - 1
    p1 = np.empty(k + 1)
    pz = np.empty(k + 1)
    w = np.empty(rest)
    flat = np.empty(upairs.shape[1] * kl)
    v = np.empty(k)
    bsum = np.empty(n)
    jac = np.empty((k, k))
    rhs = np.empty((k, 1))
    for a in range(idx.size):
        up = upairs[idx[a]]
        converged[a] = False
        last = np.inf
        for _ in range(n_iters):
            for i in range(k):
                p1[i] = p[a, i]
                pz[i] = p[a, i]
            p1[k] = 1.0
            pz[k] = 0.0
            _derivs(up, p1, w_index, upairs.shape[1], w, flat)
            _values(flat, pz, v_src, v_col, v)
            for i in range(n):
                acc = p[a, offsets[i]]
                for s in range(offsets[i] + 1, offsets[i + 1]):
                    acc += p[a, s]
                bsum[i] = acc
            for x in range(k):
                kk = k0[a, x]
                if kk == x:
                    rhs[x, 0] = -(bsum[owner[x]] - 1.0)
                    for y in range(k):
                        jac[x, y] = 1.0 if owner[y] == owner[x] else 0.0
                elif supp[a, x]:
                    rhs[x, 0] = -(v[x] - v[kk])
                    for y in range(k):
                        jac[x, y] = (flat[d_full[x, y]] * cross_full[x, y]
                                     - flat[d_full[kk, y]] * cross_full[kk, y])
                else:
                    rhs[x, 0] = -p[a, x]
                    for y in range(k):
                        jac[x, y] = 1.0 if y == x else 0.0
            _lu_solve(jac, rhs)
            size = 0.0
            for x in range(k):
                d = abs(rhs[x, 0])
                if not (d <= size):  # NaN propagates
                    size = d
            fine = np.isfinite(size) and size <= 1.0 and (size <= 0.5 * last or size <= 1e-10)
            if fine:
                for x in range(k):
                    p[a, x] += rhs[x, 0]
            last = size
            if fine and size <= 1e-13:
                converged[a] = True
                break
            if not fine:
                break


@njit(cache=True, nogil=True, error_model="numpy")
def gather(payoffs, src, out):
    """The transposed pair payoffs ``out: (B, Q, rest, kl)`` of the games ``payoffs: (B,
    n * s1 * ... * sn)`` (flattened), by the layout's ``src: (Q, rest, kl)`` (pad: -1,
    giving 0)."""
    nq, rest, kl = src.shape
    for g in range(payoffs.shape[0]):
        for q in range(nq):
            for rr in range(rest):
                for kk in range(kl):
                    s = src[q, rr, kk]
                    out[g, q, rr, kk] = payoffs[g, s] if s >= 0 else 0.0
