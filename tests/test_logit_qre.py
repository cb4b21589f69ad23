"""Logit QRE (allysim.solve.logit_qre) cross-checked against pygambit, with properties
and the comparative statics of MODEL.md.

References: ``pygambit.qre.logit_solve_lambda(game, lam=[...])`` (QRE on the
principal branch at given lambdas; called once per lambda) and
``pygambit.nash.logit_solve(game)`` (the branch's limit, stopped at max regret
<= 1e-8 x payoff range). Both trace the same curve as allysim from the uniform
profile at lambda = 0, with lambda on raw payoffs.

Counts in the default run: 30 scenario points (10 scenarios x 3 lambdas), 60
random four-power points, 60 random 4-player 3x3x3x3 points, 120 random 2-player
points and 1 subgame point against ``logit_solve_lambda``, all within 1e-6
(observed: 2e-7 at most, usually 1e-9); 10 scenarios, 30 random four-power points, 15
random 4-player and 20 random 2-player games against ``logit_solve``. Games with branch
points (symmetric or tied) are in tests/test_logit_branch_points.py. ``-m slow`` adds 1800 random
4-player and 4500 random 2-player points. Every cross-check runs both backends
(``numba`` and ``numpy``) against the same pygambit answers, and the backends are
compared with each other on the ten scenarios and on 1010 random 2-, 3- and
4-player games (to 1e-10; observed 1e-14).

Near a fold of the branch, where two QREs at one lambda lie close together,
pygambit's default steps can jump to another leg of the curve (once in 4500
random 2-player points while this file was written: 0.29 away from allysim,
whose answer pygambit's own small-step trace confirms). The slow tests referee
every mismatch with that small-step trace and count them.
"""
from __future__ import annotations


import json

import numpy as np
import pygambit as gbt
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allysim import list_scenarios, load_model, load_scenario
from allysim.cli import main
from allysim.solve import (STATUS, logit_qre, logit_trace, payoff_scale, pure_nash, regret,
                           split_profile,
                           strategy_values, verify)
from allysim.solve._logit_pairs import AUTO_NUMBA_MIN
from tests.strategies import payoff_arrays, random_points


SEED = 1995  # McKelvey & Palfrey
AGREE = 1e-6  # max abs probability difference to pygambit
BACKENDS = ("numpy", "numba")  # both paths are cross-checked against pygambit
BACKEND_AGREE = 1e-10  # max abs probability difference between the two paths
PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- helpers

def gambit_game(u: np.ndarray) -> gbt.Game:
    return gbt.Game.from_arrays(*[np.asarray(u[i], dtype=float) for i in range(u.shape[0])])


def gambit_qre(u: np.ndarray, lams) -> np.ndarray:
    """pygambit's principal-branch QREs of one game ``u: (n, s1, ..., sn)``: ``(L, K)``.

    One call per lambda: given several, pygambit goes on from each answer to the
    next with its step-size state, and can land on another branch (seen once in
    1800 points: 0.44 apart, while its single-lambda call agrees with allysim).
    """
    g = gambit_game(u)
    out = []
    for lam in lams:
        q = gbt.qre.logit_solve_lambda(g, lam=[float(lam)])[0]
        out.append([float(q.profile[s]) for s in g.strategies])
    return np.array(out)


def gambit_limit(u: np.ndarray) -> tuple[np.ndarray, float]:
    """pygambit's logit_solve limit of one game and its max regret."""
    g = gambit_game(u)
    eq = gbt.nash.logit_solve(g).equilibria[0]
    return np.array([float(eq[s]) for s in g.strategies]), float(eq.max_regret())


def gambit_fine_crossing(u: np.ndarray, lam: float) -> np.ndarray:
    """The first crossing of ``lam`` by pygambit's own trace of the branch with small
    steps (``logit_solve_branch``, first step 5e-4, growth 1.01), linearly interpolated
    between its two points around ``lam``: a referee good to about 1e-2."""
    g = gambit_game(u)
    branch = gbt.qre.logit_solve_branch(g, first_step=5e-4, max_accel=1.01)
    lams = np.array([q.lam for q in branch])
    probs = np.array([[float(q.profile[s]) for s in g.strategies] for q in branch])
    m = int(np.flatnonzero(lams >= lam)[0])
    w = (lam - lams[m - 1]) / (lams[m] - lams[m - 1])
    return probs[m - 1] + w * (probs[m] - probs[m - 1])


def compare(u_batch: np.ndarray, lams, referee: bool = False):
    """Our QREs vs pygambit's on every game of ``u_batch: (B, n, ...)``.

    Returns (points compared, max difference, points where pygambit left the branch).
    A difference above AGREE fails unless ``referee`` and pygambit's own small-step
    trace of the branch crosses ``lam`` next to our answer (within 1e-2) and away
    from its default answer (more than 5e-2): near a fold, pygambit's default steps
    can jump to another leg of the curve.

    Both backends are compared with the same pygambit answers (``count`` counts
    the points once).
    """
    results = [logit_qre(u_batch, lams, backend=be) for be in BACKENDS]
    for res in results:
        assert (res.lambda_status == STATUS["ok"]).all(), (res.backend, res.lambda_status)
    worst, jumps, count = 0.0, 0, 0
    for b in range(u_batch.shape[0]):
        ref = gambit_qre(u_batch[b], lams)
        for li, lam in enumerate(lams):
            count += 1
            jumped = False
            for res in results:
                diff = float(np.abs(ref[li] - res.profiles[b, li]).max())
                if diff <= AGREE:
                    worst = max(worst, diff)
                    continue
                assert referee, (res.backend, b, lam, diff)
                fine = gambit_fine_crossing(u_batch[b], lam)
                assert np.abs(fine - res.profiles[b, li]).max() <= 1e-2, (res.backend, b, lam, diff)
                assert np.abs(fine - ref[li]).max() > 5e-2, (res.backend, b, lam, diff)
                jumped = True
            jumps += jumped
    return count, worst, jumps


def uniform(shape) -> np.ndarray:
    return np.concatenate([np.full(s, 1.0 / s) for s in shape])


# ----------------------------------------------------------------------------- cross-checks with pygambit

def test_scenarios_agree_with_gambit():
    """All ten four-power scenarios at lambda 0.5, 1.5, 3: 30 points, max diff <= 1e-6."""
    u = np.concatenate([load_scenario(n).model.payoffs(load_scenario(n).point)
                        for n in list_scenarios()])
    assert u.shape == (10, 4, 3, 3, 3, 3)
    count, worst, _ = compare(u, [0.5, 1.5, 3.0])
    assert count == 30 and worst <= AGREE


def test_random_four_power_points_agree_with_gambit():
    """30 random in-range four-power points at lambda 0.5 and 1.5."""
    model = load_model("four-power")
    u = model.payoffs(random_points(model, np.random.default_rng(SEED), 30))
    count, worst, _ = compare(u, [0.5, 1.5])
    assert count == 60 and worst <= AGREE


def test_random_four_player_games_agree_with_gambit():
    """30 random 4-player 3x3x3x3 games (normal payoffs, sd 3) at lambda 1.5 and 3."""
    u = np.random.default_rng(SEED + 1).normal(scale=3.0, size=(30, 4, 3, 3, 3, 3))
    count, worst, _ = compare(u, [1.5, 3.0])
    assert count == 60 and worst <= AGREE


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (2, 5), (4, 4)])
def test_random_two_player_games_agree_with_gambit(shape):
    """10 random 2-player games per shape at lambda 0.5, 1.5, 5 (120 points in all)."""
    u = np.random.default_rng(SEED + sum(shape)).normal(scale=3.0, size=(10, 2) + shape)
    count, worst, _ = compare(u, [0.5, 1.5, 5.0])
    assert count == 30 and worst <= AGREE


def test_subgame_with_fixed_players_agrees_with_gambit():
    """Players with one strategy (``--fix``) take no log-odds; the 2x3 remainder still agrees."""
    s = load_scenario("baseline-2018")
    u = s.model.payoffs(s.point)[:, :, :, :, 1:2, 1:2]  # China SLICE, NorthKorea FREEZE
    count, worst, _ = compare(u, [1.5])
    assert count == 1 and worst <= AGREE


@pytest.mark.slow
def test_many_random_four_player_games_agree_with_gambit():
    """600 random 4-player games at lambda 0.5, 1.5, 3 (1800 points)."""
    u = np.random.default_rng(SEED + 2).normal(scale=3.0, size=(600, 4, 3, 3, 3, 3))
    count, worst, jumps = compare(u, [0.5, 1.5, 3.0], referee=True)
    assert count == 1800 and worst <= AGREE and jumps <= 5


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (3, 5), (5, 5), (2, 4)])
def test_many_random_two_player_games_agree_with_gambit(shape):
    """300 random 2-player games per shape at lambda 0.5, 1.5, 3 (4500 points in all)."""
    u = np.random.default_rng(SEED + 3 + sum(shape)).normal(scale=3.0, size=(300, 2) + shape)
    count, worst, jumps = compare(u, [0.5, 1.5, 3.0], referee=True)
    assert count == 900 and worst <= AGREE and jumps <= 5


def _check_limits(u: np.ndarray, tol: float):
    results = [logit_trace(u, backend=be) for be in BACKENDS]
    for res in results:
        assert (res.status == STATUS["ok"]).all()
        assert verify(u, res.profiles[:, 0], res.parameters["tol"]).all()
        assert np.allclose(res.regret[:, 0], regret(u, res.profiles[:, 0]).max(axis=1))
    worst = 0.0
    for b in range(u.shape[0]):
        ref, ref_regret = gambit_limit(u[b])
        assert ref_regret <= 1e-8 * np.ptp(u[b]) * 1.01
        for res in results:
            worst = max(worst, float(np.abs(ref - res.profiles[b, 0]).max()))
    # pygambit stops at regret <= 1e-8 x payoff range, so its profile is only near the limit.
    assert worst <= tol
    return worst


def test_trace_limits_agree_with_gambit_on_scenarios():
    """The ten scenarios' limit equilibria: certified, and within 1e-4 of logit_solve's
    (observed: 1e-5)."""
    u = np.concatenate([load_scenario(n).model.payoffs(load_scenario(n).point)
                        for n in list_scenarios()])
    _check_limits(u, 1e-4)


def test_trace_limits_agree_with_gambit_on_random_four_power_points():
    """The selection at 30 random in-range four-power points: certified, status ``ok``
    (generic payoffs: no branch point), within 1e-4 of logit_solve (observed 4e-5)."""
    model = load_model("four-power")
    u = model.payoffs(random_points(model, np.random.default_rng(SEED + 14), 30))
    _check_limits(u, 1e-4)


def test_trace_limits_agree_with_gambit_on_random_games():
    """15 random 4-player and 20 random 2-player (4x4) games: within 1e-3 of logit_solve
    (its stopping rule leaves slowly converging branches up to ~3e-4 short of the limit)."""
    rng = np.random.default_rng(SEED + 4)
    _check_limits(rng.normal(scale=3.0, size=(15, 4, 3, 3, 3, 3)), 1e-3)
    _check_limits(rng.normal(scale=3.0, size=(20, 2, 4, 4)), 1e-3)


# ----------------------------------------------------------------------------- properties

def test_lambda_zero_is_uniform():
    rng = np.random.default_rng(SEED + 5)
    for shape in [(2, 2), (3, 3, 3, 3), (2, 4, 3), (5, 1, 2)]:
        u = rng.normal(size=(4, len(shape)) + shape)
        res = logit_qre(u, [0.0, 1.0])
        assert (res.lambda_status == STATUS["ok"]).all()
        assert np.array_equal(res.profiles[:, 0], np.tile(uniform(shape), (4, 1)))


@PROPS
@given(payoff_arrays(max_batch=3))
def test_lambda_zero_is_uniform_property(u):
    res = logit_qre(u, 0.0)
    assert np.abs(res.profiles[:, 0] - uniform(u.shape[2:])).max() <= 1e-15


@PROPS
@given(payoff_arrays(min_batch=2, max_batch=4, integer=False), st.floats(0.1, 4.0))
def test_batch_equals_loop(u, lam):
    """Bit for bit: a game's answer does not depend on the batch it is solved in."""
    batch = logit_qre(u, [lam, 2 * lam])
    for b in range(u.shape[0]):
        one = logit_qre(u[b:b + 1], [lam, 2 * lam])
        for name in ("profiles", "lambda_status", "status", "residual", "regret", "steps"):
            assert np.array_equal(getattr(one, name)[0], getattr(batch, name)[b], equal_nan=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_composition_changes_no_bit(backend):
    """Chunks of 1, 7 and all: identical QREs and limits (sweeps are reproducible bit
    for bit whatever the chunk size), on either backend."""
    model = load_model("four-power")
    u = model.payoffs(random_points(model, np.random.default_rng(SEED + 10), 42))
    whole = logit_qre(u, [0.5, 1.5], backend=backend)
    limit = logit_trace(u, backend=backend)
    for size in (1, 7):
        parts = [logit_qre(u[i:i + size], [0.5, 1.5], backend=backend) for i in range(0, 42, size)]
        lims = [logit_trace(u[i:i + size], backend=backend) for i in range(0, 42, size)]
        for name in ("profiles", "lambda_status", "status", "residual", "regret", "steps"):
            assert np.array_equal(getattr(whole, name), np.concatenate([getattr(r, name) for r in parts]))
        for name in ("profiles", "regret", "status", "lambda_reached", "qre_profiles", "steps"):
            assert np.array_equal(getattr(limit, name), np.concatenate([getattr(r, name) for r in lims]))


@PROPS
@given(payoff_arrays(min_batch=2, max_batch=4, integer=False), st.floats(0.1, 4.0))
def test_batch_equals_loop_numpy_backend(u, lam):
    """As above, on the NumPy reference path (the default is the compiled one when numba
    is installed)."""
    batch = logit_qre(u, [lam, 2 * lam], backend="numpy")
    for b in range(u.shape[0]):
        one = logit_qre(u[b:b + 1], [lam, 2 * lam], backend="numpy")
        for name in ("profiles", "lambda_status", "status", "residual", "regret", "steps"):
            assert np.array_equal(getattr(one, name)[0], getattr(batch, name)[b], equal_nan=True)


# ----------------------------------------------------------------------------- backends

def assert_backends_agree(u: np.ndarray, lams, generic: bool = True) -> tuple[int, float]:
    """The numba and NumPy paths on the games ``u``: the same statuses and NaN patterns,
    probabilities within BACKEND_AGREE, for the QREs at ``lams`` and (for ``generic``
    games, without payoff ties) for the trace to the limit. Returns (points compared,
    max difference).

    With ties (``generic=False``) a game may have a continuum of equilibria; its
    trace then runs to lambda ~ 1e8 or more, where rounding moves the answer (seen:
    1e-9 to 2e-4 between the paths, and once ``ok`` against ``bifurcation`` after
    776 steps): there both paths' limits must only be certified equilibria.
    """
    a, b = (logit_qre(u, lams, backend=be) for be in BACKENDS)
    assert (a.backend, b.backend) == BACKENDS
    assert np.array_equal(a.lambda_status, b.lambda_status)
    assert np.array_equal(np.isnan(a.profiles), np.isnan(b.profiles))
    worst = float(np.nanmax(np.abs(a.profiles - b.profiles), initial=0.0))
    assert worst <= BACKEND_AGREE, worst
    ta, tb = (logit_trace(u, backend=be) for be in BACKENDS)
    for res in (ta, tb):  # ``bifurcation`` may also mean the trace stopped at a branch point
        ok = res.status == STATUS["ok"]
        assert verify(u[ok], res.profiles[ok, 0], res.parameters["tol"]).all()
    if not generic:
        return a.lambda_status.size, worst
    assert np.array_equal(ta.status, tb.status) and np.array_equal(ta.refined, tb.refined)
    diff = float(np.abs(ta.profiles - tb.profiles).max(initial=0.0))
    assert diff <= BACKEND_AGREE, diff
    return a.lambda_status.size + ta.status.size, max(worst, diff)


def test_backends_agree_on_scenarios():
    """The ten scenarios at six lambdas and traced to the limit."""
    u = np.concatenate([load_scenario(n).model.payoffs(load_scenario(n).point)
                        for n in list_scenarios()])
    count, worst = assert_backends_agree(u, [0.1, 0.5, 1.5, 3.0, 10.0, 100.0])
    assert count == 70


@pytest.mark.parametrize("shape, n_games", [
    ((2, 2), 100), ((3, 3), 100), ((2, 5), 50), ((4, 4), 50),                 # 2 players
    ((3, 3, 3), 100), ((2, 3, 4), 60), ((2, 2, 2), 60),                      # 3 players
    ((3, 3, 3, 3), 100), ((2, 2, 2, 2), 60), ((2, 3, 1, 2), 30),              # 4 players
])
def test_backends_agree_on_random_games(shape, n_games):
    """Hundreds of random 2-, 3- and 4-player games (1010 in all, at three lambdas):
    normal payoffs (sd 3), also traced to the limit, and small integers (ties)."""
    rng = np.random.default_rng(SEED + 11 + sum(shape) * len(shape))
    half = n_games // 2
    u = rng.normal(scale=3.0, size=(n_games - half, len(shape)) + shape)
    count, _ = assert_backends_agree(u, [0.5, 1.5, 5.0])
    assert count == 4 * (n_games - half)
    u = rng.integers(-3, 4, size=(half, len(shape)) + shape).astype(float)
    count, _ = assert_backends_agree(u, [0.5, 1.5, 5.0], generic=False)
    assert count == 3 * half


def test_backends_agree_on_chicken_pitchfork():
    """Statuses ``bifurcation`` and the switch to the generic branch agree too."""
    model = load_model("chicken")
    assert_backends_agree(model.payoffs(model.defaults), [0.3, 1.5])


def test_backend_argument():
    u = np.random.default_rng(SEED + 12).normal(size=(3, 2, 2, 3))
    assert logit_qre(u, 1.0, backend="numpy").backend == "numpy"
    assert logit_qre(u, 1.0, backend="numba").backend == "numba"
    # auto: numba is installed here, but a small batch stays on NumPy (loading the kernels
    # would cost more than it saves) and a large one takes the kernels.
    assert logit_qre(u, 1.0).backend == "numpy"
    big = np.repeat(u, AUTO_NUMBA_MIN // len(u) + 1, axis=0)
    assert logit_qre(big, 1.0).backend == "numba"
    assert logit_trace(u, backend="numba").backend == "numba"
    for fn, args in ((logit_qre, (u, 1.0)), (logit_trace, (u,))):
        with pytest.raises(ValueError, match=fn.__name__ + r"\(\): backend must be one of"):
            fn(*args, backend="fortran")


def test_backend_numba_without_numba(monkeypatch):
    """Without numba, ``auto`` falls back to NumPy and ``numba`` says what to install."""
    import allysim.solve._backend as backend
    monkeypatch.setattr(backend, "_NUMBA", False)
    u = np.random.default_rng(SEED + 13).normal(size=(2, 2, 2, 2))
    assert logit_qre(np.repeat(u, AUTO_NUMBA_MIN, axis=0), 1.0).backend == "numpy"
    with pytest.raises(ImportError, match=r"allysim\[fast\]"):
        logit_trace(u, backend="numba")


@PROPS
@given(payoff_arrays(max_batch=3, integer=False), st.floats(0.1, 3.0), st.integers(0, 2**31))
def test_payoff_shift_invariance(u, lam, seed):
    """Adding to each player's payoffs any function of the OTHERS' strategies changes no QRE."""
    rng = np.random.default_rng(seed)
    shifted = u.copy()
    for i in range(u.shape[1]):
        shape = list(u.shape[2:])
        shape[i] = 1
        shifted[:, i] += rng.normal(scale=5.0, size=(u.shape[0], *shape))
    a, b = logit_qre(u, lam), logit_qre(shifted, lam)
    both = (a.lambda_status == STATUS["ok"]) & (b.lambda_status == STATUS["ok"])
    assert both.mean() >= 0.5
    assert np.abs(a.profiles[both] - b.profiles[both]).max(initial=0.0) <= 1e-8


def test_scaling_payoffs_scales_lambda():
    """lambda is in inverse payoff units: QRE(c * u, lam / c) = QRE(u, lam)."""
    u = np.random.default_rng(SEED + 6).normal(size=(5, 3, 3, 2, 4))
    a, b = logit_qre(u, 1.2), logit_qre(4.0 * u, 0.3)
    assert np.abs(a.profiles - b.profiles).max() <= 1e-9


def test_qre_is_the_logit_response_to_itself():
    """Independent check of the fixed point by allysim.solve.strategy_values."""
    u = np.random.default_rng(SEED + 7).normal(scale=3.0, size=(20, 3, 3, 4, 2))
    lam = 0.8
    res = logit_qre(u, lam)
    p = res.profiles[:, 0]
    for v, m in zip(strategy_values(u, p), split_profile(p, u.shape[2:])):
        z = np.exp(lam * (v - v.max(axis=1, keepdims=True)))
        assert np.abs(z / z.sum(axis=1, keepdims=True) - m).max() <= 1e-10
    assert (res.residual <= res.parameters["residual_tol"]).all()


def test_edge_shapes():
    """An empty batch, games where nobody has a choice, one-strategy players."""
    empty = logit_qre(np.zeros((0, 2, 2, 3)), [0.5, 1.5])
    assert empty.profiles.shape == (0, 2, 5) and empty.lambda_status.shape == (0, 2)
    assert empty.status.shape == (0,)
    assert logit_trace(np.zeros((0, 2, 2, 3))).profiles.shape == (0, 1, 5)
    fixed = logit_qre(np.ones((2, 2, 1, 1)), 1.5)
    assert (fixed.status == STATUS["ok"]).all() and (fixed.profiles == 1.0).all()
    u = np.random.default_rng(SEED + 9).normal(size=(3, 3, 1, 3, 2))
    res, lim = logit_qre(u, 2.0), logit_trace(u)
    assert (res.status == STATUS["ok"]).all() and (res.profiles[:, 0, 0] == 1.0).all()
    assert (lim.status == STATUS["ok"]).all()
    for b in range(3):
        assert np.abs(gambit_qre(u[b], [2.0])[0] - res.profiles[b, 0]).max() <= AGREE


def test_one_player_game_is_softmax():
    u = np.array([[[1.0, 2.0, 4.0]]])
    p = logit_qre(u, 0.7).profiles[0, 0]
    e = np.exp(0.7 * u[0, 0])
    assert np.abs(p - e / e.sum()).max() <= 1e-12


def test_regret_decreases_along_the_trace_on_scenarios():
    """On every scenario the QRE's regret falls along lambda and the trace ends at an
    equilibrium (regret <= 1e-9, verified)."""
    u = np.concatenate([load_scenario(n).model.payoffs(load_scenario(n).point)
                        for n in list_scenarios()])
    lams = np.geomspace(0.05, 500.0, 25)
    res = logit_qre(u, lams)
    assert (res.status == STATUS["ok"]).all()
    assert (np.diff(res.regret, axis=1) <= 1e-12).all()
    assert (res.regret[:, -1] < 0.05 * res.regret[:, 0]).all()
    limit = logit_trace(u)
    assert (limit.status == STATUS["ok"]).all()
    assert (limit.regret[:, 0] <= 1e-9 * payoff_scale(u)).all()
    assert (limit.lambda_reached > 0).all()
    assert verify(u, limit.profiles[:, 0], 1e-9).all()


def test_regret_goes_to_zero_on_random_games():
    u = np.random.default_rng(SEED + 8).normal(scale=3.0, size=(20, 3, 3, 3, 3))
    res = logit_qre(u, [0.1, 10.0, 1000.0])
    assert (res.regret[:, 2] < res.regret[:, 0]).all()
    limit = logit_trace(u)
    assert (limit.status == STATUS["ok"]).all()
    assert (limit.regret[:, 0] <= 1e-9 * payoff_scale(u)).all()


def test_trace_stops_on_regret_not_on_lambda():
    """The same game scaled by 1000 reaches its limit at 1000 times smaller lambda (the
    tolerance is relative to the payoff scale, so it needs no change)."""
    u = load_scenario("baseline-2018").model.payoffs(load_scenario("baseline-2018").point)
    a, b = logit_trace(u), logit_trace(u * 1000.0)
    assert np.abs(a.profiles - b.profiles).max() <= 1e-9
    assert b.lambda_reached[0] < a.lambda_reached[0] / 100


# ----------------------------------------------------------------------------- statuses and errors

def test_symmetric_pitchfork_is_flagged():
    """Chicken's symmetric branch meets a pitchfork near lambda 0.489: QREs beyond it are
    certified, on the generic branch (one side swerves), and flagged ``bifurcation`` with
    one branch point; before it, ``ok``. (Improved: the branch used to go on along the
    symmetric branch, which no perturbed game follows; tests/test_logit_branch_points.py
    checks the new answers against Gambit.)"""
    model = load_model("chicken")
    u = model.payoffs(model.defaults)
    res = logit_qre(u, [0.3, 1.5])
    assert res.lambda_status[0].tolist() == [STATUS["ok"], STATUS["bifurcation"]]
    assert res.branch_points[0].tolist() == [0, 1]
    assert res.status[0] == STATUS["bifurcation"]
    assert (res.residual[0] <= res.parameters["residual_tol"]).all()
    row, col = res.profiles[0, 1, :2], res.profiles[0, 1, 2:]
    assert abs(row[0] - col[0]) > 0.5                     # off the symmetric branch
    lim = logit_trace(u)
    assert lim.status[0] == STATUS["bifurcation"] and lim.regret[0, 0] <= 1e-9 * payoff_scale(u)[0]
    assert lim.branch_points.tolist() == [1]
    assert sorted(lim.profiles[0, 0].tolist()) == [0.0, 0.0, 1.0, 1.0]   # a pure equilibrium


def test_step_cap_gives_not_converged_and_no_profile():
    s = load_scenario("singapore-summit")
    res = logit_qre(s.model.payoffs(s.point), [0.1, 3.0], max_steps=2)
    assert res.lambda_status[0, 1] == STATUS["not_converged"] and np.isnan(res.profiles[0, 1]).all()
    assert res.steps[0] <= 4  # two passes of at most 2 steps


@pytest.mark.parametrize("kwargs, match", [
    ({"lambdas": [-1.0]}, "lambdas must be finite and >= 0"),
    ({"lambdas": [np.nan]}, "lambdas must be finite"),
    ({"lambdas": [1.0], "residual_tol": 0.0}, "residual_tol must be a number > 0"),
    ({"lambdas": [1.0], "max_steps": 0}, "max_steps must be an integer >= 1"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=r"logit_qre\(\): " + match):
        logit_qre(np.zeros((1, 2, 2, 2)), **kwargs)


def test_bad_payoffs():
    with pytest.raises(ValueError, match="logit_qre"):
        logit_qre(np.full((1, 2, 2, 2), np.nan), 1.0)
    with pytest.raises(ValueError, match="logit_trace"):
        logit_trace(np.zeros((2, 2, 2)))


# ----------------------------------------------------------------------------- comparative statics (MODEL.md)

BASE = load_scenario("baseline-2018")
MODEL = BASE.model
LAM = 1.5


def qre_over(param: str, values: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """QRE probabilities at lambda 1.5 with ``param`` over ``values``, everything else at
    its default: {(player, strategy): (len(values),)}."""
    pts = np.repeat(MODEL.defaults[None], len(values), axis=0)
    pts[:, list(MODEL.parameter_names).index(param)] = values
    res = logit_qre(MODEL.payoffs(pts), LAM)
    assert (res.status == STATUS["ok"]).all()
    out, k = {}, 0
    for player, strategies in zip(MODEL.players, MODEL.strategies):
        for s in strategies:
            out[player, s] = res.profiles[:, 0, k]
            k += 1
    return out


def full_range(param: str, n: int = 41) -> np.ndarray:
    p = MODEL.parameters[list(MODEL.parameter_names).index(param)]
    return np.linspace(p.low, p.high, n)


def increasing(x):
    return bool((np.diff(x) > 0).all())


def test_fact1_abandonment_fear_raises_support_lowers_distance():
    """MODEL.md 1 (monotone over 0-10). Observed: SUPPORT 0.157 -> 0.702, DISTANCE 0.715 -> 0.014."""
    q = qre_over("abandonment_fear", full_range("abandonment_fear"))
    assert increasing(q["Japan", "SUPPORT"]) and increasing(-q["Japan", "DISTANCE"])


def test_fact2_entrapment_fear_raises_distance():
    """MODEL.md 2 (monotone over 0-10). Observed: DISTANCE 0.044 -> 0.746."""
    q = qre_over("entrapment_fear", full_range("entrapment_fear"))
    assert increasing(q["Japan", "DISTANCE"])


def test_fact3_halt_concession_raises_freeze_far_more_than_denuc():
    """MODEL.md 3 (FREEZE monotone over 0-4). Observed: FREEZE 0.567 -> 0.811 (+0.244),
    DENUC 0.077 -> 0.106 (+0.028)."""
    q = qre_over("halt_concession", full_range("halt_concession"))
    freeze, denuc = q["NorthKorea", "FREEZE"], q["NorthKorea", "DENUC"]
    assert increasing(freeze)
    assert freeze[-1] - freeze[0] > 5 * (denuc[-1] - denuc[0])


def test_fact4_lower_us_credibility_raises_seize_and_arm():
    """MODEL.md 4: us_credibility 0.9 -> 0.4. Observed: SEIZE 3e-6 -> 0.089, ARM 0.249 -> 0.474;
    SEIZE is in two of the four pure equilibria at 0.4 and in none of the one at 0.9."""
    q = qre_over("us_credibility", np.array([0.9, 0.4]))
    seize, arm = q["China", "SEIZE"], q["Japan", "ARM"]
    assert seize[0] < 1e-3 and 0.07 <= seize[1] <= 0.11
    assert arm[1] > arm[0]
    china = MODEL.players.index("China")
    seize_index = MODEL.strategies[china].index("SEIZE")
    for value, expect in [(0.9, False), (0.4, True)]:
        pts = MODEL.defaults.copy()
        pts[list(MODEL.parameter_names).index("us_credibility")] = value
        eq = pure_nash(MODEL.payoffs(pts)).pure_profiles(0)
        assert len(eq) > 0 and bool((eq[:, china] == seize_index).any()) == expect
    # "not monotone in between for ARM": it first dips (0.2494 at 0.9, 0.2464 at 0.88), then rises.
    arm = qre_over("us_credibility", np.linspace(0.9, 0.4, 26))["Japan", "ARM"]
    assert not increasing(arm) and not increasing(-arm)


def test_fact5_fiscal_strain_lowers_arm():
    """MODEL.md 5 (monotone over 0-1.5). Observed: ARM 0.401 -> 0.068."""
    q = qre_over("fiscal_strain", full_range("fiscal_strain"))
    assert increasing(-q["Japan", "ARM"])


def test_fact6_free_rider_resentment_raises_trans_and_support():
    """MODEL.md 6 (monotone over 0-4). Observed: TRANS 0.355 -> 0.623, SUPPORT 0.486 -> 0.559."""
    q = qre_over("free_rider_resentment", full_range("free_rider_resentment"))
    assert increasing(q["US", "TRANS"]) and increasing(q["Japan", "SUPPORT"])


# ----------------------------------------------------------------------------- CLI

def test_cli_qre_answers_where_no_pure_equilibrium_exists():
    s = load_scenario("singapore-summit")
    assert pure_nash(s.model.payoffs(s.point)).count[0] == 0
    out = CliRunner().invoke(main, ["run", "singapore-summit", "--solver", "qre", "--lambda", "1.5"])
    assert out.exit_code == 0, out.output
    assert "Logit QRE at lambda = 1.5" in out.output and "status ok" in out.output
    assert "Most likely outcomes" in out.output


def test_sweep_qre_any_chunk_size_and_reproduce(tmp_path):
    """``allysim sweep --solver qre``: the same bits for chunk sizes 1 and 4, the QREs of
    logit_qre, and ``reproduce`` agrees."""
    runner = CliRunner()
    folders = []
    for size in (1, 4):
        out = tmp_path / f"c{size}"
        res = runner.invoke(main, ["sweep", "baseline-2018", "--solver", "qre", "--lambda", "1.5",
                                   "--vary", "abandonment_fear=0:10:6", "--chunk-size", str(size),
                                   "--table", "csv", "-o", str(out)])
        assert res.exit_code == 0, res.output
        folders.append(out)
    with np.load(folders[0] / "results.npz") as a, np.load(folders[1] / "results.npz") as b:
        for key in ("prob", "regret", "residual", "status"):
            assert np.array_equal(a[key], b[key], equal_nan=True)
        q = qre_over("abandonment_fear", np.linspace(0, 10, 6))
        # The sweep may run the compiled path, a lone call the NumPy one: they agree to 1e-10.
        np.testing.assert_allclose(a["prob"][:, 3], q["Japan", "SUPPORT"], rtol=0, atol=BACKEND_AGREE)
    assert (folders[0] / "equilibria.csv").read_bytes() == (folders[1] / "equilibria.csv").read_bytes()
    header = (folders[0] / "equilibria.csv").read_text().splitlines()[0]
    assert "P(China=SEIZE)" in header and ",QRE(lambda=1.5),ok," in (folders[0] / "equilibria.csv").read_text()
    res = runner.invoke(main, ["reproduce", str(folders[0])])
    assert res.exit_code == 0 and "bit-for-bit identical" in res.output, res.output


def test_cli_qre_json_and_limit():
    out = CliRunner().invoke(main, ["run", "singapore-summit", "--solver", "qre", "--lambda",
                                    "0.5,1.5", "--json"])
    assert out.exit_code == 0, out.output
    reports = json.loads(out.output)["results"]
    assert [r["solution_concept"] for r in reports] == ["QRE(lambda=0.5)", "QRE(lambda=1.5)"]
    s = load_scenario("singapore-summit")
    ref = gambit_qre(s.model.payoffs(s.point)[0], [1.5])[0]
    probs = [x for pl in reports[1]["probabilities"].values() for x in pl.values()]
    assert np.abs(np.array(probs) - ref).max() <= AGREE
    marg = reports[1]["outcome_probabilities"]["marginals"]
    assert abs(marg["P(China=SEIZE)"] - reports[1]["probabilities"]["China"]["SEIZE"]) == 0
    top = reports[1]["outcome_probabilities"]["top_profiles"]
    assert top[0]["probability"] >= top[-1]["probability"] > 0
    assert set(reports[1]["regret"]) == set(s.model.players)
    out = CliRunner().invoke(main, ["run", "singapore-summit", "--solver", "qre-limit", "--json"])
    assert out.exit_code == 0, out.output
    lim = json.loads(out.output)["results"][0]
    assert lim["solution_concept"] == "NE (logit QRE limit)" and lim["status"] == "ok"
    assert lim["max_regret"] <= 1e-9 and lim["branch_points"] == 0


def test_cli_qre_limit_says_where_the_selection_is_not_unique(tmp_path):
    """``run``, ``sweep`` and ``plot`` with ``--solver qre-limit`` on chicken (symmetric:
    the branch splits): status ``bifurcation``, the number of branch points, a note, a
    ``branch_points`` column, a summary line, and the plot's category names say so."""
    runner = CliRunner()
    out = runner.invoke(main, ["run", "chicken", "--solver", "qre-limit", "--json"])
    assert out.exit_code == 0, out.output
    rep = json.loads(out.output)["results"][0]
    assert rep["status"] == "bifurcation" and rep["branch_points"] == 1 and rep["max_regret"] == 0
    text = runner.invoke(main, ["run", "chicken", "--solver", "qre-limit"]).output
    assert "status bifurcation" in text and "passed 1 branch point(s)" in text
    assert "mirror image" in text
    qre = json.loads(runner.invoke(main, ["run", "chicken", "--solver", "qre", "--lambda", "0.3,2",
                                          "--json"]).output)["results"]
    assert [r["status"] for r in qre] == ["ok", "bifurcation"]
    assert [r["branch_points"] for r in qre] == [0, 1]
    folder = tmp_path / "limit"
    res = runner.invoke(main, ["sweep", "chicken", "--solver", "qre-limit", "--vary", "win=2:5:3",
                               "--vary", "crash_cost=1:10:3", "--table", "csv", "-o", str(folder), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "status bifurcation at" in res.output and "status: ok" in res.output
    rows = (folder / "equilibria.csv").read_text().splitlines()
    assert rows[0].endswith(",max_regret,lambda_reached,branch_points")
    with np.load(folder / "results.npz") as npz:
        split = npz["status"] == STATUS["bifurcation"]
        assert split.any() and (~split).any()    # crash_cost < win: STRAIGHT dominates, no split
        assert ((npz["branch_points"] > 0) == split).all()
    from allysim.plot import load_sweep
    from allysim.plot.results import BRANCH_MARK
    labels = load_sweep(folder).labels
    assert all(lab.endswith(BRANCH_MARK) == s for lab, s in zip(labels, split))
    assert runner.invoke(main, ["plot", str(folder)]).exit_code == 0


def test_qre_sweep_backends(tmp_path):
    """A QRE sweep resolves its backend once and says which; both paths agree to rounding."""
    from click.testing import CliRunner
    from allysim.cli import main

    runner, probs = CliRunner(), {}
    for backend in ("numba", "numpy"):
        out = tmp_path / backend
        res = runner.invoke(main, ["sweep", "singapore-summit", "--solver", "qre", "--vary",
                                   "deal_value=0:5:12", "--backend", backend, "-o", str(out), "--quiet"])
        assert res.exit_code == 0, res.output
        assert f"backend {backend}," in res.output
        probs[backend] = np.load(out / "results.npz")["prob"]
    assert np.isfinite(probs["numpy"]).all()
    assert np.abs(probs["numba"] - probs["numpy"]).max() <= 1e-12
