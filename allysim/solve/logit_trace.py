"""The limit of the principal logit QRE branch: an equilibrium selection, batched.

:func:`logit_trace` follows the principal branch of the logit QRE
(:mod:`allysim.solve.logit_qre`) towards ``lam -> inf`` and stops on regret, not
on a fixed lambda (lambda is in inverse payoff units; Gambit #365): once the QRE
is near equilibrium it solves, by Newton's method, the indifference conditions
of the support the branch is converging to
(:func:`allysim.solve._profile.support_equations`), and returns that
equilibrium when the branch comes within 1e-2 of it; every limit is certified by
:func:`allysim.solve.verify`. The principal branch converges to one equilibrium:
the logit (tracing) selection of McKelvey & Palfrey (1995) and Turocy (2005), the
limit that Gambit's ``logit_solve`` approximates.

Where the selection is not unique. In a symmetric or tied game the principal
branch can meet a branch point, and from there on several branches continue it.
The trace then follows the *generic* branch, as :func:`~allysim.solve.logit_qre`
does (the one every slightly perturbed game's principal branch runs beside: the
first player infinitesimally more precise, Gambit's choice), and reports status
``bifurcation`` with ``branch_points >= 1``: a definite, reproducible equilibrium,
but a selection by convention (in a symmetric game, one of a mirror pair: in
chicken, one side goes straight). The trace takes no limit

* while passing a branch point;
* on a *uniform ray* before its branch point: when every player is indifferent
  at the uniform profile, that profile is an equilibrium and the QRE at every
  lambda up to the ray's first branch point, where the branch leaves it (Gambit's
  ``logit_solve`` stops there at lambda 0, its regret being 0);
* at an equilibrium near which the logit response turns singular at a larger
  lambda (:func:`~allysim.solve._continuation._singular_lams`): the branch
  passes it (a symmetric branch passing a mixed equilibrium before a branch
  point), so the trace goes on until past that lambda (x :data:`_HOLD`).

The exception to backend agreement: the trace to the limit of a game with payoff
ties and a continuum of equilibria runs to lambda ~ 1e8, where rounding decides
which certified equilibrium (or QRE) it ends on, so the NumPy and numba paths
can differ there.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._continuation import _Settings, _advance, _singular_lams, _start
from ._logit_pairs import (_Batch, _block_sum, _kernels, _Layout, _max_regret, _pair_derivs, _probs,
                           _solve, _values)
from ._profile import layout, support_equations
from ._status import STATUS, status_names  # noqa: F401  (status_names: doctests)
from .logit_qre import _check_settings
from .regret import DEFAULT_TOL, as_payoffs, payoff_scale, regret, verify
from .result import Result

_REFINE_FROM = 1e-3  # try the support Newton step once the QRE's regret is below this x payoff range
_REFINE_DIST = 1e-2  # ... and accept its equilibrium only this close to the QRE (max |dp|)
_SUPPORTS = (1e-2, 1e-6)  # supports tried: strategies with p >= this x the player's largest
_REFINE_ITERS = 10
_RELATIVE = 50.0     # trace: beyond lam * payoff range = 50, step control is relative to lam
_HOLD = 1.1          # a limit is taken only past this x the last lambda where the response is
                     # singular at it


def _support(p: np.ndarray, lay: _Layout, cut: float) -> np.ndarray:
    """The support a profile ``p: (A, K)`` suggests: each player's strategies with
    probability >= ``cut`` times that player's largest. Returns bool ``(A, K)``."""
    big = np.maximum.reduceat(p, lay.offsets[:-1], axis=1)[:, lay.owner]
    return p >= cut * big


def _refine(batch: _Batch, games: np.ndarray, p0: np.ndarray, supp: np.ndarray):
    """Newton on the Nash conditions of the supports ``supp: (A, K)`` of the games
    ``games: (A,)`` of ``batch``, from ``p0: (A, K)``.

    The unknowns are the full profile; the K equations say that each player's
    support strategies have equal values, its other strategies probability 0,
    and its block sums to 1. Returns the profile ``(A, K)`` and whether Newton
    converged ``(A,)``; the caller certifies it by its regret.
    """
    lay = batch.lay
    a = p0.shape[0]
    owner = lay.owner
    p = np.where(supp, p0, 0.0)
    p /= _block_sum(p, lay)[:, owner]
    # Row k0 (the first support strategy of each player) holds the sum-to-one equation.
    k0 = layout(lay.shape).first(supp)
    converged = np.zeros(a, dtype=bool)
    if batch.kern is not None:
        p = np.ascontiguousarray(p)
        batch.kern.refine(batch.upairs, games.astype(np.intp, copy=False), p,
                          np.ascontiguousarray(supp),
                          np.ascontiguousarray(k0), _REFINE_ITERS, lay.w_index, lay.v_src,
                          lay.v_col, lay.d_full, lay.cross_full, owner, lay.offsets, converged)
        return p, converged
    batch = batch.take(games)
    going = np.ones(a, dtype=bool)
    last = np.full(a, np.inf)
    with np.errstate(all="ignore"):  # a wrong support may send Newton far away: it is dropped
        for _ in range(_REFINE_ITERS):
            _refine_step(batch, p, supp, k0, converged, going, last)
    return p, converged


def _refine_step(batch, p, supp, k0, converged, going, last):
    """One Newton iteration of :func:`_refine` on the games still ``going`` (in place);
    ``last`` holds each game's previous Newton step length."""
    lay, k = batch.lay, p.shape[1]
    idx = np.flatnonzero(going)
    if idx.size == 0:
        return
    sub = batch if idx.size == p.shape[0] else batch.take(idx)
    pp = p[idx]
    if sub.single is not None:
        values, dfull = sub.single, np.zeros((idx.size, k, k))
    else:
        values, flat = _pair_derivs(sub.upairs, pp, lay)
        dfull = flat[:, lay.d_full] * lay.cross_full
    g, jac = support_equations(dfull, values, pp, supp[idx], k0[idx], layout(lay.shape))
    dp = _solve(jac, -g[..., None])[..., 0]
    size = np.abs(dp).max(axis=1)
    # Give up where Newton diverges or stops contracting (a wrong support, or a singular one).
    fine = np.isfinite(size) & (size <= 1.0) & ((size <= 0.5 * last[idx]) | (size <= 1e-10))
    p[idx[fine]] += dp[fine]
    last[idx] = size
    small = fine & (size <= 1e-13)
    converged[idx[small]] = True
    going[idx[small | ~fine]] = False


@dataclass(frozen=True)
class LogitTraceResult(Result):
    """The limits of the principal logit branches of B games: an equilibrium selection
    (the :mod:`~allysim.solve.result` contract, one solution per game).

    Attributes
    ----------
    profiles : ndarray of float, shape (B, 1, s1 + ... + sn)
        The selected equilibrium: the exact equilibrium on the support the
        branch converges to (``refined``), else the last QRE of the trace.
    count : ndarray of int64, shape (B,), all 1
    regret : ndarray of float, shape (B, 1)
        Max regret of ``profiles`` (payoff units), by :func:`allysim.solve.regret`.
    status : ndarray of int8, shape (B,)
        ``ok``: ``verify(payoffs, profiles, tol)`` holds, on a principal branch
        that met no branch point; ``bifurcation``: verified, on the generic branch
        past one or more branch points (the selection is not unique; module
        docstring); ``not_converged``: the regret stayed above ``tol`` (relative
        to the payoff scale) up to ``max_lambda`` or ``max_steps``, or the curve
        could not be followed.
    lambda_reached : ndarray of float, shape (B,)
        The lambda the trace reached.
    qre_profiles : ndarray of float, shape (B, s1 + ... + sn)
        The QRE at ``lambda_reached``.
    refined : ndarray of bool, shape (B,)
        Whether ``profiles`` came from the support Newton step.
    branch_points : ndarray of int64, shape (B,)
        Branch points the branch passed (0 unless ``status`` is ``bifurcation``).
    steps : ndarray of int64, shape (B,)
    backend : ``"numba"`` or ``"numpy"``, the path that computed the result.
    parameters : ``tol``, ``max_lambda``, ``max_steps``, ``first_step``, ``max_accel``,
        ``refine``, ``backend``
    method : ``"logit_trace"``
    """

    profiles: np.ndarray
    count: np.ndarray
    regret: np.ndarray
    status: np.ndarray
    lambda_reached: np.ndarray
    qre_profiles: np.ndarray
    refined: np.ndarray
    branch_points: np.ndarray
    steps: np.ndarray
    backend: str
    parameters: dict
    method: str = "logit_trace"


def _trace_pass(payoffs, batch, st, tol, max_lambda, refine):
    """One pass of :func:`logit_trace`; returns its fields as arrays over the B games."""
    b = payoffs.shape[0]
    lay = batch.lay
    rr = lay.r
    scale = np.ptp(payoffs.reshape(b, -1), axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    limit = np.full((b, lay.k), np.nan)
    qre = np.full((b, lay.k), np.nan)
    reg = np.full(b, np.inf)
    refined = np.zeros(b, dtype=bool)
    done = np.zeros(b, dtype=bool)
    slack = tol * payoff_scale(payoffs)   # the regret tolerance of each game
    tr = _start(batch, b, st.first_step, scale)
    hold = np.zeros(b)   # no limit is taken before the trace reaches this lambda
    # Per support threshold: the support last tried and the verified equilibrium on it.
    tried = np.zeros((len(_SUPPORTS), b, lay.k), dtype=bool)
    tried_at = np.full((len(_SUPPORTS), b), np.inf)   # the QRE's regret at that try
    cand = np.full((len(_SUPPORTS), b, lay.k), np.nan)

    def check(games):
        p = _probs(tr.y[games, :rr], lay)
        qre[games] = p
        r_qre = _max_regret(_values(batch, p, games), p, lay)
        limit[games], reg[games] = p, r_qre
        # Not while passing a branch point, nor on a uniform ray before its branch point
        # (the uniform profile is an equilibrium there, but the branch leaves it).
        may = ~(tr.pending[games] | tr.settling[games] | np.isfinite(tr.ray_lam[games])) & (
            tr.y[games, rr] >= hold[games])
        finished = (r_qre <= slack[games]) & may
        if refine:
            # Solve each new support once the QRE is near equilibrium ...
            near = r_qre <= _REFINE_FROM * scale[games]
            for c, cut in enumerate(_SUPPORTS):
                supp = _support(p, lay, cut)
                # A new support, or one that failed when the QRE was 10 times farther off.
                new = near & ((supp != tried[c, games]).any(axis=1) | (
                    np.isnan(cand[c, games]).any(axis=1) & (r_qre <= 0.1 * tried_at[c, games])))
                if c:  # a finer support only where the coarser ones gave nothing
                    new &= np.isnan(cand[:c, games]).all(axis=(0, 2))
                if not new.any():
                    continue
                g = games[new]
                tried[c, g] = supp[new]
                tried_at[c, g] = r_qre[new]
                p_ne, conv = _refine(batch, g, p[new], supp[new])
                p_ne[np.abs(p_ne) <= 1e-13] = 0.0
                p_ne = np.where(conv[:, None], p_ne, p[new])
                # A quick check here; the shared certificate (verify) runs on every output.
                conv &= (p_ne >= 0).all(axis=1) & (
                    _max_regret(_values(batch, p_ne, g), p_ne, lay) <= slack[g])
                cand[c, g] = np.where(conv[:, None], p_ne, np.nan)
            # ... and take its equilibrium once the branch has come close to it.
            dist = np.abs(cand[:, games] - p).max(axis=2)           # (len(_SUPPORTS), M)
            best = np.argmin(np.where(np.isnan(dist), np.inf, dist), axis=0)
            ok = (np.take_along_axis(dist, best[None], axis=0)[0] <= _REFINE_DIST) & may
            if ok.any():
                # Not if the logit response turns singular near it at a larger lambda: the
                # branch passes the equilibrium there (a branch point ahead, as on a
                # symmetric game's symmetric branch); go on until well past that lambda.
                # (A pure equilibrium is exempt: the response is not singular near it.)
                pos = np.flatnonzero(ok)
                c_ne = cand[best[pos], games[pos]]
                mixed = (_block_sum((c_ne > 0).astype(float), lay) > 1).any(axis=1)
                if mixed.any():
                    pos = pos[mixed]
                    g = games[pos]
                    ahead = _singular_lams(batch, g, c_ne[mixed])[1]
                    wait = ahead > tr.y[g, rr]
                    hold[g[wait]] = _HOLD * ahead[wait]
                    ok[pos[wait]] = False
                    finished[pos[wait]] = False
            if ok.any():
                g = games[ok]
                limit[g] = cand[best[ok], g]
                refined[g] = True
                finished |= ok
        finished |= tr.y[games, rr] >= max_lambda
        done[games[finished]] = True
        tr.active[games[finished]] = False

    check(np.arange(b))
    while tr.active.any():
        moved, _ = _advance(batch, tr, np.full(b, np.inf), st)
        if moved.size:
            check(moved)
    certified = verify(payoffs, limit, tol)
    reg = regret(payoffs, limit).max(axis=1)
    status = np.full(b, STATUS["not_converged"], dtype=np.int8)
    status[certified] = STATUS["ok"]
    status[certified & (tr.branch > 0)] = STATUS["bifurcation"]
    return (limit, reg, status, tr.y[:, rr].copy(), qre, refined, np.where(certified, tr.branch, 0),
            tr.steps.copy(), tr.stuck)


def logit_trace(payoffs: np.ndarray, *, tol: float = DEFAULT_TOL, max_lambda: float = 1e10,
                max_steps: int = 1000, first_step: float = 1.0, max_accel: float = 3.0,
                refine: bool = True, backend: str = "auto") -> LogitTraceResult:
    """Follow each game's principal logit branch to its limit, a Nash equilibrium.

    The trace stops on regret, not on a fixed lambda (lambda is in inverse
    payoff units; Gambit #365): as soon as the QRE's max regret is
    <= ``tol * payoff_scale``, or, with ``refine``, as soon as the support the branch
    is converging to yields, by Newton's method on its indifference conditions, an
    exact equilibrium within 1e-2 of the QRE whose regret is that small.
    Every returned equilibrium is certified by :func:`allysim.solve.verify`.
    The principal branch converges to one equilibrium: this is the logit
    (tracing) selection of McKelvey & Palfrey (1995) and Turocy (2005), the
    limit that Gambit's ``logit_solve`` approximates.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    tol : float, default 1e-9
        Regret tolerance relative to each game's :func:`~allysim.solve.payoff_scale`
        (as Gambit's ``logit_solve`` takes ``maxregret`` relative to the payoff range).
    max_lambda : float, default 1e10
        Stop (``not_converged``) if the regret is still above tolerance here.
    max_steps : int, default 1000
        Cap on continuation steps per game and pass.
    first_step, max_accel : float
        Step control, as in :func:`logit_qre`.
    refine : bool, default True
        Use the support Newton step (without it, mixed limits need lambda of
        order 1 / tol).
    backend : {"auto", "numba", "numpy"}, default "auto"
        As in :func:`logit_qre`. On games with a continuum of equilibria (payoff
        ties) the two paths may end on different certified equilibria.

    Returns
    -------
    LogitTraceResult
        ``profiles: (B, 1, s1 + ... + sn)``, ``regret: (B, 1)``, ``status: (B,)``,
        ``lambda_reached: (B,)``, ``branch_points: (B,)``, ...

    Examples
    --------
    Stag hunt: of the two strict equilibria the branch selects the
    risk-dominant one, (Hare, Hare); in matching pennies the uniform profile at
    lambda = 0 is already the (mixed) equilibrium, so the trace stops there.

    >>> stag = np.array([[[[4., 0.], [3., 3.]], [[4., 3.], [0., 3.]]]])
    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> res = logit_trace(np.concatenate([stag, pennies]))
    >>> res.profiles[:, 0].round(6).tolist(), status_names(res.status).tolist(), res.regret.tolist()
    ([[0.0, 1.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5]], ['ok', 'ok'], [[0.0], [0.0]])

    Battle of the sexes (Nau 2004, sec. 3) is symmetric: the branch splits, and the
    selection (Top, Left) is Gambit's convention, flagged as such.

    >>> bos = np.array([[[[3., 0.], [0., 2.]], [[2., 0.], [0., 3.]]]])
    >>> res = logit_trace(bos)
    >>> res.profiles[0, 0].tolist(), status_names(res.status).tolist(), res.branch_points.tolist()
    ([1.0, 0.0, 1.0, 0.0], ['bifurcation'], [1])
    """
    payoffs = as_payoffs(payoffs, "logit_trace")
    _check_settings("logit_trace", tol, max_steps, first_step, max_accel, name="tol")
    kern = _kernels("logit_trace", backend, payoffs.shape[0])
    used = "numpy" if kern is None else "numba"
    if not (max_lambda > 0):
        raise ValueError(f"logit_trace(): max_lambda must be > 0, got {max_lambda!r}")
    st = _Settings(first_step=float(first_step), max_accel=float(max_accel), max_steps=int(max_steps),
                   relative=_RELATIVE)
    b, k = payoffs.shape[0], int(sum(payoffs.shape[2:]))
    parameters = {"tol": float(tol), "max_lambda": float(max_lambda), "max_steps": int(max_steps),
                  "first_step": float(first_step), "max_accel": float(max_accel),
                  "refine": bool(refine), "backend": backend}
    if b == 0:
        empty = np.zeros(0)
        return LogitTraceResult(profiles=np.zeros((0, 1, k)), count=np.zeros(0, dtype=np.int64),
                                regret=np.zeros((0, 1)), status=np.zeros(0, dtype=np.int8),
                                lambda_reached=empty, qre_profiles=np.zeros((0, k)),
                                refined=np.zeros(0, dtype=bool),
                                branch_points=np.zeros(0, dtype=np.int64),
                                steps=np.zeros(0, dtype=np.int64),
                                backend=used, parameters=parameters)
    batch = _Batch.of(payoffs, kern)
    out = list(_trace_pass(payoffs, batch, st, tol, max_lambda, refine))
    # Games whose trace collapsed are traced again with small, careful steps.
    retry = np.flatnonzero(out[8] & (out[2] == STATUS["not_converged"]))
    if retry.size:
        again = _trace_pass(payoffs[retry], batch.take(retry), st.careful(), tol, max_lambda, refine)
        better = again[2] != STATUS["not_converged"]
        for full, part in zip(out[:7], again[:7]):
            full[retry[better]] = part[better]
        out[7][retry] += again[7]
    return LogitTraceResult(profiles=out[0][:, None, :], count=np.ones(b, dtype=np.int64),
                            regret=out[1][:, None], status=out[2], lambda_reached=out[3],
                            qre_profiles=out[4], refined=out[5], branch_points=out[6],
                            steps=out[7], backend=used, parameters=parameters)
