"""Paths with hysteresis: follow the equilibrium the game is in as one parameter drifts.

:func:`follow_path` moves a parameter from ``start`` to ``stop`` in ``steps`` equal
steps (and, with ``back``, returns the same way) and keeps the game in one solution:

``pure``
    The game stays in its pure equilibrium as long as that profile remains an
    equilibrium (within ``tol`` times the payoff scale). When it stops being one,
    **best-response dynamics** run from it: the player with the most to gain
    switches to its best reply (the first in strategy order on a tie), until no
    one gains (a new equilibrium) or a profile repeats (a best-response cycle: no
    equilibrium is reached, and the next step starts from where the cycle was left).
    Where the old equilibrium vanishes is located by bisection to ``xtol`` between
    the two steps. The start: ``start_profile`` if given (dynamics run from it if it
    is not an equilibrium there), else the logit selection (``qre-limit``) at the
    start when it is pure, else the first pure equilibrium in canonical order.
``qre``
    The logit QRE at ``lambda``: the start is the principal branch's QRE; at each
    next value **logit dynamics** run from the previous QRE (``dx/dt = logit(lambda
    v(x)) - x``, :func:`allysim.solve.logit_dynamics`) and their end is polished by
    Newton's method on the tangent space of the simplices, so the game stays on its
    QRE branch while that branch exists and is stable, and falls to another one
    when it folds. Every QRE is certified by its residual; its stability is the sign
    of the flow Jacobian's eigenvalues there. A step whose QRE moves by more than
    :data:`JUMP` in some probability is a jump; the regime is the modal profile
    (each player's likeliest strategy).

Hysteresis: where the forward and the backward path sit in different solutions at
the same parameter value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..solve import logit_dynamics, logit_qre, logit_trace, pure_nash, pure_regret
from ..solve._profile import logit_residual
from ..solve.dynamics import _tangent_basis, flow, jacobian
from ..solve.regret import payoff_scale
from ._outcome import support_name

#: A QRE step that moves some probability by more than this is reported as a jump.
JUMP = 0.1
#: Bisection tolerance of a vanishing pure equilibrium, as a fraction of the path's range.
XTOL = 1e-7


@dataclass(frozen=True)
class PathStep:
    """One point of a path: its direction (``forward``/``back``), index, parameter value,
    the state (a mixed profile ``(S,)``, NaN when no equilibrium is held), its name, what
    happened (``start``, ``stay``, ``moved``, ``cycle``, ``follow``, ``jump``) and details
    (pure: the dynamics' path of profiles and the pure equilibria at this value; qre:
    residual, stability)."""

    direction: str
    k: int
    x: float
    state: np.ndarray
    name: str
    event: str
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """A regime change on a path: between ``x_from`` and ``x_to`` (``at``: where the old
    solution stops being one, when located), from one named solution to another."""

    direction: str
    x_from: float
    x_to: float
    before: str
    after: str
    how: str
    at: float | None = None
    via: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"direction": self.direction, "between": [self.x_from, self.x_to], "at": self.at,
                "from": self.before, "to": self.after, "how": self.how, "via": list(self.via)}


@dataclass(frozen=True)
class PathResult:
    """A path: its steps (forward then back), the regime changes and the hysteresis
    intervals ``(x_lo, x_hi, forward name, back name)``."""

    parameter: str
    start: float
    stop: float
    solver: str
    options: dict
    steps: tuple[PathStep, ...]
    changes: tuple[Change, ...]
    hysteresis: tuple[tuple[float, float, str, str], ...]
    start_note: str

    def to_json(self) -> dict:
        return {"parameter": self.parameter, "from": self.start, "to": self.stop,
                "solver": self.solver, "options": self.options, "start": self.start_note,
                "changes": [c.to_json() for c in self.changes],
                "hysteresis": [{"between": [a, b], "forward": f, "back": g}
                               for a, b, f, g in self.hysteresis],
                "steps": [{"direction": s.direction, "step": s.k, "x": s.x, "solution": s.name,
                           "event": s.event, "state": [float(v) for v in s.state],
                           **{k: v for k, v in s.detail.items() if k != "path"}}
                          for s in self.steps]}


def _grid(model, base, col: int, xs: np.ndarray) -> np.ndarray:
    pts = np.repeat(np.asarray(base, dtype=float)[None], len(xs), axis=0)
    pts[:, col] = xs
    return pts


def _offsets(shape) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(shape)[:-1]]).astype(int)


def _one_hot(profile, shape) -> np.ndarray:
    out = np.zeros(int(sum(shape)))
    out[_offsets(shape) + np.asarray(profile)] = 1.0
    return out


# ----------------------------------------------------------------------------- pure

def _is_equilibrium(payoffs: np.ndarray, profile, tol: float) -> np.ndarray:
    """(B,) whether ``profile`` is a pure equilibrium of each game ``(B, n, *S)``."""
    prof = np.repeat(np.asarray(profile, dtype=np.intp)[None], len(payoffs), axis=0)
    return pure_regret(payoffs, prof).max(axis=1) <= tol * payoff_scale(payoffs)


def best_response_dynamics(payoffs: np.ndarray, profile, tol: float,
                           max_moves: int | None = None) -> tuple[list[tuple[int, ...]], bool]:
    """Best-response dynamics in one game ``(1, n, *S)`` from ``profile``: the player
    with the largest regret (the first on a tie) switches to its best reply (the first
    in strategy order on a tie). Returns the profiles visited (the start first) and
    whether the last is an equilibrium (False: a profile repeated, a cycle).

    >>> import numpy as np
    >>> pd = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])  # prisoner's dilemma
    >>> best_response_dynamics(pd, (0, 0), 1e-9)
    ([(0, 0), (1, 0), (1, 1)], True)
    """
    shape = payoffs.shape[2:]
    n = len(shape)
    scale = float(payoff_scale(payoffs)[0])
    visited = [tuple(int(a) for a in profile)]
    seen = {visited[0]}
    max_moves = max_moves or int(np.prod(shape)) + 1
    for _ in range(max_moves):
        cur = visited[-1]
        reg = pure_regret(payoffs, np.asarray(cur)[None])[0]
        if reg.max() <= tol * scale:
            return visited, True
        i = int(np.argmax(reg))
        index = (0, i) + tuple(slice(None) if j == i else cur[j] for j in range(n))
        nxt = list(cur)
        nxt[i] = int(np.argmax(payoffs[index]))
        nxt = tuple(nxt)
        if nxt in seen:
            visited.append(nxt)
            return visited, False
        seen.add(nxt)
        visited.append(nxt)
    return visited, False


def _locate(model, base, col, profile, lo: float, hi: float, tol: float, xtol: float) -> float:
    """Bisect between ``lo`` (``profile`` an equilibrium) and ``hi`` (not) to ``xtol``."""
    while abs(hi - lo) > xtol:
        mid = 0.5 * (lo + hi)
        ok = _is_equilibrium(model.payoffs(_grid(model, base, col, np.array([mid]))), profile, tol)[0]
        lo, hi = (mid, hi) if ok else (lo, mid)
    return 0.5 * (lo + hi)


def _pure_path(model, base, col, legs, options, start_profile, xtol):
    tol = options["tol"]
    shape = model.shape
    name = lambda prof: "none" if prof is None else "/".join(  # noqa: E731
        model.strategies[i][a] for i, a in enumerate(prof))
    steps, changes = [], []
    state = None
    note = ""
    last = None                      # where the dynamics left off (after a cycle)
    for direction, xs in legs:
        payoffs = model.payoffs(_grid(model, base, col, xs))
        eqs = pure_nash(payoffs, tol=tol)
        for k, x in enumerate(xs.tolist()):
            game = payoffs[k:k + 1]
            here = [name(p) for p in eqs.pure_profiles(k).tolist()]
            detail = {"equilibria": here}
            if state is None and not steps:
                state, note = _pure_start(model, game, eqs, k, start_profile, tol)
                if state is not None and not _is_equilibrium(game, state, tol)[0]:
                    visited, ok = best_response_dynamics(game, state, tol)
                    note += f"; not an equilibrium there, best-response dynamics lead to {name(visited[-1]) if ok else 'a cycle'}"
                    state, last = (visited[-1], None) if ok else (None, visited[-1])
                steps.append(PathStep(direction, k, x, _state(state, shape), name(state), "start",
                                      detail))
                continue
            if state is not None and _is_equilibrium(game, state, tol)[0]:
                steps.append(PathStep(direction, k, x, _state(state, shape), name(state), "stay",
                                      detail))
                continue
            origin = state if state is not None else last
            prev_x = steps[-1].x
            at = _locate(model, base, col, state, prev_x, x, tol, xtol) if state is not None else None
            visited, ok = best_response_dynamics(game, origin if origin is not None else
                                                 (0,) * len(shape), tol)
            detail["path"] = [name(p) for p in visited]
            new = visited[-1] if ok else None
            last = None if ok else visited[-1]
            moves = len(visited) - 1
            how = (f"best-response dynamics, {moves} move{'s' * (moves != 1)}" if ok else
                   f"best-response dynamics cycle through {moves} profiles")
            if name(new) != name(state):
                changes.append(Change(direction, prev_x, x, name(state), name(new), how, at,
                                      tuple(detail["path"])))
            state = new
            steps.append(PathStep(direction, k, x, _state(state, shape), name(state),
                                  "moved" if ok else "cycle", detail))
    return steps, changes, note


def _state(profile, shape) -> np.ndarray:
    return np.full(int(sum(shape)), np.nan) if profile is None else _one_hot(profile, shape)


def _pure_start(model, game, eqs, k, start_profile, tol):
    """The starting profile and a note saying how it was chosen."""
    here = eqs.pure_profiles(k)
    label = lambda p: "/".join(model.strategies[i][a] for i, a in enumerate(p))  # noqa: E731
    if start_profile is not None:
        return tuple(start_profile), f"given: {label(start_profile)}"
    if not len(here):
        visited, ok = best_response_dynamics(game, (0,) * len(model.shape), tol)
        return (tuple(visited[-1]) if ok else None,
                "no pure equilibrium at the start; best-response dynamics from the first "
                f"profile {'reach ' + label(visited[-1]) if ok else 'cycle'}")
    sel = logit_trace(game, tol=tol)
    prof = sel.profiles[0, 0]
    pure = np.isfinite(prof).all() and np.isin(prof, (0.0, 1.0)).all()
    if pure:
        choice = tuple(int(np.argmax(prof[o:o + s])) for o, s in zip(_offsets(model.shape), model.shape))
        if any(tuple(p) == choice for p in here.tolist()):
            return choice, ("the only pure equilibrium there" if len(here) == 1 else
                            f"the logit selection (qre-limit) at the start, one of {len(here)} "
                            "pure equilibria")
    first = tuple(int(a) for a in here[0])
    return first, (f"the first of {len(here)} pure equilibria in canonical order (the logit "
                   "selection at the start is not pure)")


# ----------------------------------------------------------------------------- qre

def _polish_qre(game: np.ndarray, x: np.ndarray, lam: float, basis: np.ndarray,
                iters: int = 30) -> tuple[np.ndarray, bool]:
    """Newton on ``logit(lam v(x)) - x = 0`` in the tangent space from ``x: (S,)``."""
    x = x.copy()
    for _ in range(iters):
        f = flow(game, x[None], "logit", lam)[0]
        if np.abs(f).max() <= 1e-13:
            return x, True
        J = jacobian(game, x[None], "logit", lam)[0]
        try:
            dz = np.linalg.solve(basis.T @ J @ basis, -(basis.T @ f))
        except np.linalg.LinAlgError:
            return x, False
        nxt = x + basis @ dz
        if not np.isfinite(nxt).all() or nxt.min() <= 0:
            return x, False
        x = nxt
    return x, False


def _stability(game, x, lam, basis) -> str:
    J = jacobian(game, x[None], "logit", lam)[0]
    ev = np.linalg.eigvals(basis.T @ J @ basis)
    return "stable" if ev.real.max() < 0 else "unstable"


def _modal(model, p: np.ndarray) -> str:
    return "/".join(ss[int(np.argmax(p[o:o + len(ss)]))]
                    for o, ss in zip(_offsets(model.shape), model.strategies))


def _qre_path(model, base, col, legs, options, residual_tol):
    lam = float(options["lambda"][0])
    basis = _tangent_basis(model.shape)
    steps, changes = [], []
    state = None
    for direction, xs in legs:
        payoffs = model.payoffs(_grid(model, base, col, xs))
        for k, x in enumerate(xs.tolist()):
            game = payoffs[k:k + 1]
            if state is None:
                res = logit_qre(game, [lam], residual_tol=residual_tol)
                p = res.profiles[0, 0]
                event = "start"
                ok = bool(np.isfinite(p).all())
            else:
                # Newton from the previous QRE stays on its branch while the branch goes on
                # nearby and stable; otherwise the logit dynamics decide where the game goes.
                p, ok = _polish_qre(game, state, lam, basis)
                if not (ok and np.abs(p - state).max() <= JUMP
                        and _stability(game, p, lam, basis) == "stable"):
                    p, ok = state, False
                    for t_max in (100.0, 1000.0):
                        p = logit_dynamics(game, lam, p[None], t_max=t_max, dt=0.05,
                                           n_record=2).end[0]
                        p, ok = _polish_qre(game, p, lam, basis)
                        if ok:
                            break
                moved = float(np.abs(p - state).max())
                event = "jump" if moved > JUMP else "follow"
            resid = float(logit_residual(game, p[None], np.array([lam]))[0]) if ok else math.nan
            detail = {"residual": resid,
                      "stability": _stability(game, p, lam, basis) if ok else "unknown",
                      "modal": _modal(model, p)}
            if not ok:
                detail["status"] = "not_converged"
            if steps:
                prev = steps[-1]
                if detail["modal"] != prev.detail["modal"] or event == "jump":
                    how = ("logit dynamics jumped (max |dp| "
                           f"{np.abs(p - prev.state).max():.3f}): the QRE branch folded"
                           if event == "jump" else "the QRE moved continuously")
                    changes.append(Change(direction, prev.x, x, prev.detail["modal"],
                                          detail["modal"], how))
            steps.append(PathStep(direction, k, x, p, support_name(model, p), event, detail))
            state = p
    return steps, changes, f"the principal-branch logit QRE at lambda {lam:g}"


# ----------------------------------------------------------------------------- both

def follow_path(model, base: np.ndarray, parameter: str, start: float, stop: float, *,
                steps: int = 100, back: bool = False, solver: str = "pure",
                options: dict | None = None, start_profile=None,
                xtol: float | None = None) -> PathResult:
    """Follow the solution the game is in from ``parameter = start`` to ``stop`` (and
    back, with ``back``) in ``steps`` equal steps; see the module docstring.

    Parameters
    ----------
    model, base : a compiled model and the other parameters' values ``(P,)``
    solver : ``"pure"`` (options ``tol``) or ``"qre"`` (options ``lambda``, one value,
        and ``residual_tol``), as resolved by the concept
    start_profile : pure only, strategy indices ``(n,)`` to start from
    xtol : pure only, where a vanishing equilibrium stops is located to this (default
        ``1e-7 * |stop - start|``)
    """
    if solver not in ("pure", "qre"):
        raise InputError(f"--solver {solver}: path follows 'pure' (best-response dynamics) or "
                         "'qre' (logit dynamics)")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise InputError(f"--steps {steps!r}: expected a whole number >= 1")
    if start == stop:
        raise InputError(f"--from and --to: both {start:g}; expected two different values")
    col = model.parameter_index(parameter)
    options = dict(options or {})
    xs = np.linspace(start, stop, steps + 1)
    legs = [("forward", xs)] + ([("back", xs[::-1][1:])] if back else [])
    if solver == "pure":
        if start_profile is not None and len(start_profile) != model.n_players:
            raise InputError("--start: expected a strategy for every player")
        xtol = XTOL * abs(stop - start) if xtol is None else float(xtol)
        out, changes, note = _pure_path(model, base, col, legs, options, start_profile, xtol)
    else:
        if start_profile is not None:
            raise InputError("--start: only for --solver pure (a QRE path starts on the "
                             "principal branch)")
        if len(options.get("lambda", [])) != 1:
            raise InputError("--lambda: a QRE path takes one value")
        out, changes, note = _qre_path(model, base, col, legs, options, options["residual_tol"])
    return PathResult(parameter, float(start), float(stop), solver, options, tuple(out),
                      tuple(changes), _hysteresis(out), note)


def _hysteresis(steps) -> tuple[tuple[float, float, str, str], ...]:
    """Intervals of x where the forward and the back path hold different solutions."""
    fwd = {s.x: s for s in steps if s.direction == "forward"}
    back = {s.x: s for s in steps if s.direction == "back"}
    if not back:
        return ()
    xs = sorted(set(fwd) & set(back))
    out: list[list] = []
    for x in xs:
        f, b = fwd[x], back[x]
        qre = "modal" in f.detail
        differ = float(np.abs(f.state - b.state).max()) > JUMP if qre else f.name != b.name
        if differ:
            label = (f.detail.get("modal", f.name), b.detail.get("modal", b.name))
            if out and out[-1][4] == xs.index(x) - 1 and (out[-1][2], out[-1][3]) == label:
                out[-1][1], out[-1][4] = x, xs.index(x)
            else:
                out.append([x, x, label[0], label[1], xs.index(x)])
    return tuple((a, b, f, g) for a, b, f, g, _ in out)
