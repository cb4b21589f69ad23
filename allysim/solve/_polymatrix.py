"""Polymatrix games: exact detection and complete support enumeration.

The maths
---------
A game is *polymatrix* (Janovskaya 1968; Howson 1972) when every player's
incentives are a sum of two-player interactions: for each player i there are
matrices ``A_ij (s_i, s_j)`` with

    u_i(k, a_-i) - u_i(k', a_-i) = sum_{j != i} (A_ij[k, a_j] - A_ij[k', a_j])

for all strategies k, k' and all profiles ``a_-i`` of the others (terms that do
not depend on i's own strategy are free: they never change a best reply).
Then the strategy values are *linear* in the others' mixes,
``v_i(sigma) = sum_j A_ij sigma_j`` up to a constant per player, and on a
support profile ``T = (T_1, ..., T_n)`` the equilibrium conditions

    (A sigma)_k = (A sigma)_{r_i}   for k in T_i \\ {r_i},      sum_{T_i} sigma_i = 1

are a *linear* system in the ``m = |T_1| + ... + |T_n|`` unknowns ``sigma_T``.
So every support profile is solved exactly (one LU factorisation), as support
enumeration does for two players, and when no support system that could hold an
equilibrium is singular, the list is complete: QuantEcon's ``polym_lcp_solver``
(Howson's algorithm) finds one equilibrium, Gambit's ``gnm`` those on one path.

Detection is exact up to rounding: for each player, ``u_i`` minus its mean over
i's own strategy (which removes every term free of i's strategy) is fitted by
the sum of its two-way marginals with each other player (an ANOVA projection);
the game is polymatrix when the largest residual is at most ``POLYMATRIX_TOL``
times the payoff scale (:func:`allysim.solve.regret.payoff_scale`), i.e. the
payoffs are pairwise sums to within rounding.

Support profiles with a strategy that is strictly dominated given the others'
supports (Porter, Nudelman & Shoham 2008) cannot hold an equilibrium and are
skipped; for a polymatrix game the test is exact and cheap (the worst case over
a product of supports is a sum of per-player maxima). A singular system is
checked for consistency by least squares: an inconsistent one holds no
equilibrium; a consistent one may hold a continuum, so the game is reported as
not completely enumerated and its least-squares point is passed on as a start.

Every solution is only a candidate here: :mod:`allysim.solve.mixed_nash`
certifies it with :func:`allysim.solve.verify`.

Performance (CPU time on the 2-core development machine): QuantEcon's big_polym (5 players x
4 strategies, 759,375 support profiles): 63,994 systems solved after pruning, 0.5 s, 17
equilibria; triggers_back_case: 118,276 systems, 0.8 s, 41 equilibria (QuantEcon's
``polym_lcp_solver`` returns one of them, pygambit's ``gnm_solve`` another).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from ._profile import Layout as _Layout
from .regret import payoff_scale

#: A game is polymatrix when its pairwise fit's residual is at most this x its payoff scale.
POLYMATRIX_TOL = 1e-12

_CHUNK = 1 << 15     # support profiles per batch
_DOMINATED = 1e-12   # strict dominance margin (relative to the payoff scale)
_SINGULAR = 1e-12    # |det| / product of row norms below this: singular
_CONSISTENT = 1e-9   # least-squares residual (relative) at most this: a consistent system
_ACCEPT = 1e-9       # loose screen before the certificate (relative to the payoff scale)


def pairwise_matrices(payoffs: np.ndarray):
    """Polymatrix detection.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)

    Returns
    -------
    is_polymatrix : ndarray of bool, shape (B,)
    A : ndarray of float, shape (B, S, S)
        ``A[b, k, l]`` (k of player i, l of player j != i): the pairwise matrices,
        with ``v_i(sigma) = A[b, block i] @ sigma`` up to a constant per player
        (exact where ``is_polymatrix``); zero blocks on the diagonal.
    residual : ndarray of float, shape (B,)
        The largest residual of the pairwise fit, relative to the payoff scale.
    """
    B, n = payoffs.shape[:2]
    shape = tuple(payoffs.shape[2:])
    lay = _Layout(shape)
    A = np.zeros((B, lay.size, lay.size))
    worst = np.zeros(B)
    for i in range(n):
        d = payoffs[:, i] - payoffs[:, i].mean(axis=1 + i, keepdims=True)
        others = [j for j in range(n) if j != i]
        axes = tuple(1 + j for j in others)
        main = d.mean(axis=axes, keepdims=True)                  # a function of a_i
        fit = (1 - len(others)) * main
        for j in others:
            rest = tuple(1 + k for k in others if k != j)
            pair = d.mean(axis=rest, keepdims=True) if rest else d
            fit = fit + pair
            block = pair.reshape(B, *[shape[k] if k in (i, j) else 1 for k in range(n)])
            block = block.reshape(B, shape[min(i, j)], shape[max(i, j)])
            if j < i:
                block = np.swapaxes(block, 1, 2)
            m = main.reshape(B, shape[i], 1)
            A[:, lay.offsets[i]:lay.offsets[i + 1], lay.offsets[j]:lay.offsets[j + 1]] = (
                block - m * (len(others) - 1) / len(others))
        worst = np.maximum(worst, np.abs(d - fit).reshape(B, -1).max(axis=1))
    rel = worst / payoff_scale(payoffs)
    return rel <= POLYMATRIX_TOL, A, rel


def count_profiles(shape: tuple[int, ...]) -> int:
    """The number of support profiles, ``prod(2^s_i - 1)``."""
    return int(np.prod([2 ** s - 1 for s in shape], dtype=np.float64))


@dataclass(frozen=True)
class EnumerationResult:
    """Candidates from the support enumeration of polymatrix games.

    game : (E,) int; sigma : (E, S) float; support : (E, S) bool.
    searched : (B,) int, support systems solved per game (after pruning).
    pruned : (B,) int, support profiles skipped by conditional dominance.
    singular : (B,) int, consistent singular systems (a possible continuum); a game
        with none has been enumerated completely.
    """

    game: np.ndarray
    sigma: np.ndarray
    support: np.ndarray
    searched: np.ndarray
    pruned: np.ndarray
    singular: np.ndarray


def _player_supports(shape):
    return [np.array([b for b in product([False, True], repeat=s) if any(b)], dtype=bool)
            for s in shape]


def enumerate_supports(A: np.ndarray, scale: np.ndarray, shape: tuple[int, ...]) -> EnumerationResult:
    """Solve every support profile of B polymatrix games that survives conditional dominance.

    A : (B, S, S) pairwise matrices (:func:`pairwise_matrices`); scale : (B,) payoff scales.
    """
    B = A.shape[0]
    lay = _Layout(shape)
    n, S = lay.n, lay.size
    per = _player_supports(shape)
    counts = [len(p) for p in per]
    total = int(np.prod(counts))
    margin = _DOMINATED * scale
    # allowed[i][b, T_-i]: bit k set when i's strategy k is not strictly dominated
    # given the others' supports T_-i (the worst case over their product of supports
    # is, for a polymatrix game, a sum of per-player maxima).
    allowed = []
    for i in range(n):
        lo, hi = lay.offsets[i], lay.offsets[i + 1]
        others = [j for j in range(n) if j != i]
        tot = np.zeros((B, shape[i], shape[i]) + (1,) * len(others))
        for a, j in enumerate(others):
            blk = A[:, lo:hi, lay.offsets[j]:lay.offsets[j + 1]]               # (B, s_i, s_j)
            diff = blk[:, :, None, :] - blk[:, None, :, :]                     # (B, k, k', l)
            worst = np.where(per[j], diff[:, :, :, None, :], -np.inf).max(axis=-1)   # (B, k, k', T_j)
            tot = tot + worst.reshape((B, shape[i], shape[i]) + tuple(
                counts[j] if b == a else 1 for b in range(len(others))))
        dominated = (tot < -margin.reshape((B, 1, 1) + (1,) * len(others))).any(axis=2)
        bits = (~dominated).reshape(B, shape[i], -1)
        allowed.append((bits * (1 << np.arange(shape[i]))[None, :, None]).sum(axis=1))   # (B, grid)
    own_bits = [(p * (1 << np.arange(p.shape[1]))).sum(axis=1) for p in per]
    keep_game, keep_idx = [], []
    pruned = np.zeros(B, dtype=np.int64)
    for lo_ in range(0, B * total, _CHUNK):
        flat = np.arange(lo_, min(lo_ + _CHUNK, B * total))
        game, prof = np.divmod(flat, total)
        idx = np.stack(np.unravel_index(prof, counts), axis=1)                 # (c, n)
        alive = np.ones(len(flat), dtype=bool)
        for i in range(n):
            others = [j for j in range(n) if j != i]
            grid = (np.ravel_multi_index(tuple(idx[:, others].T), tuple(counts[j] for j in others))
                    if others else np.zeros(len(flat), dtype=np.intp))
            alive &= (own_bits[i][idx[:, i]] & ~allowed[i][game, grid]) == 0
        np.add.at(pruned, game[~alive], 1)
        keep_game.append(game[alive])
        keep_idx.append(idx[alive])
    game = np.concatenate(keep_game)
    idx = np.concatenate(keep_idx) if keep_idx else np.zeros((0, n), dtype=np.intp)
    searched = np.bincount(game, minlength=B).astype(np.int64)
    singular = np.zeros(B, dtype=np.int64)
    out_game, out_sigma, out_supp = [], [], []
    # Group by the number of support strategies: each group's systems have one size.
    key = sum(p.sum(axis=1)[idx[:, i]] for i, p in enumerate(per)) if len(idx) else np.zeros(0, np.intp)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for rows_all in np.split(order, bounds) if len(order) else []:
        for c in range(0, len(rows_all), _CHUNK):
            rows = rows_all[c:c + _CHUNK]
            g = game[rows]
            supp = np.concatenate([per[i][idx[rows, i]] for i in range(n)], axis=1)   # (G, S)
            sig, cand, sing = _solve_group(A, g, supp, int(key[rows[0]]), lay, scale[g])
            np.add.at(singular, g[sing], 1)
            out_game.append(g[cand])
            out_sigma.append(sig[cand])
            out_supp.append(supp[cand])
    cat = (lambda parts, shp: np.concatenate(parts) if parts else np.zeros(shp))
    return EnumerationResult(game=cat(out_game, (0,)).astype(np.intp), sigma=cat(out_sigma, (0, S)),
                             support=cat(out_supp, (0, S)).astype(bool), searched=searched,
                             pruned=pruned, singular=singular)


def _solve_group(A, g, supp, m, lay: _Layout, scale):
    """Solve support systems with ``m`` support strategies each.

    A : (B, S, S); g : (G,) the game of each system; supp : (G, S) bool with ``m``
    strategies per row; scale : (G,).
    Returns the full profiles ``(G, S)``, which are candidates ``(G,)``
    (a solution that is a profile with no better strategy outside its support,
    or the least-squares point of a consistent singular system), and which
    systems were consistent and singular ``(G,)``.
    """
    G = len(supp)
    n, S = lay.n, lay.size
    # The support strategies in order (player blocks in order, then strategy order),
    # each player's first one its reference r_i.
    cols = np.argsort(~supp, axis=1, kind="stable")[:, :m]                 # (G, m)
    owner = lay.owner[cols]                                                # (G, m)
    is_first = np.ones((G, m), dtype=bool)
    is_first[:, 1:] = owner[:, 1:] != owner[:, :-1]
    starts = np.argsort(~is_first, axis=1, kind="stable")                  # firsts, then the rest
    first_pos, rest_pos = starts[:, :n], starts[:, n:]
    rest = np.take_along_axis(cols, rest_pos, axis=1)                      # k in T_i \ r_i
    ref_cols = np.take_along_axis(cols, first_pos, axis=1)                 # (G, n) r_i
    first = np.take_along_axis(ref_cols, np.take_along_axis(owner, rest_pos, axis=1), axis=1)
    gi = g[:, None, None]
    M = np.zeros((G, m, m))
    M[:, :m - n] = A[gi, rest[:, :, None], cols[:, None, :]] - A[gi, first[:, :, None], cols[:, None, :]]
    M[:, m - n:] = owner[:, None, :] == np.arange(n)[None, :, None]
    rhs = np.zeros(m)
    rhs[m - n:] = 1.0
    # Singular: |det| small against Hadamard's bound (the product of the row norms).
    sign, logdet = np.linalg.slogdet(M)
    norms = np.linalg.norm(M, axis=2)
    with np.errstate(divide="ignore"):
        hadamard = np.log(np.where(norms > 0, norms, 1e-300)).sum(axis=1)
    regular = (sign != 0) & (logdet - hadamard > np.log(_SINGULAR))
    x = np.zeros((G, m))
    if regular.any():
        x[regular] = np.linalg.solve(M[regular], rhs)
    consistent_singular = np.zeros(G, dtype=bool)
    if (~regular).any():
        bad = np.flatnonzero(~regular)
        pinv = np.linalg.pinv(M[bad])
        xs = pinv @ rhs
        resid = np.abs(np.einsum("gij,gj->gi", M[bad], xs) - rhs).max(axis=1)
        consistent_singular[bad] = resid <= _CONSISTENT * np.maximum(1.0, np.abs(M[bad]).max(axis=(1, 2)))
        x[bad] = xs
    sigma = np.zeros((G, S))
    np.put_along_axis(sigma, cols, x, axis=1)
    cand = (sigma >= -_ACCEPT).all(axis=1) & np.isfinite(sigma).all(axis=1) & (regular | consistent_singular)
    if cand.any():   # no strategy outside the support is better
        c = np.flatnonzero(cand)
        v = np.einsum("gkl,gl->gk", A[g[c]], sigma[c])
        w = np.take_along_axis(v, ref_cols[c], axis=1)[:, lay.owner]
        cand[c] = (v <= w + _ACCEPT * scale[c, None]).all(axis=1)
    return sigma, cand, consistent_singular


def candidates(payoffs: np.ndarray, max_profiles: int):
    """The polymatrix start kind for :func:`allysim.solve.mixed_nash`.

    payoffs : (B, n, *S). Games that are polymatrix and have at most
    ``max_profiles`` support profiles are enumerated.
    Returns ``(game (E,), sigma (E, S), support (E, S), searched (B,), pruned (B,),
    complete (B,))``: ``complete`` where every support profile was solved or pruned
    and no consistent singular system was met.
    """
    B = payoffs.shape[0]
    shape = tuple(payoffs.shape[2:])
    S = int(sum(shape))
    none = (np.zeros(0, dtype=np.intp), np.zeros((0, S)), np.zeros((0, S), dtype=bool),
            np.zeros(B, dtype=np.int64), np.zeros(B, dtype=np.int64), np.zeros(B, dtype=bool))
    if B == 0 or count_profiles(shape) > max_profiles:
        return none
    is_poly, A, _ = pairwise_matrices(payoffs)
    games = np.flatnonzero(is_poly)
    if games.size == 0:
        return none
    res = enumerate_supports(A[games], payoff_scale(payoffs[games]), shape)
    searched, pruned, complete = none[3].copy(), none[4].copy(), none[5].copy()
    searched[games], pruned[games] = res.searched, res.pruned
    complete[games] = res.singular == 0
    return games[res.game], res.sigma, res.support, searched, pruned, complete
