"""The shared mixed-profile arithmetic (``allysim.solve._profile``) and the logit
continuation's private kernels, tested equal to it."""
from __future__ import annotations

import numpy as np
import pytest

from allysim.solve import strategy_values
from allysim.solve._logit_pairs import _Batch, _pair_derivs, _values
from allysim.solve._profile import (Layout, PreparedValues, cross_values, layout,
                                    support_equations)
from allysim.solve.dynamics import random_starts

SHAPES = [(3,), (2, 3), (3, 2, 4), (2, 3, 2, 3), (2, 2, 2, 2, 2)]


def _case(shape, seed):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(5, len(shape)) + shape)
    return u, random_starts(shape, 5, seed=seed + 1)


@pytest.mark.parametrize("shape", SHAPES)
def test_cross_values_are_the_derivatives_of_the_strategy_values(shape):
    u, x = _case(shape, 1)
    lay = layout(shape)
    W, v = cross_values(u, x, lay)
    np.testing.assert_allclose(v, np.concatenate(strategy_values(u, x), axis=1), atol=1e-13)
    # v is multilinear: moving one other player's mix along e_l changes v_k by W[k, l] - ...
    h = 1e-6
    for l in range(lay.size):
        y = x.copy()
        y[:, l] += h
        dv = (np.concatenate(strategy_values(u, y), axis=1) - v) / h
        same = lay.owner == lay.owner[l]
        np.testing.assert_allclose(dv[:, ~same], W[:, ~same, l], atol=1e-7)
        assert (W[:, same, l] == 0).all()


@pytest.mark.parametrize("shape", SHAPES)
def test_prepared_values_equal_strategy_values(shape):
    u, x = _case(shape, 3)
    np.testing.assert_allclose(PreparedValues(u)(x), np.concatenate(strategy_values(u, x), axis=1),
                               atol=1e-13)


@pytest.mark.parametrize("shape", SHAPES[1:])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_logit_pair_kernels_equal_the_shared_arithmetic(shape, backend):
    u, x = _case(shape, 2)
    lay = layout(shape)
    W, v = cross_values(u, x, lay)
    kern = None
    if backend == "numba":
        from allysim.solve import _logit_numba as kern
    batch = _Batch.of(u, kern)
    np.testing.assert_allclose(_values(batch, x, np.arange(len(x))), v, atol=1e-13)
    if kern is None:
        values, flat = _pair_derivs(batch.upairs, x, batch.lay)
        np.testing.assert_allclose(values, v, atol=1e-13)
        dfull = flat[:, batch.lay.d_full] * batch.lay.cross_full
        np.testing.assert_allclose(dfull, W, atol=1e-13)


def test_support_equations_vanish_at_an_equilibrium():
    # Battle of the sexes: the mixed equilibrium (2/3, 1/3; 1/3, 2/3) on full supports.
    bos = np.array([[[[2., 0.], [0., 1.]], [[1., 0.], [0., 2.]]]])
    lay = Layout((2, 2))
    sigma = np.array([[2 / 3, 1 / 3, 1 / 3, 2 / 3]])
    supp = np.ones_like(sigma, dtype=bool)
    W, v = cross_values(bos, sigma, lay)
    F, J = support_equations(W, v, sigma, supp, lay.first(supp), lay)
    np.testing.assert_allclose(F, 0.0, atol=1e-15)
    assert abs(np.linalg.det(J[0])) > 1e-3          # a regular equilibrium
    # Off the support, the equation pins the probability at 0.
    supp2 = np.array([[True, False, True, True]])
    F2, _ = support_equations(W, v, sigma, supp2, lay.first(supp2), lay)
    assert F2[0, 1] == sigma[0, 1]
