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
replies to each other.

Batched: for each support size k, the systems of *all* support pairs and *all*
games are solved at once. Eliminating ``v`` leaves the ``k - 1`` rows of
differences ``D = A[I[1:], J] - A[I[0], J]``, whose null direction is the
vector of signed maximal minors of ``D`` (a generalised cross product); its
sum is the determinant of the bordered system, so ``y = c / sum(c)``. Minors
of size <= 3 (games up to 4 x 4) use closed forms on whole arrays; larger ones
use ``np.linalg.det`` on stacked matrices. Only the loop over support sizes
(and chunks of games) is in Python.

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
``enummixed`` does. Equilibria that share one player's strategy are joined by
a segment of equilibria; ``component`` labels the connected sets they form and
``continuum`` says whether a game has a set of equilibria that is not a point
(Nashpy issue #222: a continuum must not be reported as its endpoint alone).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

from ..errors import DegenerateGameWarning
from ._status import STATUS
from ._backend import resolve_backend
from .regret import DEFAULT_TOL, as_payoffs, verify
from .result import Result

#: Games per chunk: big enough to amortise NumPy's call overhead, small enough for cache.
DEFAULT_CHUNK = 1024

#: Two equilibria closer than this (max abs probability difference) are the same one.
_SAME = 1e-7


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
        Max regret of each equilibrium (<= tol * payoff scale, the certificate); NaN padding.
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
    parameters : ``tol``, ``chunk``, ``backend``, ``threads``
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


# ----------------------------------------------------------------------------- kernels

@lru_cache(maxsize=None)
def _supports(size: int, k: int) -> np.ndarray:
    """All supports of size k among ``size`` strategies, lexicographic: ``(C(size, k), k)``."""
    return np.array(list(combinations(range(size), k)), dtype=np.intp).reshape(-1, k)


@lru_cache(maxsize=None)
def _outside(size: int, k: int) -> np.ndarray:
    """The complement of each support of :func:`_supports`: ``(C(size, k), size - k)``."""
    sup = _supports(size, k)
    return np.array([[s for s in range(size) if s not in row] for row in sup],
                    dtype=np.intp).reshape(len(sup), size - k)


def _det(cols: list[np.ndarray]) -> np.ndarray:
    """Determinant of the square matrix whose columns are ``cols`` (r arrays of shape
    ``(r, ...)``, stacked over the trailing axes) -> ``(...)``: closed forms for r <= 3,
    elementwise over the stack without copies; ``np.linalg.det`` above."""
    r = len(cols)
    if r == 1:
        return cols[0][0]
    if r == 2:
        (a, c), (b, d) = cols
        return a * d - b * c
    if r == 3:
        (a, d, g), (b, e, h), (c, f, i) = cols
        return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return np.linalg.det(np.moveaxis(np.stack(cols, axis=1), (0, 1), (-2, -1)))


def _mixes(d: np.ndarray, tiny: np.ndarray, tol: float):
    """Solve ``d @ p = 0``, ``sum(p) = 1`` for stacked ``d: (k-1, k, ...)``.

    The solution is the vector ``c: (k, ...)`` of signed maximal minors of ``d``
    (``d @ c = 0``) divided by its sum, which is the determinant of ``d``
    bordered by a row of ones; ``|sum(c)| <= tiny`` (broadcast against ``...``)
    counts as singular. Returns ``p: (k, ...)``, ``ok (...)``: the solution
    exists, is unique and is ``>= -tol`` (where not ok, ``p`` is meaningless),
    and ``min(p) (...)``.
    """
    k = d.shape[1]
    if k == 1:
        one = np.ones(d.shape[2:])
        return one[None], np.ones(d.shape[2:], dtype=bool), one
    columns = [d[:, j] for j in range(k)]
    c = np.empty((k,) + d.shape[2:])
    for j in range(k):
        c[j] = _det(columns[:j] + columns[j + 1:])
        if j % 2:
            np.negative(c[j], out=c[j])
    total = c.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c /= total                     # singular systems give inf/nan, masked by ok
        low = c.min(axis=0)
        ok = (np.abs(total) > tiny) & (low >= -tol)
    return c, ok, low


def _bits(mask: np.ndarray) -> np.ndarray:
    """Bool ``(s, ...)`` -> int64 bit sets ``(...)``."""
    shift = np.arange(mask.shape[0], dtype=np.int64).reshape((-1,) + (1,) * (mask.ndim - 1))
    return (mask.astype(np.int64) << shift).sum(axis=0)


def _side(d, others, tiny, tol):
    """One player's candidate mixed strategies for every support pair of one size.

    Every array has the small axes first and ``(P, Q, b)`` last (pairs of
    supports, then games), so that each operation runs over contiguous memory.

    d : (k, k, P, Q, b) the other player's payoffs, ``d[t, r]`` = its payoff
        from its r-th support strategy against this player's t-th.
    others : (k, s_other - k, P, Q, b) the same for the other's strategies
        outside its support.
    Returns mix (k, P, Q, b); valid (P, Q, b): a vertex of the best-reply polytope
    (unique, >= 0, the other's support strategies best replies); over (P, Q, b):
    valid and with more best replies than its support size (degenerate).
    """
    diff = np.swapaxes(d[:, 1:] - d[:, :1], 0, 1)                 # (k-1, k, P, Q, b)
    mix, ok, low = _mixes(diff, tiny, tol)
    v = d[0, 0] * mix[0]                                          # the support's value
    vals = others[0] * mix[0]                                     # values outside it
    tmp = np.empty_like(vals)
    for t in range(1, mix.shape[0]):
        v += d[t, 0] * mix[t]
        vals += np.multiply(others[t], mix[t], out=tmp)
    rest = vals.max(axis=0) if vals.shape[0] else np.full(v.shape, -np.inf)
    valid = ok & (rest <= v + tol)
    over = valid & ((rest >= v - tol) | (low <= tol))
    return mix, valid, over


def _chunk(a: np.ndarray, c: np.ndarray, tol: float):
    """Support enumeration of one chunk: ``a, c: (b, m, n)`` (row, column payoffs).

    Returns flat equilibria ``game (N,)``, ``profile (N, m+n)``, a degenerate
    flag ``(b,)`` and, per support size, the arrays from which the vertices of
    degenerate games are read (:func:`_vertices`).
    """
    b, m, n = a.shape
    eq_game, eq_prof, per_k = [], [], []
    degenerate = np.zeros(b, dtype=bool)
    a_t = np.ascontiguousarray(a.transpose(1, 2, 0))   # (m, n, b): games last
    c_t = np.ascontiguousarray(c.transpose(1, 2, 0))
    # A bordered determinant below 1e-12 * (payoff range)^(k-1) is singular.
    spread = np.maximum(a_t.max(axis=(0, 1)) - a_t.min(axis=(0, 1)),
                        c_t.max(axis=(0, 1)) - c_t.min(axis=(0, 1)))
    for k in range(1, min(m, n) + 1):
        rows, cols = _supports(m, k), _supports(n, k)
        rows_out, cols_out = _outside(m, k), _outside(n, k)
        ri, ci = rows.T[:, None, :, None], cols.T[None, :, None, :]
        tiny = 1e-12 * spread ** (k - 1) + 1e-300
        # x on rows I making the columns J indifferent (column player's payoffs).
        x, vx, ox = _side(c_t[ri, ci], c_t[ri, cols_out.T[None, :, None, :]], tiny, tol)
        # y on columns J making the rows I indifferent (row player's payoffs).
        cj = cols.T[:, None, None, :]    # (k_col, 1, 1, Q): gathered contiguous, col axis first
        y, vy, oy = _side(a_t[rows.T[None, :, :, None], cj],
                          a_t[rows_out.T[None, :, :, None], cj], tiny, tol)
        # Degeneracy: a vertex with more best replies than its support size.
        degenerate |= (ox | oy).any(axis=(0, 1))
        p, q, g = np.nonzero(vx & vy)
        if g.size:
            prof = np.zeros((g.size, m + n))
            np.put_along_axis(prof[:, :m], rows[p], x[:, p, q, g].T, axis=1)
            np.put_along_axis(prof[:, m:], cols[q], y[:, p, q, g].T, axis=1)
            np.clip(prof, 0.0, None, out=prof)   # entries in [-tol, 0) are zeros
            prof[:, :m] /= prof[:, :m].sum(axis=1, keepdims=True)
            prof[:, m:] /= prof[:, m:].sum(axis=1, keepdims=True)
            eq_game.append(g)
            eq_prof.append(prof)
        per_k.append((rows, cols, x, vx, y, vy))
    game = np.concatenate(eq_game) if eq_game else np.zeros(0, dtype=np.intp)
    prof = np.concatenate(eq_prof) if eq_prof else np.zeros((0, m + n))
    return game, prof, degenerate, per_k


def _vertices(per_k, games: np.ndarray, a: np.ndarray, c: np.ndarray, tol: float):
    """The vertices of both best-reply polytopes of ``games`` (chunk indices).

    a, c : (b, m, n) the chunk's payoffs. Returns, per player (x then y), flat
    ``game (V,)`` (index into ``games``), ``vector (V, size)``, support bits and
    best-reply bits ``(V,)``, deduplicated."""
    m, n = a.shape[1:]
    out = []
    for side in (0, 1):
        parts = []
        for rows, cols, x, vx, y, vy in per_k:
            mix, valid = (x, vx) if side == 0 else (y, vy)
            own, size = (rows, m) if side == 0 else (cols, n)
            p, q, g = np.nonzero(valid[:, :, games])
            vec = np.zeros((g.size, size))
            np.put_along_axis(vec, own[p] if side == 0 else own[q],
                              np.clip(mix[:, p, q, games[g]].T, 0.0, None), axis=1)
            vec /= vec.sum(axis=1, keepdims=True)
            # The other player's payoffs against each vertex, and its best replies.
            val = (np.einsum("vi,vij->vj", vec, c[games[g]]) if side == 0
                   else np.einsum("vj,vij->vi", vec, a[games[g]]))
            br = val >= val.max(axis=1, keepdims=True) - tol
            parts.append((g, vec, _bits(vec.T > tol), _bits(br.T)))
        g, vec, supp, brb = (np.concatenate([pt[i] for pt in parts]) for i in range(4))
        keep = _dedupe(g, vec, games.size)
        out.append((g[keep], vec[keep], supp[keep], brb[keep]))
    return out


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
    """Which rows to keep (bool ``(N,)``): the first of rows of one game within ``same``."""
    if game.size == 0:
        return np.zeros(0, dtype=bool)
    pad, count, g_sorted, slot, order = _padded(game, vec, n_games)
    close = (np.abs(pad[:, :, None] - pad[:, None, :]) <= same).all(-1)   # NaN -> False
    earlier = np.tril(np.ones(close.shape[1:], dtype=bool), -1)
    dup = (close & earlier).any(-1)
    keep = np.zeros(game.size, dtype=bool)
    keep[order] = ~dup[g_sorted, slot]
    return keep


def _components(xid: np.ndarray, yid: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Connected components of equilibria ``(G, K)`` joined when they share x or y.

    Labels are the smallest index in each component, renumbered 0, 1, ... per game."""
    G, K = xid.shape
    adj = valid[:, :, None] & valid[:, None, :] & ((xid[:, :, None] == xid[:, None, :])
                                                   | (yid[:, :, None] == yid[:, None, :]))
    label = np.where(valid, np.arange(K), K)
    for _ in range(K):
        new = np.where(adj, label[:, None, :], K).min(-1)
        new = np.minimum(new, label)
        if (new == label).all():
            break
        label = new
    out = np.full((G, K), -1, dtype=np.int64)
    # Renumber: rank of each label among the distinct labels of its game.
    first = valid & (label == np.arange(K))
    rank = np.cumsum(first, axis=1) - 1
    out[valid] = np.take_along_axis(rank, np.where(valid, label, 0), axis=1)[valid]
    return out


def _vertex_equilibria(per_k, games: np.ndarray, a: np.ndarray, c: np.ndarray, tol: float):
    """Extreme equilibria of the (degenerate) ``games`` as matching vertex pairs.

    Returns flat ``game (N,)`` (chunk indices), ``profile (N, m+n)`` and the
    vertex ids ``xid, yid (N,)``."""
    G = games.size
    sides = []
    for g, vec, supp, brb in _vertices(per_k, games, a, c, tol):
        pad, count, gs, slot, order = _padded(g, vec, G)
        sp = np.zeros(pad.shape[:2], dtype=np.int64)
        rp = np.zeros(pad.shape[:2], dtype=np.int64)
        sp[gs, slot], rp[gs, slot] = supp[order], brb[order]
        sides.append((pad, sp, rp, np.arange(pad.shape[1]) < count[:, None]))
    (xv, xs, xr, xok), (yv, ys, yr, yok) = sides
    # x's support among y's best replies, and y's among x's.
    match = (xok[:, :, None] & yok[:, None, :]
             & ((xs[:, :, None] & ~yr[:, None, :]) == 0)
             & ((ys[:, None, :] & ~xr[:, :, None]) == 0))
    g, i, j = np.nonzero(match)
    return games[g], np.concatenate([xv[g, i], yv[g, j]], axis=1), i, j


def _canonical(game: np.ndarray, prof: np.ndarray) -> np.ndarray:
    """Order of flat equilibria: by game, then descending lexicographic (rounded to 1e-9)."""
    key = -np.rint(prof * 1e9).astype(np.int64)          # probabilities in 0 .. 1e9 (30 bits)
    if key.shape[1] % 2:
        key = np.concatenate([key, np.zeros((len(key), 1), dtype=np.int64)], axis=1)
    packed = (key[:, 0::2] << 31) + key[:, 1::2]          # two per int64, order kept
    return np.lexsort(tuple(packed[:, j] for j in reversed(range(packed.shape[1]))) + (game,))


def _tiny(spread: np.ndarray, kmax: int) -> np.ndarray:
    """Singularity thresholds ``(B, kmax + 1)`` from each game's payoff ``spread: (B,)``
    (:func:`_chunk`'s): column k is :func:`_chunk`'s for support size k, the same
    expression elementwise, so the same bits."""
    out = np.empty((spread.shape[0], kmax + 1))
    out[:, 0] = np.nan
    for k in range(1, kmax + 1):
        out[:, k] = 1e-12 * spread ** (k - 1) + 1e-300
    return out


def _solve_numpy(payoffs: np.ndarray, tol: float, chunk: int):
    """The reference path on validated ``payoffs: (B, 2, m, n)``.

    Returns ``eqs (B, K, m+n)``, ``count (B,)``, ``regret (B, K)``, ``component (B, K)``,
    ``continuum (B,)``, ``status (B,)`` and ``degenerate (B,)``."""
    B, _, m, n = payoffs.shape
    games, profs, degen = [np.zeros(0, dtype=np.intp)], [np.zeros((0, m + n))], np.zeros(B, dtype=bool)
    xids, yids = [np.zeros(0, dtype=np.intp)], [np.zeros(0, dtype=np.intp)]
    for lo in range(0, B, chunk):
        hi = min(lo + chunk, B)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # singular: masked
            g, prof, deg, per_k = _chunk(payoffs[lo:hi, 0], payoffs[lo:hi, 1], tol)
        degen[lo:hi] = deg
        keep = ~deg[g]
        games.append(g[keep] + lo)
        profs.append(prof[keep])
        xids.append(np.zeros(keep.sum(), dtype=np.intp))   # unused: nothing is joined
        yids.append(np.zeros(keep.sum(), dtype=np.intp))
        bad = np.flatnonzero(deg)
        if bad.size:
            g2, prof2, xi, yi = _vertex_equilibria(per_k, bad, payoffs[lo:hi, 0],
                                                   payoffs[lo:hi, 1], tol)
            games.append(g2 + lo)
            profs.append(prof2)
            xids.append(xi)
            yids.append(yi)
    game = np.concatenate(games)
    prof = np.concatenate(profs)
    xid, yid = np.concatenate(xids), np.concatenate(yids)
    status = np.where(degen, STATUS["degenerate"], STATUS["ok"]).astype(np.int8)

    # Certificate: every equilibrium goes through the shared verifier.
    u = payoffs[game]
    passed = verify(u, prof, tol) if game.size else np.zeros(0, dtype=bool)
    if not passed.all():
        status[np.unique(game[~passed])] = STATUS["failed"]
        game, prof, xid, yid, u = game[passed], prof[passed], xid[passed], yid[passed], u[passed]
    # The regret values reported (verify has checked them against tol).
    x, y = prof[:, :m], prof[:, m:]
    row = np.einsum("eij,ej->ei", u[:, 0], y)
    col = np.einsum("ei,eij->ej", x, u[:, 1])
    reg = np.maximum(row.max(1) - (row * x).sum(1), col.max(1) - (col * y).sum(1))

    order = _canonical(game, prof)
    game, prof, xid, yid, reg = game[order], prof[order], xid[order], yid[order], reg[order]
    eqs, count, gs, slot, o2 = _padded(game, prof, B)
    reg_pad = np.full(eqs.shape[:2], np.nan)
    reg_pad[gs, slot] = reg[o2]
    valid = np.arange(eqs.shape[1]) < count[:, None]
    # Nondegenerate games: every equilibrium is its own component.
    component = np.where(valid, np.arange(eqs.shape[1]), -1)
    continuum = np.zeros(B, dtype=bool)
    bad = np.flatnonzero(degen)
    if bad.size:
        xp = np.full(eqs.shape[:2], -1, dtype=np.int64)
        yp = np.full(eqs.shape[:2], -1, dtype=np.int64)
        xp[gs, slot], yp[gs, slot] = xid[o2], yid[o2]
        comp = _components(xp[bad], yp[bad], valid[bad])
        component[bad] = comp
        sizes = np.zeros(comp.shape, dtype=np.int64)
        np.add.at(sizes, (np.nonzero(comp >= 0)[0], comp[comp >= 0]), 1)
        continuum[bad] = (sizes > 1).any(axis=1)
    return eqs, count.astype(np.int64), reg_pad, component.astype(np.int64), continuum, status, degen


#: Rows per call of the shared verifier on the compiled path (cache-sized).
_VERIFY_ROWS = 4096


def _solve_numba(payoffs: np.ndarray, tol: float, chunk: int, threads: int = 1):
    """The compiled path: nondegenerate games in the numba kernel, the games it flags
    degenerate through :func:`_solve_numpy`; the same outputs, in the same order."""
    from . import _support_enumeration_numba as nb

    B, _, m, n = payoffs.shape
    eq, reg, count, degen = nb.solve(payoffs, _tiny(nb.spread(payoffs), min(m, n)), tol,
                                     threads=threads)
    status = np.where(degen, STATUS["degenerate"], STATUS["ok"]).astype(np.int8)
    valid = np.arange(eq.shape[1]) < count[:, None]          # degenerate games: count 0

    # Certificate: every equilibrium goes through the shared verifier.
    g, s = np.nonzero(valid)
    passed = np.ones(g.size, dtype=bool)
    for lo in range(0, g.size, _VERIFY_ROWS):
        gi, si = g[lo:lo + _VERIFY_ROWS], s[lo:lo + _VERIFY_ROWS]
        passed[lo:lo + _VERIFY_ROWS] = verify(payoffs[gi], eq[gi, si], tol)
    if not passed.all():
        for b in np.unique(g[~passed]):
            keep = valid[b].copy()
            keep[s[(g == b) & ~passed]] = False
            rows, regs = eq[b, keep], reg[b, keep]
            eq[b], reg[b] = np.nan, np.nan
            eq[b, :len(rows)], reg[b, :len(rows)] = rows, regs
            count[b] = len(rows)
            status[b] = STATUS["failed"]
        valid = np.arange(eq.shape[1]) < count[:, None]

    continuum = np.zeros(B, dtype=bool)
    bad = np.flatnonzero(degen)
    sub = _solve_numpy(payoffs[bad], tol, chunk) if bad.size else None
    K = max(int(count.max(initial=0)), 1)
    if sub is not None:
        K = max(K, sub[0].shape[1])
    eqs = np.full((B, K, m + n), np.nan)
    reg_pad = np.full((B, K), np.nan)
    k0 = min(K, eq.shape[1])
    eqs[:, :k0], reg_pad[:, :k0] = eq[:, :k0], reg[:, :k0]
    component = np.where(np.arange(K) < count[:, None], np.arange(K), -1).astype(np.int64)
    if sub is not None:
        s_eqs, s_count, s_reg, s_comp, s_cont, s_status, s_degen = sub
        k1 = s_eqs.shape[1]
        eqs[bad], reg_pad[bad], component[bad] = np.nan, np.nan, -1
        eqs[bad, :k1], reg_pad[bad, :k1], component[bad, :k1] = s_eqs, s_reg, s_comp
        count[bad], continuum[bad], status[bad], degen[bad] = s_count, s_cont, s_status, s_degen
    return eqs, count, reg_pad, component, continuum, status, degen


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
        Payoff and probability tolerance: a strategy within ``tol`` of the best
        is a best reply; a probability ``<= tol`` is outside the support; every
        equilibrium returned has max regret ``<= tol``.
    chunk : games solved together on the NumPy path (memory ~ chunk * pairs * (m + n) floats).
    backend : ``"auto"`` (default), ``"numba"`` or ``"numpy"``
        ``numba`` loops over the games in a compiled kernel (the ``fast`` extra;
        compiled once and cached on disk) and hands the games it finds degenerate
        to the NumPy path; ``numpy`` is the reference. Both give the same
        equilibria in the same order, the same status and flags (probabilities
        equal to rounding; bit for bit when supports have at most 4 strategies).
        ``auto`` uses numba when it is installed and the batch has at least
        ``AUTO_NUMBA_MIN`` games (below that, loading the kernel costs more than it saves).
    threads : int, default 1
        numba backend: split the games over this many threads (numba ``prange``;
        capped at numba's thread count). The answer does not depend on it. Keep 1
        inside process pools (``allysim sweep --jobs``), which already use the cores.

    Returns
    -------
    SupportEnumerationResult

    Degenerate games (ties) warn with :class:`~allysim.errors.DegenerateGameWarning`
    and get status ``degenerate``; their extreme equilibria are listed and any
    continuum is flagged.

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
                      f"tol={tol:g}); their extreme equilibria are listed"
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
