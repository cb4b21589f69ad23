"""Logit QREs at and past branch points of the principal branch, on the peers' test games.

Symmetric or tied games (Nau 2004 sec. 3, Shapley 1974 fig. 3 = Gambit's ``sh3``,
``deg1``, ``non_const_sum_game``, QuantEcon's anti-coordination games, allysim's
``chicken``) have branch points: past one, allysim follows the *generic* branch,
the one the principal branch of a slightly perturbed game follows (the first player
infinitesimally more precise: Gambit's convention), with status ``bifurcation`` and
a count in ``branch_points`` (see :mod:`allysim.solve.logit_qre`).

References, per game (the table ``CASES``):

* ``pygambit.qre.logit_solve_lambda`` on the game itself, wherever Gambit's tracer
  is on the generic branch (it agrees to 1e-8 or better; Nau's sec. 3 at lambda = 10
  to 1e-15);
* where it is not (it stays on a uniform ray, where its own perturbation cannot
  act, or it gets stuck at the branch point, or it jumps), the *referee*: Gambit on
  the game whose players after the first have payoffs x (1 - 1e-6), which has no
  branch point and whose principal branch is the generic one (``REFEREE``; within
  its 1e-6 perturbation); where Gambit's default steps jump even there (Shapley's
  fig. 3 past its second branch point), its small-step trace of that game.

Counts in the default run: 9 games, 5 lambdas each, both backends; 9 limits against
``logit_solve`` or the referee; the branch points exactly; batch = loop.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pygambit as gbt
import pytest
import quantecon.game_theory as qe

from allysim import load_model
from allysim.solve import STATUS, logit_qre, logit_trace, status_names, verify
from allysim.solve._continuation import _qre_check

LAMS = [0.5, 1.0, 2.0, 3.0, 10.0]
BACKENDS = ("numpy", "numba")
REFEREE = 1e-6   # relative perturbation of the referee game


# ----------------------------------------------------------------------------- the games

#: Gambit's contrib/games/sh3.nfg (Shapley 1974, Wilson's example), contrib/games/deg1.nfg and
#: tests/test_games/non_const_sum_game.nfg, verbatim.
SH3 = ('NFG 1 D "Wilson\'s example of inaccessible equilibria (Shapley, 1974, Math Prog Stud)" '
       '{ "Player 1" "Player 2" }\n\n{ { "1" "2" "3" }\n{ "1" "2" "3" }\n}\n\n'
       '0.000000 0.000000 2.000000 3.000000 3.000000 0.000000 3.000000 2.000000 2.000000 2.000000 '
       '0.000000 0.000000 0.000000 3.000000 0.000000 0.000000 1.000000 1.000000\n')
DEG1 = ('NFG 1 R "Degenerate 3x3 game 1" { "Player 1" "Player 2" }\n\n{ { "1" "2" "3" }\n'
        '{ "1" "2" "3" }\n}\n""\n\n{\n{ "" 1, 1 }\n{ "" 2, 3 }\n{ "" 3, 2 }\n{ "" 3, 2 }\n'
        '{ "" 2, 2 }\n{ "" 1, 2 }\n{ "" 2, 3 }\n{ "" 2, 1 }\n{ "" 2, 2 }\n}\n1 2 3 4 5 6 7 8 9 \n')
NON_CONST_SUM = ('NFG 1 R "Test non-constant sum game" { "Player 1" "Player 2" }\n\n'
                 '{ { "1" "2" }\n{ "1" "2" }\n}\n""\n\n{\n{ "_1" 1, 1 }\n{ "_2" 0, 0 }\n'
                 '{ "_3" 1, 1 }\n{ "_4" 1, 1 }\n}\n1 2 3 4\n')


def arrays(game: gbt.Game) -> np.ndarray:
    """allysim's payoffs ``(1, n, s1, ..., sn)`` of a pygambit strategic game."""
    return np.stack([np.asarray(a, dtype=float) for a in game.to_arrays()])[None]


def anti_coordination(n: int, v: float = 2.0) -> np.ndarray:
    """QuantEcon's anti-coordination game (``tests/test_mclennan_tourky.py``): action 0
    pays 1, action 1 pays ``v`` if nobody else plays 1, else 0. Built with QuantEcon's
    own classes; its payoff arrays put a player's own action first."""
    arr = np.empty((2,) * n)
    arr[0, :] = 1
    arr[1, :] = 0
    arr[1].flat[0] = v
    g = qe.NormalFormGame((qe.Player(arr),) * n)
    own_first = [np.asarray(p.payoff_array, dtype=float) for p in g.players]
    # Player i's array is indexed (a_i, a_{i+1}, ..., a_{i-1}); allysim's by (a_1, ..., a_n).
    return np.stack([np.moveaxis(a, list(range(n)), [(i + k) % n for k in range(n)])
                     for i, a in enumerate(own_first)])[None]


def chicken() -> np.ndarray:
    model = load_model("chicken")
    return model.payoffs(model.defaults)


@dataclass(frozen=True)
class Case:
    """A game with branch points and what Gambit does on it.

    build : the payoffs ``(1, n, s1, ..., sn)``
    gambit_lams : the lambdas of ``LAMS`` at which Gambit's own tracer is on the generic
        branch (elsewhere it stays on a uniform ray, is stuck or jumps; and at a branch
        point itself it returns its 1e-7 perturbation, not the exact QRE)
    limit : what ``logit_solve``'s limit is: ``"gambit"`` the generic selection,
        ``"referee"`` only for the referee game, ``"ray"`` the uniform profile (it stops at
        lambda 0), ``"fine"`` only for the referee game traced in small steps
    ray : lambda of the uniform ray's branch point, or None
    """

    build: Callable[[], np.ndarray]
    gambit_lams: tuple[float, ...]
    limit: str
    ray: float | None = None


CASES = {
    "nau2004/sec3": Case(lambda: arrays(gbt.catalog.load("journals/ijgt/nau2004/sec3")),
                         tuple(LAMS), "gambit"),
    "shapley1974/fig3": Case(lambda: arrays(gbt.catalog.load("journals/other/shapley1974/fig3")),
                             (0.5, 1.0, 2.0, 3.0), "fine"),
    "sh3": Case(lambda: arrays(gbt.read_nfg(io.StringIO(SH3))), (0.5, 1.0, 2.0, 3.0), "fine"),
    "deg1": Case(lambda: arrays(gbt.read_nfg(io.StringIO(DEG1))), (0.5, 1.0, 2.0), "ray", 3.0),
    "non_const_sum_game": Case(lambda: arrays(gbt.read_nfg(io.StringIO(NON_CONST_SUM))),
                               tuple(LAMS), "gambit"),
    "anti_coordination N=2": Case(lambda: anti_coordination(2), (0.5, 1.0), "ray", 2.0),
    "anti_coordination N=3": Case(lambda: anti_coordination(3), tuple(LAMS), "gambit"),
    "anti_coordination N=4": Case(lambda: anti_coordination(4), tuple(LAMS), "gambit"),
    "chicken": Case(chicken, (), "referee"),
}


def gambit_qre(u: np.ndarray, lam: float, referee: bool = False) -> np.ndarray:
    """pygambit's principal-branch QRE of one game ``u: (n, ...)`` at ``lam``, of the game
    itself or of the referee game (every player but the first a little less precise)."""
    if referee:
        u = np.concatenate([u[:1], u[1:] * (1 - REFEREE)])
    g = gbt.Game.from_arrays(*[u[i] for i in range(u.shape[0])])
    q = gbt.qre.logit_solve_lambda(g, lam=[float(lam)])[0]
    return np.array([float(q.profile[s]) for s in g.strategies])


def gambit_fine_referee(u: np.ndarray, lam: float) -> np.ndarray:
    """The referee game's branch traced by pygambit in small steps (first step 2e-4,
    growth 1.005), at its first crossing of ``lam`` (linear interpolation)."""
    u = np.concatenate([u[:1], u[1:] * (1 - REFEREE)])
    g = gbt.Game.from_arrays(*[u[i] for i in range(u.shape[0])])
    branch = gbt.qre.logit_solve_branch(g, first_step=2e-4, max_accel=1.005, maxregret=1e-5)
    lams = np.array([q.lam for q in branch])
    probs = np.array([[float(q.profile[s]) for s in g.strategies] for q in branch])
    m = int(np.flatnonzero(lams >= lam)[0])
    w = (lam - lams[m - 1]) / (lams[m] - lams[m - 1])
    return probs[m - 1] + w * (probs[m] - probs[m - 1])


def gambit_limit(u: np.ndarray, referee: bool = False) -> np.ndarray:
    if referee:
        u = np.concatenate([u[:1], u[1:] * (1 - REFEREE)])
    g = gbt.Game.from_arrays(*[u[i] for i in range(u.shape[0])])
    eq = gbt.nash.logit_solve(g).equilibria[0]
    return np.array([float(eq[s]) for s in g.strategies])


# ----------------------------------------------------------------------------- QREs

def test_sh3_is_shapley_fig3():
    assert np.array_equal(CASES["sh3"].build(), CASES["shapley1974/fig3"].build())


def test_nau_sec3_at_lambda_10_equals_gambit():
    """Issue 14 item 3: past its branch point (near lambda 0.81) battle of the sexes goes to
    (Top, Left), as Gambit's tracer goes; at lambda = 10 the two agree to rounding
    (observed 1.1e-16)."""
    u = CASES["nau2004/sec3"].build()
    ref = gambit_qre(u[0], 10.0)
    for be in BACKENDS:
        res = logit_qre(u, [0.5, 10.0], backend=be)
        assert status_names(res.lambda_status[0]).tolist() == ["ok", "bifurcation"]
        assert res.branch_points[0].tolist() == [0, 1]
        assert np.abs(res.profiles[0, 1] - ref).max() <= 1e-12
        assert res.profiles[0, 1, 0] > 0.999 and res.profiles[0, 1, 2] > 0.999   # Top, Left


@pytest.mark.parametrize("name", list(CASES))
def test_agrees_with_gambit_on_the_generic_branch(name):
    """Every listed game at five lambdas, both backends: certified QREs; ``ok`` before the
    first branch point and ``bifurcation`` after it; equal to Gambit's where Gambit's
    tracer is on the generic branch (1e-8) and to the referee elsewhere (Gambit on the
    game perturbed by 1e-6; its small-step trace where its default steps jump)."""
    case = CASES[name]
    u = case.build()
    results = [logit_qre(u, LAMS, backend=be) for be in BACKENDS]
    a, b = results
    assert np.array_equal(a.lambda_status, b.lambda_status)
    assert np.array_equal(a.branch_points, b.branch_points)
    assert np.abs(a.profiles - b.profiles).max() <= 1e-10
    st = a.lambda_status[0]
    assert set(st.tolist()) <= {STATUS["ok"], STATUS["bifurcation"]}
    assert ((st == STATUS["bifurcation"]) == (a.branch_points[0] > 0)).all()
    assert (np.diff(a.branch_points[0]) >= 0).all()       # once past, always past
    assert (a.residual[0] <= 1e-10).all()
    for li, lam in enumerate(LAMS):
        p = a.profiles[0, li]
        if lam in case.gambit_lams:
            assert np.abs(gambit_qre(u[0], lam) - p).max() <= 1e-8, (name, lam)
            continue
        ref = gambit_qre(u[0], lam, referee=True)
        if np.abs(ref - p).max() > 1e-5:
            ref = gambit_fine_referee(u[0], lam)
            assert np.abs(ref - p).max() <= 1e-2, (name, lam)
        else:
            assert np.abs(ref - p).max() <= 1e-5, (name, lam)


@pytest.mark.parametrize("name", ["deg1", "anti_coordination N=2", "chicken"])
def test_where_gambit_is_not_on_the_generic_branch(name):
    """Where allysim and Gambit differ past a branch point, Gambit's answer is the branch
    point's non-generic continuation: the uniform ray, which Gambit's own perturbation
    (of a sum-to-one equation) cannot leave, because every player is indifferent there
    (deg1, anti-coordination N=2); or a point where it got stuck, not a QRE at lambda
    (chicken)."""
    u = CASES[name].build()
    ours = logit_qre(u, 10.0).profiles[0, 0]
    theirs = gambit_qre(u[0], 10.0)
    assert np.abs(ours - theirs).max() > 0.3
    residual, _ = _qre_check(u, theirs[None], np.array([10.0]))
    uniform = np.concatenate([np.full(s, 1.0 / s) for s in u.shape[2:]])
    assert residual[0] > 1e-3 or np.abs(theirs - uniform).max() <= 1e-6


@pytest.mark.parametrize("name", ["deg1", "anti_coordination N=2"])
def test_exact_qre_at_a_branch_point(name):
    """At lambda exactly at a uniform ray's branch point (anti-coordination N=2 at 2, deg1
    at 3) the QRE is the uniform profile, returned exactly (before: not_converged)."""
    u, lam = CASES[name].build(), CASES[name].ray
    uniform = np.concatenate([np.full(s, 1.0 / s) for s in u.shape[2:]])
    for be in BACKENDS:
        res = logit_qre(u, [lam, lam + 1.0], backend=be)
        assert status_names(res.lambda_status[0]).tolist() == ["ok", "bifurcation"]
        assert np.array_equal(res.profiles[0, 0], uniform)
        assert res.residual[0, 0] == 0.0
        assert np.abs(res.profiles[0, 1] - uniform).max() > 0.05   # and off the ray past it


def test_choice_is_the_same_in_any_batch():
    """Branch points of several games in one batch, mixed with generic games: each game's
    answer and statuses are those it gets alone, bit for bit, on either backend."""
    two = [CASES[k].build() for k in ("nau2004/sec3", "non_const_sum_game", "anti_coordination N=2",
                                    "chicken")]
    rng = np.random.default_rng(14)
    u = np.concatenate(two + [rng.normal(size=(4, 2, 2, 2)),
                              rng.integers(-2, 3, size=(4, 2, 2, 2)).astype(float)])
    u[-4:, 1] = np.swapaxes(u[-4:, 0], 1, 2)   # symmetric integer games: more branch points
    for be in BACKENDS:
        whole, lim = logit_qre(u, [0.7, 2.0, 5.0], backend=be), logit_trace(u, backend=be)
        assert (whole.lambda_status == STATUS["bifurcation"]).sum() >= 8
        for i in range(len(u)):
            one, one_lim = logit_qre(u[i:i + 1], [0.7, 2.0, 5.0], backend=be), logit_trace(
                u[i:i + 1], backend=be)
            for f in ("profiles", "lambda_status", "branch_points", "residual", "steps"):
                assert np.array_equal(getattr(one, f)[0], getattr(whole, f)[i], equal_nan=True)
            for f in ("profiles", "status", "branch_points", "lambda_reached", "steps"):
                assert np.array_equal(getattr(one_lim, f)[0], getattr(lim, f)[i], equal_nan=True)


def test_payoff_scale_does_not_change_the_choice():
    """The branch followed is the same for the game with payoffs x 1000 (at lambda / 1000)."""
    for name in ("nau2004/sec3", "chicken", "anti_coordination N=2"):
        u = CASES[name].build()
        a, b = logit_qre(u, [3.0, 10.0]), logit_qre(1000.0 * u, [0.003, 0.01])
        assert np.array_equal(a.lambda_status, b.lambda_status)
        assert np.abs(a.profiles - b.profiles).max() <= 1e-8


# ----------------------------------------------------------------------------- limits

@pytest.mark.parametrize("name", list(CASES))
def test_limit_is_the_generic_selection(name):
    """The trace to the limit: a certified equilibrium; status ``bifurcation`` exactly where
    the branch passed a branch point; equal to ``logit_solve``'s limit where Gambit's trace
    is on the generic branch (1e-6: Gambit stops at regret 1e-8 x range), else to the
    referee's (1e-3), but for the uniform rays, where ``logit_solve`` stops at lambda 0
    (the uniform profile has regret 0) and allysim goes on past the ray's branch point."""
    case = CASES[name]
    u = case.build()
    res = [logit_trace(u, backend=be) for be in BACKENDS]
    for r in res:
        assert verify(u, r.profiles[:, 0], r.parameters["tol"]).all()
        assert (r.status == STATUS["bifurcation"]).tolist() == (r.branch_points > 0).tolist()
    assert np.array_equal(res[0].status, res[1].status)
    p = res[0].profiles[0, 0]
    if case.limit in ("gambit", "referee"):
        assert np.abs(gambit_limit(u[0], referee=case.limit == "referee") - p).max() <= 1e-6
    elif case.limit == "ray":
        uniform = np.concatenate([np.full(s, 1.0 / s) for s in u.shape[2:]])
        assert np.abs(gambit_limit(u[0]) - uniform).max() <= 1e-9
        assert res[0].lambda_reached[0] > case.ray and res[0].status[0] == STATUS["bifurcation"]
    else:   # Shapley's fig. 3: past its second branch point Gambit's default steps jump
        assert np.abs(p - np.array([0, 0, 1, 0, 0, 1])).max() <= 1e-9
        assert np.abs(gambit_fine_referee(u[0], 8.0) - p).max() <= 1e-2


def test_limit_of_anti_coordination_is_pure():
    """QuantEcon's anti-coordination game (N=2): every player is indifferent at the uniform
    profile, but the branch leaves it at lambda 2; the selection is a pure equilibrium,
    one of a mirror pair (status ``bifurcation``), not the mixed one."""
    res = logit_trace(CASES["anti_coordination N=2"].build())
    assert status_names(res.status).tolist() == ["bifurcation"] and res.branch_points.tolist() == [1]
    assert sorted(np.round(res.profiles[0, 0], 9).tolist()) == [0.0, 0.0, 1.0, 1.0]
