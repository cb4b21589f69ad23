"""Compiled (numba) support enumeration of two-player games, vectorised over blocks of games.

Private kernel of :func:`allysim.solve.support_enumeration` (``backend="numba"``).
It takes the games of a batch ``BLOCK`` at a time, brings each to the canonical
form of :func:`~allysim.solve.support_enumeration._normalize` (stored games last,
``S[side, own, other, game]``) and, for every pair of equal-size supports and
each side, solves the indifference system of *all the block's games at once*:
the loops over games are straight-line code on contiguous memory, which LLVM
turns into SIMD instructions, so a support pair costs a few nanoseconds a game.
They apply *the same IEEE operations in the same order* as the NumPy reference
path (:mod:`allysim.solve.support_enumeration`): the same differences, the same
closed-form minors (supports up to 4), the same bounds, divisions, tolerances
and comparisons, and for bigger supports the same Gaussian elimination (done
game by game here). So both paths take every decision identically and agree
bit for bit.

Each equilibrium found is certified in the kernel by what the shared ``verify``
computes (:func:`_certify`: each strategy's value summed in NumPy's order,
pairwise for 8 or more terms as NumPy's ``add.reduce`` does, compared with the
same ``tol * payoff_scale``); a test checks it equals ``verify`` on the values
and on the decision. Its max regret is reported on the original payoffs.

Games with a vertex that has more best replies than its support size (the
reference path's ``over`` flag) are flagged ``degen`` and left for the NumPy
path's vertex matching. Supports are generated on the fly (lexicographic), so
memory does not grow with the game's size.

Where the time goes (4 x 4 standard-normal games, one thread, CPU time on this
2-core machine, measured by switching parts off): about 1.1 us a game in all. The
138 sides (69 support pairs, two sides each) take about 0.33 us, 2.4 ns a side a
game; bringing each game to canonical form, generating the supports and scanning
for the lanes where both sides hold about 0.26 us; recording the 2.1 equilibria a
game (profile, certificate about 0.19 us, canonical insertion) and writing the
padded output about 0.5 us. Supports of 5 or more cost about 10 times a small one
(7 x 7 games: 113 us, 33 ns a pair). Compilation: about 12 s of CPU the first time
(numba's disk cache then loads it in about 0.3 s); ``threads`` runs the same compiled
kernel on Python threads, since it releases the GIL.

numba is optional (the ``fast`` extra): this module imports it, so
:mod:`allysim.solve.support_enumeration` imports this module only when numba is
installed. Everything is compiled once (on first use) and cached on disk
(``cache=True``); :func:`warm_up` reports how long that took.
"""
from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from .support_enumeration import SINGULAR

_OPTS = dict(cache=True, nogil=True, error_model="numpy")

#: Games solved together (the SIMD axis of the kernel).
BLOCK = 128


# ----------------------------------------------------------------------------- entry points

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
    _run(u, 1e-9, 1)
    compile_seconds = time.perf_counter() - t0
    return compile_seconds


def _run(payoffs, tol, cap, threads=1):
    B, _, m, n = payoffs.shape
    eq = np.empty((B, cap, m + n))
    reg = np.empty((B, cap))
    count = np.zeros(B, dtype=np.int64)
    degen = np.zeros(B, dtype=np.bool_)
    failed = np.zeros(B, dtype=np.bool_)
    nblk = -(-B // BLOCK)
    threads = min(threads, nblk, os.cpu_count() or 1)
    if threads > 1:
        # The kernel releases the GIL (nogil): Python threads on consecutive runs of
        # whole blocks, each writing its own rows. No second compilation (numba's
        # parallel target would compile the kernel again).
        cut = [min(B, (nblk * t // threads) * BLOCK) for t in range(threads + 1)]

        def part(t):
            lo, hi = cut[t], cut[t + 1]
            batch(payoffs[lo:hi], float(tol), eq[lo:hi], reg[lo:hi], count[lo:hi], degen[lo:hi],
                  failed[lo:hi], BLOCK)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(part, range(threads)))
    else:
        batch(payoffs, float(tol), eq, reg, count, degen, failed, BLOCK)
    return eq, reg, count, degen, failed


def solve(payoffs: np.ndarray, tol: float, cap: int = 8, threads: int = 1):
    """Run the kernel on ``payoffs: (B, 2, m, n)`` (C-contiguous float64).

    Returns ``eq (B, K, m + n)`` (canonical order, NaN padding), ``reg (B, K)``,
    ``count (B,)``, ``degen (B,)`` (flagged games: their rows are empty) and
    ``failed (B,)`` (an equilibrium failed the certificate and was dropped).
    ``K = max(count)`` (at least 1); games with more than ``cap`` equilibria are solved
    again with room for all.
    ``threads > 1`` spreads the blocks over that many threads (at most the number of
    CPUs): each game is computed alone (its own SIMD lane) and written to its own rows,
    so the output does not depend on the number of threads, the block or the batch."""
    warm_up()
    B, _, m, n = payoffs.shape
    eq, reg, count, degen, failed = _run(payoffs, tol, cap, threads)
    K = max(int(count.max(initial=0)), 1)             # degenerate games: count 0
    if K < cap:
        return eq[:, :K].copy(), reg[:, :K].copy(), count, degen, failed
    if K == cap:
        return eq, reg, count, degen, failed
    # Games with more than cap equilibria: solved again with room for all; one new
    # array of the final size (a concatenation would write it twice).
    big = np.flatnonzero(count > cap)
    eq2, reg2, _, _, _ = _run(np.ascontiguousarray(payoffs[big]), tol, K)
    out, rout = np.empty((B, K, m + n)), np.empty((B, K))
    out[:, :cap], rout[:, :cap] = eq, reg
    out[:, cap:], rout[:, cap:] = np.nan, np.nan
    out[big], rout[big] = eq2, reg2
    return out, rout, count, degen, failed


# ----------------------------------------------------------------------------- helpers

@njit(**_OPTS)
def payoff_scale_one(payoffs, b):
    """:func:`allysim.solve.regret.payoff_scale` of game ``b`` of ``payoffs: (B, 2, m, n)``,
    the same number (maxima, minima and one subtraction each: exact operations)."""
    m, n = payoffs.shape[2], payoffs.shape[3]
    s = 0.0
    for j in range(n):                 # the row player: its best minus worst in each column
        hi = payoffs[b, 0, 0, j]
        lo = hi
        for i in range(1, m):
            v = payoffs[b, 0, i, j]
            hi = v if v > hi else hi
            lo = v if v < lo else lo
        d = hi - lo
        s = d if d > s else s
    for i in range(m):                 # the column player: in each row
        hi = payoffs[b, 1, i, 0]
        lo = hi
        for j in range(1, n):
            v = payoffs[b, 1, i, j]
            hi = v if v > hi else hi
            lo = v if v < lo else lo
        d = hi - lo
        s = d if d > s else s
    if s > 0.0:
        return s
    big = 0.0
    for p in range(2):
        for i in range(m):
            for j in range(n):
                v = abs(payoffs[b, p, i, j])
                big = v if v > big else big
    return big if big > 1.0 else 1.0


@njit(**_OPTS)
def scales(payoffs):
    """:func:`payoff_scale_one` of every game: ``(B,)`` (for tests)."""
    out = np.empty(payoffs.shape[0])
    for b in range(payoffs.shape[0]):
        out[b] = payoff_scale_one(payoffs, b)
    return out


@njit(**_OPTS)
def _first(comb, size):
    """The first support of any size: 0, 1, ... (and the complement after it)."""
    for i in range(size):
        comb[i] = i


@njit(**_OPTS)
def _next(comb, k, size):
    """The next support of size k after ``comb[:k]`` in lexicographic order, its
    complement in ``comb[k:]``; False after the last."""
    i = k - 1
    while i >= 0 and comb[i] == size - k + i:
        i -= 1
    if i < 0:
        return False
    comb[i] += 1
    for j in range(i + 1, k):
        comb[j] = comb[j - 1] + 1
    t = k
    s = 0
    for v in range(size):
        if s < k and comb[s] == v:
            s += 1
        else:
            comb[t] = v
            t += 1
    return True


@njit(**_OPTS)
def _pw_leaf(a, lo, n):
    """NumPy's ``pairwise_sum`` of ``a[lo:lo + n]`` for n <= 128: sequential below 8
    terms, else eight accumulators."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(**_OPTS)
def _halves(n):
    n2 = n // 2
    return n2 - n2 % 8


# NumPy splits longer sums in halves (a multiple of 8 first) and recurses; numba's
# on-disk cache does not load recursive functions safely, so the levels are spelled out
# (each handles about twice the length of the one below: 2048 terms in all).
@njit(**_OPTS)
def _pw1(a, lo, n):
    if n <= 128:
        return _pw_leaf(a, lo, n)
    n2 = _halves(n)
    return _pw_leaf(a, lo, n2) + _pw_leaf(a, lo + n2, n - n2)


@njit(**_OPTS)
def _pw2(a, lo, n):
    if n <= 128:
        return _pw_leaf(a, lo, n)
    n2 = _halves(n)
    return _pw1(a, lo, n2) + _pw1(a, lo + n2, n - n2)


@njit(**_OPTS)
def _pw3(a, lo, n):
    if n <= 128:
        return _pw_leaf(a, lo, n)
    n2 = _halves(n)
    return _pw2(a, lo, n2) + _pw2(a, lo + n2, n - n2)


@njit(**_OPTS)
def pairwise_sum(a, lo, n):
    """``a[lo:lo + n].sum()`` in NumPy's order for contiguous float64 (its
    ``pairwise_sum``), for n up to 2048 (beyond: the same tree, one level short)."""
    if n <= 128:
        return _pw_leaf(a, lo, n)
    n2 = _halves(n)
    return _pw3(a, lo, n2) + _pw3(a, lo + n2, n - n2)


@njit(**_OPTS)
def _certify(payoffs, b, prof, tmp, vals, vals1, slack, tol):
    """What ``verify`` computes for game ``b`` at ``prof: (m + n,)`` (``tmp``: scratch of
    ``max(m, n)``, ``vals: (m,)``, ``vals1: (n,)``): returns (passed, max regret).
    NumPy sums a contiguous axis pairwise (sequentially from 0.0 below 8 terms): the
    probabilities of each player, the row player's values (over columns) and each
    player's expected payoff; the column player's values are sums over rows, which
    NumPy adds one row after another (pairwise over the rows when n == 1)."""
    m, n = payoffs.shape[2], payoffs.shape[3]
    ok = True
    sx = 0.0
    for i in range(m + n):
        v = prof[i]
        if not (v >= -tol and np.isfinite(v)):
            ok = False
    if m < 8:
        for i in range(m):
            sx += prof[i]
    else:
        for i in range(m):
            tmp[i] = prof[i]
        sx = pairwise_sum(tmp, 0, m)
    sy = 0.0
    if n < 8:
        for j in range(n):
            sy += prof[m + j]
    else:
        for j in range(n):
            tmp[j] = prof[m + j]
        sy = pairwise_sum(tmp, 0, n)
    if not (abs(sx - 1.0) <= tol and abs(sy - 1.0) <= tol):
        ok = False
    # Row player: each strategy's value, then expected = sum(value * x).
    best0 = -np.inf
    for i in range(m):
        if n < 8:
            v = 0.0
            for j in range(n):
                v += payoffs[b, 0, i, j] * prof[m + j]
        else:
            for j in range(n):
                tmp[j] = payoffs[b, 0, i, j] * prof[m + j]
            v = pairwise_sum(tmp, 0, n)
        vals[i] = v
        best0 = v if v > best0 else best0
    if m < 8:
        exp0 = 0.0
        for i in range(m):
            exp0 += vals[i] * prof[i]
    else:
        for i in range(m):
            tmp[i] = vals[i] * prof[i]
        exp0 = pairwise_sum(tmp, 0, m)
    # Column player.
    best1 = -np.inf
    for j in range(n):
        if n == 1 and m >= 8:
            for i in range(m):
                tmp[i] = payoffs[b, 1, i, j] * prof[i]
            v = pairwise_sum(tmp, 0, m)
        elif n == 1:
            v = 0.0
            for i in range(m):
                v += payoffs[b, 1, i, j] * prof[i]
        else:
            v = payoffs[b, 1, 0, j] * prof[0]
            for i in range(1, m):
                v = v + payoffs[b, 1, i, j] * prof[i]
        vals1[j] = v
        best1 = v if v > best1 else best1
    if n < 8:
        exp1 = 0.0
        for j in range(n):
            exp1 += vals1[j] * prof[m + j]
    else:
        for j in range(n):
            tmp[j] = vals1[j] * prof[m + j]
        exp1 = pairwise_sum(tmp, 0, n)
    if not (exp0 >= best0 - slack and exp1 >= best1 - slack):
        ok = False
    r0 = best0 - exp0
    r1 = best1 - exp1
    return ok, (r0 if r0 >= r1 else r1)


@njit(**_OPTS)
def certify_many(payoffs, sigma, tol):
    """:func:`_certify` on ``payoffs: (B, 2, m, n)`` and ``sigma: (B, m + n)`` -> passed
    ``(B,)`` and max regret ``(B,)`` (for tests: it must equal ``verify``)."""
    B, _, m, n = payoffs.shape
    passed = np.empty(B, dtype=np.bool_)
    rg = np.empty(B)
    tmp = np.empty(max(m, n))
    vals = np.empty(m)
    vals1 = np.empty(n)
    for b in range(B):
        slack = tol * payoff_scale_one(payoffs, b)
        passed[b], rg[b] = _certify(payoffs, b, sigma[b], tmp, vals, vals1, slack, tol)
    return passed, rg


# ----------------------------------------------------------------------------- one side, k <= 4
#
# S[sd, own, oth, g]: side sd's matrix (0: the column player's payoffs C[i, j], so own =
# rows, oth = columns; 1: the row player's A[i, j] stored as [j, i]). Each function
# computes, for every game g of the block, the reference's _side for one support pair:
# the mix into X[sd, :, g], valid[sd, g], and degenerate flags into deg[g].


@njit(inline="always", **_OPTS)
def _finish(S, sd, own, oth, k, s_oth, G, tol, tolg, X, V, L, OK, R, valid, deg):
    """The best value outside the support (R) and the tests, for every game."""
    for g in range(G):
        R[g] = -np.inf
    for o in range(k, s_oth):
        ho = oth[o]
        if k == 1:
            for g in range(G):
                val = S[sd, own[0], ho, g] * X[sd, 0, g]
                R[g] = val if val > R[g] else R[g]
        elif k == 2:
            o0, o1 = own[0], own[1]
            for g in range(G):
                val = S[sd, o0, ho, g] * X[sd, 0, g]
                val = val + S[sd, o1, ho, g] * X[sd, 1, g]
                R[g] = val if val > R[g] else R[g]
        elif k == 3:
            o0, o1, o2 = own[0], own[1], own[2]
            for g in range(G):
                val = S[sd, o0, ho, g] * X[sd, 0, g]
                val = val + S[sd, o1, ho, g] * X[sd, 1, g]
                val = val + S[sd, o2, ho, g] * X[sd, 2, g]
                R[g] = val if val > R[g] else R[g]
        else:
            o0, o1, o2, o3 = own[0], own[1], own[2], own[3]
            for g in range(G):
                val = S[sd, o0, ho, g] * X[sd, 0, g]
                val = val + S[sd, o1, ho, g] * X[sd, 1, g]
                val = val + S[sd, o2, ho, g] * X[sd, 2, g]
                val = val + S[sd, o3, ho, g] * X[sd, 3, g]
                R[g] = val if val > R[g] else R[g]
    for g in range(G):
        v = V[g]
        r = R[g]
        t = tolg[g]
        va = OK[g] & (r <= v + t)
        valid[sd, g] = va
        deg[g] |= va & ((r >= v - t) | (L[g] <= tol))


@njit(inline="always", **_OPTS)
def _side_small(S, sd, own, oth, k, s_oth, G, tol, tolg, X, V, L, OK, R, valid, deg):
    """Supports of 1 to 4: the reference's closed forms, for every game of the block."""
    o0 = own[0]
    h0 = oth[0]
    if k == 1:
        for g in range(G):
            X[sd, 0, g] = 1.0
            V[g] = S[sd, o0, h0, g] * 1.0
            L[g] = 1.0
            OK[g] = True
    elif k == 2:
        o1, h1 = own[1], oth[1]
        for g in range(G):
            d00 = S[sd, o0, h0, g]
            d10 = S[sd, o1, h0, g]
            w00 = S[sd, o0, h1, g] - d00
            w01 = S[sd, o1, h1, g] - d10
            c0 = w01
            c1 = -w00
            total = c0 + c1
            bound = abs(w00) + abs(w01)
            m0 = c0 / total
            m1 = c1 / total
            low = m0 if m0 < m1 else m1
            X[sd, 0, g] = m0
            X[sd, 1, g] = m1
            V[g] = d00 * m0 + d10 * m1
            L[g] = low
            OK[g] = (abs(total) > SINGULAR * bound) & (low >= -tol)
    elif k == 3:
        o1, o2, h1, h2 = own[1], own[2], oth[1], oth[2]
        for g in range(G):
            d00 = S[sd, o0, h0, g]
            d10 = S[sd, o1, h0, g]
            d20 = S[sd, o2, h0, g]
            w00 = S[sd, o0, h1, g] - d00
            w01 = S[sd, o1, h1, g] - d10
            w02 = S[sd, o2, h1, g] - d20
            w10 = S[sd, o0, h2, g] - d00
            w11 = S[sd, o1, h2, g] - d10
            w12 = S[sd, o2, h2, g] - d20
            c0 = w01 * w12 - w02 * w11
            c1 = -(w00 * w12 - w02 * w10)
            c2 = w00 * w11 - w01 * w10
            total = c0 + c1
            total = total + c2
            bound = (abs(w00) + abs(w01) + abs(w02)) * (abs(w10) + abs(w11) + abs(w12))
            m0 = c0 / total
            m1 = c1 / total
            m2 = c2 / total
            low = m0 if m0 < m1 else m1
            low = low if low < m2 else m2
            X[sd, 0, g] = m0
            X[sd, 1, g] = m1
            X[sd, 2, g] = m2
            v = d00 * m0 + d10 * m1
            V[g] = v + d20 * m2
            L[g] = low
            OK[g] = (abs(total) > SINGULAR * bound) & (low >= -tol)
    else:
        o1, o2, o3, h1, h2, h3 = own[1], own[2], own[3], oth[1], oth[2], oth[3]
        for g in range(G):
            d00 = S[sd, o0, h0, g]
            d10 = S[sd, o1, h0, g]
            d20 = S[sd, o2, h0, g]
            d30 = S[sd, o3, h0, g]
            w00 = S[sd, o0, h1, g] - d00
            w01 = S[sd, o1, h1, g] - d10
            w02 = S[sd, o2, h1, g] - d20
            w03 = S[sd, o3, h1, g] - d30
            w10 = S[sd, o0, h2, g] - d00
            w11 = S[sd, o1, h2, g] - d10
            w12 = S[sd, o2, h2, g] - d20
            w13 = S[sd, o3, h2, g] - d30
            w20 = S[sd, o0, h3, g] - d00
            w21 = S[sd, o1, h3, g] - d10
            w22 = S[sd, o2, h3, g] - d20
            w23 = S[sd, o3, h3, g] - d30
            # det3(a..i) = a (e i - f h) - b (d i - f g) + c (d h - e g), columns (a d g) (b e h) (c f i)
            c0 = (w01 * (w12 * w23 - w13 * w22) - w02 * (w11 * w23 - w13 * w21)
                  + w03 * (w11 * w22 - w12 * w21))
            c1 = -(w00 * (w12 * w23 - w13 * w22) - w02 * (w10 * w23 - w13 * w20)
                   + w03 * (w10 * w22 - w12 * w20))
            c2 = (w00 * (w11 * w23 - w13 * w21) - w01 * (w10 * w23 - w13 * w20)
                  + w03 * (w10 * w21 - w11 * w20))
            c3 = -(w00 * (w11 * w22 - w12 * w21) - w01 * (w10 * w22 - w12 * w20)
                   + w02 * (w10 * w21 - w11 * w20))
            total = c0 + c1
            total = total + c2
            total = total + c3
            bound = ((abs(w00) + abs(w01) + abs(w02) + abs(w03))
                     * (abs(w10) + abs(w11) + abs(w12) + abs(w13))
                     * (abs(w20) + abs(w21) + abs(w22) + abs(w23)))
            m0 = c0 / total
            m1 = c1 / total
            m2 = c2 / total
            m3 = c3 / total
            low = m0 if m0 < m1 else m1
            low = low if low < m2 else m2
            low = low if low < m3 else m3
            X[sd, 0, g] = m0
            X[sd, 1, g] = m1
            X[sd, 2, g] = m2
            X[sd, 3, g] = m3
            v = d00 * m0 + d10 * m1
            v = v + d20 * m2
            V[g] = v + d30 * m3
            L[g] = low
            OK[g] = (abs(total) > SINGULAR * bound) & (low >= -tol)
    _finish(S, sd, own, oth, k, s_oth, G, tol, tolg, X, V, L, OK, R, valid, deg)


# ----------------------------------------------------------------------------- one side, k >= 5

@njit(**_OPTS)
def _side_big(S, sd, own, oth, k, s_oth, G, tol, tolg, X, V, L, OK, R, valid, deg, M, rhs, big,
              piv):
    """Supports of 5 or more, for every game of the block: the reference's elimination
    (rows of the differences scaled to unit 1-norm, then the row of ones; partial
    pivoting, the first largest pivot), each lane pivoting on its own row (selects, so
    that the loops over games stay straight-line code), then the same tests. Rows are
    swapped from the pivot's column on: the columns before it are never read again,
    so every number used is the reference's."""
    h0 = oth[0]
    for g in range(G):
        OK[g] = True
    for r in range(1, k):
        hr = oth[r]
        for t in range(k):
            ot = own[t]
            for g in range(G):
                w = S[sd, ot, hr, g] - S[sd, ot, h0, g]
                M[r - 1, t, g] = w
                big[g] = abs(w) if t == 0 else big[g] + abs(w)
        for g in range(G):
            OK[g] = OK[g] & (big[g] > 0.0)
        for t in range(k):
            for g in range(G):
                M[r - 1, t, g] = M[r - 1, t, g] / big[g]
    for t in range(k):
        for g in range(G):
            M[k - 1, t, g] = 1.0
    for t in range(k - 1):
        for g in range(G):
            rhs[t, g] = 0.0
    for g in range(G):
        rhs[k - 1, g] = 1.0
    for c in range(k):
        for g in range(G):
            big[g] = abs(M[c, c, g])
            piv[g] = c
        for i in range(c + 1, k):
            for g in range(G):
                a = abs(M[i, c, g])
                up = a > big[g]
                big[g] = a if up else big[g]
                piv[g] = i if up else piv[g]
        for g in range(G):
            OK[g] = OK[g] & (big[g] > SINGULAR)
        for i in range(c + 1, k):
            for j in range(c, k):
                for g in range(G):
                    sw = piv[g] == i
                    a = M[c, j, g]
                    b = M[i, j, g]
                    M[c, j, g] = b if sw else a
                    M[i, j, g] = a if sw else b
            for g in range(G):
                sw = piv[g] == i
                a = rhs[c, g]
                b = rhs[i, g]
                rhs[c, g] = b if sw else a
                rhs[i, g] = a if sw else b
        for r in range(c + 1, k):
            for g in range(G):
                big[g] = M[r, c, g] / M[c, c, g]          # the multiplier
            for j in range(c + 1, k):
                for g in range(G):
                    M[r, j, g] = M[r, j, g] - big[g] * M[c, j, g]
            for g in range(G):
                rhs[r, g] = rhs[r, g] - big[g] * rhs[c, g]
    for c in range(k - 1, -1, -1):
        for g in range(G):
            big[g] = rhs[c, g]
        for j in range(c + 1, k):
            for g in range(G):
                big[g] = big[g] - M[c, j, g] * X[sd, j, g]
        for g in range(G):
            X[sd, c, g] = big[g] / M[c, c, g]
    o0 = own[0]
    for g in range(G):
        L[g] = X[sd, 0, g]
        V[g] = S[sd, o0, h0, g] * X[sd, 0, g]
    for t in range(1, k):
        ot = own[t]
        for g in range(G):
            x = X[sd, t, g]
            L[g] = L[g] if L[g] < x else x
            V[g] = V[g] + S[sd, ot, h0, g] * x
    for g in range(G):
        OK[g] = OK[g] & (L[g] >= -tol)
        R[g] = -np.inf
    for o in range(k, s_oth):
        ho = oth[o]
        for g in range(G):
            big[g] = S[sd, o0, ho, g] * X[sd, 0, g]
        for t in range(1, k):
            ot = own[t]
            for g in range(G):
                big[g] = big[g] + S[sd, ot, ho, g] * X[sd, t, g]
        for g in range(G):
            R[g] = big[g] if big[g] > R[g] else R[g]
    for g in range(G):
        v = V[g]
        r = R[g]
        t = tolg[g]
        va = OK[g] & (r <= v + t)
        valid[sd, g] = va
        deg[g] |= va & ((r >= v - t) | (L[g] <= tol))


# ----------------------------------------------------------------------------- recording

@njit(**_OPTS)
def _flush(payoffs, lo, nh, HG, HK, HS, HX, deg, tol, slack, eq, reg, count, failed):
    """Record the ``nh`` hits of a block (in the order found) that are not in a flagged
    game: hit h is game ``lo + HG[h]`` on supports ``HS[h, :k]`` (rows) and
    ``HS[h, k:2k]`` (columns) with mixes ``HX[h, :k]``, ``HX[h, k:2k]`` (k = HK[h]).
    Each profile is the reference's (clipped at 0, each block over its sum, left to
    right), certified (:func:`_certify`), and inserted in canonical order (descending
    rint(p * 1e9), stable)."""
    m, n = payoffs.shape[2], payoffs.shape[3]
    mn = m + n
    cap = eq.shape[1]
    prof = np.empty(mn)
    tmp = np.empty(max(m, n))
    vals = np.empty(m)
    vals1 = np.empty(n)
    for h in range(nh):
        g = HG[h]
        if deg[g]:
            continue
        b = lo + g
        k = HK[h]
        for i in range(mn):
            prof[i] = 0.0
        for t in range(k):
            xt = HX[h, t]
            yt = HX[h, k + t]
            prof[HS[h, t]] = xt if xt > 0.0 else 0.0
            prof[m + HS[h, k + t]] = yt if yt > 0.0 else 0.0
        sx = prof[0]
        for i in range(1, m):
            sx = sx + prof[i]
        sy = prof[m]
        for j in range(1, n):
            sy = sy + prof[m + j]
        for i in range(m):
            prof[i] = prof[i] / sx
        for j in range(n):
            prof[m + j] = prof[m + j] / sy
        ok, rg = _certify(payoffs, b, prof, tmp, vals, vals1, slack[g], tol)
        if not ok:
            failed[b] = True
            continue
        cnt = count[b]
        pos = min(cnt, cap)
        while pos > 0:
            # Does it go after row pos - 1? (smaller key, or equal: keep the order found)
            later = True
            for i in range(mn):
                key = np.rint(prof[i] * 1e9)
                prev = np.rint(eq[b, pos - 1, i] * 1e9)
                if key != prev:
                    later = key < prev
                    break
            if later:
                break
            pos -= 1
        if pos < cap:
            last = min(cnt, cap - 1)
            for s_ in range(last, pos, -1):
                for i in range(mn):
                    eq[b, s_, i] = eq[b, s_ - 1, i]
                reg[b, s_] = reg[b, s_ - 1]
            for i in range(mn):
                eq[b, pos, i] = prof[i]
            reg[b, pos] = rg
        count[b] = cnt + 1


# ----------------------------------------------------------------------------- blocks

@njit(**_OPTS)
def _block(payoffs, lo, hi, tol, eq, reg, count, degen, failed):
    """Games ``lo:hi`` (at most BLOCK): every equilibrium into ``eq[b]`` (canonical order,
    at most its capacity), max regret into ``reg``, the number into ``count`` (may exceed
    the capacity), and the flags ``degen`` (left for the NumPy path) and ``failed``."""
    B, _, m, n = payoffs.shape
    G = hi - lo
    mn = m + n
    cap = eq.shape[1]
    kmax = min(m, n)
    sz = max(m, n)
    S = np.empty((2, sz, sz, G))
    tolg = np.empty(G)
    slack = np.empty(G)
    cmin = np.empty(n)
    for g in range(G):
        b = lo + g
        s = payoff_scale_one(payoffs, b)
        e = math.frexp(s)[1]
        s2 = math.ldexp(1.0, e - 1)
        tolg[g] = tol * (s / s2)
        slack[g] = tol * s
        # x / s2 == x * (1 / s2) exactly (a power of two) while 1 / s2 is finite.
        inv = 1.0 / s2 if e > -1020 else 0.0
        # Row player's payoffs minus each column's minimum, column player's minus each row's.
        for j in range(n):
            c = payoffs[b, 0, 0, j]
            for i in range(1, m):
                v = payoffs[b, 0, i, j]
                c = v if v < c else c
            cmin[j] = c
        for i in range(m):
            for j in range(n):
                d = payoffs[b, 0, i, j] - cmin[j]
                S[1, j, i, g] = d * inv if inv > 0.0 else d / s2
        for i in range(m):
            c = payoffs[b, 1, i, 0]
            for j in range(1, n):
                v = payoffs[b, 1, i, j]
                c = v if v < c else c
            for j in range(n):
                d = payoffs[b, 1, i, j] - c
                S[0, i, j, g] = d * inv if inv > 0.0 else d / s2
        count[b] = 0
        failed[b] = False
    X = np.empty((2, kmax, G))
    V = np.empty(G)
    L = np.empty(G)
    OK = np.empty(G, dtype=np.bool_)
    R = np.empty(G)
    valid = np.zeros((2, G), dtype=np.bool_)
    deg = np.zeros(G, dtype=np.bool_)
    rs = np.empty(m, dtype=np.int64)
    cs = np.empty(n, dtype=np.int64)
    M = np.empty((kmax, kmax, G))
    rhs = np.empty((kmax, G))
    big = np.empty(G)
    piv = np.empty(G, dtype=np.int64)
    # Hits (both sides valid): lane, support size, supports, mixes; recorded by _flush.
    room = 8 * G
    HG = np.empty(room, dtype=np.int64)
    HK = np.empty(room, dtype=np.int64)
    HS = np.empty((room, 2 * kmax), dtype=np.int64)
    HX = np.empty((room, 2 * kmax))
    nh = 0
    stop = False
    for k in range(1, kmax + 1):
        _first(rs, m)
        while True:
            _first(cs, n)
            while True:
                for sd in range(2):
                    own = rs if sd == 0 else cs
                    oth = cs if sd == 0 else rs
                    s_oth = n if sd == 0 else m
                    if k <= 4:
                        _side_small(S, sd, own, oth, k, s_oth, G, tol, tolg, X, V, L, OK, R,
                                    valid, deg)
                    else:
                        _side_big(S, sd, own, oth, k, s_oth, G, tol, tolg, X, V, L, OK, R,
                                  valid, deg, M, rhs, big, piv)
                if nh > room - G:
                    _flush(payoffs, lo, nh, HG, HK, HS, HX, deg, tol, slack, eq, reg, count,
                           failed)
                    nh = 0
                # The lanes where both sides hold, appended without branches, then copied.
                first = nh
                for g in range(G):
                    HG[nh] = g
                    nh += valid[0, g] & valid[1, g]
                for h in range(first, nh):
                    g = HG[h]
                    HK[h] = k
                    for t in range(k):
                        HS[h, t] = rs[t]
                        HS[h, k + t] = cs[t]
                        HX[h, t] = X[0, t, g]
                        HX[h, k + t] = X[1, t, g]
                if not _next(cs, k, n):
                    break
            # Every game of the block flagged: the rest is the NumPy path's.
            stop = True
            for g in range(G):
                if not deg[g]:
                    stop = False
                    break
            if stop or not _next(rs, k, m):
                break
        if stop:
            break
    _flush(payoffs, lo, nh, HG, HK, HS, HX, deg, tol, slack, eq, reg, count, failed)
    for g in range(G):
        b = lo + g
        degen[b] = deg[g]
        if deg[g]:
            count[b] = 0
            failed[b] = False
        for s_ in range(min(count[b], cap), cap):
            for i in range(mn):
                eq[b, s_, i] = np.nan
            reg[b, s_] = np.nan


@njit(**_OPTS)
def batch(payoffs, tol, eq, reg, count, degen, failed, blk):
    """:func:`_block` on consecutive blocks of ``blk`` games."""
    B = payoffs.shape[0]
    for lo in range(0, B, blk):
        _block(payoffs, lo, min(lo + blk, B), tol, eq, reg, count, degen, failed)
