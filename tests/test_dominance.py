"""Iterated elimination of strictly dominated strategies, cross-checked against pygambit.

The reference (tests/oracles.py ``gambit_iesds``) asks pygambit's exact
``StrategySupportProfile.is_dominated(strategy, strict=True)`` for every
strategy in the current support, removes all dominated ones at once, and
repeats to a fixed point; it also counts the rounds. allysim at ``tol=0``
compares the same floats exactly, so survivors and rounds must agree.

pygambit's one-shot ``supports.undominated_strategies_solve(strict=True)`` is
not the reference: in pygambit 16.7.0 it sorts strategies by a partial order
and can remove an undominated strategy while keeping a dominated one (about
1% of small random games; ``test_pygambit_counterexample`` is a 2x4 case).
"""
from __future__ import annotations

import numpy as np
import pytest

from allysim import load_model
from allysim.solve import iterated_dominance, pure_nash
from allysim.solve.regret import DEFAULT_TOL
from tests.oracles import allysim_profiles, gambit_iesds
from tests.strategies import random_games, random_points, random_shape

SEED = 1966  # Olson and Zeckhauser, burden sharing


def survivors(res, b):
    return [s[b] for s in res.surviving]


def check_against_gambit(U: np.ndarray, default_tol: bool = True) -> int:
    exact = iterated_dominance(U, tol=0.0)
    default = iterated_dominance(U)
    for b in range(len(U)):
        want, rounds = gambit_iesds(U[b])
        for i, w in enumerate(want):
            np.testing.assert_array_equal(exact.surviving[i][b], w, err_msg=f"game {b} player {i}")
            if default_tol:
                np.testing.assert_array_equal(default.surviving[i][b], w, err_msg=f"game {b} player {i}")
        assert exact.rounds[b] == rounds
        assert exact.solved[b] == all(w.sum() == 1 for w in want)
        alone = iterated_dominance(U[b:b + 1])
        for i in range(U.shape[1]):
            np.testing.assert_array_equal(alone.surviving[i][0], default.surviving[i][b])
        assert alone.rounds[0] == default.rounds[b] and alone.solved[0] == default.solved[b]
    return len(U)


def test_four_power_random_points_against_pygambit():
    m = load_model("four-power")
    U = m.payoffs(random_points(m, np.random.default_rng(SEED), 60))
    assert check_against_gambit(U) == 60
    res = iterated_dominance(U)
    assert res.rounds.max() >= 3 and res.solved.any() and not res.solved.all()


@pytest.mark.slow
def test_four_power_many_random_points_against_pygambit():
    m = load_model("four-power")
    U = m.payoffs(random_points(m, np.random.default_rng(SEED + 1), 500))
    assert check_against_gambit(U) == 500


def _random_batches(seed, n_shapes, per_shape, integer):
    rng = np.random.default_rng(seed)
    for _ in range(n_shapes):
        shape = random_shape(rng)
        yield random_games(rng, per_shape, shape, integer=integer)


def test_random_games_against_pygambit():
    compared, multi_round = 0, 0
    for integer, seed in ((True, SEED), (False, SEED + 1)):
        for U in _random_batches(seed, 30, 5, integer):
            compared += check_against_gambit(U)
            multi_round += int((iterated_dominance(U).rounds >= 2).sum())
    assert compared == 300 and multi_round > 0


@pytest.mark.slow
def test_many_random_games_against_pygambit():
    compared = 0
    for integer, seed in ((True, SEED + 10), (False, SEED + 11)):
        for U in _random_batches(seed, 150, 10, integer):
            compared += check_against_gambit(U)
    assert compared == 3000


def test_pygambit_counterexample():
    # Column's strategies against Row's two (Row is indifferent throughout):
    # A = (3, -1), B = (0, 0), C = (2, 1), D = (-1, 0). C beats B and D everywhere;
    # A is the best reply to Row's first strategy, so nothing dominates it.
    col = np.array([[3.0, 0.0, 2.0, -1.0], [-1.0, 0.0, 1.0, 0.0]])
    u = np.stack([np.zeros((2, 4)), col])[None]
    res = iterated_dominance(u)
    assert res.surviving[1][0].tolist() == [True, False, True, False]
    assert res.surviving[0][0].tolist() == [True, True]
    want, rounds = gambit_iesds(u[0])
    assert want[1].tolist() == [True, False, True, False] and rounds == 1


# ---------------------------------------------------------------------------
# textbook cases, tolerance, consistency with pure equilibria
# ---------------------------------------------------------------------------

# The textbook cases (alone, stacked in a batch, relabelled, rescaled) are in
# tests/test_equilibria.py, one table for every concept.


def test_four_power_baseline_survivors():
    # A scenario pin (like tests/test_scenarios.py), also checked against pygambit above. At the
    # 2018 calibration TRANS beats FIRM everywhere (cheaper presence, billed protection), SLICE
    # beats SEIZE (war costs 10 and US deterrence covers seizure), FREEZE beats DENUC (keeps 70%
    # of an arsenal worth 8 for sanctions of at most 4); nothing else is strictly dominated.
    m = load_model("four-power")
    res = iterated_dominance(m.payoffs(m.defaults))
    names = [[s for s, alive in zip(m.strategies[i], res.surviving[i][0]) if alive] for i in range(4)]
    assert names == [["TRANS", "ACCOM"], ["SUPPORT", "ARM", "DISTANCE"], ["HOLD", "SLICE"],
                     ["FREEZE", "PROVOKE"]]


def test_tolerance_is_in_payoff_units():
    eps = 1e-6
    u = np.array([[[[eps, eps], [0.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]]])   # Row's T beats B by eps
    assert iterated_dominance(u, tol=0.5 * eps).surviving[0][0].tolist() == [True, False]
    assert iterated_dominance(u, tol=2 * eps).surviving[0][0].tolist() == [True, True]


def test_pure_equilibria_survive_elimination():
    """Strict dominance never removes a pure Nash equilibrium, and a dominance-solvable
    game has exactly the surviving profile as its unique equilibrium."""
    rng = np.random.default_rng(SEED + 3)
    solved_seen = 0
    for _ in range(20):
        shape = random_shape(rng)
        U = random_games(rng, 10, shape, integer=True)
        dom, ne = iterated_dominance(U), pure_nash(U)
        for b in range(len(U)):
            for prof in allysim_profiles(ne.mask[b]):
                assert all(dom.surviving[i][b][a] for i, a in enumerate(prof))
            if dom.solved[b]:
                solved_seen += 1
                only = tuple(int(np.flatnonzero(dom.surviving[i][b])[0]) for i in range(len(shape)))
                assert allysim_profiles(ne.mask[b]) == {only}
    assert solved_seen > 0


def test_every_player_keeps_a_strategy():
    rng = np.random.default_rng(SEED + 4)
    U = random_games(rng, 50, (4, 3, 2), integer=True)
    res = iterated_dominance(U)
    assert all((s.sum(axis=1) >= 1).all() for s in res.surviving)


def test_bad_input():
    with pytest.raises(ValueError, match=r"iterated_dominance\(\): tol must be >= 0"):
        iterated_dominance(np.zeros((1, 2, 2, 2)), tol=-1.0)
    with pytest.raises(ValueError, match=r"iterated_dominance\(\): payoffs must have shape"):
        iterated_dominance(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"iterated_dominance\(\): payoffs contain NaN"):
        iterated_dominance(np.full((1, 2, 2, 2), np.nan))


def test_default_tol_is_documented_value():
    assert iterated_dominance(np.zeros((1, 2, 2, 2))).parameters["tol"] == DEFAULT_TOL == 1e-9
