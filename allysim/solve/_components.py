"""Connected sets (components) of equilibria of a degenerate n-player game.

A degenerate game can have a continuum of equilibria; a search lands on many
points of it. This module joins the points it can show to lie in one connected
set of equilibria, walks each set towards its extreme points, and drops the
sample points shown to lie strictly inside it, so that each component is
reported once (:func:`walk`, one game; :func:`summarise`, a batch).

The maths
---------
*One player moves.* Fix every player but j at an equilibrium ``p``. The profiles
``(x, p_-j)`` that are equilibria form a polytope

    P_j(p) = { x in simplex_j :  x_l = 0 unless l is a best reply of j to p_-j,
               for every other player i, k in supp p_i and every l of i:
               v_il(x, p_-ij) <= v_ik(x, p_-ij) }

because every player's strategy values are linear in j's mix when the others
are fixed (``v_il(x, p_-ij) = sum_m W[l, m] x_m``, ``W`` the payoff
cross-derivatives at ``p``). Along a segment where only one player's mix
changes, every regret is a maximum of affine functions, so it is at most its
larger end value: two certified ends certify the segment, exactly.

*The walk.* Every sample point first moves, player by player, to a vertex of
its polytopes (all points at once: along a fixed generic objective projected on
the face the point lies in, up to the next constraint; :func:`_descend`).
From each vertex reached, in batches (those of the smallest components so far
first, then the simplest points), the walk takes

1. every vertex of each player's polytope (all sets of ``dim`` tight
   constraints, at most :data:`MAX_COMBOS`);
2. the piece of the set through the point with its active set fixed (the
   support equations, and every best reply outside the support kept one): where
   its Jacobian has a null space (dimension at most :data:`MAX_TRACE_DIM`),
   several players move together, e.g. along the completely mixed curve of Nau
   et al. (2004, sec. 5); it is traced both ways along each null direction;
3. the edges leaving the point: each best reply outside the support (at most
   :data:`MAX_RELAX` of them) enters the support, stays a best reply with
   probability 0, or stops being one; a choice whose equalities leave a single
   direction, along which the entering probabilities grow and the dropped values
   fall, is an edge, traced to its end.

Pieces and edges are traced by a predictor-corrector method (steps of at most
:data:`CURVE_STEP`) until a probability reaches 0 or the next point fails the
certificate (a strategy became or stopped being a best reply); every point kept
is certified, but the joins are numerical, unlike the exact polytope moves.
New points are brought to vertices and walked in turn, up to ``max_points``.
Last, components left apart are joined where a straight segment between points
of theirs is certified by :func:`segment_certified` (Bernstein bounds of the
regret along it). Sample points whose probabilities include rounding-level ones
(below ``_CLEAN`` of their player's largest) are first replaced by the point
without them, where it and the segment to it are certified.

What is guaranteed
------------------
Every listed point is a certified equilibrium. Two points with one component
label are joined by a path of equilibria that was walked (exactly through
one player's polytopes and certified segments, numerically along traced
pieces: ``traced``). A dropped sample point was shown to lie strictly inside a
polytope of one player's moves or a traced piece of its component. Two listed
points with *different* labels may still lie in one component (a connection the
walk did not find, more likely when it was ``capped``), and components the
search never landed on are missing. Counts are exact where the walk is
exhaustive, as for the strategic forms of extensive games whose continua come
from off-path indifference.

The *dimension* of a component is the largest local dimension found: the
affine dimension of a polytope of one player's moves or the dimension of a
traced piece, and the nullity of the support equations' Jacobian at points with
no unused best reply (there, the set of equilibria near the point is the
solution set of the support equations).

Performance (CPU time on the 2-core development machine, walk only): Nau sec. 5, 56 sample
points: 0.3 s; el_farol_bar, 297 points: 0.6 s; 3_player_PI_2_dev_off_eq_path, 7,546
points: 1.5 s (its search takes 10.8 s); jury_un, 3,092 points: 1.5 s, capped.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import combinations, product
from math import comb

import numpy as np
from scipy.spatial import cKDTree

from ._profile import Layout as _Layout
from ._profile import cross_values as _cross_values
from .mixed_nash import _equations
from .regret import payoff_scale, strategy_values, verify

#: At most this many new points per game are walked (the walk stops there: ``capped``).
MAX_POINTS = 500
#: Vertex enumeration of one player's polytope tries at most this many constraint sets.
MAX_COMBOS = 20000
#: Longest step when a curve of equilibria is traced (payoffs scaled to [0, 1]).
CURVE_STEP = 0.02
_MERGE_POINTS = 4       # points per component tried in the final segment merge ...
_MERGE_GROUP = 32       # ... and per group of merged components
_BATCH = 64             # vertices explored per batch
#: Edges are enumerated at points with at most this many best replies outside the support.
MAX_RELAX = 4
#: Pieces of at most this dimension are traced (along each direction of a null basis).
MAX_TRACE_DIM = 2

_SAME = 1e-6        # points closer than this (max abs difference) are one
_SINGULAR = 1e-9    # smallest / largest singular value below this: singular
_ZERO = 1e-12       # probabilities below this are zeros
_CLEAN = (1e-4, 1e-6)   # a given point's probabilities below these x its player's largest may go


@dataclass(frozen=True)
class Components:
    """The components found in one game.

    points : (P, S) certified equilibria: the given ones first, in order (cleaned, see
        :func:`walk`), then the points the walk found; ``label`` (P,) their component;
        ``extreme`` (P,) False where a point was shown to lie strictly between others
        of its component; ``listed`` (P,) the points to report: extreme points whose
        polytopes were walked, and one point of any component without such a point.
        ``dimension`` (K,) per label; ``traced`` (K,) whether a numerically traced
        piece joins some of its points; ``capped`` whether the walk stopped at
        ``max_points`` new points (some vertices were not walked).
    """

    points: np.ndarray
    label: np.ndarray
    extreme: np.ndarray
    listed: np.ndarray
    dimension: np.ndarray
    traced: np.ndarray
    capped: bool


class _Pool:
    """Points found so far (deduplicated within ``_SAME``), with a union-find over them.

    Lookups use a k-d tree (maximum norm) over the points up to the last rebuild and
    a scan of the few added since.
    """

    def __init__(self, points: np.ndarray):
        self._buf = np.array(points, dtype=float).reshape(len(points), -1)
        self.size = len(self._buf)
        n = self.size
        self.parent = list(range(n))
        self.extreme = [True] * n
        self.dim = [0] * n
        self.traced = [False] * n
        self._tree, self._built = None, 0
        self._count: dict[int, int] = {}
        # Given points closer than _SAME are one (the first of them).
        if n:
            tree = cKDTree(self._buf)
            for a, b in sorted(tree.query_pairs(_SAME, p=np.inf)):
                self.union(a, b)
                self.extreme[b] = False
        self._rebuild()

    @property
    def points(self) -> np.ndarray:
        return self._buf[:self.size]

    def _rebuild(self):
        self._tree = cKDTree(self._buf[:self.size]) if self.size else None
        self._built = self.size

    def find(self, x: np.ndarray) -> int:
        """The index of a point within ``_SAME`` of ``x``, or -1."""
        if self._tree is not None:
            d, k = self._tree.query(x, p=np.inf, distance_upper_bound=_SAME)
            if np.isfinite(d):
                return int(k)
        if self.size > self._built:
            tail = self._buf[self._built:self.size]
            d = np.abs(tail - x).max(axis=1)
            k = int(np.argmin(d))
            if d[k] <= _SAME:
                return self._built + k
        return -1

    def add(self, x: np.ndarray) -> int:
        if self.size == len(self._buf):
            self._buf = np.concatenate([self._buf, np.empty((max(64, self.size), self._buf.shape[1]))])
        self._buf[self.size] = x
        self.size += 1
        self.parent.append(self.size - 1)
        self.extreme.append(True)
        self.dim.append(0)
        self.traced.append(False)
        if self.size - self._built > 256:
            self._rebuild()
        return self.size - 1

    def root(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            lo, hi = min(ra, rb), max(ra, rb)
            self.parent[hi] = lo
            self._count[lo] = self._count.get(lo, 1) + self._count.pop(hi, 1)

    def count(self, a: int) -> int:
        """The number of points in ``a``'s set."""
        return self._count.get(self.root(a), 1)


def _simplex_face_vertices(rows: np.ndarray, d: int, eps: float, max_combos: int):
    """Vertices of ``{x >= 0, sum x = 1, rows @ x <= 0}`` in ``R^(d+1)``.

    rows : (m, d + 1). Returns ``(V, d + 1)`` and whether the enumeration was complete.
    """
    cons = np.vstack([rows, -np.eye(d + 1)])
    if d == 0:
        return np.ones((1, 1)), True
    sets = comb(len(cons), d)
    if sets > max_combos:
        return np.zeros((0, d + 1)), False
    idx = np.array(list(combinations(range(len(cons)), d)), dtype=np.intp)      # (K, d)
    M = np.concatenate([cons[idx], np.ones((len(idx), 1, d + 1))], axis=1)      # (K, d+1, d+1)
    rhs = np.zeros(d + 1)
    rhs[-1] = 1.0
    sign, logdet = np.linalg.slogdet(M)
    norms = np.linalg.norm(M, axis=2)
    regular = (sign != 0) & (logdet - np.log(norms).sum(axis=1) > np.log(_SINGULAR))
    if not regular.any():
        return np.zeros((0, d + 1)), True
    x = np.linalg.solve(M[regular], rhs)
    feasible = (x >= -eps).all(axis=1) & ((x @ rows.T) <= eps).all(axis=1)
    x = np.clip(x[feasible], 0.0, None)
    x /= x.sum(axis=1, keepdims=True)
    # Distinct vertices.
    out: list[np.ndarray] = []
    for v in x:
        if not any(np.abs(v - w).max() <= _SAME for w in out):
            out.append(v)
    return np.array(out).reshape(-1, d + 1), True


def _player_polytope(W: np.ndarray, v: np.ndarray, p: np.ndarray, j: int, lay: _Layout, eps: float):
    """Vertices ``(V, S)`` of ``P_j(p)`` as full profiles, and whether all were found."""
    lo, hi = lay.offsets[j], lay.offsets[j + 1]
    vj = v[lo:hi]
    br = np.flatnonzero(vj >= vj.max() - eps)
    rows = []
    for i in range(lay.n):
        if i == j:
            continue
        a, b = lay.offsets[i], lay.offsets[i + 1]
        Wi = W[a:b, lo:hi][:, br]                                    # (s_i, |br|)
        for k in np.flatnonzero(p[a:b] > 0):
            rows.append(np.delete(Wi - Wi[k], k, axis=0))
    rows = np.concatenate(rows) if rows else np.zeros((0, len(br)))
    # Constraints that no point of the face can violate are dropped; duplicates too.
    rows = rows[rows.max(axis=1) > eps] if len(rows) else rows
    if len(rows):
        scale = np.abs(rows).max(axis=1, keepdims=True)
        rows = np.unique(np.round(rows / scale, 12), axis=0)
    verts, complete = _simplex_face_vertices(rows, len(br) - 1, eps, MAX_COMBOS)
    full = np.repeat(p[None], len(verts), axis=0)
    full[:, lo:hi] = 0.0
    full[:, lo + br] = verts
    return full, complete


def _active_system(U, x, supp, tight, first, lay: _Layout):
    """The equalities of a fixed active set, ``F (m, 2S)`` and Jacobian ``(m, 2S, S)``:
    the support equations of ``supp`` and, for each strategy in ``tight`` (outside
    the support), its value equal to its player's support value (zero rows else)."""
    F, J = _equations(U, x, supp, first, lay)
    W, v = _cross_values(U, x, lay)
    rows = np.arange(len(x))[:, None]
    Fx = np.where(tight, v - v[rows, first], 0.0)
    Jx = np.where(tight[:, :, None], W - W[rows, first], 0.0)
    return np.concatenate([F, Fx], axis=1), np.concatenate([J, Jx], axis=1)


def _null_space(J: np.ndarray):
    """Nullity ``(m,)`` and a basis padded to ``(m, S, S)`` (columns; zero past the nullity)."""
    _, sv, vt = np.linalg.svd(J)
    S = J.shape[2]
    sv = np.concatenate([sv, np.zeros((len(J), max(0, S - sv.shape[1])))], axis=1)[:, :S]
    null = sv <= _SINGULAR * np.maximum(sv[:, :1], 1e-300)
    # Smallest singular values first, so the null vectors are the first columns.
    basis = np.swapaxes(vt, 1, 2)[:, :, ::-1]
    return null.sum(axis=1), np.where(null[:, ::-1][:, None, :], basis, 0.0)


def _edges(u1, p, supp, tight, W, lay: _Layout):
    """The edges of the set of equilibria leaving ``p`` (see :func:`walk`, step 3):
    ``(direction, tight, support)`` for each, at most ``3 ** MAX_RELAX`` choices."""
    D = np.flatnonzero(tight)
    if len(D) == 0 or len(D) > MAX_RELAX:
        return []
    choices = np.array(list(product(range(3), repeat=len(D))))[1:]    # 0 keep, 1 enter, 2 drop
    m = len(choices)
    T = np.repeat(supp[None], m, axis=0)
    K = np.repeat(tight[None], m, axis=0)
    T[:, D] = choices == 1
    K[:, D] = choices == 0
    first = lay.first(T)
    _, J = _active_system(np.repeat(u1[None], m, axis=0), np.repeat(p[None], m, axis=0), T, K, first, lay)
    k, basis = _null_space(J)
    out = []
    for c in np.flatnonzero(k == 1):
        t = basis[c, :, 0]
        enter = D[choices[c] == 1]
        drop = D[choices[c] == 2]
        rate = (W[drop] - W[first[c, drop]]) @ t
        scale = np.abs(t).max()
        for sign in (1.0, -1.0):
            if (sign * t[enter] > 1e-9 * scale).all() and (sign * rate < -1e-12).all():
                out.append((sign * t, K[c], T[c]))
                break
    return out


def _trace_curves(u1, payoffs1, P, D, tight, lay: _Layout, tol, max_steps: int = 400, supp=None):
    """Follow the solution sets of fixed active sets (:func:`_active_system`) from
    ``P (m, S)`` along ``D (m, S)``, all at once; ``tight (m, S)`` the strategies
    outside the support kept as best replies; ``supp (m, S)`` the supports (by
    default those of ``P``; a strategy entering the support has probability 0 at
    its start).

    The tangent is the previous one projected on the Jacobian's null space. Each
    walk ends where a probability of its support reaches 0, where another strategy
    becomes a best reply or a kept one stops being one (the next point fails the
    certificate, and the step is halved down to 1e-9), where the null space
    vanishes, or after ``max_steps``. Returns the last certified point of each
    ``(m, S)`` and whether it moved ``(m,)``.
    """
    m, S = P.shape
    supp = P > _ZERO if supp is None else supp
    first = lay.first(supp)
    U = np.repeat(u1[None], m, axis=0)
    x = P.copy()
    t = D / np.linalg.norm(D, axis=1, keepdims=True)
    h = np.full(m, CURVE_STEP)
    last, moved = P.copy(), np.zeros(m, dtype=bool)
    going = np.ones(m, dtype=bool)
    for _ in range(max_steps):
        g = np.flatnonzero(going)
        if g.size == 0:
            break
        xg, tg, sg, kg = x[g], t[g], supp[g], tight[g]
        with np.errstate(divide="ignore", invalid="ignore"):
            hit = np.where(sg & (tg < 0), -xg / tg, np.inf).min(axis=1)
        step = np.minimum(h[g], hit)
        at_end = step == hit
        y = xg + step[:, None] * tg
        for _ in range(8):   # corrector: Gauss-Newton on [F; t'(y - x) - step] = 0
            F, J = _active_system(U[g], y, sg, kg, first[g], lay)
            r = np.concatenate([F, ((y - xg) * tg).sum(axis=1, keepdims=True) - step[:, None]], axis=1)
            if np.abs(r).max() <= 1e-12:
                break
            A = np.concatenate([J, tg[:, None, :]], axis=1)
            At = np.swapaxes(A, 1, 2)
            y = y - np.linalg.solve(At @ A + 1e-14 * np.eye(S), (At @ r[:, :, None]))[:, :, 0]
        ok = ((np.abs(F).max(axis=1) <= 1e-10)
              & (np.abs(y - xg - step[:, None] * tg).max(axis=1) <= 0.25 * step + 1e-12))
        y = np.where(sg, y, 0.0)
        ok &= (y >= -1e-9).all(axis=1)
        cand = np.clip(y, 0.0, None)
        cand = cand / np.add.reduceat(cand, lay.offsets[:-1], axis=1)[:, lay.owner]
        ok &= np.isfinite(cand).all(axis=1)
        if ok.any():
            idx = np.flatnonzero(ok)
            ok[idx] = verify(np.repeat(payoffs1[None], len(idx), 0), cand[idx], tol)
        # Rejected: a shorter step (below the predicted support end).
        bad = g[~ok]
        h[bad] = np.minimum(h[bad], np.where(at_end[~ok], hit[~ok], h[bad])) * 0.5
        going[bad[h[bad] < 1e-9]] = False
        good = g[ok]
        if good.size:
            x[good], last[good], moved[good] = y[ok], cand[ok], True
            going[g[ok & at_end]] = False          # a probability of the support reached 0
            cont = g[ok & ~at_end]
            if cont.size:
                _, Jn = _active_system(U[cont], x[cont], supp[cont], tight[cont], first[cont], lay)
                k, basis = _null_space(Jn)
                tn = np.einsum("mak,mbk,mb->ma", basis, basis, t[cont])
                norm = np.linalg.norm(tn, axis=1)
                stop = (k == 0) | (norm <= 1e-3)
                going[cont[stop]] = False         # the set ends (or turns away)
                t[cont] = np.where(stop[:, None], t[cont], tn / np.where(stop, 1.0, norm)[:, None])
                h[cont] = np.minimum(h[cont] * 1.5, CURVE_STEP)
    return last, moved


def segment_certified(payoffs1: np.ndarray, a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Whether every profile on the segment from ``a (m, S)`` to ``b (m, S)`` is an
    equilibrium within ``tol`` (relative, as :func:`allysim.solve.verify`): ``(m,)``.

    Along ``sigma(t) = (1 - t) a + t b`` the gain of each strategy over its player's
    payoff, ``v_ik(sigma) - u_i(sigma)``, is multilinear in the players' mixes, so it
    is a polynomial of degree n in t whose Bernstein coefficients are the averages,
    over the sets of m players, of that gain at the hybrid profile where those
    players play ``b`` and the others ``a``. The Bernstein basis is non-negative and
    sums to one, so coefficients at most ``tol * scale`` bound the gain on the whole
    segment: a sufficient (not a necessary) test.
    """
    n = payoffs1.shape[0]
    shape = tuple(payoffs1.shape[1:])
    lay = _Layout(shape)
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    m = len(a)
    if m == 0:
        return np.zeros(0, dtype=bool)
    subsets = np.array([[(s >> i) & 1 for i in range(n)] for s in range(1 << n)], dtype=bool)
    pick = subsets[:, lay.owner]                                            # (2^n, S)
    hyb = np.where(pick[None], b[:, None, :], a[:, None, :]).reshape(-1, lay.size)
    vals = np.concatenate(strategy_values(np.broadcast_to(payoffs1[None], (len(hyb),) + payoffs1.shape), hyb),
                          axis=1)
    own = lay.block_sum(hyb * vals)
    gain = (vals - own).reshape(m, 1 << n, lay.size)
    size = subsets.sum(axis=1)
    coeff = np.stack([gain[:, size == k].mean(axis=1) for k in range(n + 1)], axis=1)   # (m, n+1, S)
    slack = tol * float(payoff_scale(payoffs1[None])[0])
    return (coeff <= slack).all(axis=(1, 2))


#: A fixed generic objective: points move to the vertex of their polytopes that maximises it.
_OBJECTIVE = np.random.default_rng(20030101).standard_normal(4096)


def _descend(u1, payoffs1, P, lay: _Layout, eps, tol, objective, max_sweeps: int = 8):
    """Move each point ``P (m, S)`` to a vertex of all its players' polytopes, all at once.

    Player by player, a point moves inside ``P_j`` along the objective projected on
    the face it lies in (the null space of its tight constraints) to the next
    constraint (a ratio test), until it is a vertex; sweeps repeat while a point
    moves (a player's polytope depends on the others). Every move stays within one
    player's polytope, so the segment it crosses consists of equilibria; each new
    point is certified, and a move that fails the certificate is not made.
    Returns the points reached ``(m, S)`` and how many moves each made ``(m,)``.
    """
    m = len(P)
    x = P.copy()
    moves = np.zeros(m, dtype=np.int64)
    U = np.repeat(u1[None], m, axis=0)
    for _ in range(max_sweeps):
        changed = np.zeros(m, dtype=bool)
        for j in range(lay.n):
            lo, hi = lay.offsets[j], lay.offsets[j + 1]
            sj = hi - lo
            cj = objective[lo:hi] - objective[lo:hi].mean()
            for _ in range(sj - 1):
                W, v = _cross_values(U, x, lay)
                vj = v[:, lo:hi]
                off_br = vj < vj.max(axis=1, keepdims=True) - eps
                rows, valid = [], []
                for i in range(lay.n):
                    if i == j:
                        continue
                    a, b = lay.offsets[i], lay.offsets[i + 1]
                    Wi = W[:, a:b, lo:hi]                                          # (m, s_i, s_j)
                    rows.append((Wi[:, None, :, :] - Wi[:, :, None, :]).reshape(m, -1, sj))
                    in_supp = x[:, a:b] > _ZERO
                    valid.append(np.broadcast_to(in_supp[:, :, None], (m, b - a, b - a)).reshape(m, -1)
                                 & ~np.eye(b - a, dtype=bool).reshape(1, -1))
                A = np.concatenate(rows, axis=1)                                   # (m, R, s_j)
                ok_rows = np.concatenate(valid, axis=1)                            # (m, R)
                xj = x[:, lo:hi]
                Ax = np.einsum("mrk,mk->mr", A, xj)
                tight_r = ok_rows & (Ax >= -eps)
                tight_c = (xj <= _ZERO) | off_br
                Q = np.concatenate([np.where(tight_r[:, :, None], A, 0.0),
                                    np.where(tight_c[:, :, None], np.eye(sj)[None], 0.0),
                                    np.ones((m, 1, sj))], axis=1)
                _, sv, vt = np.linalg.svd(Q)
                rank = (sv > 1e-9 * np.maximum(sv[:, :1], 1e-300)).sum(axis=1)
                null = np.arange(sj)[None, :] >= rank[:, None]                    # rows of vt
                basis = np.where(null[:, :, None], vt, 0.0)
                d = np.einsum("mak,mal,l->mk", basis, basis, cj)
                dn = np.abs(d).max(axis=1)
                go = dn > 1e-12
                if not go.any():
                    break
                d = d / np.where(go, dn, 1.0)[:, None]
                Ad = np.einsum("mrk,mk->mr", A, d)
                with np.errstate(divide="ignore", invalid="ignore"):
                    t_rows = np.where(ok_rows & ~tight_r & (Ad > 1e-15), -Ax / Ad, np.inf)
                    t_cols = np.where(~tight_c & (d < -1e-15), xj / -d, np.inf)
                t = np.minimum(t_rows.min(axis=1), t_cols.min(axis=1))
                go &= np.isfinite(t) & (t > 0)
                if not go.any():
                    break
                new = x[go].copy()
                nj = np.clip(xj[go] + t[go, None] * d[go], 0.0, None)
                nj[nj <= _ZERO] = 0.0
                new[:, lo:hi] = nj / nj.sum(axis=1, keepdims=True)
                good = verify(np.repeat(payoffs1[None], len(new), 0), new, tol)
                rows_go = np.flatnonzero(go)[good]
                x[rows_go] = new[good]
                moves[rows_go] += 1
                changed[rows_go] = True
        if not changed.any():
            break
    return x, moves


def walk(payoffs1: np.ndarray, points: np.ndarray, tol: float, *, max_points: int = MAX_POINTS
         ) -> Components:
    """Components of the equilibria ``points (E, S)`` of one game ``payoffs1 (n, *S)``.

    ``points`` must be certified equilibria at ``tol`` (relative, as
    :func:`allysim.solve.verify`); they come back first, in order (points within
    ``_SAME`` of an earlier one joined to it), in ``Components.points``, then the
    vertices they move to. New points the walk finds are certified too; at most
    ``max_points`` more of them are added.
    """
    shape = tuple(payoffs1.shape[1:])
    lay = _Layout(shape)
    flat = payoffs1.reshape(-1)
    lo_, spread = flat.min(), np.ptp(flat)
    u1 = (payoffs1 - lo_) / (spread if spread > 0 else 1.0)
    eps = tol * float(payoff_scale(u1[None])[0])
    objective = _OBJECTIVE[:lay.size] if lay.size <= len(_OBJECTIVE) else np.ones(lay.size)
    points = np.asarray(points, dtype=float).reshape(-1, lay.size).copy()
    E = len(points)
    # Tiny probabilities (below _CLEAN of their player's largest) are left by a search
    # near a boundary or a near-tie: dropped where the point stays certified without
    # them and the segment between the two is certified (:func:`segment_certified`).
    if E:
        # Largest cut first; the segment to the cleaned point must be certified.
        for cut in _CLEAN:
            small = (points > 0) & (points < cut * lay.block_max(points))
            dirty = np.flatnonzero(small.any(axis=1))
            if dirty.size == 0:
                continue
            clean = np.where(small[dirty], 0.0, points[dirty])
            clean /= lay.block_sum(clean)
            keep = verify(np.repeat(payoffs1[None], len(dirty), 0), clean, tol)
            keep[keep] = segment_certified(payoffs1, points[dirty[keep]], clean[keep], tol)
            points[dirty[keep]] = clean[keep]
    pool = _Pool(points)
    limit = E + max_points
    capped = False

    # Local dimension at every point without an unused best reply.
    def dims(idx):
        if len(idx) == 0:
            return
        Pm = pool.points[idx]
        supp = Pm > _ZERO
        U = np.repeat(u1[None], len(idx), axis=0)
        _, J = _equations(U, Pm, supp, lay.first(supp), lay)
        sv = np.linalg.svd(J, compute_uv=False)
        k = (sv <= _SINGULAR * sv[:, :1]).sum(axis=1)
        _, v = _cross_values(U, Pm, lay)
        unused = (~supp & (v >= lay.block_max(v) - eps)).any(axis=1)
        for a, kk, un in zip(idx, k, unused):
            if not un:
                pool.dim[a] = max(pool.dim[a], int(kk))

    def add(a, x, dim):
        """Join ``x`` to point ``a``; returns its index (None when capped) and if new."""
        nonlocal capped
        b = pool.find(x)
        new = b < 0
        if new:
            if pool.size >= limit:
                capped = True
                return None, False
            b = pool.add(x)
        pool.union(a, b)
        pool.dim[b] = max(pool.dim[b], dim)
        return b, new

    dims(np.arange(E))

    def complexity(a):
        a = int(a)
        q = pool.points[a] > _ZERO
        mixed = sum(int(q[lay.offsets[i]:lay.offsets[i + 1]].sum() > 1) for i in range(lay.n))
        return (mixed, int(q.sum()), a)

    explored: set[int] = set()

    def to_vertices(idx):
        """Bring the points ``idx`` to vertices (batched); returns the vertices."""
        out = []
        if len(idx) == 0:
            return out
        ends, moves = _descend(u1, payoffs1, pool.points[idx], lay, eps, tol, objective)
        for a, x, mv in zip(idx, ends, moves):
            a = int(a)
            if mv:
                pool.extreme[a] = False            # it moved: strictly inside a polytope
                b, _ = add(a, x, 1)
            else:
                b = a
            if b is not None and b not in explored:
                out.append(b)
        return out

    # Vertices are explored in small batches, those of the smallest components (by
    # the points found in them) first, then the simplest (fewest mixing players,
    # smallest support): joining sample points matters more than detailing one set.
    heap: list = []

    def push(idx):
        for a in idx:
            mixed, size, _ = complexity(a)
            heapq.heappush(heap, (mixed, pool.count(a), size, a))

    limit = np.inf               # the sample points' vertices do not count against the cap
    push(to_vertices(np.flatnonzero(np.array(pool.parent) == np.arange(E))))
    limit = pool.size + max_points
    while heap and not capped:
        batch = []
        while heap and len(batch) < _BATCH:
            key = heapq.heappop(heap)
            a = key[-1]
            if a in explored:
                continue
            if pool.count(a) > key[1]:               # its component grew: requeue
                heapq.heappush(heap, (key[0], pool.count(a)) + key[2:])
                continue
            explored.add(a)
            batch.append(a)
        fresh, requests = [], []
        for a in batch:
            p = pool.points[a]
            W, v = _cross_values(u1[None], p[None], lay)
            # 1. Every vertex of each player's polytope.
            for j in range(lay.n):
                verts, _ = _player_polytope(W[0], v[0], p, j, lay, eps)
                if len(verts) < 2:
                    continue
                verts = verts[verify(np.repeat(payoffs1[None], len(verts), 0), verts, tol)]
                if len(verts) < 2:
                    continue
                dim = int(np.linalg.matrix_rank(verts[1:] - verts[0], tol=1e-9))
                pool.dim[a] = max(pool.dim[a], dim)
                if not (np.abs(verts - p).max(axis=1) <= _SAME).any():
                    pool.extreme[a] = False
                for x in verts:
                    b, new = add(a, x, dim)
                    if new:
                        fresh.append(b)
            # 2. The piece of the set through p with p's active set fixed (every best
            # reply outside the support kept one): when it is not a point, p is not a
            # vertex of it; it is traced both ways along each null direction (several
            # players may move together, e.g. along a curve).
            supp = p > _ZERO
            tight = ~supp & (v[0] >= lay.block_max(v)[0] - eps)
            first = lay.first(supp[None])
            _, J = _active_system(u1[None], p[None], supp[None], tight[None], first, lay)
            k, basis = _null_space(J)
            if 1 <= k[0] <= MAX_TRACE_DIM:
                dirs = basis[0][:, :k[0]].T
                for d in np.concatenate([dirs, -dirs]):
                    requests.append((a, d, tight, int(k[0]), supp))
            # 3. The edges leaving p: each best reply outside the support either stays
            # one and enters the support, stays one with probability 0, or stops being
            # one; a choice whose equalities leave one direction, along which every
            # entering probability grows and every dropped value falls, is an edge.
            requests += [(a, d, t_, 1, s_) for d, t_, s_ in _edges(u1, p, supp, tight, W[0], lay)]
        # 4. The pieces and edges, traced together.
        if requests:
            src = np.array([r[0] for r in requests], dtype=np.intp)
            ends, went = _trace_curves(u1, payoffs1, pool.points[src], np.array([r[1] for r in requests]),
                                       np.array([r[2] for r in requests]), lay, tol,
                                       supp=np.array([r[4] for r in requests]))
            both: dict[int, list[bool]] = {}
            for (a, _, _, k, sp), x, mv in zip(requests, ends, went):
                if np.array_equal(sp, pool.points[a] > _ZERO):
                    both.setdefault(a, []).append(bool(mv))
                if mv:
                    b, new = add(a, x, k)
                    if b is not None:
                        pool.traced[a] = pool.traced[b] = True
                        if new:
                            fresh.append(b)
            for a, mv in both.items():
                half = len(mv) // 2
                if any(m1 and m2 for m1, m2 in zip(mv[:half], mv[half:])):
                    pool.extreme[a] = False        # strictly inside a traced piece
        # 5. The new points, brought to vertices and queued.
        fresh = np.array(sorted(set(fresh)), dtype=np.intp)
        dims(fresh)
        push(to_vertices(fresh))
    # Components the walk left apart (e.g. when capped) are joined where a straight
    # segment between points of theirs is certified: largest first, each tried
    # against the groups formed so far (a few points each, extreme points first).
    roots = np.array([pool.root(a) for a in range(len(pool.points))], dtype=np.intp)
    members: dict[int, list[int]] = {}
    for a in np.argsort(~np.array(pool.extreme), kind="stable"):
        members.setdefault(int(roots[a]), []).append(int(a))
    order = sorted(members, key=lambda r: -len(members[r]))
    groups: list[tuple[int, list[int]]] = []
    for r in order:
        mine = members[r][:_MERGE_POINTS]
        if groups:
            ia = np.array([a for _, reps in groups for a in reps for _ in mine], dtype=np.intp)
            ib = np.array([b for _, reps in groups for _ in reps for b in mine], dtype=np.intp)
            owner = np.array([g for g, (_, reps) in enumerate(groups) for _ in reps for _ in mine])
            ok = segment_certified(payoffs1, pool.points[ia], pool.points[ib], tol)
            if ok.any():
                g = int(owner[np.argmax(ok)])
                pool.union(groups[g][0], r)
                if len(groups[g][1]) < _MERGE_GROUP:
                    groups[g][1].extend(mine[:_MERGE_GROUP - len(groups[g][1])])
                continue
        groups.append((r, mine))
    roots = np.array([pool.root(a) for a in range(len(pool.points))], dtype=np.intp)
    _, label = np.unique(roots, return_inverse=True)
    K = int(label.max()) + 1 if len(label) else 0
    dimension = np.zeros(K, dtype=np.int64)
    traced = np.zeros(K, dtype=bool)
    np.maximum.at(dimension, label, np.array(pool.dim, dtype=np.int64))
    np.logical_or.at(traced, label, np.array(pool.traced, dtype=bool))
    extreme = np.array(pool.extreme, dtype=bool)
    walked = np.zeros(len(label), dtype=bool)
    walked[list(explored)] = True
    listed = extreme & walked
    # A component none of whose extreme points was walked shows its simplest point.
    for k in np.setdiff1d(np.arange(K), label[listed]):
        rows = np.flatnonzero(label == k)
        listed[min(rows, key=complexity)] = True
    return Components(points=pool.points.copy(), label=label.astype(np.int64), extreme=extreme,
                      listed=listed, dimension=dimension, traced=traced, capped=capped)


@dataclass(frozen=True)
class Summary:
    """Equilibria of B games with their components (flat rows, sorted by game).

    game : (E,) int; sigma : (E, S); label : (E,) int, the component within the game.
    n_components : (B,) int. dimension, traced : (B, C) per component (-1 / False
    padding). capped : (B,) bool, the walk of that game stopped at its cap.
    """

    game: np.ndarray
    sigma: np.ndarray
    label: np.ndarray
    n_components: np.ndarray
    dimension: np.ndarray
    traced: np.ndarray
    capped: np.ndarray


def summarise(payoffs: np.ndarray, game: np.ndarray, sigma: np.ndarray, walk_games: np.ndarray,
              tol: float, max_points: int = MAX_POINTS) -> Summary:
    """Components of the certified equilibria of B games.

    payoffs : (B, n, *S); game, sigma : (E,), (E, S) the equilibria, grouped by game;
    walk_games : (B,) bool, the games to walk (the degenerate ones). Equilibria of the
    other games are components of their own, of dimension 0. Walked games keep their
    listed points (:class:`Components`), in the order found.
    """
    B = payoffs.shape[0]
    out_game, out_sigma, out_label = [], [], []
    per_dim: list[np.ndarray] = []
    per_traced: list[np.ndarray] = []
    capped = np.zeros(B, dtype=bool)
    for b in range(B):
        rows = np.flatnonzero(game == b)
        if walk_games[b] and len(rows):
            c = walk(payoffs[b], sigma[rows], tol, max_points=max_points)
            keep = np.flatnonzero(c.listed)
            out_sigma.append(c.points[keep])
            out_label.append(c.label[keep])
            per_dim.append(c.dimension)
            per_traced.append(c.traced)
            capped[b] = c.capped
        else:
            out_sigma.append(sigma[rows])
            out_label.append(np.arange(len(rows), dtype=np.int64))
            per_dim.append(np.zeros(len(rows), dtype=np.int64))
            per_traced.append(np.zeros(len(rows), dtype=bool))
        out_game.append(np.full(len(out_sigma[-1]), b, dtype=np.intp))
    n_components = np.array([len(d) for d in per_dim], dtype=np.int64)
    C = max(int(n_components.max(initial=0)), 1)
    dimension = np.full((B, C), -1, dtype=np.int64)
    traced = np.zeros((B, C), dtype=bool)
    for b in range(B):
        dimension[b, :len(per_dim[b])] = per_dim[b]
        traced[b, :len(per_traced[b])] = per_traced[b]
    S = sigma.shape[1] if sigma.ndim == 2 else int(sum(payoffs.shape[2:]))
    cat = (lambda parts, shp, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(shp, dt))
    return Summary(game=cat(out_game, (0,), np.intp), sigma=cat(out_sigma, (0, S), float),
                   label=cat(out_label, (0,), np.int64), n_components=n_components,
                   dimension=dimension, traced=traced, capped=capped)


def relabel(game: np.ndarray, label: np.ndarray, dimension: np.ndarray, traced: np.ndarray):
    """Renumber each game's components by first appearance in the row order given
    (flat rows sorted by game); returns the labels and the per-component arrays
    ``(B, C)`` permuted to match."""
    new = np.empty_like(label)
    dim2, tr2 = np.full_like(dimension, -1), np.zeros_like(traced)
    for b in np.unique(game):
        rows = np.flatnonzero(game == b)
        seen: dict[int, int] = {}
        for r in rows:
            seen.setdefault(int(label[r]), len(seen))
            new[r] = seen[int(label[r])]
        old = np.array(list(seen), dtype=np.intp)
        dim2[b, :len(old)] = dimension[b, old]
        tr2[b, :len(old)] = traced[b, old]
    return new, dim2, tr2


def two_player_components(eqs: np.ndarray, count: np.ndarray, component: np.ndarray) -> dict:
    """The component fields of :class:`~allysim.solve.mixed_nash.MixedNashResult` for games
    solved by support enumeration, whose extreme equilibria and connected sets
    (``component``, exact) are known: ``n_components``, ``component_dimension`` (the
    affine dimension of each set's extreme equilibria: its dimension when the set is
    convex, an upper bound otherwise), ``component_representative`` (its first
    equilibrium), ``component_traced`` (False) and ``components_capped`` (False).

    eqs : (B, K, S); count : (B,); component : (B, K), -1 padding.
    """
    B = len(count)
    n_components = np.array([len(np.unique(component[b, :count[b]])) for b in range(B)], dtype=np.int64)
    C = max(int(component.max(initial=-1)) + 1, 1)
    dimension = np.full((B, C), -1, dtype=np.int64)
    representative = np.full((B, C), -1, dtype=np.int64)
    for b in range(B):
        labels = component[b, :count[b]]
        for c in np.unique(labels):
            rows = np.flatnonzero(labels == c)
            pts = eqs[b, rows]
            dimension[b, c] = int(np.linalg.matrix_rank(pts[1:] - pts[0], tol=1e-9)) if len(rows) > 1 else 0
            representative[b, c] = rows[0]
    return dict(n_components=n_components, component_dimension=dimension,
                component_representative=representative, component_traced=np.zeros((B, C), dtype=bool),
                components_capped=np.zeros(B, dtype=bool))
