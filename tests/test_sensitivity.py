"""Sobol' indices and Morris effects: the Ishigami function's analytic indices, SALib and
scipy on the same design and outputs, the designs' chunk independence, and a game whose
outcome does not depend on one parameter (total index exactly 0)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from SALib.analyze import morris as salib_morris
from SALib.analyze import sobol as salib_sobol
from scipy.stats import sobol_indices

from allysim import compile_model, load_model
from allysim.analysis import (morris_records, morris_split, saltelli_split, sobol_bootstrap,
                              sobol_first_total, sobol_records)
from allysim.analysis.sensitivity import sensitivity_design
from allysim.concepts import get_concept
from allysim.sweep import SweepSpec, run_sweep
from allysim.sweep.design import Design, DesignError, morris_design

A, B = 7.0, 0.1
PI = math.pi


def ishigami(x):
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_truth():
    """(first, total) of the Ishigami function (Ishigami & Homma 1990; Saltelli et al. 2008)."""
    v1 = 0.5 * (1 + B * PI ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = B ** 2 * PI ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0]) / v, np.array([v1 + v13, v2, v13]) / v


def box_design(kind, n, seed=0, levels=4):
    """A design over x1..x3 in [-pi, pi] (a model is not needed for the unit-cube parts)."""
    return Design(kind, ("x1", "x2", "x3"), (0, 1, 2), (-PI,) * 3, (PI,) * 3, n, seed, (),
                  (0.0, 0.0, 0.0), levels)


@pytest.fixture(scope="module")
def ishigami_run():
    n_base = 1 << 13
    design = box_design("saltelli", n_base * 5, seed=3)
    x = design.varied(0, design.n)
    return x, ishigami(x)


def test_saltelli_design_layout_and_chunking():
    d = box_design("saltelli", 64 * 5, seed=1)
    u = d.unit(0, d.n).reshape(64, 5, 3)
    a, b = u[:, 0], u[:, 4]
    for i in range(3):
        ab = a.copy()
        ab[:, i] = b[:, i]
        assert (u[:, 1 + i] == ab).all()
    pieces = np.concatenate([d.unit(k, min(k + 7, d.n)) for k in range(0, d.n, 7)])
    assert (pieces == d.unit(0, d.n)).all()
    assert (Design.from_json(d.to_json()).unit(0, d.n) == d.unit(0, d.n)).all()
    with pytest.raises(DesignError, match="multiple of 5"):
        box_design("saltelli", 11)


def test_morris_trajectories_step_one_coordinate_by_delta():
    d = box_design("morris", 50 * 4, seed=2, levels=6)
    u = d.unit(0, d.n).reshape(50, 4, 3)
    delta = 6 / (2 * 5)
    grid = np.arange(6) / 5
    assert np.isin(np.round(u, 12), np.round(grid, 12)).all()
    steps = np.diff(u, axis=1)
    assert ((np.abs(steps) > 1e-12).sum(axis=2) == 1).all()
    assert np.allclose(np.abs(steps).sum(axis=2), delta)
    moved = np.abs(steps).argmax(axis=2)
    assert (np.sort(moved, axis=1) == np.arange(3)).all()       # each coordinate once
    pieces = np.concatenate([d.unit(k, min(k + 5, d.n)) for k in range(0, d.n, 5)])
    assert (pieces == d.unit(0, d.n)).all()
    with pytest.raises(DesignError, match="even"):
        box_design("morris", 8, levels=3)


def test_ishigami_indices_match_the_analytic_values(ishigami_run):
    _, y = ishigami_run
    first, total = ishigami_truth()
    recs, used, dropped = sobol_records(("x1", "x2", "x3"), y, resamples=500, seed=1)
    assert (used, dropped) == (1 << 13, 0)
    got = {r["parameter"]: r for r in recs}
    assert [r["parameter"] for r in recs] == ["x1", "x2", "x3"]      # ranked by total
    for i, name in enumerate(("x1", "x2", "x3")):
        r = got[name]
        assert abs(r["first"] - first[i]) < 0.03
        assert abs(r["total"] - total[i]) < 0.03
        # the 95% intervals hold the analytic values
        assert r["first_ci"][0] <= first[i] <= r["first_ci"][1]
        assert r["total_ci"][0] <= total[i] <= r["total_ci"][1]


def test_salib_and_scipy_agree_on_the_same_design(ishigami_run):
    _, y = ishigami_run
    fa, fb, fab = saltelli_split(y - y.mean(), 3)        # centred, as sobol_records does
    recs, _, _ = sobol_records(("x1", "x2", "x3"), y, resamples=500, seed=1)
    ours = {r["parameter"]: r for r in recs}
    first, total = sobol_first_total(fa, fb, fab)
    first_ci, total_ci = sobol_bootstrap(fa, fb, fab, resamples=500, seed=1)
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-PI, PI]] * 3}
    si = salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=500, seed=1)
    assert [ours[p]["first"] for p in ("x1", "x2", "x3")] == pytest.approx(first, abs=1e-15)
    assert np.allclose(si["S1"], first, rtol=0, atol=1e-12)
    assert np.allclose(si["ST"], total, rtol=0, atol=1e-12)
    # SALib's normal-approximation half-widths and our percentile intervals agree in size
    half = (first_ci[:, 1] - first_ci[:, 0]) / 2
    assert np.all(np.abs(si["S1_conf"] - half) <= 0.3 * half + 1e-12)
    half_t = (total_ci[:, 1] - total_ci[:, 0]) / 2
    assert np.all(np.abs(si["ST_conf"] - half_t) <= 0.3 * half_t + 1e-12)
    # ... and SALib's estimates lie within our intervals
    assert np.all((first_ci[:, 0] <= si["S1"]) & (si["S1"] <= first_ci[:, 1]))
    sp = sobol_indices(func={"f_A": fa[None], "f_B": fb[None], "f_AB": fab[:, None, :]},
                       n=len(fa))
    assert np.allclose(sp.first_order, first, rtol=0, atol=1e-9)      # scipy re-centres: rounding
    assert np.allclose(sp.total_order, total, rtol=0, atol=1e-9)


def test_morris_matches_salib_and_a_linear_function():
    d = box_design("morris", 200 * 4, seed=5)
    unit = d.unit(0, d.n)
    x = d.varied(0, d.n)
    y = ishigami(x)
    recs, used, _ = morris_records(d.names, unit, y, resamples=200, seed=0)
    problem = {"num_vars": 3, "names": list(d.names), "bounds": [[-PI, PI]] * 3}
    si = salib_morris.analyze(problem, x, y, num_levels=4, num_resamples=200, seed=0)
    got = {r["parameter"]: r for r in recs}
    for k, name in enumerate(d.names):
        assert got[name]["mu_star"] == pytest.approx(si["mu_star"][k], abs=1e-12)
        assert got[name]["mu"] == pytest.approx(si["mu"][k], abs=1e-12)
        assert got[name]["sigma"] == pytest.approx(si["sigma"][k], abs=1e-12)
        lo, hi = got[name]["mu_star_ci"]
        assert lo <= got[name]["mu_star"] <= hi
    # y = 3 x1 - 2 x2: effects per delta of the unit range are 3 * 2pi and -2 * 2pi, sigma 0
    lin = 3 * x[:, 0] - 2 * x[:, 1]
    eff = morris_split(unit, lin, 3)
    assert np.allclose(eff[0], 3 * 2 * PI) and np.allclose(eff[1], -2 * 2 * PI)
    assert np.allclose(eff[2], 0)


NOISE_MODEL = """
name = "noise-free-outcome"
[[players]]
name = "Row"
strategies = ["UP", "DOWN"]
[[players]]
name = "Col"
strategies = ["LEFT", "RIGHT"]
[parameters]
a = { default = 0.5, range = [0, 1] }
b = { default = 0.5, range = [0, 1] }
noise = { default = 0.5, range = [0, 1], description = "enters no payoff" }
[payoffs]
Row = "(Row == 'UP') * (a - 0.5) + (Row == 'DOWN') * (Col == 'RIGHT') * b"
Col = "(Col == 'LEFT') * (b - 0.3) * (Row == 'UP') + (Col == 'RIGHT') * 0.2"
"""


def _sweep_outcome(model_text, method, n, solver="pure", jobs=1, chunk_size=64, out=None, **opts):
    from allysim.analysis.sensitivity import analyse_folder
    m = compile_model(model_text, where="m.toml")
    c = get_concept(solver)
    options = c.resolve(opts, m.players)
    design = sensitivity_design(m, m.defaults, method, n, seed=4)
    spec = SweepSpec(m.source, "m.toml", design, solver, options, "full", chunk_size)
    from allysim.sweep import store as st
    from allysim.sweep.engine import write_plan
    st.prepare(out, overwrite=False)
    write_plan(out, spec, [])
    run_sweep(spec, out=out, jobs=jobs)
    request = {"method": method, "outcome": "Row=UP", "resamples": 200, "confidence": 0.95,
               "seed": 4}
    return analyse_folder(out, request)


def test_a_parameter_absent_from_the_payoffs_gets_total_zero(tmp_path):
    res = _sweep_outcome(NOISE_MODEL, "sobol", 128, out=tmp_path / "s")
    got = {r["parameter"]: r for r in res.records}
    assert got["noise"]["total"] == 0.0 and got["noise"]["first"] == 0.0
    assert got["noise"]["total_ci"] == [0.0, 0.0]
    assert got["a"]["total"] > 0.5 and res.records[-1]["parameter"] == "noise"
    assert res.measure.startswith("played") and 0 < res.mean < 1
    morris = _sweep_outcome(NOISE_MODEL, "morris", 40, out=tmp_path / "m")
    got = {r["parameter"]: r for r in morris.records}
    assert got["noise"]["mu_star"] == 0.0 and got["a"]["mu_star"] > 0


def test_sensitivity_sweep_is_the_same_for_any_chunking_and_jobs(tmp_path):
    one = _sweep_outcome(NOISE_MODEL, "sobol", 64, out=tmp_path / "a", chunk_size=1000)
    other = _sweep_outcome(NOISE_MODEL, "sobol", 64, out=tmp_path / "b", chunk_size=7, jobs=2)
    assert one.records == other.records
    assert (tmp_path / "a" / "results.npz").read_bytes() == (tmp_path / "b" / "results.npz").read_bytes()


def test_qre_outcome_is_a_probability(tmp_path):
    res = _sweep_outcome(NOISE_MODEL, "sobol", 32, solver="qre", out=tmp_path / "q",
                         **{"lambda": 2.0})
    assert res.measure == "probability"
    got = {r["parameter"]: r for r in res.records}
    assert got["noise"]["total"] == 0.0
    assert 0 < res.mean < 1


def test_sensitivity_design_checks_its_input():
    m = load_model("four-power")
    with pytest.raises(DesignError, match="--params"):
        sensitivity_design(m, m.defaults, "sobol", 8, params=["nope"])
    with pytest.raises(DesignError, match="--method"):
        sensitivity_design(m, m.defaults, "fast", 8)
    with pytest.raises(DesignError, match="--n"):
        morris_design(m, m.defaults, 1)
