"""Compiled (numba) support enumeration of two-player games, one game at a time.

Private kernel of :func:`allysim.solve.support_enumeration` (``backend="numba"``).
It loops over the games of a batch in compiled code and, for each, over the
pairs of equal-size supports, applying *the same IEEE operations in the same
order* as the NumPy reference path (:mod:`allysim.solve.support_enumeration`):
the same differences, the same closed-form minors (sizes 1 to 3, i.e. supports
up to 4), the same sums, divisions, tolerances and comparisons. So for games up
to 4 strategies a side (and for larger ones whose supports stay <= 4) both
paths take every decision identically and agree bit for bit; minors of size
>= 4 use Gaussian elimination with partial pivoting here and LAPACK there
(``np.linalg.det``), which agree to rounding.

The kernel only finishes *nondegenerate* games: as soon as a game shows a
vertex with more best replies than its support size (the reference path's
``over`` flag) it is flagged and left for the NumPy path's vertex matching.

Where the time goes (4 x 4 standard-normal games, this 2-core machine, one
thread): about 4 us a game in :func:`batch` (69 support pairs, two sides each,
~30 ns a side: branchy scalar code, divisions; splitting it into helpers is
slower, since numba reference-counts every array passed to a call), then about
1.3 us a game in the shared ``verify`` (NumPy, ~0.6 us an equilibrium, ~2.1
equilibria a game) and ~0.5 us of packing. Compilation: ~7 s the first time,
~0.3 s from numba's cache afterwards (the threaded entry point ~6 s / ~0.1 s).

numba is optional (the ``fast`` extra): this module imports it, so
:mod:`allysim.solve.support_enumeration` imports this module only when numba is
installed. Everything is compiled once (on first use) and cached on disk
(``cache=True``); :func:`warm_up` reports how long that took.
"""
from __future__ import annotations

import time
from functools import lru_cache
from itertools import combinations

import numpy as np
from numba import njit, prange

_OPTS = dict(cache=True, nogil=True, error_model="numpy")


@lru_cache(maxsize=None)
def support_tables(size: int, kmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Supports of sizes 1..kmax among ``size`` strategies, lexicographic within each size.

    Returns ``table: (N, size) int64`` (each row: the k support strategies, then
    the ``size - k`` others, both ascending) and ``start: (kmax + 2,) int64``
    (rows of size k are ``start[k]:start[k + 1]``; ``start[0] = start[1] = 0``)."""
    rows, start = [], [0, 0]
    for k in range(1, kmax + 1):
        for sup in combinations(range(size), k):
            rows.append(list(sup) + [s for s in range(size) if s not in sup])
        start.append(len(rows))
    return np.array(rows, dtype=np.int64).reshape(-1, size), np.array(start, dtype=np.int64)


#: Seconds the first call took to compile the kernels (or load them from numba's cache).
compile_seconds = None


def warm_up() -> float:
    """Compile (or load from numba's cache) the kernels on a tiny problem, once.
    Returns the seconds that took (0.0 when already done)."""
    global compile_seconds
    if compile_seconds is not None:
        return 0.0
    t0 = time.perf_counter()
    u = np.zeros((1, 2, 1, 1))
    rt, rs = support_tables(1, 1)
    _run(u, np.ones((1, 2)), 1e-9, 1, rt, rs, rt, rs)
    spread(u)
    compile_seconds = time.perf_counter() - t0
    return compile_seconds


#: Games per task when the batch is split across threads.
_TASK = 512


def _run(payoffs, tiny, tol, cap, rtab, rstart, ctab, cstart, threads=1):
    B, _, m, n = payoffs.shape
    eq = np.empty((B, cap, m + n))
    reg = np.empty((B, cap))
    count = np.zeros(B, dtype=np.int64)
    degen = np.zeros(B, dtype=np.bool_)
    if threads > 1 and B > _TASK:
        import numba
        old = numba.get_num_threads()
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            batch_threads(payoffs, tiny, float(tol), rtab, rstart, ctab, cstart, eq, reg, count,
                          degen, _TASK)
        finally:
            numba.set_num_threads(old)
    else:
        batch(payoffs, tiny, float(tol), rtab, rstart, ctab, cstart, eq, reg, count, degen)
    return eq, reg, count, degen


def solve(payoffs: np.ndarray, tiny: np.ndarray, tol: float, cap: int = 8, threads: int = 1):
    """Run the kernel on ``payoffs: (B, 2, m, n)`` (C-contiguous float64).

    tiny : (B, min(m, n) + 1) the singularity threshold of each game and support size.
    Returns ``eq (B, K, m + n)`` (canonical order, NaN padding), ``reg (B, K)``,
    ``count (B,)`` and ``degen (B,)`` (flagged games: their rows are meaningless).
    ``K`` is at least ``cap``; games with more equilibria are solved again with room.
    ``threads > 1`` splits the games into tasks of ``_TASK`` run on that many threads:
    each game is computed alone and written to its own rows, so the output does not
    depend on the number of threads."""
    warm_up()
    if threads > 1:
        warm_up_threads()
    B, _, m, n = payoffs.shape
    kmax = min(m, n)
    rtab, rstart = support_tables(m, kmax)
    ctab, cstart = support_tables(n, kmax)
    eq, reg, count, degen = _run(payoffs, tiny, tol, cap, rtab, rstart, ctab, cstart, threads)
    big = np.flatnonzero((count > cap) & ~degen)
    if big.size:
        K = int(count[big].max())
        eq2, reg2, _, _ = _run(payoffs[big], tiny[big], tol, K, rtab, rstart, ctab, cstart)
        eq = np.concatenate([eq, np.full((B, K - cap, m + n), np.nan)], axis=1)
        reg = np.concatenate([reg, np.full((B, K - cap), np.nan)], axis=1)
        eq[big], reg[big] = eq2, reg2
    return eq, reg, count, degen


#: Seconds the threaded entry point took to compile (or load), on its first use.
compile_seconds_threads = None


def warm_up_threads() -> float:
    """Compile (or load) the threaded entry point once; the seconds it took."""
    global compile_seconds_threads
    if compile_seconds_threads is not None:
        return 0.0
    t0 = time.perf_counter()
    u = np.zeros((1, 2, 1, 1))
    rt, rs = support_tables(1, 1)
    eq, reg = np.empty((1, 1, 2)), np.empty((1, 1))
    batch_threads(u, np.ones((1, 2)), 1e-9, rt, rs, rt, rs, eq, reg, np.zeros(1, dtype=np.int64),
                  np.zeros(1, dtype=np.bool_), _TASK)
    compile_seconds_threads = time.perf_counter() - t0
    return compile_seconds_threads


@njit(**_OPTS)
def spread(payoffs):
    """``max(range of A, range of C)`` per game of ``payoffs: (B, 2, m, n)`` -> ``(B,)``
    (max and min are exact: the same numbers as the reference's reductions)."""
    B, _, m, n = payoffs.shape
    out = np.empty(B)
    for b in range(B):
        best = 0.0
        for pl in range(2):
            hi = payoffs[b, pl, 0, 0]
            lo = hi
            for i in range(m):
                for j in range(n):
                    v = payoffs[b, pl, i, j]
                    if v > hi:
                        hi = v
                    if v < lo:
                        lo = v
            d = hi - lo
            if pl == 0 or d > best:
                best = d
        out[b] = best
    return out


@njit(inline="always", **_OPTS)
def det3(a, b, c, d, e, f, g, h, i):
    """The reference's 3 x 3 closed form, columns ``(a, d, g), (b, e, h), (c, f, i)``."""
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


@njit(**_OPTS)
def batch(payoffs, tiny, tol, rtab, rstart, ctab, cstart, eq, reg, count, degen):
    """Every game of ``payoffs: (B, 2, m, n)``: equilibria into ``eq: (B, cap, m + n)``
    in canonical order (NaN padding), their max regret into ``reg: (B, cap)``, the
    number found into ``count`` (may exceed cap: then only the first cap in canonical
    order are kept) and ``degen`` (the game was left unfinished).

    For each support pair and each side (x: the row player's mix making the columns
    indifferent, on the column player's payoffs; y: the other way round) this is the
    reference's ``_side``: ``w[r - 1, t] = M[own[t], oth[r]] - M[own[t], oth[0]]`` (its
    ``diff``), ``mix[j]`` the j-th signed maximal minor of ``w`` (the columns other
    than j; its closed forms written out for k <= 4) over their sum, in the same
    order, then the same tests. Written in one body, on arrays indexed in place,
    because numba reference-counts every array passed to a helper (100 ns a call)."""
    B, _, m, n = payoffs.shape
    cap = eq.shape[1]
    mn = m + n
    kmax = min(m, n)
    sz = max(m, n)
    S = np.empty((2, sz, sz))      # S[0] = C (column player's, row first), S[1] = A.T
    tabs = np.zeros((2, max(rtab.shape[0], ctab.shape[0]), sz), dtype=np.int64)
    tabs[0, :rtab.shape[0], :m] = rtab
    tabs[1, :ctab.shape[0], :n] = ctab
    X = np.empty((2, kmax))        # X[0] = x, X[1] = y
    w = np.empty((max(kmax - 1, 1), kmax))
    cols = np.empty(kmax, dtype=np.int64)
    lu = np.empty((kmax, kmax))
    prof = np.empty(mn)
    key = np.empty(mn)
    keys = np.empty((cap, mn))
    for b in range(B):
        for i in range(m):
            for j in range(n):
                S[0, i, j] = payoffs[b, 1, i, j]
                S[1, j, i] = payoffs[b, 0, i, j]
        cnt = 0
        bad = False
        for k in range(1, kmax + 1):
            tk = tiny[b, k]
            for p in range(rstart[k], rstart[k + 1]):
                for q in range(cstart[k], cstart[k + 1]):
                    vx = False
                    vy = False
                    for sd in range(2):
                        od = 1 - sd
                        po = p if sd == 0 else q
                        qo = q if sd == 0 else p
                        s_oth = n if sd == 0 else m
                        o0 = tabs[sd, po, 0]
                        h0 = tabs[od, qo, 0]
                        if k <= 4:
                            # Scalars (registers) for supports up to 4.
                            m0 = 1.0
                            m1 = m2 = m3 = 0.0
                            low = 1.0
                            o1 = o2 = o3 = 0
                            if k >= 2:
                                o1 = tabs[sd, po, 1]
                                h1 = tabs[od, qo, 1]
                                w00 = S[sd, o0, h1] - S[sd, o0, h0]
                                w01 = S[sd, o1, h1] - S[sd, o1, h0]
                                if k == 2:
                                    c0 = w01
                                    c1 = -w00
                                    total = c0 + c1
                                else:
                                    o2 = tabs[sd, po, 2]
                                    h2 = tabs[od, qo, 2]
                                    w02 = S[sd, o2, h1] - S[sd, o2, h0]
                                    w10 = S[sd, o0, h2] - S[sd, o0, h0]
                                    w11 = S[sd, o1, h2] - S[sd, o1, h0]
                                    w12 = S[sd, o2, h2] - S[sd, o2, h0]
                                    if k == 3:
                                        # 2 x 2 form on columns (c0, c1): w[0,c0] w[1,c1] - w[0,c1] w[1,c0]
                                        c0 = w01 * w12 - w02 * w11
                                        c1 = -(w00 * w12 - w02 * w10)
                                        c2 = w00 * w11 - w01 * w10
                                        total = c0 + c1
                                        total += c2
                                    else:
                                        o3 = tabs[sd, po, 3]
                                        h3 = tabs[od, qo, 3]
                                        w03 = S[sd, o3, h1] - S[sd, o3, h0]
                                        w13 = S[sd, o3, h2] - S[sd, o3, h0]
                                        w20 = S[sd, o0, h3] - S[sd, o0, h0]
                                        w21 = S[sd, o1, h3] - S[sd, o1, h0]
                                        w22 = S[sd, o2, h3] - S[sd, o2, h0]
                                        w23 = S[sd, o3, h3] - S[sd, o3, h0]
                                        # det3 on columns (c0, c1, c2): (a, d, g), (b, e, h), (c, f, i)
                                        c0 = det3(w01, w02, w03, w11, w12, w13, w21, w22, w23)
                                        c1 = -det3(w00, w02, w03, w10, w12, w13, w20, w22, w23)
                                        c2 = det3(w00, w01, w03, w10, w11, w13, w20, w21, w23)
                                        c3 = -det3(w00, w01, w02, w10, w11, w12, w20, w21, w22)
                                        total = c0 + c1
                                        total += c2
                                        total += c3
                                if not (abs(total) > tk):
                                    continue
                                m0 = c0 / total
                                m1 = c1 / total
                                low = min(m0, m1)
                                if k >= 3:
                                    m2 = c2 / total
                                    low = min(low, m2)
                                if k == 4:
                                    m3 = c3 / total
                                    low = min(low, m3)
                                if not (low >= -tol):
                                    continue
                            # The support's value and the best value outside it.
                            v = S[sd, o0, h0] * m0
                            if k >= 2:
                                v += S[sd, o1, h0] * m1
                            if k >= 3:
                                v += S[sd, o2, h0] * m2
                            if k == 4:
                                v += S[sd, o3, h0] * m3
                            rest = -np.inf
                            for o in range(k, s_oth):
                                ho = tabs[od, qo, o]
                                val = S[sd, o0, ho] * m0
                                if k >= 2:
                                    val += S[sd, o1, ho] * m1
                                if k >= 3:
                                    val += S[sd, o2, ho] * m2
                                if k == 4:
                                    val += S[sd, o3, ho] * m3
                                if val > rest:
                                    rest = val
                            X[sd, 0] = m0
                            if k >= 2:
                                X[sd, 1] = m1
                            if k >= 3:
                                X[sd, 2] = m2
                            if k == 4:
                                X[sd, 3] = m3
                        else:
                            for t in range(k):
                                base = S[sd, tabs[sd, po, t], tabs[od, qo, 0]]
                                for r in range(1, k):
                                    w[r - 1, t] = S[sd, tabs[sd, po, t], tabs[od, qo, r]] - base
                            for j in range(k):
                                c_ = 0
                                for jj in range(k):
                                    if jj != j:
                                        cols[c_] = jj
                                        c_ += 1
                                # Determinant of w[:, cols] by elimination with
                                # partial pivoting (written here: a call costs more).
                                r_ = k - 1
                                for i in range(r_):
                                    for jj in range(r_):
                                        lu[i, jj] = w[i, cols[jj]]
                                dt = 1.0
                                for c_ in range(r_):
                                    piv = c_
                                    big = abs(lu[c_, c_])
                                    for i in range(c_ + 1, r_):
                                        if abs(lu[i, c_]) > big:
                                            big = abs(lu[i, c_])
                                            piv = i
                                    if big == 0.0:
                                        dt = 0.0
                                        break
                                    if piv != c_:
                                        dt = -dt
                                        for jj in range(r_):
                                            tmp = lu[c_, jj]
                                            lu[c_, jj] = lu[piv, jj]
                                            lu[piv, jj] = tmp
                                    dt *= lu[c_, c_]
                                    for i in range(c_ + 1, r_):
                                        f_ = lu[i, c_] / lu[c_, c_]
                                        for jj in range(c_ + 1, r_):
                                            lu[i, jj] -= f_ * lu[c_, jj]
                                X[sd, j] = -dt if j % 2 else dt
                            total = X[sd, 0]
                            for j in range(1, k):
                                total += X[sd, j]
                            if not (abs(total) > tk):
                                continue
                            low = np.inf
                            for j in range(k):
                                X[sd, j] = X[sd, j] / total
                                if X[sd, j] < low:
                                    low = X[sd, j]
                            if not (low >= -tol):
                                continue
                            v = S[sd, o0, h0] * X[sd, 0]
                            for t in range(1, k):
                                v += S[sd, tabs[sd, po, t], h0] * X[sd, t]
                            rest = -np.inf
                            for o in range(k, s_oth):
                                ho = tabs[od, qo, o]
                                val = S[sd, o0, ho] * X[sd, 0]
                                for t in range(1, k):
                                    val += S[sd, tabs[sd, po, t], ho] * X[sd, t]
                                if val > rest:
                                    rest = val
                        valid = rest <= v + tol
                        if valid and ((rest >= v - tol) or (low <= tol)):
                            bad = True      # a vertex with more best replies than its support
                            break
                        if sd == 0:
                            vx = valid
                        else:
                            vy = valid
                    if bad:
                        break
                    if not (vx and vy):
                        continue
                    # The profile: clipped at 0, each block divided by its sum.
                    for i in range(mn):
                        prof[i] = 0.0
                    for t in range(k):
                        xt = X[0, t]
                        yt = X[1, t]
                        prof[rtab[p, t]] = xt if xt > 0.0 else 0.0
                        prof[m + ctab[q, t]] = yt if yt > 0.0 else 0.0
                    sx = 0.0
                    for i in range(m):
                        sx += prof[i]
                    sy = 0.0
                    for j in range(n):
                        sy += prof[m + j]
                    for i in range(m):
                        prof[i] = prof[i] / sx
                    for j in range(n):
                        prof[m + j] = prof[m + j] / sy
                    # Max regret, as the reference reports it.
                    rmax = -np.inf
                    rx = 0.0
                    for i in range(m):
                        s = 0.0
                        for j in range(n):
                            s += payoffs[b, 0, i, j] * prof[m + j]
                        rx += s * prof[i]
                        if s > rmax:
                            rmax = s
                    cmax = -np.inf
                    cy = 0.0
                    for j in range(n):
                        s = 0.0
                        for i in range(m):
                            s += prof[i] * payoffs[b, 1, i, j]
                        cy += s * prof[m + j]
                        if s > cmax:
                            cmax = s
                    rg = max(rmax - rx, cmax - cy)
                    # Canonical order: descending lexicographic on rint(p * 1e9), stable.
                    for i in range(mn):
                        key[i] = np.rint(prof[i] * 1e9)
                    pos = min(cnt, cap)
                    while pos > 0:
                        # Does it go after keys[pos - 1]? (smaller, or equal: keep the order found)
                        later = True
                        for i in range(mn):
                            if key[i] != keys[pos - 1, i]:
                                later = key[i] < keys[pos - 1, i]
                                break
                        if later:
                            break
                        pos -= 1
                    if pos < cap:
                        last = min(cnt, cap - 1)
                        for s_ in range(last, pos, -1):
                            for i in range(mn):
                                keys[s_, i] = keys[s_ - 1, i]
                                eq[b, s_, i] = eq[b, s_ - 1, i]
                            reg[b, s_] = reg[b, s_ - 1]
                        for i in range(mn):
                            keys[pos, i] = key[i]
                            eq[b, pos, i] = prof[i]
                        reg[b, pos] = rg
                    cnt += 1
                if bad:
                    break
            if bad:
                break
        degen[b] = bad
        count[b] = 0 if bad else cnt
        for s_ in range(0 if bad else min(cnt, cap), cap):
            for i in range(mn):
                eq[b, s_, i] = np.nan
            reg[b, s_] = np.nan



@njit(parallel=True, **_OPTS)
def batch_threads(payoffs, tiny, tol, rtab, rstart, ctab, cstart, eq, reg, count, degen, task):
    """:func:`batch` on tasks of ``task`` games spread over numba's threads (prange);
    every game is written to its own rows, so the layout is the serial one."""
    B = payoffs.shape[0]
    ntask = (B + task - 1) // task
    for t in prange(ntask):
        lo = t * task
        hi = min(lo + task, B)
        batch(payoffs[lo:hi], tiny[lo:hi], tol, rtab, rstart, ctab, cstart, eq[lo:hi], reg[lo:hi],
              count[lo:hi], degen[lo:hi])
