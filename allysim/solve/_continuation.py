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
* a determinant sign change that persists down to tiny steps is a branch point
  (:func:`_begin_switch`; the sign is taken at the corrector's last iterate, and
  again at the accepted point where its size fell sharply, :data:`_DROP`), and so
  is the first singular point of a *uniform ray*:
  in a game whose uniform profile is a Nash equilibrium (every player indifferent,
  as in symmetric anti-coordination games), that profile is the QRE at every
  lambda, and the ray bifurcates where ``lam * mu = 1`` for the largest real
  eigenvalue ``mu`` of the logit response's derivative there (:func:`_start`,
  :func:`_singular_lams`; found whatever its multiplicity, which a determinant's
  sign cannot see when even).

Branch points. Past a branch point the curve through it goes on "straight" (in a
symmetric game, the symmetric continuation), but no perturbation of the payoffs,
however small, selects that: a perturbed game's principal branch turns onto one
of the branches that leave the point (an imperfect bifurcation). allysim follows
the *generic* branch, the limit as ``eps -> 0`` of a perturbed game's principal
branch. From the first branch point on it follows the curve of the game in which
the first player is ``1 + eps`` times as precise as the others (``eps`` =
:data:`_EPS`), which unfolds branch points as Gambit's tracer does (Gambit
perturbs the first player's sum-to-one equation, which lowers every other
player's precision; the two curves differ by a rescaling of lambda). Where that
leaves a branch point intact (its part in the left null space of ``F_r`` there is
below :data:`_UNFOLD`, e.g. on a uniform ray, where every player is indifferent),
a bonus ``eps`` to one strategy is added, the first in profile order that has such
a part (only that part). The perturbed curve is entered a little before the
branch point (:data:`_BACKUP`), followed with careful steps until well past it
(:data:`_SETTLE`), and the perturbation stays on: QREs at requested lambdas are
polished on the game's own equations, and limits are the game's equilibria (the
perturbation is ``eps / lam`` in payoff units, which vanishes). Everything depends
on the game alone, so the choice is the same in any batch.

Only the loop over continuation steps is in Python; each step does the same
array work for every game still tracing, and finished games drop out. Used by
:func:`allysim.solve.logit_qre.logit_qre` (polishing the first crossing of each
requested lambda) and :func:`allysim.solve.logit_trace.logit_trace` (following
the branch to its limit).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._logit_pairs import (_Batch, _dot_last, _equations, _pair_derivs, _probs, _rowsum, _solve,
                           _values)
from ._profile import strategy_values

_MAX_CONTR = 0.5     # reject a step whose Newton iterates contract slower
_DENSE = 0.9         # evaluate all games of a step while this share of them still iterates
_CORR_ITERS = 8      # corrector iterations per step
_MIN_STEP = 1e-10    # a step below this means the curve cannot be followed here
_BRANCH_STEP = 1e-5  # a determinant sign change on a step this short is a branch point
_DROP = 0.25         # a determinant this much smaller than at the last point is checked again
_POLISH_ITERS = 25   # Newton iterations of the polish at a requested lambda
_POLISH_SLOW = 1e-8  # ... a polish still creeping in by steps this small may be certified
_JUMP = 0.25         # the polish may move a path point at most this far (else another branch)
_EPS = 1e-6          # the perturbation that unfolds a branch point (relative precision, log-odds)
_UNFOLD = 1e-8       # a perturbation selects a branch if its null-space part is longer than this
_KERNEL = 1e-3       # F_r's left null space: singular vectors below this x the largest
_BACKUP = 1e-2       # the perturbed trace starts this far (in :func:`_metric`) before the point
_SETTLE = 5e-2       # ... and no limit is taken before this far past it
_PHASE_CORR = 1e-9   # corrector tolerance of those steps
_LAND_TRIES = 4      # backing up 4 times farther each time the perturbed curve is out of reach
_RAY_IMAG = 1e-8     # an eigenvalue is real if its imaginary part is below this x its modulus

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
    det_log: np.ndarray   # (B,) ... and the log of its size (-inf: not known)
    branch: np.ndarray    # (B,) int: branch points passed (switches begun)
    active: np.ndarray    # (B,) still tracing
    stuck: np.ndarray     # (B,) the step collapsed: the curve could not be followed
    scale: np.ndarray     # (B,) payoff range (max - min payoff, 1 if 0)
    # Branch points (module docstring):
    ray_lam: np.ndarray   # (B,) lambda of a uniform ray's first branch point (inf: none)
    pending: np.ndarray   # (B,) a branch point was just passed: switch at the next step
    back: np.ndarray      # (B, R+1) the point before it (the branch point itself on a ray)
    back_t: np.ndarray    # (B, R+1) ... its tangent
    back_det: np.ndarray  # (B,) ... and determinant sign
    perturbed: np.ndarray  # (B,) past a branch point: careful steps on the curve
                           # r - lam * prec * dv + add = 0 of a perturbed game
    prec: np.ndarray      # (B, R) the relative precision of each log-odds (1 unperturbed)
    add: np.ndarray       # (B, R) the constant added to F (0 unperturbed)
    settling: np.ndarray  # (B,) just past a branch point (no limit is taken there)
    origin: np.ndarray    # (B, R+1) the branch point being passed
    phase_s: np.ndarray   # (B,) arclength followed since
    phase_min: np.ndarray  # (B,) ... at least this before settling ends
    rays: bool = False    # some game is on a uniform ray before its branch point

    def perturbation(self, idx: np.ndarray):
        """``(prec, add)`` of the games ``idx`` (for :func:`_step`)."""
        return self.prec[idx], self.add[idx]


def _numpy_batch(batch: _Batch, games: np.ndarray) -> _Batch:
    """The games ``games: (A,)`` of ``batch`` in the NumPy layout (for the rare work done
    by NumPy on either backend: branch points)."""
    sub = batch.take(games)
    if sub.kern is None:
        return sub
    return _Batch(sub.lay, np.ascontiguousarray(sub.upairs.transpose(0, 1, 3, 2)), None)


def _start(batch: _Batch, b: int, first_step: float, scale=None) -> _Trace:
    """The uniform profile at lam = 0 and the principal branch's tangent there; with
    ``scale: (B,)`` (payoff ranges), the first branch point of uniform rays."""
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
    scale = np.ones(b) if scale is None else scale
    tr = _Trace(y=y, t=t, h=np.full(b, float(first_step)), steps=np.zeros(b, dtype=np.int64),
                det_sign=np.ones(b), det_log=np.full(b, -np.inf), branch=np.zeros(b, dtype=np.int64),
                active=np.ones(b, dtype=bool), stuck=np.zeros(b, dtype=bool), scale=scale,
                ray_lam=np.full(b, np.inf), pending=np.zeros(b, dtype=bool),
                back=np.zeros_like(y), back_t=np.zeros_like(y), back_det=np.ones(b),
                perturbed=np.zeros(b, dtype=bool), prec=np.ones((b, lay.r)),
                add=np.zeros((b, lay.r)), settling=np.zeros(b, dtype=bool),
                origin=np.zeros_like(y), phase_s=np.zeros(b), phase_min=np.zeros(b))
    # Every player indifferent at the uniform profile: it is the QRE at every lambda (a
    # ray r = 0) until the logit response turns singular there.
    ray = np.abs(f_lam).max(axis=1, initial=0.0) <= 1e-12 * scale
    if lay.r and batch.single is None and ray.any():
        games = np.flatnonzero(ray)
        tr.ray_lam[games] = _singular_lams(batch, games, _probs(y[games, :-1], lay))[0]
        tr.rays = bool(np.isfinite(tr.ray_lam).any())
    return tr


def _singular_lams(batch: _Batch, games: np.ndarray, p: np.ndarray):
    """Where the logit response at the profiles ``p: (A, K)`` of ``games: (A,)`` is
    singular: ``lam * mu = 1`` for a real eigenvalue ``mu > 0`` of its derivative ``D V``
    (``D`` block-diagonal ``diag(p_i) - p_i p_i'``, ``V = dv/dp``). Returns the first and
    the last such lambda ``(A,)`` (inf and 0 where there is none). Strategies with
    probability 0 drop out (their rows and columns of ``D`` vanish), so at an
    equilibrium this is about its support."""
    sub = _numpy_batch(batch, games)
    lay = sub.lay
    _, flat = _pair_derivs(sub.upairs, p, lay)
    deriv = flat[:, lay.d_full] * lay.cross_full                  # (A, K, K): dv_k / dp_l
    d = np.zeros_like(deriv)
    for lo, hi in zip(lay.offsets[:-1], lay.offsets[1:]):
        blk = p[:, lo:hi]
        d[:, lo:hi, lo:hi] = -blk[:, :, None] * blk[:, None, :]
        d[:, np.arange(lo, hi), np.arange(lo, hi)] += blk
    mu = np.linalg.eigvals(np.matmul(d, deriv))
    big = np.abs(mu).max(axis=1, keepdims=True, initial=0.0)
    real = (np.abs(mu.imag) <= _RAY_IMAG * np.abs(mu)) & (mu.real > 1e-12 * big)
    with np.errstate(divide="ignore"):
        first = 1.0 / np.where(real, mu.real, 0.0).max(axis=1, initial=0.0)
        last = 1.0 / np.where(real, mu.real, np.inf).min(axis=1, initial=np.inf)
    last[~real.any(axis=1)] = 0.0
    return first, last


def _step(batch: _Batch, y, t, h, det_sign, st: _Settings, unit=None, pert=None, det_log=None):
    """One predictor-corrector step for the A games of ``batch``.

    y, t : (A, R+1) points and unit tangents; h : (A,) step lengths;
    det_sign : (A,) bordered determinant signs at y; unit : (A,) or None, the
    length in which the first correction is measured (default 1); pert : None or
    ``(prec, add)``, each (A, R): the curve followed is then
    ``r - lam * prec * dv + add = 0`` (a perturbed game, :class:`_Trace`); det_log : (A,)
    or None, log |determinant| at y.
    Returns ``accepted (A,)``, new points ``(A, R+1)``, tangents ``(A, R+1)``,
    step growth factors ``(A,)`` (0.5 where rejected), determinant signs ``(A,)`` and
    log |determinant| ``(A,)`` at the new points.

    The determinant (like the new tangent) is that of the last corrector iterate,
    before its final update (at most ``corr_tol`` away). Where its size fell below
    :data:`_DROP` x that at y, a branch point may lie in between, so it is taken again
    at the new point itself (rare: never seen on generic games).
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
    logdet = np.full(a, -np.inf)
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
        if pert is None:
            f, f_r, f_lam = _equations(sub, uu[:, :r], uu[:, r])
        else:
            f, f_r, f_lam = _equations(sub, uu[:, :r], uu[:, r], pert[0][idx])
            f += pert[1][idx]
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
            sign[d_idx], logdet[d_idx] = np.linalg.slogdet(m[done])
            accepted[d_idx] = True
            going[d_idx] = False
    if det_log is not None:
        again = np.flatnonzero(accepted & (logdet < det_log + np.log(_DROP)))
        if again.size:
            sub, uu = batch.take(again), u[again]
            if pert is None:
                _, f_r, f_lam = _equations(sub, uu[:, :r], uu[:, r])
            else:
                _, f_r, f_lam = _equations(sub, uu[:, :r], uu[:, r], pert[0][again])
            m = np.empty((again.size, r1, r1))
            m[:, :r, :r], m[:, :r, r], m[:, r, :] = f_r, f_lam, t[again]
            sign[again], logdet[again] = np.linalg.slogdet(m)
    angle = np.arccos(np.clip(_dot_last(t, t_new), -1.0, 1.0))
    flipped = (sign * det_sign < 0) & (h > _BRANCH_STEP)
    accepted &= (angle <= st.max_turn) & ~flipped & (sign != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Aim at a first correction of ``aim``, a contraction of _MAX_CONTR / 2 and a
        # turn of max_turn / 2 (corrections grow like h**2, turns like h).
        grow = np.minimum(np.minimum(np.sqrt(st.aim / first), np.sqrt(_MAX_CONTR / 2 / contr_max)),
                          0.5 * st.max_turn / angle)
    grow = np.clip(np.nan_to_num(grow, nan=st.max_accel, posinf=st.max_accel), 0.5, st.max_accel)
    return accepted, u, t_new, np.where(accepted, grow, 0.5), sign, logdet


def _step_compiled(batch: _Batch, idx, y, t, h, det_sign, st: _Settings, unit=None, pert=None,
                   det_log=None):
    """:func:`_step` by the compiled kernel, for the games ``idx: (A,)`` of ``batch``
    (no payoffs are copied); same arguments otherwise, same outputs."""
    a = idx.size
    accepted = np.zeros(a, dtype=np.bool_)
    u = np.empty_like(y)
    t_new = np.empty_like(t)
    grow = np.empty(a)
    sign = np.empty(a)
    logdet = np.empty(a)
    prec, add = (np.ones((1, 1)), np.zeros((1, 1))) if pert is None else pert
    batch.kern.step(batch.upairs, idx.astype(np.intp, copy=False), y, t, h, det_sign,
                    np.full(a, -np.inf) if det_log is None else np.ascontiguousarray(det_log),
                    np.ones(a) if unit is None else np.ascontiguousarray(unit, dtype=float),
                    np.ascontiguousarray(prec, dtype=float), np.ascontiguousarray(add, dtype=float),
                    pert is not None,
                    st.aim, st.max_dist, st.max_turn, st.corr_tol, st.max_accel, np.log(_DROP),
                    _CORR_ITERS, *batch.lay_args(), accepted, u, t_new, grow, sign, logdet)
    return accepted, u, t_new, grow, sign, logdet


def _step_games(batch: _Batch, tr: _Trace, idx, h, st: _Settings, unit=None, pert=None):
    """:func:`_step` (or its compiled twin) for the games ``idx: (A,)`` of the trace."""
    if batch.kern is not None:
        return _step_compiled(batch, idx, tr.y[idx], tr.t[idx], h, tr.det_sign[idx], st, unit, pert,
                              tr.det_log[idx])
    sub = batch if idx.size == tr.y.shape[0] else batch.take(idx)
    return _step(sub, tr.y[idx], tr.t[idx], h, tr.det_sign[idx], st, unit, pert, tr.det_log[idx])


def _metric(d: np.ndarray, lam: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Length ``(A,)`` of moves ``d: (A, R+1)`` made near lambda ``lam: (A,)``, the same
    for a game and its payoffs rescaled: the largest change of a log-odds, or of lambda
    relative to ``max(lam, 1 / scale)``."""
    dr = np.abs(d[:, :-1]).max(axis=1, initial=0.0)
    return np.maximum(dr, np.abs(d[:, -1]) * scale / np.maximum(1.0, lam * scale))


def _phase_settings(st: _Settings) -> _Settings:
    """Step control just past a branch point: careful steps, and a corrector that
    converges (the curve passes near a singular point, so a loose corrector leaves
    points far off it)."""
    return replace(st.careful(), corr_tol=_PHASE_CORR)


def _advance(batch: _Batch, tr: _Trace, cap: np.ndarray, st: _Settings):
    """One continuation step for every active game.

    cap : (B,) largest step allowed (to land just past the next target lambda).
    Returns the games that moved ``(M,)`` and their previous points ``(M, R+1)``.
    Games that passed a branch point in the previous call first begin their switch
    (:func:`_begin_switch`), so the caller has seen the point just past it.
    """
    begin = np.flatnonzero(tr.pending & tr.active)
    if begin.size:
        _begin_switch(batch, tr, begin, st)
    idx = np.flatnonzero(tr.active)
    h = np.minimum(tr.h[idx], cap[idx])
    ray = np.zeros(idx.size, dtype=bool)
    if tr.rays:   # (on a ray, where the tangent is (0, 1))
        ray = tr.ray_lam[idx] - tr.y[idx, -1] <= h
    if ray.any():
        # The step reaches a uniform ray's branch point: go there exactly (just past, so
        # that a target at it is polished on the ray), then switch (see :func:`_start`).
        jumped, at = idx[ray], tr.ray_lam[idx[ray]]
        old_ray = tr.y[jumped].copy()
        tr.y[jumped] = 0.0
        tr.y[jumped, -1] = at * (1 + 1e-12)
        tr.pending[jumped] = True
        tr.back[jumped], tr.back[jumped, -1] = 0.0, at
        tr.back_t[jumped], tr.back_t[jumped, -1] = 0.0, 1.0
        tr.back_det[jumped] = tr.det_sign[jumped]
        tr.ray_lam[jumped] = np.inf
        tr.rays = bool(np.isfinite(tr.ray_lam).any())
        tr.steps[jumped] += 1
        idx, h = idx[~ray], h[~ray]
        if not idx.size:
            return jumped, old_ray
    unit = None
    if st.relative > 0:
        unit = np.maximum(1.0, tr.y[idx, -1] * tr.scale[idx] / st.relative)
    pert = tr.perturbed[idx]
    if not pert.any():
        accepted, u, t_new, grow, sign, logdet = _step_games(batch, tr, idx, h, st, unit)
    else:   # past a branch point: on the perturbed game's curve, careful steps at first
        accepted, sign, grow = np.zeros(idx.size, dtype=bool), np.zeros(idx.size), np.zeros(idx.size)
        u, t_new, logdet = np.empty_like(tr.y[idx]), np.empty_like(tr.y[idx]), np.zeros(idx.size)
        careful = tr.settling[idx]   # (implies perturbed)
        for part, sett, on in ((~pert, st, False), (pert & ~careful, st, True),
                               (careful, _phase_settings(st), True)):
            if part.any():
                g = idx[part]
                out = _step_games(batch, tr, g, h[part], sett, None if unit is None else unit[part],
                                  tr.perturbation(g) if on else None)
                for full, piece in zip((accepted, u, t_new, grow, sign, logdet), out):
                    full[part] = piece
    tr.steps[idx] += 1
    # A step shortened to land on a target does not shrink the next one.
    tr.h[idx] = np.where(accepted, np.maximum(h * grow, np.minimum(tr.h[idx], h * st.max_accel)),
                         h * grow)
    moved = idx[accepted]
    old, old_t, old_det = tr.y[moved].copy(), tr.t[moved].copy(), tr.det_sign[moved].copy()
    tr.y[moved] = u[accepted]
    tr.t[moved] = t_new[accepted]
    tr.det_sign[moved] = sign[accepted]
    tr.det_log[moved] = logdet[accepted]
    # A branch point: a determinant sign change that persisted down to a tiny step (the
    # step went straight through it).
    flip = sign[accepted] * old_det < 0
    if flip.any():
        g = moved[flip]
        tr.pending[g] = True
        tr.back[g], tr.back_t[g], tr.back_det[g] = old[flip], old_t[flip], old_det[flip]
    # Settled once well past the branch point.
    settling = tr.settling[moved] & ~flip
    if settling.any():
        g = moved[settling]
        tr.phase_s[g] += h[accepted][settling]
        far = _metric(tr.y[g] - tr.origin[g], tr.origin[g, -1], tr.scale[g]) >= _SETTLE
        tr.settling[g[far & (tr.phase_s[g] >= tr.phase_min[g])]] = False
    collapsed = idx[tr.h[idx] < _MIN_STEP]
    tr.stuck[collapsed] = True
    tr.active[collapsed] = False
    tr.active[idx[tr.steps[idx] >= st.max_steps]] = False
    if ray.any():
        return np.concatenate([jumped, moved]), np.concatenate([old_ray, old])
    return moved, old


def _bonus_directions(lay, a: int) -> np.ndarray:
    """The constant perturbations of F tried where a higher precision for the first
    player selects no branch, ``(a, K, R)``: a bonus to each strategy in profile order
    (unit vectors: a bonus to a player's first strategy lowers all its log-odds, to
    another raises that one's)."""
    out = np.zeros((a, lay.k, lay.r))
    firsts = set(lay.offsets[:-1].tolist())
    for c in range(lay.k):
        rows = np.flatnonzero(lay.ref == c) if c in firsts else np.flatnonzero(lay.odds == c)
        if rows.size:
            out[:, c, rows] = (1.0 if c in firsts else -1.0) / np.sqrt(rows.size)
    return out


def _begin_switch(batch: _Batch, tr: _Trace, games: np.ndarray, st: _Settings) -> None:
    """Begin passing the branch point just behind each of ``games: (A,)`` on its generic
    branch (module docstring): perturb, back up to a little before the point, and follow
    the perturbed curve from there with careful steps."""
    lay, r, a = batch.lay, batch.lay.r, games.size
    y1 = tr.y[games]
    _, f_r, f_lam = _equations(_numpy_batch(batch, games), y1[:, :r], y1[:, r], tr.prec[games])
    left, sv, _ = np.linalg.svd(f_r)                          # (A, R, R), (A, R) descending
    null = sv <= np.maximum(_KERNEL * sv[:, :1], (1 + 1e-6) * sv[:, -1:])
    basis = left * null[:, None, :]                           # the left null space's columns
    # (1) The first player slightly more precise (F changes by -eps * lam * dv on its
    # rows): switched on at the first branch point, and kept on.
    first = lay.ref == 0
    gambit = np.zeros((a, r))
    gambit[:, first] = y1[:, r, None] * f_lam[:, first]
    part = np.matmul(gambit[:, None, :], basis)[:, 0]
    fresh = ~tr.perturbed[games]
    selects = fresh & (np.sqrt(_dot_last(part, part)) > _UNFOLD)
    tr.prec[games[fresh][:, None], np.flatnonzero(first)[None, :]] = 1.0 + _EPS
    # (2) Where that selects no branch (or was on already): a bonus to one strategy, the
    # first in profile order that has a part in the null space; only that part is added.
    cand = np.matmul(_bonus_directions(lay, a), basis)          # (A, K, R)
    size = np.sqrt(_dot_last(cand, cand))
    pick = np.argmax(size > _UNFOLD, axis=1)
    c = cand[np.arange(a), pick]
    d = np.matmul(basis, c[..., None])[..., 0]
    d /= np.sqrt(_dot_last(d, d))[:, None]
    tr.add[games[~selects]] += _EPS * d[~selects]
    tr.perturbed[games] = True
    tr.settling[games] = True
    # Start on the perturbed curve a little before the branch point: from the point that
    # far back on the tangent, a corrector step of length 0 (the perturbed curve's tangent
    # may differ from the branch's); back up farther where that fails.
    back, back_t = tr.back[games], tr.back_t[games]
    delta = _BACKUP / _metric(back_t, y1[:, r], tr.scale[games])
    land = replace(_phase_settings(st), max_turn=np.pi, max_dist=1.0)
    landed = np.zeros(a, dtype=bool)
    for _ in range(_LAND_TRIES):
        todo = np.flatnonzero(~landed)
        g = games[todo]
        tr.y[g] = back[todo] - delta[todo, None] * back_t[todo]
        tr.t[g] = back_t[todo]
        acc, u, t_new, _, sign, logdet = _step_games(batch, tr, g, np.zeros(g.size), land, None,
                                                     tr.perturbation(g))
        tr.y[g[acc]], tr.t[g[acc]], tr.det_sign[g[acc]] = u[acc], t_new[acc], sign[acc]
        tr.det_log[g[acc]] = logdet[acc]
        landed[todo[acc]] = True
        if landed.all():
            break
        delta[todo[~acc]] *= 4.0
    tr.stuck[games[~landed]] = True
    tr.active[games[~landed]] = False
    tr.h[games] = 0.5 * delta
    tr.origin[games] = y1
    tr.phase_s[games] = 0.0
    gap = back - y1
    tr.phase_min[games] = 2.0 * delta + np.sqrt(_dot_last(gap, gap))
    tr.pending[games] = False
    tr.branch[games] += 1


def _polish(batch: _Batch, games: np.ndarray, r0: np.ndarray, lam: np.ndarray):
    """Newton on ``F(r, lam) = 0`` at fixed lam for the games ``games: (A,)`` of ``batch``,
    from ``r0: (A, R)``; lam : (A,).

    Returns ``r: (A, R)`` and ``converged: (A,)``: the last step below 1e-12 relative;
    or, near a branch point, where ``F_r`` is (nearly) singular, ``F`` itself below
    1e-14 relative where no Newton step can be taken, or the last of the
    ``_POLISH_ITERS`` steps below :data:`_POLISH_SLOW` relative (Newton converges only
    linearly there); the caller certifies every answer by its residual.
    """
    r = np.array(r0, dtype=float, order="C")
    if batch.kern is not None:
        converged = np.zeros(r.shape[0], dtype=np.bool_)
        batch.kern.polish(batch.upairs, games.astype(np.intp, copy=False), r,
                          np.ascontiguousarray(lam, dtype=float), _POLISH_ITERS, _POLISH_SLOW,
                          *batch.lay_args(), converged)
        return r, converged
    batch = batch.take(games)
    converged = np.zeros(r.shape[0], dtype=bool)
    going = np.ones(r.shape[0], dtype=bool)
    last = np.full(r.shape[0], np.inf)
    for _ in range(_POLISH_ITERS):
        idx = np.flatnonzero(going)
        if idx.size == 0:
            break
        sub = batch if idx.size == r.shape[0] else batch.take(idx)
        f, f_r, _ = _equations(sub, r[idx], lam[idx])
        dr = _solve(f_r, -f[..., None])[..., 0]
        finite = np.isfinite(dr).all(axis=1)
        exact = ~finite & (np.abs(f).max(axis=1, initial=0.0)
                           <= 1e-14 * (1.0 + np.abs(r[idx]).max(axis=1, initial=0.0)))
        r[idx[finite]] += dr[finite]
        size = np.where(finite, np.abs(dr).max(axis=1, initial=0.0), np.inf)
        big = 1.0 + np.abs(r[idx]).max(axis=1, initial=0.0)
        small = size <= 1e-12 * big
        last[idx] = size / big
        converged[idx[small | exact]] = True
        going[idx[small | ~finite]] = False
    converged[going & (last <= _POLISH_SLOW)] = True
    return r, converged


def _run_targets(batch: _Batch, b: int, targets: np.ndarray, st: _Settings, scale: np.ndarray):
    """Follow the branch of ``b`` games (payoff ranges ``scale: (b,)``) and polish its
    first crossing of each of the sorted ``targets (T,)``. Returns log-odds ``(b, T,
    R)`` (NaN where not found), ``reached (b, T)``, ``branch_points (b, T)`` (passed
    before each crossing), ``stuck (b,)``, ``steps (b,)``."""
    rr, n_t = batch.lay.r, targets.size
    r_found = np.full((b, n_t, rr), np.nan)
    reached = np.zeros((b, n_t), dtype=bool)
    via_branch = np.zeros((b, n_t), dtype=np.int64)
    tr = _start(batch, b, st.first_step, scale)
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

