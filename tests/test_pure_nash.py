"""Pure Nash equilibria cross-checked against pygambit and QuantEcon.

pygambit's ``enumpure_solve`` compares payoffs exactly (it stores the decimal
of each float's repr, which orders exactly like the floats), and like allysim
it counts weak equilibria (ties for a best reply) too. So on the same array
allysim at ``tol=0`` must agree with it exactly; at the default tolerance it
must agree too whenever no best-reply comparison is within ``tol`` of a tie,
which holds for integer payoffs (ties are exact) and, as checked, for the
four-power model at random points.

QuantEcon's ``pure_nash_brute`` uses the same ``>= max - tol`` rule, with
each player's own action first in its payoff array (tests/oracles.py
converts).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from allysim import load_model
from allysim.solve import STATUS, best_response_mask, pure_nash, status_names
from allysim.solve.regret import DEFAULT_TOL
from tests import reference_four_power as ref
from tests.oracles import allysim_profiles, gambit_pure, quantecon_pure
from tests.strategies import random_games, random_points, random_shape

SEED = 1984  # Snyder's alliance security dilemma


def weak_by_hand(u: np.ndarray, profile: tuple[int, ...], tol: float) -> bool:
    """Some player has a second best reply (within tol of its best) at ``profile``."""
    n = u.shape[0]
    for i in range(n):
        vals = [u[(i,) + profile[:i] + (k,) + profile[i + 1:]] for k in range(u.shape[i + 1])]
        if sum(v >= max(vals) - tol for v in vals) > 1:
            return True
    return False


def status_by_hand(u: np.ndarray, eqs: set, tol: float) -> str:
    if not eqs:
        return "no_pure"
    return "degenerate" if any(weak_by_hand(u, e, tol) for e in eqs) else "ok"


def check_against_oracles(U: np.ndarray, *, quantecon: bool = True, default_tol: bool = True) -> int:
    """Compare allysim on the batch U with pygambit (and QuantEcon) game by game.

    Also checks each game solved alone gives the batch's answer. Returns the
    number of games compared.
    """
    exact = pure_nash(U, tol=0.0)
    default = pure_nash(U)
    for b in range(len(U)):
        want = gambit_pure(U[b])
        assert allysim_profiles(exact.mask[b]) == want, f"game {b}: tol=0 differs from pygambit"
        if default_tol:
            assert allysim_profiles(default.mask[b]) == want, f"game {b}: default tol differs"
        if quantecon:
            assert quantecon_pure(U[b], tol=0.0) == want, f"game {b}: quantecon differs"
        assert exact.count[b] == len(want)
        assert status_names(exact.status)[b] == status_by_hand(U[b], want, 0.0)
        alone = pure_nash(U[b:b + 1])
        np.testing.assert_array_equal(alone.mask[0], default.mask[b])
        assert alone.status[0] == default.status[b] and alone.count[0] == default.count[b]
    return len(U)


# ---------------------------------------------------------------------------
# four-power model at random in-range points
# ---------------------------------------------------------------------------

def _four_power_points(count, seed):
    m = load_model("four-power")
    return m, m.payoffs(random_points(m, np.random.default_rng(seed), count))


def test_four_power_random_points_against_pygambit():
    _, U = _four_power_points(100, SEED)
    assert check_against_oracles(U) == 100
    # The sample is not trivial: it has points with 0, 1 and more equilibria.
    counts = set(pure_nash(U).count.tolist())
    assert {0, 1} <= counts and max(counts) >= 2


@pytest.mark.slow
def test_four_power_many_random_points_against_pygambit():
    _, U = _four_power_points(1000, SEED + 1)
    assert check_against_oracles(U) == 1000


def test_four_power_against_hand_written_reference():
    m, U = _four_power_points(40, SEED + 2)
    X = random_points(m, np.random.default_rng(SEED + 2), 40)
    res = pure_nash(U, tol=0.0)
    for b, x in enumerate(X):
        want = {tuple(ref.STRATEGIES[p].index(s) for p, s in zip(ref.PLAYERS, prof))
                for prof in ref.pure_equilibria(dict(zip(m.parameter_names, x)))}
        assert allysim_profiles(res.mask[b]) == want


# ---------------------------------------------------------------------------
# random games of many shapes
# ---------------------------------------------------------------------------

def _random_batches(seed, n_shapes, per_shape, integer):
    rng = np.random.default_rng(seed)
    for _ in range(n_shapes):
        shape = random_shape(rng)
        yield shape, random_games(rng, per_shape, shape, integer=integer)


def test_random_integer_games_against_pygambit_and_quantecon():
    compared, shapes, weak, none = 0, set(), 0, 0
    for shape, U in _random_batches(SEED, 40, 5, integer=True):
        compared += check_against_oracles(U)
        shapes.add(shape)
        res = pure_nash(U)
        weak += int((res.status == STATUS["degenerate"]).sum())
        none += int((res.status == STATUS["no_pure"]).sum())
    assert compared == 200
    assert len({len(s) for s in shapes}) == 3          # 2, 3 and 4 players
    assert weak > 0 and none > 0                         # ties and empty answers both occurred


def test_random_float_games_against_pygambit_and_quantecon():
    compared = 0
    for _, U in _random_batches(SEED + 1, 20, 5, integer=False):
        compared += check_against_oracles(U)
    assert compared == 100


@pytest.mark.slow
def test_many_random_games_against_pygambit_and_quantecon():
    compared = 0
    for integer, seed in ((True, SEED + 10), (False, SEED + 11)):
        for _, U in _random_batches(seed, 150, 10, integer=integer):
            compared += check_against_oracles(U)
    assert compared == 3000


def test_two_player_games_against_quantecon_own_action_first():
    # Build QuantEcon's game from bimatrices directly, as its docs do: Player 0's
    # array is (own, other) and Player 1's is (own, other) = our u[1] transposed.
    import quantecon.game_theory as qe
    rng = np.random.default_rng(SEED + 3)
    compared = 0
    for m, n in itertools.product((2, 3, 4), repeat=2):
        U = random_games(rng, 8, (m, n), integer=True)
        res = pure_nash(U)
        for b in range(len(U)):
            g = qe.NormalFormGame([qe.Player(U[b, 0]), qe.Player(U[b, 1].T)])
            assert allysim_profiles(res.mask[b]) == set(qe.pure_nash_brute(g, tol=DEFAULT_TOL))
            compared += 1
    assert compared == 72


# The textbook cases (alone, stacked in a batch, relabelled, rescaled) are in
# tests/test_equilibria.py, one table for every concept.


# ---------------------------------------------------------------------------
# tolerance, status codes, best responses, input checks
# ---------------------------------------------------------------------------

def test_tolerance_is_relative_to_the_payoff_scale():
    eps = 1e-6
    # Row gains eps by deviating from (0, 0); Column is indifferent nowhere; scale 1.
    u = np.array([[[[0.0, 0.0], [eps, 1.0]], [[1.0, 0.0], [1.0, 0.0]]]])
    for a, b in [(1.0, 0.0), (1e6, 0.0), (1e-7, 5.0), (3.0, -2e4)]:   # positive affine changes
        v = a * u + b
        assert (0, 0) not in allysim_profiles(pure_nash(v, tol=0.5 * eps).mask[0])
        loose = pure_nash(v, tol=2 * eps)
        assert (0, 0) in allysim_profiles(loose.mask[0])
        assert status_names(loose.status)[0] == "degenerate"   # (0, 0) holds only within tol


def test_status_codes_match_hand_computation_on_tie_heavy_games():
    rng = np.random.default_rng(SEED + 5)
    U = random_games(rng, 60, (2, 3, 2), integer=True, low=0, high=1)   # payoffs in {0, 1}: many ties
    res = pure_nash(U)
    names = status_names(res.status)
    for b in range(len(U)):
        assert names[b] == status_by_hand(U[b], allysim_profiles(res.mask[b]), DEFAULT_TOL)
    assert {"ok", "degenerate", "no_pure"} >= set(names) and "degenerate" in set(names)


def test_best_response_mask_by_hand():
    rng = np.random.default_rng(SEED + 6)
    U = random_games(rng, 6, (3, 2, 4), integer=True)
    mask = best_response_mask(U)
    for b, i in itertools.product(range(len(U)), range(3)):
        for prof in itertools.product(*(range(s) for s in U.shape[2:])):
            vals = [U[(b, i) + prof[:i] + (k,) + prof[i + 1:]] for k in range(U.shape[i + 2])]
            assert mask[(b, i) + prof] == (U[(b, i) + prof] >= max(vals) - DEFAULT_TOL)


@pytest.mark.parametrize("bad,match", [
    (np.zeros((2, 2)), r"pure_nash\(\): payoffs must have shape"),
    (np.zeros((1, 3, 2, 2)), r"pure_nash\(\): payoffs must have shape"),
    (np.full((1, 2, 2, 2), np.nan), r"pure_nash\(\): payoffs contain NaN or inf"),
    (np.full((1, 2, 2, 2), np.inf), r"pure_nash\(\): payoffs contain NaN or inf"),
])
def test_bad_payoffs_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        pure_nash(bad)


def test_negative_tol_is_rejected():
    with pytest.raises(ValueError, match=r"pure_nash\(\): tol must be >= 0"):
        pure_nash(np.zeros((1, 2, 2, 2)), tol=-1e-3)


def test_input_is_not_modified_and_int_input_works():
    u = np.array([[[[3, 0], [5, 1]], [[3, 5], [0, 1]]]])
    before = u.copy()
    res = pure_nash(u)
    np.testing.assert_array_equal(u, before)
    assert allysim_profiles(res.mask[0]) == {(1, 1)}
