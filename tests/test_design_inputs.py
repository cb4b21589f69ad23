"""Sweep designs against hostile ranges and sizes (issue 12, items 4, 6, 11): ranges whose
width overflows, hand-edited plans, designs too large to index, and grid values computed
per point (never a whole axis of 10^11 values)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allysim import compile_model, load_model
from allysim.errors import ModelError
from allysim.sweep.design import Design, DesignError, grid_design, sample_design

MAX_POINTS, MAX_SOBOL_POINTS = 2**53, 2**30     # allysim.sweep.design's (new) limits


@pytest.fixture(scope="module")
def pd():
    return load_model("prisoners-dilemma")


# -- grid values --------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(lo=st.floats(-1e300, 1e300), width=st.floats(0, 1e300), count=st.integers(1, 5000),
       data=st.data())
def test_linspace_at_is_numpy_linspace_bitwise(lo, width, count, data):
    from allysim.sweep.design import linspace_at
    hi = lo + width
    if not (math.isfinite(hi) and math.isfinite(hi - lo)):
        return
    if count == 1:
        hi = lo
    idx = np.array(data.draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=20)))
    want = np.linspace(lo, hi, count)[idx]
    got = linspace_at(lo, hi, count, idx)
    assert got.tobytes() == want.tobytes()


def test_linspace_at_subnormal_step_and_signed_zero():
    from allysim.sweep.design import MAX_POINTS as max_points, MAX_SOBOL_POINTS as max_sobol, linspace_at
    assert (max_points, max_sobol) == (MAX_POINTS, MAX_SOBOL_POINTS)
    for lo, hi, c in ((0.0, 5e-324, 3), (-0.0, -0.0, 1), (-0.0, 0.0, 4), (1.0, 1.0, 7), (-3, 2, 2)):
        idx = np.arange(c)
        assert linspace_at(lo, hi, c, idx).tobytes() == np.linspace(lo, hi, c).tobytes()


def test_grid_points_match_the_full_linspace_grid():
    m = load_model("four-power")
    d = grid_design(m, m.defaults, ["abandonment_fear=0:10:7", "us_credibility=0.3:0.95:5"])
    a, b = np.meshgrid(np.linspace(0, 10, 7), np.linspace(0.3, 0.95, 5), indexing="ij")
    pts = d.points(0, d.n)
    cols = [m.parameter_index("abandonment_fear"), m.parameter_index("us_credibility")]
    assert pts[:, cols[0]].tobytes() == a.ravel().tobytes()
    assert pts[:, cols[1]].tobytes() == b.ravel().tobytes()
    # any slice equals the same rows of the whole
    assert d.points(11, 29).tobytes() == pts[11:29].tobytes()


def test_huge_grid_axis_is_never_built(pd):
    # --vary a=0:10:100000000000 (issue item 11): on main each chunk built the whole axis
    # with numpy.linspace (800 GB) and failed with MemoryError.
    d = grid_design(pd, pd.defaults, ["temptation=3:10:100000000000"])
    assert d.n == 100_000_000_000
    j = pd.parameter_index("temptation")
    first = d.points(0, 3)[:, j]
    last = d.points(d.n - 2, d.n)[:, j]
    want = 3 + np.arange(3) * (7 / (d.n - 1))
    assert first.tobytes() == want.tobytes()
    assert last[-1] == 10.0 and last[0] < 10.0


# -- ranges whose width is not finite -----------------------------------------------------
def test_vary_with_overflowing_width_is_refused(pd):
    with pytest.raises(DesignError, match=r"is inf wide"):
        grid_design(pd, pd.defaults, ["temptation=-1e308:1.7e308:5"], force=True)


def test_design_refuses_non_finite_or_overflowing_ranges():
    base = (0.0, 0.0)
    for lows, highs, pattern in (((-1e308,), (1.7e308,), "is inf wide"),
                                 ((0.0,), (math.inf,), "expected finite bounds"),
                                 ((math.nan,), (1.0,), "expected finite bounds"),
                                 ((2.0,), (1.0,), "low <= high")):
        with pytest.raises(DesignError, match=pattern):
            Design("random", ("a",), (0,), lows, highs, 10, 0, (), base)


def test_sample_over_a_model_range_with_overflowing_width_cannot_happen():
    # The model file is refused first (on main the sample put every point at 1.7e308).
    old = "temptation = { default = 5, range = [0, 10]"
    text = load_model("prisoners-dilemma").source.replace(old, old.replace("[0, 10]", "[-1e308, 1.7e308]"))
    assert "range = [-1e308, 1.7e308]" in text
    with pytest.raises(ModelError, match=r"^pd\.toml: parameters\.temptation\.range: .* is inf wide"):
        compile_model(text, where="pd.toml")


# -- sizes --------------------------------------------------------------------------------
def test_designs_past_what_can_be_indexed_are_refused(pd):
    with pytest.raises(DesignError, match=r"expected at most 2\^53"):
        grid_design(pd, pd.defaults, ["temptation=3:10:100000000", "reward=1:3:100000000",
                                      "punishment=0:1:1000"], force=True)
    with pytest.raises(DesignError, match=r"2\^30 = 1,073,741,824 \(scipy's Sobol' sequence"):
        sample_design(pd, pd.defaults, "sobol", MAX_SOBOL_POINTS + 1)
    assert sample_design(pd, pd.defaults, "halton", MAX_SOBOL_POINTS + 1).n == MAX_SOBOL_POINTS + 1
    with pytest.raises(DesignError, match=r"expected at most 2\^53"):
        sample_design(pd, pd.defaults, "random", MAX_POINTS + 1)


def test_sample_design_refuses_bad_params_and_seed(pd):
    with pytest.raises(DesignError, match="empty parameter name"):
        sample_design(pd, pd.defaults, "random", 8, params=["temptation", ""])
    with pytest.raises(DesignError, match="listed twice"):
        sample_design(pd, pd.defaults, "random", 8, params=["temptation", "temptation"])
    for seed in ("1", -1, 1.5, True):
        with pytest.raises(DesignError, match="--seed"):
            sample_design(pd, pd.defaults, "random", 8, seed=seed)


# -- plans edited by hand -----------------------------------------------------------------
def _doc(pd):
    return sample_design(pd, pd.defaults, "lhs", 64, seed=3).to_json()


@pytest.mark.parametrize("edit,pattern", [
    (lambda d: d.update(n="many"), r"is not a whole number"),
    (lambda d: d.update(n=1.5), r"is not a whole number"),
    (lambda d: d.update(n=0), r"expected a whole number from 1"),
    (lambda d: d.update(n=10**20), r"expected a whole number from 1 to 2\^53"),
    (lambda d: d.update(kind="sobel"), r"design kind 'sobel'"),
    (lambda d: d.update(seed=-4), r"--seed -4"),
    (lambda d: d.update(lows=[0.0]), r"names but"),
    (lambda d: d.update(highs=["x"] * len(d["highs"])), r"'x' is not a number"),
    (lambda d: d["lows"].__setitem__(0, -1e308) or d["highs"].__setitem__(0, 1.7e308), r"is inf wide"),
    (lambda d: d.update(columns=[99] * len(d["columns"])), r"expected distinct columns"),
    (lambda d: d.pop("base"), r"missing key 'base'"),
    (lambda d: d.update(kind="grid", counts=[2, 2, 2, 2]), r"grid of 64 points but its axes have 16"),
    (lambda d: d.update(kind="grid"), r"grid counts \[\]"),
])
def test_tampered_design_json_is_one_line(pd, edit, pattern):
    doc = _doc(pd)
    Design.from_json(doc)
    edit(doc)
    with pytest.raises(DesignError, match=pattern) as info:
        Design.from_json(doc)
    assert "\n" not in str(info.value)
