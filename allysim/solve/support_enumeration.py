"""All Nash equilibria of two-player games by support enumeration, batched over games.

The maths
---------
Player 1 (rows) has payoffs ``A = payoffs[:, 0]`` and player 2 (columns)
``C = payoffs[:, 1]``, both of shape ``(B, m, n)``. A mixed equilibrium
``(x, y)`` with supports ``I`` and ``J`` makes every row in ``I`` a best reply
to ``y`` and every column in ``J`` a best reply to ``x``. In a
*nondegenerate* game (no mixed strategy with support size k has more than k
pure best replies) the supports of every equilibrium have equal size, and for
each pair ``(I, J)`` with ``|I| = |J| = k`` the indifference conditions

    A[I, J] y_J = v 1,  1' y_J = 1          C[I, J]' x_I = w 1,  1' x_I = 1

have at most one solution each. Support enumeration (e.g. Nisan et al. 2007,
ch. 3.2; QuantEcon's ``support_enumeration``) solves both systems for every
pair and keeps the solutions that are nonnegative and whose supports are best
replies to each other. There are ``sum_k C(m, k) C(n, k) = C(m + n, m) - 1``
pairs (:func:`support_pairs`): 69 for 4 x 4 games, 48,619 for 9 x 9,
1.4e11 for 20 x 20, the work estimate to refuse absurd sizes with.

Scale
-----
Every tolerance is relative to the game's :func:`~allysim.solve.regret.payoff_scale`
``s`` (the largest regret a profile can have). Each game is first brought to a
canonical form: the row player's payoffs minus each column's minimum, the column
player's minus each row's minimum (changes that move no best reply), both divided
by ``s2``, the power of two with ``s2 <= s < 2 s2`` (an exact division, so integer
games keep their exact ties), and ``tol`` becomes ``tol * s / s2`` there. So the
answer does not depend on a positive affine change of the payoffs, beyond
rounding. Probabilities are computed on that form; regret is reported on the
original payoffs, and every equilibrium passes the shared ``verify`` (regret
``<= tol * s``; the compiled kernel computes exactly what it computes, tested equal).
The scale is the *game's*, the larger of the two players': a player whose payoffs
are orders of magnitude smaller than the other's gets relatively looser ties.

Solving one system
------------------
Eliminating ``v`` leaves the ``k - 1`` rows of differences
``W = A[I[1:], J] - A[I[0], J]``, whose null direction is the vector ``c`` of
signed maximal minors of ``W`` (a generalised cross product); its sum is the
determinant of the bordered system, so ``y = c / sum(c)``. For supports of at
most 4 the minors have closed forms, evaluated elementwise on whole arrays; the
system counts as singular unless ``|sum(c)| > 1e-12 * prod_r ||W_r||_1`` (a bound
on the minors' size, invariant to scaling each row, so to each player's scale:
rounding noise of an exactly singular system stays far below it). Larger
supports solve the bordered system (rows of ``W`` scaled to unit 1-norm, then
the row of ones) by Gaussian elimination with partial pivoting, singular when a
pivot is at most 1e-12; a determinant test would be wrong there: von Stengel's
6 x 6 game with 75 equilibria has a fully mixed one whose bordered determinant is
7e-16 of that bound, on a system with condition number 6e6. Both paths (NumPy
here, numba in :mod:`._support_enumeration_numba`) apply the same IEEE operations
in the same order, so they agree bit for bit.

Degenerate games
----------------
The same computation yields every *vertex* of the two best-reply polytopes: a
solution ``x`` of the system for ``(I, J)`` that is nonnegative and has every
column of ``J`` among its best replies is one (von Stengel 2002, Handbook of
Game Theory 3, ch. 45). A game is degenerate exactly when some vertex has more
best replies than its support size; such games get status ``degenerate``, a
:class:`~allysim.errors.DegenerateGameWarning`, and their equilibria are
recomputed as all pairs of *matching* vertices (support of each within the best
replies of the other). That gives the *extreme* equilibria, as Gambit's
``enummixed`` does (Avis, Rosenberg, Savani and von Stengel 2010 enumerate the
same pairs). A vertex is identified by its support and best replies (the
constraints tight at it), so the many support pairs that find one vertex of a
tie-ridden game are merged in ``O(V log V)``. Equilibria that share one
player's strategy are joined by a segment of equilibria; ``component`` labels
the connected sets they form and ``continuum`` says whether a game has a set of
equilibria that is not a point (Nashpy issue #222: a continuum must not be
reported as its endpoint alone).

Memory
------
Support pairs are streamed in blocks of at most ``_BLOCK`` array elements
(games x pairs x support size x strategies), so memory does not grow with the
game's size or the batch's beyond the output itself (the equilibria and, for
degenerate games, the vertices); time grows with :func:`support_pairs`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, islice
from math import comb

import numpy as np

from ..errors import DegenerateGameWarning
from ._status import STATUS
from ._backend import resolve_backend
from .regret import DEFAULT_TOL, as_payoffs, payoff_scale, regret, verify
from .result import Result

#: Games per chunk: big enough to amortise NumPy's call overhead, small enough for cache.
DEFAULT_CHUNK = 1024

#: Two equilibria closer than this (max abs probability difference) are the same one
#: (:func:`_dedupe`, used by :mod:`.mixed_nash`).
_SAME = 1e-7

#: Relative singularity threshold of one indifference system (see the module docstring).
SINGULAR = 1e-12

#: Array elements per block of support pairs on the NumPy path (games x pairs x k x
#: strategies): 4 MB arrays, a few of them alive at once.
_BLOCK = 1 << 19

#: Supports generated at a time (and cached below this many).
_COMBO_ROWS = 1 << 14

#: Candidate vertex pairs tested at a time when matching the vertices of degenerate games.
_MATCH = 1 << 16


def support_pairs(m: int, n: int) -> int:
    """The number of support pairs of an ``m x n`` game, ``C(m + n, m) - 1``: the work of
    :func:`support_enumeration` per game (each pair solves two small linear systems).

    Measured on one core (CPU time), per pair and game: about 16 ns on the compiled path
    for batches of 4 x 4 games, 33 ns for 7 x 7, 110 ns for 9 x 9 (bigger supports);
    about 1 us for a single 9 x 9 game on either path (nothing to vectorise over). A
    20 x 20 game would take days. Callers can refuse sizes beyond what they want to
    wait for:

    >>> support_pairs(4, 4), support_pairs(9, 9), support_pairs(20, 20)
    (69, 48619, 137846528819)
    """
    return comb(int(m) + int(n), int(m)) - 1


@dataclass(frozen=True)
class SupportEnumerationResult(Result):
    """Every Nash equilibrium of B two-player games (the :mod:`~allysim.solve.result`
    contract).

    Attributes
    ----------
    profiles : ndarray of float, shape (B, K, m + n)
        Game ``b``'s equilibria in ``profiles[b, :count[b]]`` as mixed
        profiles (row player's ``m`` probabilities, then the column player's
        ``n``), in canonical order (descending lexicographic: pure profiles on
        earlier strategies first); NaN beyond ``count[b]``. ``K = max(count)``
        (at least 1).
    count : ndarray of int64, shape (B,)
    regret : ndarray of float, shape (B, K)
        Max regret of each equilibrium, on the original payoffs
        (<= tol * payoff_scale, the certificate); NaN padding.
    component : ndarray of int64, shape (B, K)
        Equilibria with the same label lie in one connected set of equilibria
        (labels 0, 1, ... per game, in order of first appearance); -1 padding.
        In a nondegenerate game every equilibrium is its own component.
    continuum : ndarray of bool, shape (B,)
        True where the game has a connected set of equilibria that is not a
        single point; its extreme points are the equilibria listed.
    status : ndarray of int8, shape (B,)
        ``ok`` (nondegenerate: the list is every equilibrium) or ``degenerate``
        (the list is every extreme equilibrium; see ``continuum``);
        ``failed`` if an equilibrium did not pass the certificate (dropped).
    shape : (m, n)
    backend : ``"numba"`` or ``"numpy"``, the path that solved the batch (same answers).
    parameters : ``tol`` (payoffs relative to each game's ``payoff_scale``, probabilities
        absolute), ``chunk``, ``backend``, ``threads``
    method : ``"support_enumeration"``
    """

    profiles: np.ndarray
    count: np.ndarray
    regret: np.ndarray
    component: np.ndarray
    continuum: np.ndarray
    status: np.ndarray
    shape: tuple[int, int]
    backend: str
    parameters: dict
    method: str = "support_enumeration"

    def split(self, b: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Game ``b``'s equilibria as ``(x, y)`` pairs, ``x: (m,)``, ``y: (n,)``."""
        m = self.shape[0]
        return [(e[:m], e[m:]) for e in self.equilibria(b)]


# ----------------------------------------------------------------------------- canonical form

def _normalize(payoffs: np.ndarray):
    """Each game of ``payoffs: (B, 2, m, n)`` in canonical form (see the module docstring).

    Returns ``a, c: (B, m, n)`` (row and column player), ``rel: (B,)`` (``s / s2``, in
    [1, 2): the tolerance there is ``tol * rel``) and ``scale: (B,)`` (``payoff_scale``).
    The compiled kernel computes the same numbers, bit for bit."""
    scale = payoff_scale(payoffs)
    s2 = np.ldexp(1.0, np.frexp(scale)[1] - 1)
    a = payoffs[:, 0] - payoffs[:, 0].min(axis=1, keepdims=True)
    a /= s2[:, None, None]
    c = payoffs[:, 1] - payoffs[:, 1].min(axis=2, keepdims=True)
    c /= s2[:, None, None]
    return a, c, scale / s2, scale


# ----------------------------------------------------------------------------- supports

@lru_cache(maxsize=64)
def _support_table(size: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """All supports of size k among ``size`` strategies (lexicographic) and their
    complements: ``(C(size, k), k)``, ``(C(size, k), size - k)``; small sizes only."""
    return _complements(np.array(list(combinations(range(size), k)), dtype=np.intp)
                        .reshape(-1, k), size)


def _complements(sup: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    inside = np.zeros((len(sup), size), dtype=bool)
    inside[np.arange(len(sup))[:, None], sup] = True
    return sup, np.nonzero(~inside)[1].reshape(len(sup), size - sup.shape[1])


def _support_blocks(size: int, k: int):
    """Supports of size k in lexicographic order, in blocks ``(start, sup, out)``."""
    if comb(size, k) <= _COMBO_ROWS:
        yield (0,) + _support_table(size, k)
        return
    it = combinations(range(size), k)
    start = 0
    while True:
        rows = list(islice(it, _COMBO_ROWS))
        if not rows:
            return
        yield (start,) + _complements(np.array(rows, dtype=np.intp).reshape(-1, k), size)
        start += len(rows)


def _pair_blocks(m: int, n: int, k: int, games: int):
    """Blocks of support pairs of size k: ``(p0, rows, rows_out, q0, cols, cols_out)``
    with ``len(rows) * len(cols) * games * k * max(m, n) <= _BLOCK`` (or one pair);
    ``p0, q0`` are the first supports' lexicographic indices."""
    most = max(1, _BLOCK // (games * k * max(m, n)))
    for p_start, rows, rows_out in _support_blocks(m, k):
        for q_start, cols, cols_out in _support_blocks(n, k):
            qs = min(len(cols), most)
            ps = max(1, most // qs)
            for p in range(0, len(rows), ps):
                for q in range(0, len(cols), qs):
                    yield (p_start + p, rows[p:p + ps], rows_out[p:p + ps],
                           q_start + q, cols[q:q + qs], cols_out[q:q + qs])


# ----------------------------------------------------------------------------- one side

def _det3(a, b, c, d, e, f, g, h, i):
    """3 x 3 determinant with columns ``(a, d, g), (b, e, h), (c, f, i)`` (the kernel's)."""
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


def _row_norms(w):
    """``||w[r]||_1`` summed left to right, for each row r of ``w`` (a list of lists)."""
    out = []
    for row in w:
        s = np.abs(row[0])
        for t in range(1, len(row)):
            s = s + np.abs(row[t])
        out.append(s)
    return out


def _closed_form(w, k):
    """Signed maximal minors ``c`` (list of k arrays) and their sum of the ``(k-1, k)``
    rows ``w`` (``w[r][t]`` arrays), for k = 2, 3, 4: the kernel's expressions."""
    if k == 2:
        c = [w[0][1], -w[0][0]]
    elif k == 3:
        (w00, w01, w02), (w10, w11, w12) = w
        c = [w01 * w12 - w02 * w11, -(w00 * w12 - w02 * w10), w00 * w11 - w01 * w10]
    else:
        (w00, w01, w02, w03), (w10, w11, w12, w13), (w20, w21, w22, w23) = w
        c = [_det3(w01, w02, w03, w11, w12, w13, w21, w22, w23),
             -_det3(w00, w02, w03, w10, w12, w13, w20, w22, w23),
             _det3(w00, w01, w03, w10, w11, w13, w20, w21, w23),
             -_det3(w00, w01, w02, w10, w11, w12, w20, w21, w22)]
    total = c[0] + c[1]
    for j in range(2, k):
        total = total + c[j]
    return c, total


def _mixes(w, k):
    """Solve ``w @ p = 0``, ``sum(p) = 1`` for the rows ``w[r][t]`` (arrays, ``k - 1``
    rows of k). Returns ``p: (k, ...)``, ``ok (...)`` (nonsingular; where not,
    ``p`` is meaningless) and ``min(p) (...)``."""
    norms = _row_norms(w)
    if k <= 4:
        c, total = _closed_form(w, k)
        bound = norms[0]
        for r in range(1, k - 1):
            bound = bound * norms[r]
        ok = np.abs(total) > SINGULAR * bound
        p = np.stack([cj / total for cj in c])
    else:
        p, ok = _eliminate(w, norms, k)
    low = p[0]
    for j in range(1, k):
        low = np.minimum(low, p[j])
    return p, ok, low


def _eliminate(w, norms, k):
    """The bordered system ``[w_r / ||w_r||_1; 1'] p = e_k`` by Gaussian elimination with
    partial pivoting (first largest pivot), elementwise over the stacked trailing axes,
    in the kernel's order. Returns ``p: (k, ...)`` and ``ok`` (no pivot <= SINGULAR)."""
    shape = np.shape(w[0][0])
    M = np.empty((k, k, int(np.prod(shape, dtype=np.int64))))
    for r in range(k - 1):
        for t in range(k):
            M[r, t] = (w[r][t] / norms[r]).reshape(-1)
    M[k - 1] = 1.0
    rhs = np.zeros((k, M.shape[2]))
    rhs[k - 1] = 1.0
    ok = np.ones(M.shape[2], dtype=bool)
    for r in range(k - 1):
        ok &= (norms[r] > 0).reshape(-1)
    idx = np.arange(M.shape[2])
    for c in range(k):
        col = np.abs(M[c:, c])
        piv = c + np.argmax(col, axis=0)               # first of equal largest (the kernel's)
        ok &= col[piv - c, idx] > SINGULAR             # NaN (a zero row) -> False
        swap = piv != c
        if swap.any():
            s = idx[swap]
            top, other = M[c, :, s].copy(), M[piv[swap], :, s].copy()
            M[c, :, s], M[piv[swap], :, s] = other, top
            top, other = rhs[c, s].copy(), rhs[piv[swap], s].copy()
            rhs[c, s], rhs[piv[swap], s] = other, top
        for r in range(c + 1, k):
            f = M[r, c] / M[c, c]
            for j in range(c + 1, k):
                M[r, j] -= f * M[c, j]
            rhs[r] -= f * rhs[c]
    p = np.empty((k, M.shape[2]))
    for c in range(k - 1, -1, -1):
        s = rhs[c].copy()
        for j in range(c + 1, k):
            s -= M[c, j] * p[j]
        p[c] = s / M[c, c]
    return p.reshape((k,) + shape), ok.reshape(shape)


def _side(d, others, tolg, tol):
    """One player's candidate mixed strategies for a block of support pairs.

    Every array has the small axes first and ``(P, Q, b)`` last (pairs of
    supports, then games), so that each operation runs over contiguous memory.

    d : (k, k, P, Q, b) the other player's payoffs (canonical form), ``d[t, r]`` =
        its payoff from its r-th support strategy against this player's t-th.
    others : (k, s_other - k, P, Q, b) the same for the other's strategies
        outside its support.
    tolg : (b,) the payoff tolerance of each game in canonical form.
    Returns mix (k, P, Q, b); valid (P, Q, b): a vertex of the best-reply polytope
    (unique, >= -tol, the other's support strategies best replies); over (P, Q, b):
    valid and with more best replies than its support size (degenerate).
    """
    k = d.shape[0]
    if k == 1:
        mix = np.ones((1,) + d.shape[2:])
        ok = np.ones(d.shape[2:], dtype=bool)
        low = mix[0]
    else:
        w = [[d[t, r] - d[t, 0] for t in range(k)] for r in range(1, k)]
        mix, ok, low = _mixes(w, k)
        ok &= low >= -tol
    v = d[0, 0] * mix[0]                                          # the support's value
    for t in range(1, k):
        v = v + d[t, 0] * mix[t]
    if others.shape[1]:
        vals = others[0] * mix[0]                                 # values outside it
        for t in range(1, k):
            vals += others[t] * mix[t]
        rest = vals.max(axis=0)
    else:
        rest = np.full(v.shape, -np.inf)
    valid = ok & (rest <= v + tolg)
    over = valid & ((rest >= v - tolg) | (low <= tol))
    return mix, valid, over


def _sides(a_t, c_t, tolg, tol):
    """Both sides of every support pair, in blocks: yields ``(k, p0, rows, q0, cols, x, vx,
    ox, y, vy, oy)`` (see :func:`_side`). ``a_t, c_t: (m, n, b)`` canonical payoffs,
    games last; ``tolg: (b,)``."""
    m, n, b = a_t.shape
    for k in range(1, min(m, n) + 1):
        for p0, rows, rows_out, q0, cols, cols_out in _pair_blocks(m, n, k, b):
            ri, ci = rows.T[:, None, :, None], cols.T[None, :, None, :]
            # x on rows I making the columns J indifferent (column player's payoffs).
            x, vx, ox = _side(c_t[ri, ci], c_t[ri, cols_out.T[None, :, None, :]], tolg, tol)
            # y on columns J making the rows I indifferent (row player's payoffs).
            cj = cols.T[:, None, None, :]
            y, vy, oy = _side(a_t[rows.T[None, :, :, None], cj],
                              a_t[rows_out.T[None, :, :, None], cj], tolg, tol)
            yield k, p0, rows, q0, cols, x, vx, ox, y, vy, oy


def _seq_sum(cols):
    """Sum of a list of arrays, left to right (the kernel's order)."""
    s = cols[0].copy()
    for col in cols[1:]:
        s += col
    return s


def _profiles(rows, cols, x, y, m, n):
    """Flat profiles ``(N, m + n)`` from support rows/cols ``(N, k)`` and mixes ``(N, k)``:
    clipped at 0, each block divided by its sum (the kernel's order)."""
    prof = np.zeros((len(rows), m + n))
    np.put_along_axis(prof[:, :m], rows, np.where(x > 0.0, x, 0.0), axis=1)
    np.put_along_axis(prof[:, m:], cols, np.where(y > 0.0, y, 0.0), axis=1)
    prof[:, :m] /= _seq_sum([prof[:, i] for i in range(m)])[:, None]
    prof[:, m:] /= _seq_sum([prof[:, m + j] for j in range(n)])[:, None]
    return prof


# ----------------------------------------------------------------------------- the two passes

def _equilibria_pass(a, c, tolg, tol):
    """Support enumeration of a chunk ``a, c: (b, m, n)`` (canonical form), ``tolg: (b,)``.

    Returns flat equilibria ``game (N,)``, ``profile (N, m+n)`` in the order found
    (support size, then row support, then column support) and a degenerate flag ``(b,)``.
    """
    b, m, n = a.shape
    a_t = np.ascontiguousarray(a.transpose(1, 2, 0))   # (m, n, b): games last
    c_t = np.ascontiguousarray(c.transpose(1, 2, 0))
    degenerate = np.zeros(b, dtype=bool)
    found = []
    for k, p0, rows, q0, cols, x, vx, ox, y, vy, oy in _sides(a_t, c_t, tolg, tol):
        degenerate |= (ox | oy).any(axis=(0, 1))
        p, q, g = np.nonzero(vx & vy)
        if g.size:
            prof = _profiles(rows[p], cols[q], x[:, p, q, g].T, y[:, p, q, g].T, m, n)
            found.append((g, prof, np.full(g.size, k), p + p0, q + q0))
    if not found:
        return np.zeros(0, dtype=np.intp), np.zeros((0, m + n)), degenerate
    g, prof, kk, pp, qq = (np.concatenate([f[i] for f in found]) for i in range(5))
    order = np.lexsort((qq, pp, kk, g))
    return g[order], prof[order], degenerate


def _unique_rows(game, *flags):
    """Indices of the first occurrence of each distinct ``(game, *flags)`` row (``game:
    (N,)`` int, each of ``flags: (N, s)`` bool), in the order of first occurrence."""
    N = len(game)
    if N == 0:
        return np.zeros(0, dtype=np.intp)
    bits = np.concatenate(flags, axis=1)
    if bits.shape[1] <= 62:                # packed into one integer per row
        weight = np.left_shift(np.int64(1), np.arange(bits.shape[1], dtype=np.int64))
        keys = (np.asarray(game, dtype=np.int64), bits.astype(np.int64) @ weight)
    else:
        keys = (np.asarray(game, dtype=np.int64),) + tuple(bits[:, j] for j in range(bits.shape[1]))
    order = np.lexsort(keys[::-1])          # stable: the first of equal rows comes first
    new = np.zeros(N, dtype=bool)
    new[0] = True
    for k in keys:
        ks = k[order]
        new[1:] |= ks[1:] != ks[:-1]
    return np.sort(order[new])


def _vertex_pass(a, c, tolg, tol):
    """The vertices of both best-reply polytopes of each game of ``a, c: (b, m, n)``.

    Returns, per player (x then y), flat ``game (V,)``, ``vector (V, size)``, support
    ``(V, size)`` and best replies ``(V, other size)`` (bool), one row per vertex (the
    first support pair that finds it), in the order found."""
    b, m, n = a.shape
    a_t = np.ascontiguousarray(a.transpose(1, 2, 0))
    c_t = np.ascontiguousarray(c.transpose(1, 2, 0))
    parts = ([], [])
    sizes = [0, 0]

    def merge(side):
        # Keep the first row of each (game, support, best replies): the same vertex.
        g, vec, supp, br = (np.concatenate([pt[i] for pt in parts[side]]) for i in range(4))
        keep = _unique_rows(g, supp, br)
        parts[side][:] = [(g[keep], vec[keep], supp[keep], br[keep])]
        sizes[side] = keep.size

    for k, p0, rows, q0, cols, x, vx, ox, y, vy, oy in _sides(a_t, c_t, tolg, tol):
        for side, (mix, valid) in enumerate(((x, vx), (y, vy))):
            p, q, g = np.nonzero(valid)
            if not g.size:
                continue
            own, size, pay = (rows[p], m, c) if side == 0 else (cols[q], n, a)
            vec = np.zeros((g.size, size))
            np.put_along_axis(vec, own, np.where(mix[:, p, q, g].T > 0.0, mix[:, p, q, g].T, 0.0),
                              axis=1)
            vec /= _seq_sum([vec[:, i] for i in range(size)])[:, None]
            # The other player's payoffs against each vertex, and its best replies.
            val = (np.einsum("vi,vij->vj", vec, pay[g]) if side == 0
                   else np.einsum("vj,vij->vi", vec, pay[g]))
            br = val >= val.max(axis=1, keepdims=True) - tolg[g, None]
            parts[side].append((g, vec, vec > tol, br))
            keep = _unique_rows(g, vec > tol, br)
            parts[side][-1] = tuple(arr[keep] for arr in parts[side][-1])
            sizes[side] += keep.size
            if len(parts[side]) > 64 or sizes[side] > _MATCH:
                merge(side)
    out = []
    for side, size in enumerate((m, n)):
        if parts[side]:
            merge(side)
            out.append(parts[side][0])
        else:
            other = n if side == 0 else m
            out.append((np.zeros(0, dtype=np.intp), np.zeros((0, size)),
                        np.zeros((0, size), dtype=bool), np.zeros((0, other), dtype=bool)))
    return out


def _vertex_equilibria(a, c, tolg, tol):
    """Extreme equilibria of the (degenerate) games ``a, c: (b, m, n)`` (canonical form) as
    matching vertex pairs, tested ``_MATCH`` pairs at a time.

    Returns flat ``game (N,)``, ``profile (N, m+n)`` and the vertex ids ``xid, yid (N,)``
    (indices into each player's vertex list: equal ids, the same vertex)."""
    b = a.shape[0]
    (xg, xv, xs, xr), (yg, yv, ys, yr) = _vertex_pass(a, c, tolg, tol)
    yo = np.argsort(yg, kind="stable")
    yg, yv, ys, yr = yg[yo], yv[yo], ys[yo], yr[yo]
    ycount = np.bincount(yg, minlength=b)
    ystart = np.concatenate([[0], np.cumsum(ycount)[:-1]])
    per_x = ycount[xg]                                  # candidate partners of each x vertex
    ends = np.cumsum(per_x)
    games, profs, xids, yids = [], [], [], []
    i = 0
    while i < xg.size:
        # As many x vertices as fit in _MATCH candidate pairs (at least one).
        done = ends[i - 1] if i else 0
        j = max(i + 1, int(np.searchsorted(ends, done + _MATCH, side="right")))
        ix = np.repeat(np.arange(i, j), per_x[i:j])
        first = np.repeat(np.cumsum(per_x[i:j]) - per_x[i:j], per_x[i:j])
        iy = ystart[xg[ix]] + np.arange(ix.size) - first
        # x's support among y's best replies, and y's among x's.
        match = ~(xs[ix] & ~yr[iy]).any(axis=1) & ~(ys[iy] & ~xr[ix]).any(axis=1)
        ix, iy = ix[match], iy[match]
        games.append(xg[ix])
        profs.append(np.concatenate([xv[ix], yv[iy]], axis=1))
        xids.append(ix)
        yids.append(yo[iy])
        i = j
    if not games:
        m, n = a.shape[1:]
        return (np.zeros(0, dtype=np.intp), np.zeros((0, m + n)),
                np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))
    return (np.concatenate(games), np.concatenate(profs), np.concatenate(xids),
            np.concatenate(yids))


# ----------------------------------------------------------------------------- assembling

def _padded(game: np.ndarray, rows: np.ndarray, n_games: int):
    """Flat rows with game index -> padded ``(G, K, ...)`` (NaN), counts ``(G,)``, slot ``(N,)``."""
    order = np.argsort(game, kind="stable")
    game, rows = game[order], rows[order]
    count = np.bincount(game, minlength=n_games)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    slot = np.arange(game.size) - start[game]
    out = np.full((n_games, max(int(count.max(initial=0)), 1)) + rows.shape[1:], np.nan)
    out[game, slot] = rows
    return out, count, game, slot, order


def _dedupe(game: np.ndarray, vec: np.ndarray, n_games: int, same: float = _SAME):
    """Which rows to keep (bool ``(N,)``): the first of rows of one game within ``same``.

    Quadratic in the rows of a game (used by :mod:`.mixed_nash` on short lists)."""
    if game.size == 0:
        return np.zeros(0, dtype=bool)
    pad, count, g_sorted, slot, order = _padded(game, vec, n_games)
    close = (np.abs(pad[:, :, None] - pad[:, None, :]) <= same).all(-1)   # NaN -> False
    earlier = np.tril(np.ones(close.shape[1:], dtype=bool), -1)
    dup = (close & earlier).any(-1)
    keep = np.zeros(game.size, dtype=bool)
    keep[order] = ~dup[g_sorted, slot]
    return keep


def _components(game: np.ndarray, xid: np.ndarray, yid: np.ndarray) -> np.ndarray:
    """Connected components of flat equilibria (sorted by game, in canonical order) joined
    when they share a vertex (``xid`` or ``yid``; ids are unique across games).

    Returns labels ``(N,)``: 0, 1, ... per game in order of first appearance."""
    N = game.size
    if N == 0:
        return np.zeros(0, dtype=np.int64)
    src, dst = [], []
    for ids in (xid, yid):                  # equal ids: a chain through them is enough
        o = np.argsort(ids, kind="stable")
        same = ids[o[1:]] == ids[o[:-1]]
        src.append(o[:-1][same])
        dst.append(o[1:][same])
    src, dst = np.concatenate(src), np.concatenate(dst)
    # Hook each edge's larger root onto the smaller, then compress paths, until nothing
    # moves: every equilibrium ends labelled by the first one of its component.
    root = np.arange(N)
    while True:
        lo = np.minimum(root[src], root[dst])
        new = root.copy()
        np.minimum.at(new, root[src], lo)
        np.minimum.at(new, root[dst], lo)
        while True:
            nxt = new[new]
            if np.array_equal(nxt, new):
                break
            new = nxt
        if np.array_equal(new, root):
            break
        root = new
    # Renumber by first appearance; components never span games, so those of one game
    # take consecutive ranks, from the rank of the game's first equilibrium.
    first = root == np.arange(N)
    label = (np.cumsum(first) - 1)[root]
    starts = np.flatnonzero(np.r_[True, game[1:] != game[:-1]])
    return label - np.repeat(label[starts], np.diff(np.r_[starts, N]))


def _canonical(game: np.ndarray, prof: np.ndarray) -> np.ndarray:
    """Order of flat equilibria: by game, then descending lexicographic (rounded to 1e-9),
    then the order given (stable)."""
    key = -np.rint(prof * 1e9).astype(np.int64)          # probabilities in 0 .. 1e9 (30 bits)
    if key.shape[1] % 2:
        key = np.concatenate([key, np.zeros((len(key), 1), dtype=np.int64)], axis=1)
    packed = (key[:, 0::2] << 31) + key[:, 1::2]          # two per int64, order kept
    return np.lexsort(tuple(packed[:, j] for j in reversed(range(packed.shape[1]))) + (game,))


def _certify(payoffs: np.ndarray, game: np.ndarray, prof: np.ndarray, tol: float):
    """The shared certificate on flat equilibria, in cache-sized blocks: ``passed (N,)``
    and each one's max regret ``(N,)`` on the original payoffs."""
    passed = np.ones(game.size, dtype=bool)
    reg = np.zeros(game.size)
    step = max(1, _BLOCK // (2 * payoffs.shape[2] * payoffs.shape[3]))
    for lo in range(0, game.size, step):
        u = payoffs[game[lo:lo + step]]
        passed[lo:lo + step] = verify(u, prof[lo:lo + step], tol)
        reg[lo:lo + step] = regret(u, prof[lo:lo + step]).max(axis=1)
    return passed, reg


def _assemble(payoffs, tol, game, prof, xid, yid, degen, failed):
    """Certify, order canonically and pad flat equilibria of ``B`` games.

    ``xid, yid`` identify the vertices of degenerate games' equilibria (unique across
    games; -1 elsewhere). Returns the fields of :class:`SupportEnumerationResult`:
    ``eqs, count, regret, component, continuum, status``."""
    B, _, m, n = payoffs.shape
    passed, reg = _certify(payoffs, game, prof, tol)
    failed = failed.copy()
    failed[game[~passed]] = True
    game, prof, xid, yid, reg = game[passed], prof[passed], xid[passed], yid[passed], reg[passed]
    order = _canonical(game, prof)
    game, prof, xid, yid, reg = game[order], prof[order], xid[order], yid[order], reg[order]
    eqs, count, _, slot, _ = _padded(game, prof, B)      # game is sorted: order is identity
    reg_pad = np.full(eqs.shape[:2], np.nan)
    reg_pad[game, slot] = reg
    component = np.full(eqs.shape[:2], -1, dtype=np.int64)
    component[game, slot] = slot                          # nondegenerate: one point each
    continuum = np.zeros(B, dtype=bool)
    deg = degen[game]
    if deg.any():
        g, s = game[deg], slot[deg]
        label = _components(g, xid[deg], yid[deg])
        component[g, s] = label
        # A continuum: a component with more than one extreme point.
        size = np.zeros(eqs.shape[:2], dtype=np.int64)
        np.add.at(size, (g, label), 1)
        continuum = (size > 1).any(axis=1)
    status = np.where(degen, STATUS["degenerate"], STATUS["ok"]).astype(np.int8)
    status[failed] = STATUS["failed"]
    return eqs, count.astype(np.int64), reg_pad, component, continuum, status


def _degenerate_solve(payoffs: np.ndarray, tol: float, chunk: int):
    """Extreme equilibria of games known to be degenerate, ``payoffs: (G, 2, m, n)``:
    flat ``game, profile, xid, yid`` (ids unique across the games)."""
    G = payoffs.shape[0]
    a, c, rel, _ = _normalize(payoffs)
    tolg = tol * rel
    parts = []
    nx = ny = 0
    for lo in range(0, G, chunk):
        hi = min(lo + chunk, G)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # singular: masked
            g, prof, xi, yi = _vertex_equilibria(a[lo:hi], c[lo:hi], tolg[lo:hi], tol)
        parts.append((g + lo, prof, xi + nx, yi + ny))
        nx += int(xi.max(initial=-1)) + 1
        ny += int(yi.max(initial=-1)) + 1
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))


def _solve_numpy(payoffs: np.ndarray, tol: float, chunk: int):
    """The reference path on validated ``payoffs: (B, 2, m, n)``.

    Returns ``eqs (B, K, m+n)``, ``count (B,)``, ``regret (B, K)``, ``component (B, K)``,
    ``continuum (B,)``, ``status (B,)`` and ``degenerate (B,)``."""
    B, _, m, n = payoffs.shape
    a, c, rel, _ = _normalize(payoffs)
    tolg = tol * rel
    games, profs, degen = [np.zeros(0, dtype=np.intp)], [np.zeros((0, m + n))], np.zeros(B, dtype=bool)
    for lo in range(0, B, chunk):
        hi = min(lo + chunk, B)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # singular: masked
            g, prof, deg = _equilibria_pass(a[lo:hi], c[lo:hi], tolg[lo:hi], tol)
        degen[lo:hi] = deg
        keep = ~deg[g]
        games.append(g[keep] + lo)
        profs.append(prof[keep])
    game, prof = np.concatenate(games), np.concatenate(profs)
    xid = yid = np.full(game.size, -1, dtype=np.intp)
    bad = np.flatnonzero(degen)
    if bad.size:
        g2, prof2, xi, yi = _degenerate_solve(payoffs[bad], tol, chunk)
        game = np.concatenate([game, bad[g2]])
        prof = np.concatenate([prof, prof2])
        xid, yid = np.concatenate([xid, xi]), np.concatenate([yid, yi])
    out = _assemble(payoffs, tol, game, prof, xid, yid, degen, np.zeros(B, dtype=bool))
    return out + (degen,)


def _solve_numba(payoffs: np.ndarray, tol: float, chunk: int, threads: int = 1):
    """The compiled path: the kernel solves and certifies every game and flags the
    degenerate ones, whose extreme equilibria come from :func:`_degenerate_solve`;
    the same outputs, in the same order, as :func:`_solve_numpy`."""
    from . import _support_enumeration_numba as nb

    B, _, m, n = payoffs.shape
    eq, reg, count, degen, failed = nb.solve(payoffs, tol, threads=threads)
    K = eq.shape[1]
    component = np.where(np.arange(K) < count[:, None], np.arange(K), -1)
    continuum = np.zeros(B, dtype=bool)
    status = np.where(degen, STATUS["degenerate"], STATUS["ok"]).astype(np.int8)
    status[failed] = STATUS["failed"]
    bad = np.flatnonzero(degen)
    if bad.size:
        g, prof, xi, yi = _degenerate_solve(payoffs[bad], tol, chunk)
        s_eqs, s_count, s_reg, s_comp, s_cont, s_status = _assemble(
            payoffs[bad], tol, g, prof, xi, yi, np.ones(bad.size, dtype=bool),
            np.zeros(bad.size, dtype=bool))
        k1 = s_eqs.shape[1]
        if k1 > K:
            eq = np.concatenate([eq, np.full((B, k1 - K, m + n), np.nan)], axis=1)
            reg = np.concatenate([reg, np.full((B, k1 - K), np.nan)], axis=1)
            component = np.concatenate([component, np.full((B, k1 - K), -1)], axis=1)
        eq[bad], reg[bad], component[bad] = np.nan, np.nan, -1
        eq[bad, :k1], reg[bad, :k1], component[bad, :k1] = s_eqs, s_reg, s_comp
        count[bad], continuum[bad], status[bad] = s_count, s_cont, s_status
    return eq, count, reg, component.astype(np.int64), continuum, status, degen


def support_enumeration(payoffs: np.ndarray, *, tol: float = DEFAULT_TOL,
                        chunk: int = DEFAULT_CHUNK, backend: str = "auto",
                        threads: int = 1) -> SupportEnumerationResult:
    """Every Nash equilibrium of each two-player game in a batch.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, 2, m, n)
        ``payoffs[b, 0]`` the row player's, ``payoffs[b, 1]`` the column
        player's payoffs (allysim's axis convention, not QuantEcon's).
    tol : float, default 1e-9
        Relative to each game's :func:`~allysim.solve.regret.payoff_scale` ``s``: a
        strategy within ``tol * s`` of the best is a best reply, and every equilibrium
        returned has max regret ``<= tol * s``; a probability ``<= tol`` is outside the
        support. So the answer does not change under a positive affine change of the
        payoffs (see the module docstring).
    chunk : games solved together on the NumPy path (memory is bounded by blocks of
        support pairs whatever the chunk).
    backend : ``"auto"`` (default), ``"numba"`` or ``"numpy"``
        ``numba`` loops over blocks of games in a compiled kernel (the ``fast``
        extra; compiled once and cached on disk) that also runs the certificate, and
        hands the games it finds degenerate to the NumPy path's vertex matching;
        ``numpy`` is the reference. Both give the same equilibria in the same order,
        bit for bit, the same status and flags. ``auto`` uses numba when it is
        installed and the batch has at least ``AUTO_NUMBA_MIN`` games (below that,
        loading the kernel costs more than it saves).
    threads : int, default 1
        numba backend: split the games over this many threads (the kernel releases
        the GIL; capped at the number of CPUs). The answer does not depend on it. Keep
        1 inside process pools (``allysim sweep --jobs``), which already use the cores.

    Returns
    -------
    SupportEnumerationResult

    The work per game is :func:`support_pairs` ``(m, n)`` support pairs (69 for 4 x 4,
    48,619 for 9 x 9, 1.4e11 for 20 x 20): memory stays bounded, time does not, so
    callers should refuse sizes they cannot wait for. Degenerate games (ties) warn
    with :class:`~allysim.errors.DegenerateGameWarning` and get status ``degenerate``;
    their extreme equilibria are listed and any continuum is flagged.

    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> support_enumeration(pennies).equilibria(0).tolist()
    [[0.5, 0.5, 0.5, 0.5]]
    >>> bos = np.array([[[[2., 0.], [0., 1.]], [[1., 0.], [0., 2.]]]])
    >>> support_enumeration(bos).equilibria(0).round(4).tolist()
    [[1.0, 0.0, 1.0, 0.0], [0.6667, 0.3333, 0.3333, 0.6667], [0.0, 1.0, 0.0, 1.0]]
    """
    if not (isinstance(tol, (int, float, np.floating)) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"support_enumeration(): tol must be a finite number >= 0, got {tol!r}")
    if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
        raise ValueError(f"support_enumeration(): chunk must be an integer >= 1, got {chunk!r}")
    if not (isinstance(threads, (int, np.integer)) and threads >= 1):
        raise ValueError(f"support_enumeration(): threads must be an integer >= 1, got {threads!r}")
    payoffs = as_payoffs(payoffs, "support_enumeration")
    if payoffs.shape[1] != 2:
        raise ValueError("support_enumeration(): payoffs must have shape (B, 2, m, n) "
                         f"(two players), got {payoffs.shape}")
    B, _, m, n = payoffs.shape
    use_numba = resolve_backend(backend, "support_enumeration", batch=B,
                                min_batch=AUTO_NUMBA_MIN) == "numba"
    if use_numba:
        out = _solve_numba(payoffs, float(tol), chunk, int(threads))
    else:
        out = _solve_numpy(payoffs, float(tol), chunk)
    eqs, count, reg_pad, component, continuum, status, degen = out
    if degen.any():
        warnings.warn(f"support_enumeration(): {int(degen.sum())} of {B} game(s) degenerate "
                      f"(a mixed strategy with more best replies than its support size, within "
                      f"tol={tol:g} of the payoff scale); their extreme equilibria are listed"
                      + (f", {int(continuum.sum())} with a continuum of equilibria"
                         if continuum.any() else ""),
                      DegenerateGameWarning, stacklevel=2)
    return SupportEnumerationResult(profiles=eqs, count=count, regret=reg_pad,
                                    component=component, continuum=continuum, status=status,
                                    shape=(m, n), backend="numba" if use_numba else "numpy",
                                    parameters={"tol": float(tol), "chunk": int(chunk),
                                                "backend": backend, "threads": int(threads)})


#: ``backend="auto"`` uses numba for batches of at least this many games.
AUTO_NUMBA_MIN = 64
