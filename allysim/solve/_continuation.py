"""Pseudo-arclength continuation of the logit QRE branch, batched over games (private).

Predictor-corrector continuation (Allgower & Georg 1990, ch. 2) of the curve
``F(r, lam) = r - lam * (v_odds(p) - v_ref(p)) = 0`` from the uniform profile at
``lam = 0``, for every game of a batch at once, each with its own adaptive step:

* predictor: an Euler step ``y + h t`` along the unit tangent ``t``;
* corrector: Newton on ``F = 0`` with the step kept orthogonal to ``t``, i.e.
  the bordered ``(R+1, R+1)`` Jacobian ``[[F_r, F_lam], [t]]``, stacked over
  games and solved by ``np.linalg.solve``; the same solve (second right-hand
  side) gives the next tangent, oriented to keep going forward;
* a step is rejected and halved when the first Newton step is too long, Newton
  contracts too slowly, the tangent turns too far, or the bordered determinant
  changes sign (a jump onto a leg of the curve run the other way); otherwise the
  next step aims at a set first Newton step, contraction and turn, growing by at
  most ``max_accel`` (see :class:`_Settings`);
* a determinant sign change that persists down to tiny steps is a branch point.

Only the loop over continuation steps is in Python; each step does the same
array work for every game still tracing, and finished games drop out. Used by
:func:`allysim.solve.logit_qre.logit_qre` (polishing the first crossing of each
requested lambda) and :func:`allysim.solve.logit_trace.logit_trace` (following
the branch to its limit).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._logit_pairs import _Batch, _dot_last, _equations, _probs, _rowsum, _solve, _values
from ._profile import strategy_values

_MAX_CONTR = 0.5     # reject a step whose Newton iterates contract slower
_DENSE = 0.9         # evaluate all games of a step while this share of them still iterates
_CORR_ITERS = 8      # corrector iterations per step
_MIN_STEP = 1e-10    # a step below this means the curve cannot be followed here
_BRANCH_STEP = 1e-5  # a determinant sign change on a step this short is a branch point
_POLISH_ITERS = 25   # Newton iterations of the polish at a requested lambda
_JUMP = 0.25         # the polish may move a path point at most this far (else another branch)

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

