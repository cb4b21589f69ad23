"""Sweep designs: ranges, chunk invariance, agreement with scipy.stats.qmc, Latin hypercube strata."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import qmc

from allysim import load_model
from allysim.sweep import (SEED_BLOCK, DesignError, grid_design, nearest_power_of_two, parse_vary,
                           sample_design, sobol_warning)
from allysim.sweep.design import _TAG_SCRAMBLE, _permute

MODEL = load_model("four-power")
BASE = MODEL.defaults


@pytest.mark.parametrize("kind", ["sobol", "lhs", "halton", "random"])
def test_samples_stay_inside_declared_ranges_and_keep_other_columns(kind):
    names = ["us_credibility", "escalation_cost", "burden_cost"]
    d = sample_design(MODEL, BASE, kind, 1000, params=names, seed=3)
    pts = d.points(0, d.n)
    assert pts.shape == (1000, len(BASE)) and pts.flags.c_contiguous
    for name in names:
        j = MODEL.parameter_index(name)
        p = MODEL.parameters[j]
        assert (pts[:, j] >= p.low).all() and (pts[:, j] <= p.high).all()
        assert np.ptp(pts[:, j]) > 0.5 * (p.high - p.low)      # it does spread over the range
    others = [j for j, n in enumerate(MODEL.parameter_names) if n not in names]
    assert (pts[:, others] == BASE[others]).all()


@pytest.mark.parametrize("kind", ["sobol", "lhs", "halton", "random"])
def test_all_parameters_by_default(kind):
    d = sample_design(MODEL, BASE, kind, 256, seed=0)
    pts = d.points(0, 256)
    b = MODEL.bounds
    assert d.names == MODEL.parameter_names
    assert (pts >= b[:, 0]).all() and (pts <= b[:, 1]).all()


@pytest.mark.parametrize("kind", ["grid", "sobol", "lhs", "halton", "random"])
def test_any_chunking_gives_bitwise_the_same_points(kind):
    # Crosses a seed block boundary for the random streams.
    n = SEED_BLOCK + 700 if kind in ("lhs", "random") else 3000
    if kind == "grid":
        d = grid_design(MODEL, BASE, ["abandonment_fear=0:10:60", "entrapment_fear=1:2:50"])
        n = d.n
    else:
        d = sample_design(MODEL, BASE, kind, n, params=["abandonment_fear", "hawk_weight"], seed=11)
    whole = d.points(0, n)
    rng = np.random.default_rng(0)
    for _ in range(3):
        cuts = np.unique(np.concatenate([[0, n], rng.integers(0, n, 6)]))
        fresh = type(d)(**{k: getattr(d, k) for k in d.__dataclass_fields__ if k != "_cache"})
        # chunks out of order, as workers deliver them
        parts = {a: fresh.points(a, b) for a, b in reversed(list(zip(cuts[:-1], cuts[1:])))}
        assert np.concatenate([parts[a] for a in cuts[:-1]]).tobytes() == whole.tobytes()


def test_sobol_and_halton_are_scipys_sequences():
    for kind, cls in (("sobol", qmc.Sobol), ("halton", qmc.Halton)):
        d = sample_design(MODEL, BASE, kind, 512, params=["slice_gain", "seize_gain"], seed=5)
        rng = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(_TAG_SCRAMBLE,)))
        expected = cls(2, scramble=True, rng=rng).random(512)
        assert np.array_equal(d.unit(0, 512), expected)


def test_seed_matters_and_is_repeatable():
    a = sample_design(MODEL, BASE, "random", 100, seed=1).points(0, 100)
    b = sample_design(MODEL, BASE, "random", 100, seed=1).points(0, 100)
    c = sample_design(MODEL, BASE, "random", 100, seed=2).points(0, 100)
    z = sample_design(MODEL, BASE, "random", 100, seed=0).points(0, 100)
    assert np.array_equal(a, b) and not np.array_equal(a, c) and not np.array_equal(a, z)


def test_lhs_puts_one_point_in_each_stratum_per_dimension():
    n = 1000
    d = sample_design(MODEL, BASE, "lhs", n, params=["hawk_weight", "abandonment_fear"], seed=9)
    u = d.unit(0, n)
    for j in range(2):
        assert sorted(np.floor(u[:, j] * n).astype(int)) == list(range(n))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 2**63))
def test_permutation_is_a_bijection(n, key):
    keys = np.random.SeedSequence(key).generate_state(4, np.uint64)
    out = _permute(np.arange(n, dtype=np.uint64), n, keys)
    assert sorted(out.astype(int).tolist()) == list(range(n))


def test_grid_is_linspace_in_c_order():
    d = grid_design(MODEL, BASE, ["abandonment_fear=0:10:3", "entrapment_fear=1:2:2"])
    assert d.n == 6
    v = d.varied(0, 6)
    assert v.tolist() == [[0, 1], [0, 2], [5, 1], [5, 2], [10, 1], [10, 2]]


def test_parse_vary_and_its_errors():
    assert parse_vary("hawk_weight=0:1:5") == ("hawk_weight", 0.0, 1.0, 5)
    for bad in ["hawk_weight", "hawk_weight=0:1", "hawk_weight=a:1:3", "hawk_weight=0:1:x",
                "hawk_weight=1:0:3", "hawk_weight=0:1:1", "=0:1:3", "hawk_weight=0:nan:3"]:
        with pytest.raises(DesignError, match="--vary"):
            parse_vary(bad)
    with pytest.raises(DesignError, match="did you mean 'hawk_weight'"):
        grid_design(MODEL, BASE, ["hawk_weigth=0:1:3"])
    with pytest.raises(DesignError, match="outside hawk_weight's declared range"):
        grid_design(MODEL, BASE, ["hawk_weight=0:2:3"])
    assert grid_design(MODEL, BASE, ["hawk_weight=0:2:3"], force=True).n == 3
    with pytest.raises(DesignError, match="varied twice"):
        grid_design(MODEL, BASE, ["hawk_weight=0:1:3", "hawk_weight=0:1:2"])


def test_sample_errors():
    with pytest.raises(DesignError, match="did you mean 'sobol'"):
        sample_design(MODEL, BASE, "sobl", 8)
    with pytest.raises(DesignError, match="--n"):
        sample_design(MODEL, BASE, "sobol", 0)
    with pytest.raises(DesignError, match="unknown parameter"):
        sample_design(MODEL, BASE, "sobol", 8, params=["nope"])


def test_sobol_warning_names_the_nearest_power_of_two():
    assert sobol_warning(1024) is None
    assert "1048576 = 2^20" in sobol_warning(1_000_000)
    assert nearest_power_of_two(3) == 2 and nearest_power_of_two(7) == 8
    assert nearest_power_of_two(1) == 1


def test_design_round_trips_through_json():
    d = sample_design(MODEL, BASE, "lhs", 100, params=["hawk_weight"], seed=4)
    again = type(d).from_json(d.to_json())
    assert np.array_equal(again.points(0, 100), d.points(0, 100))


def test_threads_sharing_a_design_get_the_right_points():
    from concurrent.futures import ThreadPoolExecutor

    d = sample_design(MODEL, BASE, "sobol", 64 * 500, params=["hawk_weight"], seed=1)
    whole = sample_design(MODEL, BASE, "sobol", 64 * 500, params=["hawk_weight"], seed=1).points(0, d.n)
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(lambda k: d.points(k * 500, (k + 1) * 500), range(64)))
    assert np.concatenate(parts).tobytes() == whole.tobytes()


def test_sobol_engine_is_bitwise_scipys_without_importing_scipy_stats():
    import warnings

    from scipy.stats import qmc

    from allysim.sweep.design import sobol_engine
    for d in (1, 3, 33):
        for seed in (0, 11):
            ours = sobol_engine(d, np.random.default_rng(seed))
            theirs = qmc.Sobol(d, scramble=True, rng=np.random.default_rng(seed))
            assert ours is not None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                for op, k in [("r", 1), ("r", 7), ("f", 100), ("r", 64), ("reset", 0), ("f", 37),
                              ("r", 3), ("reset", 0), ("r", 1024)]:
                    if op == "r":
                        assert ours.random(k).tobytes() == theirs.random(k).tobytes()
                    elif op == "f":
                        ours.fast_forward(k)
                        theirs.fast_forward(k)
                    else:
                        ours.reset()
                        theirs.reset()
                    assert ours.num_generated == theirs.num_generated


def test_a_sobol_sweep_does_not_import_scipy_stats(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    code = ("import sys; sys.argv[0] = 'allysim'\nfrom allysim.cli import main\ntry:\n"
            f"    main(['sweep', 'baseline-2018', '--sample', 'sobol', '--n', '64', '--store', "
            f"'counts', '--quiet', '-o', {str(tmp_path / 'o')!r}])\nexcept SystemExit:\n    pass\n"
            "print('STATS', 'scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(root)), timeout=300)
    assert "STATS False" in out.stdout, out.stdout + out.stderr
