"""Expected payoffs, regret and the shared equilibrium certificate (verify).

Checked against plain loops over profiles and against pygambit's
``MixedStrategyProfile`` (``strategy_value``, ``payoff``, ``player_regret``,
``max_regret``) on random mixed profiles of random games.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from allysim import load_model
from allysim.solve import (pure_nash, pure_regret, pure_to_mixed, regret, split_profile,
                           strategy_values, verify)
from allysim.solve.regret import DEFAULT_TOL, payoff_scale
from tests.oracles import gambit_mixed
from tests.strategies import random_games, random_mixed, random_points, random_shape

SEED = 1991  # Morrow, the autonomy-security trade-off


def values_by_hand(u: np.ndarray, sigma: np.ndarray) -> list[np.ndarray]:
    """Each player's value of each pure strategy against the others' mixes: plain loops."""
    shape = u.shape[1:]
    mixes = np.split(sigma, np.cumsum(shape)[:-1])
    out = [np.zeros(s) for s in shape]
    for prof in itertools.product(*(range(s) for s in shape)):
        for i in range(len(shape)):
            weight = np.prod([mixes[j][a] for j, a in enumerate(prof) if j != i])
            out[i][prof[i]] += weight * u[(i, *prof)]
    return out


def _random_cases(seed, n_shapes, per_shape, integer=False):
    rng = np.random.default_rng(seed)
    for _ in range(n_shapes):
        shape = random_shape(rng)
        U = random_games(rng, per_shape, shape, integer=integer, low=-5, high=5)
        yield shape, U, random_mixed(rng, per_shape, shape)


def test_strategy_values_and_regret_by_hand():
    for shape, U, S in _random_cases(SEED, 10, 4):
        values = strategy_values(U, S)
        reg = regret(U, S)
        assert reg.shape == (len(U), len(shape))
        for b in range(len(U)):
            want = values_by_hand(U[b], S[b])
            mixes = np.split(S[b], np.cumsum(shape)[:-1])
            for i in range(len(shape)):
                np.testing.assert_allclose(values[i][b], want[i], rtol=0, atol=1e-12)
                assert reg[b, i] == pytest.approx(want[i].max() - want[i] @ mixes[i], abs=1e-12)


def test_against_pygambit_mixed_profiles():
    compared = 0
    for shape, U, S in _random_cases(SEED + 1, 25, 4):
        values, reg = strategy_values(U, S), regret(U, S)
        for b in range(len(U)):
            payoff, gvalues, gregrets, gmax = gambit_mixed(U[b], S[b])
            mixes = split_profile(S[b:b + 1], shape)
            for i in range(len(shape)):
                np.testing.assert_allclose(values[i][b], gvalues[i], rtol=0, atol=1e-9)
                assert (values[i][b] @ mixes[i][0]) == pytest.approx(payoff[i], abs=1e-9)
            np.testing.assert_allclose(reg[b], gregrets, rtol=0, atol=1e-9)
            assert reg[b].max() == pytest.approx(gmax, abs=1e-9)
            compared += 1
    assert compared == 100


def test_four_power_against_pygambit_mixed_profiles():
    m = load_model("four-power")
    rng = np.random.default_rng(SEED + 2)
    U = m.payoffs(random_points(m, rng, 20))
    S = random_mixed(rng, 20, m.shape)
    reg = regret(U, S)
    for b in range(len(U)):
        _, _, gregrets, gmax = gambit_mixed(U[b], S[b])
        np.testing.assert_allclose(reg[b], gregrets, rtol=0, atol=1e-9)
        assert reg[b].max() == pytest.approx(gmax, abs=1e-9)


def test_pure_regret_by_hand():
    rng = np.random.default_rng(SEED + 3)
    U = random_games(rng, 30, (3, 2, 4), integer=False)
    profiles = np.stack([rng.integers(0, s, size=30) for s in (3, 2, 4)], axis=1)
    reg = pure_regret(U, profiles)
    for b, prof in enumerate(profiles):
        for i in range(3):
            alts = [U[(b, i) + tuple(prof[:i]) + (k,) + tuple(prof[i + 1:])] for k in range(U.shape[i + 2])]
            assert reg[b, i] == pytest.approx(max(alts) - U[(b, i, *prof)], abs=1e-12)


def test_pure_to_mixed_and_split_profile():
    sigma = pure_to_mixed(np.array([[2, 0, 1]]), (3, 2, 2))
    assert sigma.tolist() == [[0, 0, 1, 1, 0, 0, 1]]
    assert [m.tolist() for m in split_profile(sigma, (3, 2, 2))] == [[[0, 0, 1]], [[1, 0]], [[0, 1]]]
    # A single profile (n,) is promoted to a batch of one.
    assert pure_to_mixed(np.array([1, 1]), (2, 2)).tolist() == [[0, 1, 0, 1]]


# ---------------------------------------------------------------------------
# verify: the certificate every solver's output goes through
# ---------------------------------------------------------------------------

def _pennies():
    m = load_model("matching-pennies")
    return m.payoffs(m.defaults)


def _bos():
    m = load_model("battle-of-sexes")
    return m.payoffs(m.defaults)


def test_verify_accepts_known_equilibria():
    # Matching pennies: 50:50 each. Battle of the sexes (favourite 2, other 1): Row plays
    # OPERA with 2/3, Column with 1/3, and both pure coordinations.
    assert verify(_pennies(), np.array([[0.5, 0.5, 0.5, 0.5]]))[0]
    bos = np.repeat(_bos(), 3, axis=0)
    sigmas = np.array([[2 / 3, 1 / 3, 1 / 3, 2 / 3], [1, 0, 1, 0], [0, 1, 0, 1]])
    assert verify(bos, sigmas, tol=1e-12).tolist() == [True, True, True]


def test_verify_rejects_non_equilibria_and_bad_profiles():
    pennies = np.repeat(_pennies(), 6, axis=0)
    sigmas = np.array([
        [0.6, 0.4, 0.5, 0.5],        # Mismatcher gains by deviating
        [1.0, 0.0, 1.0, 0.0],        # a pure profile, not an equilibrium
        [0.5, 0.5, 0.5, 0.4],        # a block that does not sum to 1
        [1.5, -0.5, 0.5, 0.5],       # a negative probability
        [np.nan, 0.5, 0.5, 0.5],     # not a number
        [0.5, 0.5, 0.5, 0.5],        # the equilibrium, for contrast
    ])
    assert verify(pennies, sigmas).tolist() == [False, False, False, False, False, True]


def test_verify_agrees_with_pure_nash_on_every_profile():
    rng = np.random.default_rng(SEED + 4)
    for _ in range(10):
        shape = random_shape(rng, max_players=3)
        u = random_games(rng, 1, shape, integer=True)
        mask = pure_nash(u).mask[0]
        profiles = np.array(list(itertools.product(*(range(s) for s in shape))))
        ok = verify(np.repeat(u, len(profiles), axis=0), pure_to_mixed(profiles, shape))
        assert ok.tolist() == [bool(mask[tuple(p)]) for p in profiles]


def test_verify_tolerance_is_relative_to_the_payoff_scale():
    eps = 1e-6
    # Row gains eps by deviating; Column's payoffs spread over 1, the game's scale.
    u = np.array([[[[0.0, 0.0], [eps, 0.0]], [[1.0, 0.0], [0.0, 0.0]]]])
    sigma = np.array([[1.0, 0.0, 1.0, 0.0]])
    assert payoff_scale(u).tolist() == [1.0]
    assert not verify(u, sigma, tol=0.5 * eps)[0]
    assert verify(u, sigma, tol=2 * eps)[0]
    # A positive affine change of every payoff changes nothing.
    for a, b in [(1e6, 0.0), (1e-6, 3.0), (7.0, -1e5)]:
        assert not verify(a * u + b, sigma, tol=0.5 * eps)[0]
        assert verify(a * u + b, sigma, tol=2 * eps)[0]


def test_regret_is_nonnegative_and_zero_at_best_replies():
    for shape, U, S in _random_cases(SEED + 5, 10, 4):
        reg = regret(U, S)
        assert (reg >= -1e-12).all()
        # Put each player on a best reply to the others: its regret becomes 0.
        values = strategy_values(U, S)
        blocks = split_profile(S, shape)
        for i in range(len(shape)):
            best = np.zeros_like(blocks[i])
            best[np.arange(len(U)), values[i].argmax(axis=1)] = 1.0
            T = np.concatenate([best if j == i else blocks[j] for j in range(len(shape))], axis=1)
            assert np.abs(regret(U, T)[:, i]).max() <= 1e-12


def test_batch_of_regrets_equals_loop():
    for shape, U, S in _random_cases(SEED + 6, 5, 6):
        whole = regret(U, S)
        for b in range(len(U)):
            np.testing.assert_array_equal(regret(U[b:b + 1], S[b:b + 1])[0], whole[b])


def test_regret_rejects_bad_payoffs():
    with pytest.raises(ValueError, match=r"regret\(\): payoffs contain NaN or inf"):
        regret(np.full((1, 2, 2, 2), np.inf), np.full((1, 4), 0.5))
    with pytest.raises(ValueError, match=r"verify\(\): payoffs must have shape"):
        verify(np.zeros((1, 3, 2, 2)), np.full((1, 4), 0.5))


def test_default_tol():
    assert DEFAULT_TOL == 1e-9
