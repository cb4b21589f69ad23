"""Logit quantal response equilibria on the principal branch, batched over games.

The maths
---------
A logit QRE at precision ``lam >= 0`` (McKelvey & Palfrey 1995) is a mixed
profile ``p`` in which each player i plays strategy k with probability
proportional to ``exp(lam * v_ik(p))``, ``v_ik(p)`` being k's expected payoff
against the others' mixed strategies. ``lam`` multiplies raw payoffs, as in
Gambit, so it is in inverse payoff units: doubling every payoff halves the
``lam`` at which the same profile is reached. Adding to a player's payoffs
anything that does not depend on its own strategy changes nothing.

Coordinates: for each player, the log-odds of every strategy against the
player's first strategy, ``r_ik = log(p_ik / p_i0)`` for k >= 1, so that
``p_i = softmax(0, r_i)`` is always a probability vector. With
R = sum(s_i - 1) unknowns, a QRE solves::

    F(r, lam) = r_ik - lam * (v_ik(p) - v_i0(p)) = 0          (R equations)

At ``lam = 0`` the unique solution is the uniform profile ``r = 0``; the
solutions connected to it form the *principal branch* (Turocy 2005, GEB 51),
a smooth curve in ``(r, lam)`` that converges as ``lam -> inf`` to one Nash
equilibrium, the logit selection (:mod:`allysim.solve.logit_trace`). The curve
may turn back in ``lam`` (a fold) before going on, so it is followed by
arclength, not by ``lam``, as Gambit's ``logit`` does (Gambit works in
log-probabilities with sum-to-one equations; the curve is the same).

The method
----------
The branch is followed by pseudo-arclength continuation
(:mod:`allysim.solve._continuation`), every game of the batch at once; the first
crossing of each requested ``lam`` is polished by Newton on ``F(r, lam) = 0``
(R x R) and certified by its residual, computed independently by
:func:`allysim.solve.strategy_values`. Games with a lambda left without a
certified QRE are traced again with small, careful steps.

Branch points
-------------
In symmetric or tied games (chicken, battle of the sexes, anti-coordination
games, payoff ties in a sweep) the principal branch can meet a *branch point*,
where other branches of QREs cross it: a determinant sign change that persists
down to tiny steps, or the singular point of a uniform ray (a game in which
every player is indifferent at the uniform profile; :mod:`._continuation`). Past
it the principal branch is not unique. allysim follows the *generic* branch: the
one that the principal branch of every slightly perturbed game runs beside, the
perturbation being the first player's precision raised by a factor ``1 + eps``
(``eps -> 0``; plus, where that selects nothing, a small bonus to one strategy).
This is the branch Gambit's tracer selects (it lowers every other player's
precision), it never continues "straight" along the symmetric branch (no
perturbation selects that), and it depends on the game alone: the same in any
batch and on either backend. At ``lam`` exactly at a branch point the QRE is the
branch point itself, returned exactly (the polish accepts ``F = 0`` where ``F_r``
is singular). A limitation: a branch point is found by the sign change it causes
along a step, so two closer together than one step cancel and go unnoticed; the
answer then stays on the symmetric branch, with status ``ok`` (seen in one of
720 random symmetric games, whose two branch points were about 0.1 apart in
lambda).

Statuses per lambda: ``ok``, a certified QRE on a principal branch that has met
no branch point before ``lam``; ``bifurcation``, a certified QRE on the generic
branch past ``branch_points[b, l] >= 1`` branch points (a definite, reproducible
answer, but other branches leave the principal one there: in a symmetric game
one of a mirror pair); ``not_converged``, no certified QRE (the step cap was hit,
the curve could not be followed or the polish failed; the profile is NaN).

Backends: with ``backend="numba"`` (``"auto"`` when numba is installed and the
batch has at least :data:`~allysim.solve._logit_pairs.AUTO_NUMBA_MIN` games) the
per-game work of a step (the corrector iterations with their bordered solves,
the polish, the strategy values) runs in compiled loops over the games
(:mod:`allysim.solve._logit_numba`); the step control, bookkeeping and the
independent residual check stay shared. The NumPy path is the reference: the
two agree to about 1e-12 in probabilities (their sums run in different orders),
and each is independent of the batch bit for bit.

Performance (four-power model, lambda = 1.5, about 15 Jacobian evaluations per
game): NumPy ~170 us per game in a batch of thousands, numba ~55 us
(pygambit's ``logit_solve_lambda``: ~13-20 ms); see ``benchmarks/bench_qre.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._continuation import _Settings, _qre_check, _run_targets
from ._logit_pairs import _Batch, _kernels, _probs
from ._status import STATUS, status_names  # noqa: F401  (status_names: doctests)
from .regret import as_payoffs
from .result import Result

#: Default tolerance of a QRE: max |p - logit response to p| (probability units).
DEFAULT_QRE_TOL = 1e-10



@dataclass(frozen=True)
class LogitQREResult(Result):
    """Logit QREs of B games at L precisions, on the principal branch (the
    :mod:`~allysim.solve.result` contract: one slot per requested lambda).

    Attributes
    ----------
    lambdas : ndarray of float, shape (L,)
        The requested precisions, in the caller's order.
    profiles : ndarray of float, shape (B, L, s1 + ... + sn)
        The QRE at each lambda (player blocks in order); NaN where no certified
        QRE was found.
    count : ndarray of int64, shape (B,)
        L (the slots of ``profiles``; see ``lambda_status`` for which hold a QRE).
    lambda_status : ndarray of int8, shape (B, L)
        ``ok``; ``bifurcation``: a certified QRE on the generic branch past one or
        more branch points (module docstring: the principal branch is not unique
        there); ``not_converged``: the step cap was hit, the curve could not be
        followed or the polish failed (profile NaN).
    status : ndarray of int8, shape (B,)
        The worst of ``lambda_status`` over the lambdas: ``not_converged`` if any,
        else ``bifurcation`` if any, else ``ok``.
    branch_points : ndarray of int64, shape (B, L)
        Branch points the branch passed before each lambda (0 where
        ``lambda_status`` is ``ok`` or ``not_converged``).
    residual : ndarray of float, shape (B, L)
        max |p - logit response to p|, <= residual_tol wherever a profile is given.
    regret : ndarray of float, shape (B, L)
        Max regret (payoff units) of each QRE as an approximate Nash
        equilibrium; it shrinks as lambda grows.
    steps : ndarray of int64, shape (B,)
        Continuation steps tried per game (accepted and rejected, both passes).
    backend : ``"numba"`` or ``"numpy"``, the path that computed the result.
    parameters : ``residual_tol``, ``max_steps``, ``first_step``, ``max_accel``, ``backend``
    method : ``"logit_qre"``
    """

    lambdas: np.ndarray
    profiles: np.ndarray
    count: np.ndarray
    lambda_status: np.ndarray
    status: np.ndarray
    branch_points: np.ndarray
    residual: np.ndarray
    regret: np.ndarray
    steps: np.ndarray
    backend: str
    parameters: dict
    method: str = "logit_qre"


def _check_settings(where, tol, max_steps, first_step, max_accel, name="residual_tol"):
    if not (isinstance(tol, (int, float, np.floating)) and tol > 0):
        raise ValueError(f"{where}(): {name} must be a number > 0, got {tol!r}")
    if not (isinstance(max_steps, (int, np.integer)) and max_steps >= 1):
        raise ValueError(f"{where}(): max_steps must be an integer >= 1, got {max_steps!r}")
    if not (first_step > 0 and np.isfinite(first_step)):
        raise ValueError(f"{where}(): first_step must be > 0, got {first_step!r}")
    if not (max_accel > 1 and np.isfinite(max_accel)):
        raise ValueError(f"{where}(): max_accel must be > 1, got {max_accel!r}")


def _qre_pass(payoffs, batch, targets, st, tol):
    """One pass of :func:`logit_qre` over sorted targets: probabilities ``(b, T, K)``,
    residual, regret, status, branch points ``(b, T)`` and steps ``(b,)``."""
    b = payoffs.shape[0]
    lay = batch.lay
    n_t = targets.size
    scale = np.ptp(payoffs.reshape(b, -1), axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    r_found, reached, via_branch, stuck, steps = _run_targets(batch, b, targets, st, scale)
    flat = r_found.reshape(b * n_t, lay.r)
    good = np.isfinite(flat).all(axis=1)
    probs = np.full((b * n_t, lay.k), np.nan)
    resid = np.full(b * n_t, np.nan)
    reg = np.full(b * n_t, np.nan)
    if good.any():
        game = np.repeat(np.arange(b), n_t)[good]
        probs[good] = _probs(flat[good], lay)
        resid[good], reg[good] = _qre_check(payoffs[game], probs[good], np.tile(targets, b)[good])
    probs, resid, reg = probs.reshape(b, n_t, lay.k), resid.reshape(b, n_t), reg.reshape(b, n_t)
    certified = np.isfinite(resid) & (resid <= tol)
    probs[~certified] = np.nan
    status = np.full((b, n_t), STATUS["not_converged"], dtype=np.int8)
    status[certified] = STATUS["ok"]
    status[certified & (via_branch > 0)] = STATUS["bifurcation"]
    return probs, resid, reg, status, np.where(certified, via_branch, 0), steps


def logit_qre(payoffs: np.ndarray, lambdas, *, residual_tol: float = DEFAULT_QRE_TOL,
              max_steps: int = 1000,
              first_step: float = 1.0, max_accel: float = 3.0,
              backend: str = "auto") -> LogitQREResult:
    """Logit QREs on the principal branch at given precisions, for a batch of games.

    Follows the branch from the uniform profile at lambda = 0 by
    pseudo-arclength continuation (all games at once, one adaptive step per
    game) and polishes its first crossing of each requested lambda by Newton's
    method. Games whose quick pass ends in anything but ``ok`` are traced once
    more with small, careful steps. No Python loop runs over games.

    Parameters
    ----------
    payoffs : ndarray of float, shape (B, n, s1, ..., sn)
    lambdas : float or sequence of L floats >= 0
        Precisions on raw payoffs (as in Gambit's ``logit_solve_lambda``).
    residual_tol : float, default 1e-10
        A profile is returned only if max |p - logit response to p| <= residual_tol
        (probability units).
    max_steps : int, default 1000
        Cap on continuation steps per game and pass.
    first_step : float, default 1.0
        Arclength of the first step (in log-odds and lambda).
    max_accel : float, default 3.0
        Largest growth factor of the step from one step to the next.
    backend : {"auto", "numba", "numpy"}, default "auto"
        ``"numba"`` runs the per-game work (corrector steps, polish) in compiled
        kernels (the ``fast`` extra); ``"numpy"`` is the reference path;
        ``"auto"`` takes numba when it is importable. The two agree to about
        1e-12 in probabilities (not bit for bit); each is independent of the
        batch bit for bit.

    Returns
    -------
    LogitQREResult
        ``profiles: (B, L, s1 + ... + sn)``, ``lambda_status: (B, L)``,
        ``status: (B,)``, ``branch_points: (B, L)``, residuals, regrets and steps.

    Examples
    --------
    Matching pennies: the QRE is uniform at every lambda.

    >>> pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    >>> res = logit_qre(pennies, [0.0, 2.0])
    >>> np.round(res.profiles[0], 6).tolist()
    [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]

    Prisoner's dilemma: Defect gains 2 (or 1) whatever the other does, so at
    lambda = 1 each player defects with probability well above 1/2.

    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
    >>> res = logit_qre(pd, 1.0)
    >>> round(float(res.profiles[0, 0, 1]), 4), status_names(res.status).tolist()  # as Gambit
    (0.7732, ['ok'])

    Battle of the sexes (Nau 2004, sec. 3): the symmetric branch meets a branch
    point near lambda = 0.81; past it allysim follows the generic branch, towards
    (Top, Left), as Gambit does, and says that it passed a branch point.

    >>> bos = np.array([[[[3., 0.], [0., 2.]], [[2., 0.], [0., 3.]]]])
    >>> res = logit_qre(bos, [0.5, 1.0])
    >>> np.round(res.profiles[0], 4).tolist(), status_names(res.lambda_status[0]).tolist()
    ([[0.5384, 0.4616, 0.4616, 0.5384], [0.8833, 0.1167, 0.8048, 0.1952]], ['ok', 'bifurcation'])
    >>> res.branch_points.tolist()
    [[0, 1]]
    """
    payoffs = as_payoffs(payoffs, "logit_qre")
    lams = np.atleast_1d(np.asarray(lambdas, dtype=float))
    if lams.ndim != 1 or lams.size == 0:
        raise ValueError(f"logit_qre(): lambdas must be a number or a 1-d sequence, got {lambdas!r}")
    if not np.all(np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError(f"logit_qre(): lambdas must be finite and >= 0, got {lams.tolist()}")
    tol = residual_tol
    _check_settings("logit_qre", tol, max_steps, first_step, max_accel)
    kern = _kernels("logit_qre", backend, payoffs.shape[0])
    used = "numpy" if kern is None else "numba"
    st = _Settings(first_step=float(first_step), max_accel=float(max_accel), max_steps=int(max_steps))
    k, b = int(sum(payoffs.shape[2:])), payoffs.shape[0]
    parameters = {"residual_tol": float(tol), "max_steps": int(max_steps),
                  "first_step": float(first_step), "max_accel": float(max_accel), "backend": backend}
    if b == 0:
        return LogitQREResult(lambdas=lams, profiles=np.zeros((0, lams.size, k)),
                              count=np.zeros(0, dtype=np.int64),
                              lambda_status=np.zeros((0, lams.size), dtype=np.int8),
                              status=np.zeros(0, dtype=np.int8),
                              branch_points=np.zeros((0, lams.size), dtype=np.int64),
                              residual=np.zeros((0, lams.size)), regret=np.zeros((0, lams.size)),
                              steps=np.zeros(0, dtype=np.int64), backend=used,
                              parameters=parameters)
    order = np.argsort(lams, kind="stable")
    targets = lams[order]
    batch = _Batch.of(payoffs, kern)
    probs, resid, reg, status, branch, steps = _qre_pass(payoffs, batch, targets, st, tol)
    missing = STATUS["not_converged"]
    retry = np.flatnonzero((status == missing).any(axis=1))
    if retry.size:
        again = _qre_pass(payoffs[retry], batch.take(retry), targets, st.careful(), tol)
        better = (again[3] != missing).sum(axis=1) > (status[retry] != missing).sum(axis=1)
        take = retry[better]
        for full, part in zip((probs, resid, reg, status, branch), again[:5]):
            full[take] = part[better]
        steps[retry] += again[5]
    back = np.argsort(order)
    lambda_status = status[:, back]
    return LogitQREResult(lambdas=lams, profiles=probs[:, back],
                          count=np.full(b, lams.size, dtype=np.int64),
                          lambda_status=lambda_status, status=worst_status(lambda_status),
                          branch_points=branch[:, back], residual=resid[:, back],
                          regret=reg[:, back], steps=steps, backend=used, parameters=parameters)


def worst_status(codes: np.ndarray) -> np.ndarray:
    """Per game ``(B,)``, the worst of its statuses ``codes: (B, L)``: ``not_converged``
    (some lambda has no QRE), else ``bifurcation`` (some QRE is past a branch point),
    else ``ok``."""
    out = codes.max(axis=1, initial=STATUS["ok"]).astype(np.int8)
    out[(codes == STATUS["not_converged"]).any(axis=1)] = STATUS["not_converged"]
    return out
