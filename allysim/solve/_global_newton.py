"""The global Newton method of Govindan & Wilson (2003), batched over games and rays.

The maths
---------
Write ``V(sigma)`` for the strategy values ``(S,)`` of a mixed profile and ``r``
for the blockwise Euclidean projection onto the product of simplices. A profile
``sigma`` is a Nash equilibrium exactly when ``sigma = r(sigma + V(sigma))``
(Kohlberg & Mertens 1986). Perturb every player's payoff from strategy k by a
bonus ``lam * g_k`` that does not depend on the others (``g``, the *ray*, has a
unique largest and smallest entry per player). In the coordinates
``z = sigma + V(sigma) + lam * g`` the equilibria of all perturbed games form the
curve

    H(z, lam) = z - r(z) - V(r(z)) - lam * g = 0,       sigma = r(z),

S equations in S + 1 unknowns. For ``lam`` above ``lam_start`` (each player's
largest bonus beats the payoff range) the perturbed game's unique equilibrium is
the pure profile ``argmax g``; below ``-lam_stop`` it is ``argmin g``. The
structure theorem makes the curve through the first a path that, for a generic
ray, leaves through the second, and every point where it crosses ``lam = 0`` is
an equilibrium of the game itself. A path crosses an odd number of times and
can visit many equilibria, the way Gambit's ``gnm`` does (it follows one ray);
here many rays are followed, all games and rays in one batch.

``r`` is piecewise affine: on the cell where player i's projection has support
``T_i``, ``r(z)_ik = z_ik - tau_i`` (k in T_i, ``tau_i = (sum_T z_i - 1) / |T_i|``)
and 0 elsewhere, with Jacobian ``R_i = I_T - 1_T 1_T' / |T_i|``. Within a cell
the path is smooth and is followed by a predictor-corrector method (Allgower &
Georg 1990): an Euler step along the oriented unit tangent, then Newton steps on
``[DH; t'] d = -[H; 0]`` with ``DH = [I - (I + W) R, -g]`` (``W`` the payoff
cross-derivatives). Steps are clamped to the cell's boundary (the slacks
``sigma_ik`` of support strategies and ``tau_i - z_ik`` of the others are affine in
z), where the corrector lands exactly on the boundary, the strategy changes side
and tracing continues in the next cell. Crossings of ``lam = 0`` are landed on in
the same way. The orientation of the tangent is the sign of
``det [DH; t']``, kept constant along the whole path (the index argument of the
structure theorem), so the path turns back through folds in ``lam``.

Every crossing is only a *candidate*: :mod:`allysim.solve.mixed_nash` polishes it
on its support and certifies it with :func:`allysim.solve.verify`.

Performance (CPU time on the 2-core development machine): QuantEcon's big_polym (5 players x
4 strategies), 8 rays in one batch: 0.5 s, the longest path 148 steps, all 17 equilibria
(each ray crosses 1 to 17 of them; pygambit's ``gnm_solve`` follows one ray in 0.03 s and
finds 15). The ten four-power scenarios, 8 rays each, batched: 19 ms per game.

References: S. Govindan and R. Wilson (2003), A global Newton method to compute
Nash equilibria, J. Econ. Theory 110, 65-86; E. Kohlberg and J.-F. Mertens
(1986), On the strategic stability of equilibria, Econometrica 54, 1003-1037;
E. Allgower and K. Georg (1990), Numerical Continuation Methods, Springer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._profile import Layout as _Layout
from ._profile import cross_values as _cross_values

_H0 = 0.05          # first step length (z and lam in units of the scaled payoffs)
_HMAX = 0.2         # longest step
_DRIFT = 0.25       # a corrector may move a point at most this fraction of its step
_COS = 0.9          # consecutive tangents within a cell: cosine at least this
_HMIN = 1e-10       # a path whose step falls below this is abandoned
_RES = 1e-11        # corrector: max |H| at which a point is on the path
_CORRECT = 6        # corrector iterations per step
_EVENT = 1e-13      # a slack this small counts as on the boundary
_LEAVE = 1e-9       # a corrected point this far outside its cell is rejected


@dataclass(frozen=True)
class PathsResult:
    """Crossings of ``lam = 0`` found on the paths of ``C = B * R`` (game, ray) pairs.

    game : (E,) int, the game of each crossing; sigma : (E, S) its profile;
    support : (E, S) bool, the cell's support there; path : (E,) the path index.
    finished : (C,) bool, the path reached ``lam < -lam_stop``; steps : (C,) int.
    """

    game: np.ndarray
    sigma: np.ndarray
    support: np.ndarray
    path: np.ndarray
    finished: np.ndarray
    steps: np.ndarray


def rays(rng: np.random.Generator, count: int, shape: tuple[int, ...]) -> np.ndarray:
    """``count`` random rays ``(count, S)``: standard normal, so each player's block
    has a unique largest and smallest entry with probability one."""
    return rng.standard_normal((count, int(sum(shape))))


def _gaps(g: np.ndarray, lay: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """Per ray, the smallest gap between a player's largest and second-largest
    entry, and between its second-smallest and smallest: ``(R,), (R,)``."""
    top, bottom = np.inf, np.inf
    for i in range(lay.n):
        s = np.sort(g[:, lay.offsets[i]:lay.offsets[i + 1]], axis=1)
        if s.shape[1] < 2:
            continue
        top = np.minimum(top, s[:, -1] - s[:, -2])
        bottom = np.minimum(bottom, s[:, 1] - s[:, 0])
    R = len(g)
    return np.broadcast_to(top, (R,)).copy(), np.broadcast_to(bottom, (R,)).copy()


def _cell_profile(z: np.ndarray, T: np.ndarray, lay: _Layout):
    """The affine piece of the projection on cell ``T``: profile ``(C, S)``, the
    thresholds ``tau`` broadcast to ``(C, S)`` and the block sizes ``(C, S)``."""
    size = lay.block_sum(T.astype(float))
    tau = (lay.block_sum(np.where(T, z, 0.0)) - 1.0) / size
    return np.where(T, z - tau, 0.0), tau, size


def _slacks(z: np.ndarray, T: np.ndarray, lay: _Layout) -> np.ndarray:
    """Distance of ``z`` from each boundary of its cell, ``(C, S)``; >= 0 inside."""
    sigma, tau, _ = _cell_profile(z, T, lay)
    return np.where(T, sigma, tau - z)


def _slack_rates(dz: np.ndarray, T: np.ndarray, lay: _Layout) -> np.ndarray:
    """Derivative of :func:`_slacks` along ``dz`` (the slacks are affine in z)."""
    size = lay.block_sum(T.astype(float))
    dtau = lay.block_sum(np.where(T, dz, 0.0)) / size
    return np.where(T, dz - dtau, dtau - dz)


def _slack_grad(T: np.ndarray, k: np.ndarray, lay: _Layout) -> np.ndarray:
    """Gradient ``(C, S)`` in z of slack ``k[c]`` of cell ``T[c]``:
    ``+-(e_k - 1_{T_i} / |T_i|)``, + for a support strategy, - for the others."""
    C = len(k)
    rows = np.arange(C)
    own = lay.owner[k]
    block = (lay.owner[None, :] == own[:, None]) & T
    grad = -block.astype(float) / block.sum(axis=1, keepdims=True)
    grad[rows, k] += 1.0
    return np.where(T[rows, k], 1.0, -1.0)[:, None] * grad


def _system(u, z, lam, g, T, lay: _Layout):
    """Residual ``H (C, S)`` and Jacobian ``DH (C, S, S + 1)`` on cell ``T``."""
    sigma, _, size = _cell_profile(z, T, lay)
    W, v = _cross_values(u, sigma, lay)
    H = z - sigma - v - lam[:, None] * g
    both = T[:, :, None] & T[:, None, :] & (lay.same[None] > 0)
    R = np.where(both, -1.0 / size[:, :, None], 0.0)
    R[:, np.arange(lay.size), np.arange(lay.size)] += T
    eye = np.eye(lay.size)[None]
    J = eye - (eye + W) @ R
    return H, np.concatenate([J, -g[:, :, None]], axis=2)


def _bordered(DH: np.ndarray, last: np.ndarray) -> np.ndarray:
    return np.concatenate([DH, last[:, None, :]], axis=1)


def _tangent(DH: np.ndarray, ref: np.ndarray, orient: np.ndarray):
    """The unit tangent ``(C, S + 1)`` with ``sign det [DH; t'] = orient``, from
    ``[DH; ref'] t = e`` (``det [DH; t'] = det [DH; ref'] |t|^2``), and whether
    the bordered matrix was solvable ``(C,)``."""
    B = _bordered(DH, ref)
    e = np.zeros(B.shape[1])
    e[-1] = 1.0
    sign, _ = np.linalg.slogdet(B)
    ok = sign != 0
    t = np.zeros_like(ref)
    if ok.any():
        t[ok] = np.linalg.solve(B[ok], e)
    norm = np.linalg.norm(t, axis=1)
    ok &= np.isfinite(norm) & (norm > 0)
    t = np.where(ok[:, None], t / np.where(ok, norm, 1.0)[:, None], ref)
    t *= np.where(sign == orient, 1.0, -1.0)[:, None]
    return t, ok


def trace(u: np.ndarray, g: np.ndarray, *, max_steps: int = 4000) -> PathsResult:
    """Follow the global Newton path of every (game, ray) pair.

    Parameters
    ----------
    u : ndarray of float, shape (B, n, s1, ..., sn)
        Payoffs scaled so that each game's payoffs span [0, 1].
    g : ndarray of float, shape (R, S)
        The rays, the same for every game (so a batch equals a loop).
    max_steps : int
        Predictor-corrector steps per path at most.

    Returns
    -------
    PathsResult, with paths numbered ``b * R + r``.
    """
    B = u.shape[0]
    shape = tuple(u.shape[2:])
    lay = _Layout(shape)
    S, Rn = lay.size, len(g)
    C = B * Rn
    game = np.repeat(np.arange(B), Rn)
    G = np.tile(g, (B, 1))
    top, bottom = _gaps(g, lay)
    # Payoffs span [0, 1], so a bonus gap above 1 makes the favoured strategy strictly dominant.
    lam = np.tile((1.0 + 1e-3) / top + 1.0, B)
    lam_stop = -np.tile((1.0 + 1e-3) / bottom + 1.0, B)

    # The start: the pure profile argmax g, z = sigma + V(sigma) + lam g.
    T = np.zeros((C, S), dtype=bool)
    for i in range(lay.n):
        lo, hi = lay.offsets[i], lay.offsets[i + 1]
        T[np.arange(C), lo + np.argmax(G[:, lo:hi], axis=1)] = True
    _, v0 = _cross_values(u[game], T.astype(float), lay)
    z = T + v0 + lam[:, None] * G
    # Initial direction: lam decreasing (on a pure cell DH = [I, -g], so t ~ -(g, 1)).
    t = -np.concatenate([G, np.ones((C, 1))], axis=1)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    _, DH = _system(u[game], z, lam, G, T, lay)
    orient, _ = np.linalg.slogdet(_bordered(DH, t))

    h = np.full(C, _H0)
    steps = np.zeros(C, dtype=np.int64)
    finished = np.zeros(C, dtype=bool)
    active = np.ones(C, dtype=bool)
    out_game, out_sigma, out_supp, out_path = [], [], [], []

    e_last = np.zeros(S + 1)
    e_last[-1] = 1.0
    while active.any():
        idx = np.flatnonzero(active)
        zi, li, ti, Ti, hi_, Gi = z[idx], lam[idx], t[idx], T[idx], h[idx], G[idx]
        ui = u[game[idx]]
        # Clamp the step to the first boundary of the cell, or to lam = 0.
        slack = _slacks(zi, Ti, lay)
        rate = _slack_rates(ti[:, :S], Ti, lay)
        with np.errstate(divide="ignore", invalid="ignore"):
            hit = np.where((rate < 0) & (slack > _EVENT), -slack / rate, np.inf)
        k_hit = np.argmin(hit, axis=1)
        s_hit = hit[np.arange(len(idx)), k_hit]
        with np.errstate(divide="ignore", invalid="ignore"):
            s_zero = np.where((li * ti[:, S] < 0) & (np.abs(li) > _EVENT), -li / ti[:, S], np.inf)
        event = np.where(s_zero <= s_hit, -1, k_hit)          # -1: lam = 0
        s_event = np.minimum(s_zero, s_hit)
        landing = s_event <= hi_
        step = np.where(landing, s_event, hi_)
        # Predictor, then corrector on [DH; row] d = -[H; rhs].
        y = np.concatenate([zi, li[:, None]], axis=1) + step[:, None] * ti
        ok = np.ones(len(idx), dtype=bool)
        prev = np.full(len(idx), np.inf)
        done = np.zeros(len(idx), dtype=bool)
        exact = np.zeros(len(idx), dtype=bool)   # the predictor was on the path already
        for it in range(_CORRECT):
            H, DH = _system(ui, y[:, :S], y[:, S], Gi, Ti, lay)
            # The extra row: the tangent (a plain step), or the event's gradient (a landing).
            row = ti.copy()
            rhs = np.zeros(len(idx))
            land_b = landing & (event >= 0)
            if land_b.any():
                k = event[land_b]
                row[land_b] = np.concatenate([_slack_grad(Ti[land_b], k, lay),
                                              np.zeros((len(k), 1))], axis=1)
                rhs[land_b] = _slacks(y[land_b, :S], Ti[land_b], lay)[np.arange(len(k)), k]
            land_l = landing & (event < 0)
            if land_l.any():
                row[land_l] = e_last
                rhs[land_l] = y[land_l, S]
            res = np.maximum(np.abs(H).max(axis=1), np.abs(rhs))
            done = res <= _RES
            if it == 0:
                exact = done.copy()
            ok &= np.isfinite(res) & ((res < 0.5 * prev) | done)
            prev = res
            if (done | ~ok).all():
                break
            Bm = _bordered(DH, row)
            rhs_full = -np.concatenate([H, rhs[:, None]], axis=1)
            sign, _ = np.linalg.slogdet(Bm)
            solvable = (sign != 0) & ok & ~done
            d = np.zeros_like(y)
            if solvable.any():
                d[solvable] = np.linalg.solve(Bm[solvable], rhs_full[solvable][:, :, None])[:, :, 0]
            ok &= solvable | done
            y = np.where((ok & ~done)[:, None], y + d, y)
        ok &= done
        # A step must not wander far from its prediction, nor turn sharply (path
        # jumping across a fold), ...
        pred = np.concatenate([zi, li[:, None]], axis=1) + step[:, None] * ti
        ok &= np.abs(y - pred).max(axis=1) <= _DRIFT * np.maximum(step, 1e-12) + 1e-9
        # ... nor leave its cell unseen (the path curves; the clamp was linear): a
        # shorter step then finds the boundary.
        ok &= (_slacks(y[:, :S], Ti, lay) >= -_LEAVE).all(axis=1)
        # ... nor cross lam = 0 unseen (the clamp to it was linear too).
        ok &= ~((li * y[:, S] < 0) & ~(landing & (event < 0)))
        ty = np.zeros_like(ti)
        if ok.any():
            _, DHy = _system(ui[ok], y[ok, :S], y[ok, S], Gi[ok], Ti[ok], lay)
            ty[ok], good = _tangent(DHy, ti[ok], orient[idx[ok]])
            ok[ok] = good & ((ty[ok] * ti[ok]).sum(axis=1) >= _COS)
        acc = idx[ok]
        h[idx[~ok]] *= 0.25
        if ok.any():
            ya, Ta, ta = y[ok], Ti[ok].copy(), ty[ok]
            lb = landing[ok] & (event[ok] >= 0)
            zero = landing[ok] & (event[ok] < 0)
            if zero.any():   # an equilibrium of the game itself
                sg, _, _ = _cell_profile(ya[zero, :S], Ta[zero], lay)
                out_game.append(game[acc[zero]])
                out_sigma.append(sg)
                out_supp.append(Ta[zero])
                out_path.append(acc[zero])
                ya[zero, S] = 0.0
            if lb.any():     # into the next cell: one strategy changes side
                rows_b = np.flatnonzero(lb)
                Ta[rows_b, event[ok][lb]] ^= True
                _, DHb = _system(u[game[acc[lb]]], ya[lb, :S], ya[lb, S], G[acc[lb]], Ta[lb], lay)
                ta[lb], good = _tangent(DHb, ta[lb], orient[acc[lb]])
                active[acc[lb][~good]] = False
            z[acc], lam[acc], T[acc], t[acc] = ya[:, :S], ya[:, S], Ta, ta
            # Grow the step; fast where the path is straight (a cell where every player
            # plays one strategy, or a polymatrix game: H is affine there).
            grown = np.where(exact[ok], h[acc] * 4.0, np.minimum(h[acc] * 1.5, _HMAX))
            h[acc] = np.where(landing[ok], h[acc], grown)
        steps[idx] += 1
        past = lam < lam_stop
        finished |= past & active
        active &= ~past & (h >= _HMIN) & (steps < max_steps)
    cat = (lambda parts, shape_: np.concatenate(parts) if parts else np.zeros(shape_))
    return PathsResult(game=cat(out_game, (0,)).astype(np.intp), sigma=cat(out_sigma, (0, S)),
                       support=cat(out_supp, (0, S)).astype(bool),
                       path=cat(out_path, (0,)).astype(np.intp), finished=finished, steps=steps)


def candidates(u: np.ndarray, g: np.ndarray, *, max_steps: int = 4000):
    """The global Newton start kind for :func:`allysim.solve.mixed_nash`.

    u : (B, n, *S) payoffs scaled to [0, 1]; g : (R, S) rays.
    Returns the crossings as candidates ``(game (E,), sigma (E, S), support (E, S))``
    and, per game, the rays whose path did not reach its far end ``(B,)`` (the step
    cap, or a step that could not be made: equilibria beyond it are not visited).
    """
    B = u.shape[0]
    if len(g) == 0 or B == 0:
        S = int(sum(u.shape[2:]))
        return (np.zeros(0, dtype=np.intp), np.zeros((0, S)), np.zeros((0, S), dtype=bool),
                np.zeros(B, dtype=np.int64))
    res = trace(u, g, max_steps=max_steps)
    unfinished = (~res.finished).reshape(B, len(g)).sum(axis=1).astype(np.int64)
    return res.game, res.sigma, res.support, unfinished
