"""Hypothesis properties of the pure-equilibrium, dominance and regret solvers.

Invariance properties use integer payoffs and shifts, and scale factors that
are exact in binary floating point, so "changes nothing" can be asserted
exactly rather than up to rounding near the tolerance.
"""
from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from allysim import load_model
from allysim.solve import iterated_dominance, pure_nash, pure_regret, regret, strategy_values
from allysim.solve.regret import DEFAULT_TOL, payoff_scale
from tests import reference_four_power as ref
from tests.strategies import mixed_profiles, model_points, payoff_arrays

# ALLYSIM_PROP_EXAMPLES=1000 for a longer search than the default run's 60 examples.
PROPS = settings(max_examples=int(os.environ.get("ALLYSIM_PROP_EXAMPLES", 60)), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])

FOUR_POWER = load_model("four-power")


def assert_same_pure(a, b):
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_array_equal(a.status, b.status)


def assert_same_dominance(a, b):
    for x, y in zip(a.surviving, b.surviving):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.rounds, b.rounds)
    np.testing.assert_array_equal(a.solved, b.solved)


@st.composite
def game_and_shift(draw):
    """Integer games and, per player, an integer shift that may depend on the others' play."""
    U = draw(payoff_arrays(integer=True))
    batch, n, *shape = U.shape
    shifts = np.empty_like(U)
    for i in range(n):
        others = [1 if j == i else s for j, s in enumerate(shape)]
        constant_only = draw(st.booleans())
        g = draw(hnp.arrays(np.int64, (batch, *others), elements=st.integers(-50, 50)))
        if constant_only:                      # a constant per player (and per game)
            g = np.broadcast_to(g.reshape(batch, -1)[:, :1].reshape((batch,) + (1,) * n), g.shape)
        shifts[:, i] = np.broadcast_to(g, (batch, *shape))
    return U, shifts


@PROPS
@given(game_and_shift())
def test_shifting_a_players_payoffs_changes_no_answer(case):
    U, shift = case
    V = U + shift
    assert_same_pure(pure_nash(U), pure_nash(V))
    assert_same_pure(pure_nash(U, tol=0.0), pure_nash(V, tol=0.0))
    assert_same_dominance(iterated_dominance(U), iterated_dominance(V))


@PROPS
@given(payoff_arrays(integer=True), st.data())
def test_positive_scaling_changes_no_answer(U, data):
    n = U.shape[1]
    factors = np.array(data.draw(st.lists(st.sampled_from([0.125, 0.5, 1.0, 2.0, 3.0, 10.0, 1024.0]),
                                          min_size=n, max_size=n)))
    V = U * factors.reshape((1, n) + (1,) * n)
    assert_same_pure(pure_nash(U), pure_nash(V))
    assert_same_dominance(iterated_dominance(U), iterated_dominance(V))


@PROPS
@given(payoff_arrays())
def test_found_equilibria_have_zero_regret_and_others_do_not(U):
    res, exact = pure_nash(U), pure_nash(U, tol=0.0)
    batch, n, *shape = U.shape
    profiles = np.array(list(np.ndindex(*shape)))
    # pure_nash tests u >= max - tol, regret computes max - u: the two roundings may
    # differ by a few ulps right at the tolerance, so non-equilibria get that much slack.
    slack = 8 * np.finfo(float).eps * max(1.0, np.abs(U).max())
    scale = payoff_scale(U)
    for b in range(batch):
        reg = pure_regret(np.repeat(U[b:b + 1], len(profiles), axis=0), profiles).max(axis=1)
        is_eq = res.mask[b][tuple(profiles.T)]
        tol = DEFAULT_TOL * scale[b]      # tolerances are relative to the payoff scale
        assert (reg[is_eq] <= tol).all()
        assert (reg[~is_eq] > tol - slack).all()
        assert res.count[b] == is_eq.sum()
        # Exact equilibria (tol 0) have exactly zero regret, and only they do.
        is_exact = exact.mask[b][tuple(profiles.T)]
        np.testing.assert_array_equal(is_exact, reg == 0.0)


@PROPS
@given(payoff_arrays(min_batch=2, max_batch=5))
def test_a_batch_equals_a_loop(U):
    whole_ne, whole_dom = pure_nash(U), iterated_dominance(U)
    for b in range(len(U)):
        ne, dom = pure_nash(U[b:b + 1]), iterated_dominance(U[b:b + 1])
        np.testing.assert_array_equal(ne.mask[0], whole_ne.mask[b])
        assert ne.status[0] == whole_ne.status[b] and ne.count[0] == whole_ne.count[b]
        for i in range(U.shape[1]):
            np.testing.assert_array_equal(dom.surviving[i][0], whole_dom.surviving[i][b])
        assert dom.rounds[0] == whole_dom.rounds[b]


def permute_players(U: np.ndarray, perm) -> np.ndarray:
    """Games with player k of the result being player perm[k] of U."""
    return np.stack([np.transpose(U[:, p], [0] + [1 + q for q in perm]) for p in perm], axis=1)


@PROPS
@given(payoff_arrays(), st.data())
def test_permuting_players_permutes_the_answer(U, data):
    n = U.shape[1]
    perm = data.draw(st.permutations(range(n)))
    V = permute_players(U, perm)
    ne_u, ne_v = pure_nash(U), pure_nash(V)
    np.testing.assert_array_equal(ne_v.mask, np.transpose(ne_u.mask, [0] + [1 + p for p in perm]))
    np.testing.assert_array_equal(ne_v.status, ne_u.status)
    dom_u, dom_v = iterated_dominance(U), iterated_dominance(V)
    for k, p in enumerate(perm):
        np.testing.assert_array_equal(dom_v.surviving[k], dom_u.surviving[p])
    np.testing.assert_array_equal(dom_v.rounds, dom_u.rounds)
    sigma = data.draw(mixed_profiles(U.shape[2:], len(U)))
    blocks = np.split(sigma, np.cumsum(U.shape[2:])[:-1], axis=1)
    sigma_v = np.concatenate([blocks[p] for p in perm], axis=1)
    np.testing.assert_allclose(regret(V, sigma_v), regret(U, sigma)[:, list(perm)], rtol=1e-12, atol=1e-12)


@PROPS
@given(payoff_arrays(), st.data())
def test_relabelling_a_players_strategies_relabels_the_answer(U, data):
    n = U.shape[1]
    i = data.draw(st.integers(0, n - 1))
    order = np.array(data.draw(st.permutations(range(U.shape[2 + i]))))
    V = np.take(U, order, axis=2 + i)
    np.testing.assert_array_equal(pure_nash(V).mask, np.take(pure_nash(U).mask, order, axis=1 + i))
    dom_u, dom_v = iterated_dominance(U), iterated_dominance(V)
    np.testing.assert_array_equal(dom_v.surviving[i], dom_u.surviving[i][:, order])


@PROPS
@given(payoff_arrays(), st.data())
def test_regret_is_nonnegative_and_bounded_by_payoff_range(U, data):
    sigma = data.draw(mixed_profiles(U.shape[2:], len(U)))
    reg = regret(U, sigma)
    spread = (U.reshape(len(U), U.shape[1], -1).max(axis=2) - U.reshape(len(U), U.shape[1], -1).min(axis=2))
    assert (reg >= -1e-12).all() and (reg <= spread + 1e-12).all()
    values = strategy_values(U, sigma)
    lo = U.reshape(len(U), U.shape[1], -1).min(axis=2)
    hi = U.reshape(len(U), U.shape[1], -1).max(axis=2)
    for i, v in enumerate(values):
        assert (v >= lo[:, i:i + 1] - 1e-12).all() and (v <= hi[:, i:i + 1] + 1e-12).all()


@PROPS
@given(payoff_arrays())
def test_solvers_are_deterministic_and_leave_input_alone(U):
    before = U.copy()
    assert_same_pure(pure_nash(U), pure_nash(U.copy()))
    assert_same_dominance(iterated_dominance(U), iterated_dominance(U.copy()))
    np.testing.assert_array_equal(U, before)


# ---------------------------------------------------------------------------
# the four-power model at hypothesis-chosen in-range points (range ends included)
# ---------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(model_points(FOUR_POWER, max_batch=3))
def test_four_power_matches_reference_anywhere_in_range(X):
    got = FOUR_POWER.payoffs(X)
    assert np.isfinite(got).all()
    want = np.array([ref.payoff_array(dict(zip(FOUR_POWER.parameter_names, x))) for x in X])
    assert np.abs(got - want).max() <= 1e-12


@settings(max_examples=25, deadline=None)
@given(model_points(FOUR_POWER, max_batch=3))
def test_four_power_equilibria_have_zero_regret(X):
    U = FOUR_POWER.payoffs(X)
    res = pure_nash(U)
    scale = payoff_scale(U)
    for b in range(len(U)):
        profiles = res.pure_profiles(b)
        if len(profiles):
            reg = pure_regret(np.repeat(U[b:b + 1], len(profiles), axis=0), profiles)
            assert reg.max() <= DEFAULT_TOL * scale[b]
