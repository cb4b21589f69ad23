"""Learning dynamics on batches of normal-form games, their rest points and stability.

Three dynamics over mixed profiles ``x: (B, s1 + ... + sn)`` (each player's
block a point of its simplex), with ``v_i(x)`` player i's strategy values
(:func:`allysim.solve.strategy_values`):

* **replicator** (Taylor & Jonker 1978): ``dx_ik/dt = x_ik (v_ik - x_i . v_i)``.
* **logit** (smoothed best response; Fudenberg & Levine 1998):
  ``dx_i/dt = logit_i(lam v_i(x)) - x_i``. Its rest points are exactly the
  logit QRE at the same ``lam`` (McKelvey & Palfrey 1995).
* **fictitious play** (Brown 1951), discrete: in round t every player plays a
  pure best response to the others' empirical frequencies (ties to the lowest
  index) and ``x`` is the running average of play, starting from ``x0`` as if
  it had been played once. On zero-sum games the average converges to the
  equilibrium (Robinson 1951), e.g. 1/2 in matching pennies.

Integration schemes (fixed step, chosen for exact simplex preservation and for
answers that do not depend on the batch: every point is integrated with the
same steps whatever else is in its batch, so a batch equals a loop and a
sweep's chunking cannot change a result):

* replicator: classical RK4 in softmax coordinates. With ``x_i = softmax(z_i)``
  the replicator is ``dz_ik/dt = v_ik(x) - x_i . v_i`` (the normaliser cancels),
  so every state is exactly a point of the product of simplices, strategies at
  0 stay at 0, and the global error is RK4's O(dt^4). Keep
  ``dt * (max payoff - min payoff)`` below about 1 (well inside RK4's
  stability region); the default ``dt = 0.02`` suits payoff ranges up to ~50
  (the four-power model spans ~22).
* logit: the exponential midpoint rule
  ``x' = e^{-dt} x + (1 - e^{-dt}) logit(lam v(x_mid))`` with
  ``x_mid = e^{-dt/2} x + (1 - e^{-dt/2}) logit(lam v(x))``: second order,
  every step a convex combination of simplex points (so exact), and its fixed
  points are exactly the rest points of the flow.

:func:`rest_points` polishes candidate points (e.g. trajectory end points) by
Newton's method on the flow within the tangent space of the product of
simplices and classifies them by the eigenvalues of the analytic Jacobian of
the flow restricted to that tangent space: ``stable`` (all real parts
< -eig_tol), ``unstable`` (some > eig_tol) or ``neutral`` (the linearisation is
inconclusive, e.g. the centre of rock-paper-scissors).

Randomness: :func:`random_starts` draws from ``numpy.random.default_rng(seed)``;
the solvers take ``seed`` and never touch NumPy's global random state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._profile import PreparedValues, cross_values, layout, softmax, split_profile, strategy_values
from ._seed import as_generator, seed_record
from ._status import STATUS
from .regret import DEFAULT_TOL, as_payoffs, payoff_scale, regret
from .result import Result, pad

__all__ = ["STABILITY", "STABILITY_NAMES", "stability_names", "random_starts", "DynamicsResult",
           "replicator", "logit_dynamics", "fictitious_play", "flow", "jacobian",
           "RestPointResult", "rest_points", "RestPointSearchResult", "rest_point_search"]

STABILITY_NAMES: tuple[str, ...] = ("stable", "unstable", "neutral")
STABILITY = {name: np.int8(code) for code, name in enumerate(STABILITY_NAMES)}

#: Default largest |flow| (per component) for a point to count as a rest point.
FLOW_TOL = 1e-8
#: Default margin on eigenvalue real parts between stable/neutral/unstable.
EIG_TOL = 1e-6


def stability_names(codes: np.ndarray) -> np.ndarray:
    """Names of stability codes.

    >>> stability_names(np.array([0, 2], dtype=np.int8)).tolist()
    ['stable', 'neutral']
    """
    return np.asarray(STABILITY_NAMES, dtype=object)[np.asarray(codes, dtype=np.intp)]


def random_starts(shape: tuple[int, ...], size: int, seed: int | np.random.SeedSequence) -> np.ndarray:
    """``size`` mixed profiles drawn uniformly from the product of simplices.

    shape : (s1, ..., sn); seed : int or SeedSequence (never the global state).
    Returns (size, s1 + ... + sn).

    >>> x = random_starts((2, 3), 4, seed=0)
    >>> x.shape, np.allclose(x[:, :2].sum(1), 1), np.allclose(x[:, 2:].sum(1), 1)
    ((4, 5), True, True)
    """
    rng = as_generator(seed, "random_starts")
    return np.concatenate([rng.dirichlet(np.ones(s), size=size) for s in shape], axis=1)


def _starts(payoffs: np.ndarray, starts, seed, where: str) -> np.ndarray:
    B = payoffs.shape[0]
    shape = payoffs.shape[2:]
    N = int(sum(shape))
    if starts is not None and seed is not None:
        raise ValueError(f"{where}(): give starts or seed, not both")
    if seed is not None:
        return random_starts(shape, B, seed)
    if starts is None:
        return np.concatenate([np.full((B, s), 1.0 / s) for s in shape], axis=1)
    x = np.array(starts, dtype=float)
    if x.shape != (B, N):
        raise ValueError(f"{where}(): starts must have shape {(B, N)}, got {x.shape}")
    blocks = split_profile(x, shape)
    if (x < 0).any() or any(not np.allclose(b.sum(axis=1), 1.0, atol=1e-9) for b in blocks):
        raise ValueError(f"{where}(): starts must be mixed profiles (blocks >= 0 summing to 1)")
    return x


@dataclass(frozen=True)
class DynamicsResult:
    """Trajectories of a learning dynamic from B starts (one game per start).

    Attributes
    ----------
    method : ``"replicator"``, ``"logit"`` or ``"fictitious_play"``
    times : (T,) the recorded times (rounds for fictitious play)
    trajectory : (B, T, s1 + ... + sn) the state at those times
    end : (B, s1 + ... + sn) the final state
    average : (B, s1 + ... + sn) the time average of the state over the run
        (for fictitious play the final empirical frequencies, i.e. ``end``)
    flow : (B,) max |dx/dt| at ``end`` (fictitious play: max |last change| x rounds)
    regret : (B,) max Nash regret of ``end`` (of ``average`` for fictitious play)
    status : (B,) int8: ``ok`` if ``end`` is a rest point within ``flow_tol`` (replicator:
        and no strategy used at the start does better there; fictitious play:
        regret within ``tol``), else ``not_converged``
    parameters : ``lam`` (logit), ``dt``, ``t_max`` (``rounds`` for fictitious play),
        ``flow_tol`` (``tol`` for fictitious play)
    """

    method: str
    times: np.ndarray
    trajectory: np.ndarray
    end: np.ndarray
    average: np.ndarray
    flow: np.ndarray
    regret: np.ndarray
    status: np.ndarray
    parameters: dict


def flow(payoffs: np.ndarray, x: np.ndarray, rule: str = "replicator", lam: float | None = None) -> np.ndarray:
    """The vector field of a dynamic at mixed profiles.

    payoffs : (B, n, s1, ..., sn); x : (B, s1 + ... + sn);
    rule : ``"replicator"`` or ``"logit"`` (then ``lam`` is required).
    Returns dx/dt, (B, s1 + ... + sn); each block sums to 0.

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> flow(pd, np.full((1, 4), 0.5)).tolist()      # cooperation shrinks
    [[-0.375, 0.375, -0.375, 0.375]]
    """
    payoffs = as_payoffs(payoffs, "flow")
    x = np.asarray(x, dtype=float)
    shape = payoffs.shape[2:]
    v = strategy_values(payoffs, x)
    xs = split_profile(x, shape)
    if rule == "replicator":
        return np.concatenate([xi * (vi - (vi * xi).sum(axis=1, keepdims=True))
                               for vi, xi in zip(v, xs)], axis=1)
    if rule == "logit":
        lam = _check_lam(lam, "flow")
        return np.concatenate([softmax(lam * vi) - xi for vi, xi in zip(v, xs)], axis=1)
    raise ValueError(f"flow(): rule must be 'replicator' or 'logit', got {rule!r}")


def _check_lam(lam, where):
    if lam is None or not np.isfinite(lam) or lam < 0:
        raise ValueError(f"{where}(): the logit dynamic needs a finite lam >= 0, got {lam!r}")
    return float(lam)


def _record_plan(n_steps: int, n_record: int) -> np.ndarray:
    return np.unique(np.linspace(0, n_steps, max(n_record, 2)).round().astype(int))


def _support_regret(payoffs, x, start):
    """Max over strategies used at the start of (value - average value), per point."""
    v = PreparedValues(payoffs)(x)
    gain = np.where(start > 0, v - layout(payoffs.shape[2:]).block_sum(x * v), -np.inf)
    return np.maximum(gain.max(axis=1), 0.0)


def _finish(method, payoffs, times, traj, end, average, fl, tol, parameters, by_regret=False,
            start=None):
    reg = regret(payoffs, average if by_regret else end).max(axis=1)
    status = np.full(len(end), STATUS["ok"], dtype=np.int8)
    bad = (reg > tol * payoff_scale(payoffs)) if by_regret else (fl > tol)
    if start is not None:
        bad |= _support_regret(payoffs, end, start) > tol
    status[bad] = STATUS["not_converged"]
    return DynamicsResult(method=method, times=times, trajectory=traj, end=end, average=average,
                          flow=fl, regret=reg, status=status, parameters=parameters)


def _integrate(advance, state, x0, to_x, n_steps: int, plan: np.ndarray):
    """Take ``n_steps`` fixed steps ``state = advance(state)`` from ``state`` (whose
    profile is ``x0: (B, K)``; ``to_x`` maps a state to its profile), recording the
    profile at the steps in ``plan``.

    Returns the trajectory ``(B, len(plan), K)``, the end profile and the time
    average of the profile (trapezoid rule).
    """
    x = x0
    traj = np.empty((len(x0), len(plan), x0.shape[1]))
    acc = np.zeros_like(x0)
    rec = 0
    for step in range(n_steps + 1):
        if rec < len(plan) and plan[rec] == step:
            traj[:, rec] = x
            rec += 1
        if step == n_steps:
            break
        state = advance(state)
        x_new = to_x(state)
        acc += 0.5 * (x + x_new)
        x = x_new
    return traj, x, acc / n_steps


def replicator(payoffs: np.ndarray, starts: np.ndarray | None = None, *, seed: int | None = None,
               t_max: float = 100.0, dt: float = 0.02, n_record: int = 101,
               flow_tol: float = FLOW_TOL) -> DynamicsResult:
    """Replicator dynamics from each start, integrated by RK4 in softmax coordinates.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    starts : (B, s1 + ... + sn) mixed profiles; default the barycentre
    seed : int, draw the starts uniformly from the product of simplices instead
    t_max : float, default 100 (time in payoff units^-1)
    dt : float, default 0.02 (see the module docstring for the stability bound)
    n_record : int, default 101 recorded states, evenly spaced in time
    flow_tol : float, default 1e-8; ``status`` is ``ok`` when max |flow(end)| <= flow_tol
        and no strategy used at the start earns more than the player's average by over
        flow_tol there. A trajectory from a start can only converge to such a point (the
        limit of a converging interior orbit is a Nash equilibrium; Weibull 1995,
        ch. 3), so an end near any other rest point means the orbit is passing it,
        e.g. the orbits of matching pennies that hug the boundary.

    Returns
    -------
    DynamicsResult

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> res = replicator(pd, t_max=50)
    >>> np.round(res.end, 6).tolist(), res.status.tolist()     # everyone defects
    ([[0.0, 1.0, 0.0, 1.0]], [0])
    """
    payoffs = as_payoffs(payoffs, "replicator")
    if not (dt > 0 and t_max > 0):
        raise ValueError(f"replicator(): dt and t_max must be > 0, got dt={dt}, t_max={t_max}")
    x0 = _starts(payoffs, starts, seed, "replicator")
    lay = layout(payoffs.shape[2:])
    values = PreparedValues(payoffs)
    with np.errstate(divide="ignore"):
        z = np.log(x0)
    n_steps = int(np.ceil(t_max / dt - 1e-9))
    plan = _record_plan(n_steps, n_record)

    def f(zz):
        xx = lay.softmax(zz)
        v = values(xx)
        return v - lay.block_sum(xx * v)

    def advance(z):
        k1 = f(z)
        k2 = f(z + 0.5 * dt * k1)
        k3 = f(z + 0.5 * dt * k2)
        k4 = f(z + dt * k3)
        z = z + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        return z - lay.block_max(z)

    traj, x, mean = _integrate(advance, z, x0, lay.softmax, n_steps, plan)
    fl = np.abs(flow(payoffs, x)).max(axis=1)
    return _finish("replicator", payoffs, plan * dt, traj, x, mean, fl, flow_tol,
                   {"dt": float(dt), "t_max": n_steps * dt, "flow_tol": float(flow_tol)}, start=x0)


def logit_dynamics(payoffs: np.ndarray, lam: float, starts: np.ndarray | None = None, *,
                   seed: int | None = None, t_max: float = 50.0, dt: float = 0.01,
                   n_record: int = 101, flow_tol: float = FLOW_TOL) -> DynamicsResult:
    """Logit (smoothed best response) dynamics ``dx/dt = logit(lam v(x)) - x``.

    Integrated by the exponential midpoint rule (module docstring). Rest points
    are the logit QRE at ``lam``.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    lam : float >= 0, the precision (raw payoff units, as Gambit's lambda)
    starts, seed, n_record : as :func:`replicator`
    t_max : float, default 50 (the flow contracts at rate 1 where lam is small)
    dt : float, default 0.01
    flow_tol : float, default 1e-8; ``ok`` when max |flow(end)| <= flow_tol

    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> res = logit_dynamics(pennies, 2.0, np.array([[0.9, 0.1, 0.2, 0.8]]))
    >>> np.round(res.end, 6).tolist(), res.status.tolist()
    ([[0.5, 0.5, 0.5, 0.5]], [0])
    """
    payoffs = as_payoffs(payoffs, "logit_dynamics")
    lam = _check_lam(lam, "logit_dynamics")
    if not (dt > 0 and t_max > 0):
        raise ValueError(f"logit_dynamics(): dt and t_max must be > 0, got dt={dt}, t_max={t_max}")
    x = _starts(payoffs, starts, seed, "logit_dynamics")
    lay = layout(payoffs.shape[2:])
    values = PreparedValues(payoffs)
    n_steps = int(np.ceil(t_max / dt - 1e-9))
    plan = _record_plan(n_steps, n_record)
    e1, e2 = np.exp(-dt), np.exp(-0.5 * dt)

    def response(xx):
        return lay.softmax(lam * values(xx))

    def advance(x):
        mid = e2 * x + (1 - e2) * response(x)
        return e1 * x + (1 - e1) * response(mid)

    traj, x, mean = _integrate(advance, x, x, lambda state: state, n_steps, plan)
    fl = np.abs(flow(payoffs, x, "logit", lam)).max(axis=1)
    return _finish("logit", payoffs, plan * dt, traj, x, mean, fl, flow_tol,
                   {"lam": lam, "dt": float(dt), "t_max": n_steps * dt, "flow_tol": float(flow_tol)})


def fictitious_play(payoffs: np.ndarray, starts: np.ndarray | None = None, *, seed: int | None = None,
                    rounds: int = 10000, n_record: int = 101, tol: float = 1e-2) -> DynamicsResult:
    """Discrete simultaneous fictitious play; the state is the empirical frequency of play.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    starts : (B, s1 + ... + sn) initial beliefs, counted as one round; default the barycentre
    seed : int, random initial beliefs instead
    rounds : int, default 10000
    n_record : recorded states, evenly spaced in rounds
    tol : float, default 1e-2; ``ok`` when the final frequencies' Nash regret is <= tol
        times the payoff scale (fictitious play converges slowly, ~ rounds^-1/2 in
        matching pennies)

    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> res = fictitious_play(pennies, rounds=10000)
    >>> bool(np.abs(res.end - 0.5).max() < 0.01), res.status.tolist()
    (True, [0])
    """
    payoffs = as_payoffs(payoffs, "fictitious_play")
    if rounds < 1:
        raise ValueError(f"fictitious_play(): rounds must be >= 1, got {rounds}")
    x = _starts(payoffs, starts, seed, "fictitious_play")
    lay = layout(payoffs.shape[2:])
    values = PreparedValues(payoffs)
    plan = _record_plan(rounds, n_record)
    traj = np.empty((len(x), len(plan), x.shape[1]))
    rec = 0
    rows = np.arange(len(x))
    change = np.zeros(len(x))
    for t in range(rounds + 1):
        if rec < len(plan) and plan[rec] == t:
            traj[:, rec] = x
            rec += 1
        if t == rounds:
            break
        v = values(x)
        br = np.zeros_like(x)
        for o, s in zip(lay.offsets[:-1], lay.shape):
            br[rows, o + np.argmax(v[:, o:o + s], axis=1)] = 1.0
        x_new = x + (br - x) / (t + 2)
        change = np.abs(x_new - x).max(axis=1)
        x = x_new
    return _finish("fictitious_play", payoffs, plan.astype(float), traj, x, x, change * rounds, tol,
                   {"rounds": int(rounds), "tol": float(tol)}, by_regret=True)


def jacobian(payoffs: np.ndarray, x: np.ndarray, rule: str = "replicator",
             lam: float | None = None) -> np.ndarray:
    """Analytic Jacobian of :func:`flow` in the ambient coordinates, (B, N, N).

    Replicator: ``dF_ik/dx_il = [k=l](v_ik - xbar_i) - x_ik v_il`` and
    ``dF_ik/dx_jl = x_ik (M_ij[k,l] - sum_m x_im M_ij[m,l])`` for j != i, where
    ``M_ij[k,l]`` is i's payoff with i at k, j at l, others at x. Logit:
    ``dF_ik/dx_il = -[k=l]`` and ``dF_ik/dx_jl = lam L_ik (M_ij[k,l] - sum_m L_im M_ij[m,l])``.

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> (jacobian(pd, np.array([[0., 1., 0., 1.]]))[0] + 0.0).tolist()    # at (Defect, Defect)
    [[-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [0.0, 0.0, 0.0, -1.0]]
    """
    payoffs = as_payoffs(payoffs, "jacobian")
    x = np.asarray(x, dtype=float)
    B, n = payoffs.shape[:2]
    shape = payoffs.shape[2:]
    N = int(sum(shape))
    off = np.concatenate([[0], np.cumsum(shape)[:-1]]).astype(int)
    v = strategy_values(payoffs, x)
    xs = split_profile(x, shape)
    lay = layout(shape)
    W = cross_values(payoffs, x, lay)[0] if n > 1 else None
    J = np.zeros((B, N, N))
    if rule == "logit":
        lam = _check_lam(lam, "jacobian")
    elif rule != "replicator":
        raise ValueError(f"jacobian(): rule must be 'replicator' or 'logit', got {rule!r}")
    for i in range(n):
        si, oi = shape[i], off[i]
        if rule == "replicator":
            xbar = (v[i] * xs[i]).sum(axis=1)
            J[:, oi:oi + si, oi:oi + si] = (np.eye(si) * (v[i] - xbar[:, None])[:, :, None]
                                            - xs[i][:, :, None] * v[i][:, None, :])
            w = xs[i]
        else:
            J[:, oi:oi + si, oi:oi + si] = -np.eye(si)
            w = softmax(lam * v[i])
        for j in range(n):
            if j == i:
                continue
            sj, oj = shape[j], off[j]
            mij = W[:, oi:oi + si, oj:oj + sj]                             # (B, si, sj)
            centred = mij - np.einsum("bm,bml->bl", w, mij)[:, None, :]
            block = w[:, :, None] * centred
            J[:, oi:oi + si, oj:oj + sj] = lam * block if rule == "logit" else block
    return J


def _tangent_basis(shape: tuple[int, ...]) -> np.ndarray:
    """Orthonormal basis (N, N - n) of the tangent space of the product of simplices."""
    N = int(sum(shape))
    cols = []
    o = 0
    for s in shape:
        if s > 1:
            a = np.zeros((s, s - 1))
            a[0, :] = -1.0
            a[1:, :] = np.eye(s - 1)
            q, _ = np.linalg.qr(a)
            blk = np.zeros((N, s - 1))
            blk[o:o + s] = q
            cols.append(blk)
        o += s
    return np.concatenate(cols, axis=1) if cols else np.zeros((N, 0))


@dataclass(frozen=True)
class RestPointResult(Result):
    """Rest points of a dynamic and their linear stability, one per candidate (the
    :mod:`~allysim.solve.result` contract with one slot per row).

    Attributes
    ----------
    method : ``"replicator"`` or ``"logit"``
    profiles : (B, 1, s1 + ... + sn) the (polished) points
    count : (B,) all 1
    flow : (B, 1) max |F(point)|
    eigenvalues : (B, 1, d) complex, d = sum(s_i - 1): eigenvalues of the Jacobian
        restricted to the tangent space of the product of simplices
    stability : (B, 1) int8 codes of :data:`STABILITY_NAMES`: ``stable`` (every
        real part < -eig_tol), ``unstable`` (some > eig_tol), ``neutral`` (else)
    regret : (B, 1) max Nash regret of each point (0 at a Nash equilibrium;
        a logit rest point is a QRE, so > 0 there)
    status : (B,) int8: ``ok`` if flow <= flow_tol, else ``not_converged``
    parameters : ``lam``, ``flow_tol``, ``eig_tol``, ``iterations``
    """

    method: str
    profiles: np.ndarray
    count: np.ndarray
    flow: np.ndarray
    eigenvalues: np.ndarray
    stability: np.ndarray
    regret: np.ndarray
    status: np.ndarray
    parameters: dict


def rest_points(payoffs: np.ndarray, points: np.ndarray, rule: str = "replicator",
                lam: float | None = None, *, flow_tol: float = FLOW_TOL, eig_tol: float = EIG_TOL,
                polish: bool = True, iterations: int = 30) -> RestPointResult:
    """Polish candidate rest points and classify their stability.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    points : (B, s1 + ... + sn) candidates, e.g. ``replicator(...).end``
    rule : ``"replicator"`` or ``"logit"`` (then ``lam``)
    flow_tol : float, default 1e-8: a rest point has max |flow| <= flow_tol
    eig_tol : float, default 1e-6: real parts within +-eig_tol count as zero
    polish : Newton steps on the flow in the tangent space, kept only while they
        reduce |flow| and stay in the product of simplices
    iterations : int, default 30, the cap on Newton steps

    Returns
    -------
    RestPointResult

    >>> rps = np.array([[[[0., -1., 1.], [1., 0., -1.], [-1., 1., 0.]],
    ...                  [[0., 1., -1.], [-1., 0., 1.], [1., -1., 0.]]]])
    >>> r = rest_points(rps, np.full((1, 6), 1 / 3))
    >>> stability_names(r.stability[:, 0]).tolist(), float(np.abs(r.eigenvalues.real).max()) < 1e-12
    (['neutral'], True)
    """
    payoffs = as_payoffs(payoffs, "rest_points")
    if rule == "logit":
        lam = _check_lam(lam, "rest_points")
    elif rule != "replicator":
        raise ValueError(f"rest_points(): rule must be 'replicator' or 'logit', got {rule!r}")
    shape = payoffs.shape[2:]
    x = np.array(points, dtype=float)
    if x.shape != (payoffs.shape[0], int(sum(shape))):
        raise ValueError(f"rest_points(): points must have shape {(payoffs.shape[0], int(sum(shape)))}, "
                         f"got {x.shape}")
    P = _tangent_basis(shape)
    F = flow(payoffs, x, rule, lam)
    size = np.abs(F).max(axis=1)
    if polish:
        for _ in range(iterations):
            live = np.flatnonzero(size > 1e-3 * flow_tol)
            if not len(live):
                break
            J = jacobian(payoffs[live], x[live], rule, lam)
            JT = np.einsum("ni,bnm,mj->bij", P, J, P)
            rhs = F[live] @ P
            step = np.einsum("ni,bi->bn", P, np.einsum("bij,bj->bi", np.linalg.pinv(JT), rhs))
            cand = x[live] - step
            cand = np.concatenate([np.clip(b, 0.0, None) / np.clip(b, 0.0, None).sum(axis=1, keepdims=True)
                                   for b in split_profile(cand, shape)], axis=1)
            Fc = flow(payoffs[live], cand, rule, lam)
            sc = np.abs(Fc).max(axis=1)
            better = sc < size[live]
            if not better.any():
                break
            rows = live[better]
            x[rows], F[rows], size[rows] = cand[better], Fc[better], sc[better]
    J = jacobian(payoffs, x, rule, lam)
    JT = np.einsum("ni,bnm,mj->bij", P, J, P)
    eig = np.linalg.eigvals(JT) if JT.shape[1] else np.zeros((len(x), 0), dtype=complex)
    top = eig.real.max(axis=1) if eig.shape[1] else np.full(len(x), -np.inf)
    stability = np.full(len(x), STABILITY["neutral"], dtype=np.int8)
    stability[top < -eig_tol] = STABILITY["stable"]
    stability[top > eig_tol] = STABILITY["unstable"]
    status = np.where(size <= flow_tol, STATUS["ok"], STATUS["not_converged"]).astype(np.int8)
    return RestPointResult(method=rule, profiles=x[:, None, :], count=np.ones(len(x), dtype=np.int64),
                           flow=size[:, None], eigenvalues=eig[:, None], stability=stability[:, None],
                           regret=regret(payoffs, x).max(axis=1)[:, None], status=status,
                           parameters={"lam": lam, "flow_tol": float(flow_tol),
                                       "eig_tol": float(eig_tol), "iterations": int(iterations)})


@dataclass(frozen=True)
class RestPointSearchResult(Result):
    """Where the replicator dynamics lead from several starts: the distinct rest points
    reached in each of B games (the :mod:`~allysim.solve.result` contract).

    Attributes
    ----------
    profiles : (B, M, s1 + ... + sn) the rest points reached, canonical order
        (descending lexicographic), NaN padding
    count : (B,) how many distinct rest points the trajectories reached
    regret : (B, M) max Nash regret (0 at a Nash equilibrium)
    stability : (B, M) int8 codes of :data:`STABILITY_NAMES`, -1 padding
    max_eigenvalue : (B, M) the largest real part of the tangent Jacobian's eigenvalues
    basin : (B, M) how many of the starts ended there
    nash : (B, M) bool, regret within ``tol`` of the payoff scale
    moving : (B,) trajectories still moving at ``t_max`` (cycling, or passing slowly
        near a rest point that is not Nash); they are not in ``profiles``
    average : (B, K, s1 + ... + sn) each start's time average (for the moving ones)
    end : (B, K, s1 + ... + sn) each start's state at ``t_max``
    starts : (K, s1 + ... + sn) the starts, the same for every game
    status : (B,) ``ok`` when every trajectory reached a rest point, else
        ``not_converged``
    parameters : ``n_starts``, ``seed``, ``t_max``, ``dt``, ``flow_tol``, ``tol``
    method : ``"replicator"``
    """

    profiles: np.ndarray
    count: np.ndarray
    regret: np.ndarray
    stability: np.ndarray
    max_eigenvalue: np.ndarray
    basin: np.ndarray
    nash: np.ndarray
    moving: np.ndarray
    average: np.ndarray
    end: np.ndarray
    starts: np.ndarray
    status: np.ndarray
    parameters: dict
    method: str = "replicator"


#: Rest points reached from two starts are one if they differ by at most this (max abs).
SAME_REST_POINT = 1e-6


def rest_point_search(payoffs: np.ndarray, *, n_starts: int = 9, seed=0, t_max: float = 100.0,
                      dt: float = 0.02, flow_tol: float = FLOW_TOL,
                      tol: float = DEFAULT_TOL) -> RestPointSearchResult:
    """Run the replicator dynamics from the barycentre and ``n_starts - 1`` random starts
    (the same for every game, drawn from ``seed``), polish where each trajectory ends
    into a rest point, and list each game's distinct rest points with their stability.

    A trajectory that is still moving at ``t_max``, or that only passes near a rest
    point that is not a Nash equilibrium, is counted in ``moving`` and not listed.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    n_starts : int, default 9 (the barycentre and 8 random starts)
    seed : the random starts' seed (see :mod:`allysim.solve._seed`)
    t_max, dt, flow_tol : as :func:`replicator`
    tol : float, default 1e-9: ``nash`` when the regret is within tol x payoff scale

    Returns
    -------
    RestPointSearchResult

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> res = rest_point_search(pd, t_max=40)
    >>> res.count.tolist(), np.round(res.equilibria(0), 6).tolist(), stability_names(res.stability[0]).tolist()
    ([1], [[0.0, 1.0, 0.0, 1.0]], ['stable'])
    """
    payoffs = as_payoffs(payoffs, "rest_point_search")
    if not (isinstance(n_starts, (int, np.integer)) and n_starts >= 1):
        raise ValueError(f"rest_point_search(): n_starts must be an integer >= 1, got {n_starts!r}")
    B = payoffs.shape[0]
    shape = payoffs.shape[2:]
    lay = layout(shape)
    bary = np.concatenate([np.full(s, 1.0 / s) for s in shape])[None, :]
    starts = np.concatenate([bary, random_starts(shape, n_starts - 1, seed)]) if n_starts > 1 else bary
    K = len(starts)
    uu = np.repeat(payoffs, K, axis=0)
    rep = replicator(uu, np.tile(starts, (B, 1)), t_max=t_max, dt=dt, flow_tol=flow_tol)
    rp = rest_points(uu, rep.end, flow_tol=flow_tol)
    arrived = ((rep.status == STATUS["ok"]) & (rp.status == STATUS["ok"])).reshape(B, K)
    points = rp.profiles[:, 0].reshape(B, K, lay.size)
    game, which = np.nonzero(arrived)
    # Group each game's arrivals within SAME_REST_POINT (first arrival represents).
    rep_of = np.full((B, K), -1)
    for b, k in zip(game.tolist(), which.tolist()):
        for j in range(k):
            if rep_of[b, j] == j and np.abs(points[b, j] - points[b, k]).max() <= SAME_REST_POINT:
                rep_of[b, k] = j
                break
        else:
            rep_of[b, k] = k
    heads_b, heads_k = np.nonzero(rep_of == np.arange(K))
    basin = np.array([(rep_of[b] == k).sum() for b, k in zip(heads_b, heads_k)], dtype=np.int64)
    # Canonical order per game: descending lexicographic in the rounded profile.
    prof = points[heads_b, heads_k]
    order = np.lexsort(tuple(-np.round(prof, 9).T[::-1]) + (heads_b,))
    heads_b, heads_k, basin, prof = heads_b[order], heads_k[order], basin[order], prof[order]
    rows = heads_b * K + heads_k
    profiles, count = pad(heads_b, prof, B)
    reg = pad(heads_b, rp.regret[rows, 0], B)[0]
    top = np.where(rp.eigenvalues.shape[2] > 0,
                   rp.eigenvalues[rows, 0].real.max(axis=1, initial=-np.inf), -np.inf)
    scale = payoff_scale(payoffs)
    return RestPointSearchResult(
        profiles=profiles, count=count, regret=reg,
        stability=pad(heads_b, rp.stability[rows, 0].astype(np.int8), B, fill=-1)[0].astype(np.int8),
        max_eigenvalue=pad(heads_b, top, B)[0], basin=pad(heads_b, basin, B, fill=0)[0].astype(np.int64),
        nash=pad(heads_b, rp.regret[rows, 0] <= tol * scale[heads_b], B, fill=False)[0].astype(bool),
        moving=(~arrived).sum(axis=1).astype(np.int64), average=rep.average.reshape(B, K, lay.size),
        end=rep.end.reshape(B, K, lay.size), starts=starts,
        status=np.where(arrived.all(axis=1), STATUS["ok"], STATUS["not_converged"]).astype(np.int8),
        parameters={"n_starts": int(n_starts), "seed": seed_record(seed), "t_max": float(t_max),
                    "dt": float(dt), "flow_tol": float(flow_tol), "tol": float(tol)})
