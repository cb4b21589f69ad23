"""Sweeps end to end: determinism across executors and chunkings, results folder, resume,
reproduce, CSV, failing chunks and bad input on the command line."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from allysim import load_scenario
from allysim.cli import main
from allysim.solve import STATUS
from allysim.concepts import CONCEPTS, register
from allysim.concepts.pure import PURE, PureLayout
from allysim.sweep import SweepSpec, run_sweep, sample_design
from allysim.sweep import engine
from allysim.sweep import store as st

SCENARIO = load_scenario("baseline-2018")
PARAMS = ["us_credibility", "abandonment_fear", "entrapment_fear", "hawk_weight"]


def spec(n=3000, store="full", chunk=1000, kind="sobol", solver="pure", backend="auto",
         table="csv"):
    design = sample_design(SCENARIO.model, SCENARIO.point, kind, n, params=PARAMS, seed=7)
    return SweepSpec(SCENARIO.model.source, "four-power.toml", design, solver,
                     {"backend": backend}, store, chunk, {"name": SCENARIO.name}, table)


def sweep_to(folder: Path, sp: SweepSpec, **kw) -> Path:
    st.prepare(folder, overwrite=False)
    engine.write_plan(folder, sp, ["test"])
    run_sweep(sp, out=folder, **kw)
    return folder


def data(folder: Path) -> dict[str, bytes]:
    with np.load(folder / "results.npz", allow_pickle=False) as z:
        out = {k: z[k].tobytes() for k in z.files}
    if (folder / "equilibria.csv").exists():
        out["csv"] = (folder / "equilibria.csv").read_bytes()
    return out


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return data(sweep_to(tmp_path_factory.mktemp("ref") / "out", spec()))


def test_same_results_for_any_chunk_size_jobs_and_backend(tmp_path, reference):
    assert data(sweep_to(tmp_path / "a", spec(chunk=777))) == reference
    assert data(sweep_to(tmp_path / "b", spec(chunk=3000), jobs=2)) == reference
    assert data(sweep_to(tmp_path / "c", spec(chunk=500, backend="numpy"))) == reference


def test_same_results_on_a_dask_local_cluster(tmp_path, reference):
    import dask.distributed as distributed
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        got = data(sweep_to(tmp_path / "d", spec(chunk=600), scheduler=client))
    assert got == reference


def test_results_folder_contents(tmp_path):
    out = sweep_to(tmp_path / "out", spec(n=500, chunk=200))
    assert sorted(p.name for p in out.iterdir()) == ["equilibria.csv", "manifest.json",
                                                     "manifest.sha256", "results.npz"]
    m = json.loads((out / "manifest.json").read_text())
    for key in ("model", "scenario", "design", "seed", "solver", "chunking", "environment",
                "started", "finished", "points_per_second", "command", "files", "git_commit"):
        assert key in m
    assert m["model"]["sha256"] == SCENARIO.model.sha256 and m["seed"] == 7
    assert m["files"]["results.npz"]["sha256"] == st.sha256_file(out / "results.npz")
    with np.load(out / "results.npz", allow_pickle=False) as z:
        assert z["params"].shape == (500, len(PARAMS))
        assert z["param_names"].tolist() == PARAMS
        assert z["count"].shape == z["status"].shape == z["outcome"].shape == (500,)
        assert len(z["eq_point"]) == z["count"].sum() == z["eq_profile"].shape[0]
        assert (z["eq_regret"] <= 1e-9).all()
        assert z["total_equilibrium_points"].sum() == z["count"].sum()
        assert z["total_status_counts"].sum() == 500


def test_csv_round_trips_with_the_right_columns(tmp_path):
    out = sweep_to(tmp_path / "out", spec(n=400, chunk=150))
    with open(out / "equilibria.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    players = list(SCENARIO.model.players)
    assert list(rows[0]) == (["point", "solution_concept", "status", "n_equilibria", "equilibrium"]
                             + PARAMS + players + [f"payoff_{p}" for p in players] + ["max_regret"])
    with np.load(out / "results.npz", allow_pickle=False) as z:
        count, params, prof = z["count"], z["params"], z["eq_profile"]
        payoff = z["eq_payoff"]
    assert len(rows) == np.maximum(count, 1).sum()          # one row per equilibrium, or per point
    points = np.array([int(r["point"]) for r in rows])
    assert (np.diff(points) >= 0).all() and set(points) == set(range(400))
    # parameter values round-trip exactly
    values = np.array([[float(r[p]) for p in PARAMS] for r in rows])
    assert np.array_equal(values, params[points])
    eq_rows = [r for r in rows if r["equilibrium"]]
    names = np.array([[SCENARIO.model.strategies[i][a] for i, a in enumerate(p)] for p in prof])
    assert [[r[p] for p in players] for r in eq_rows] == names.tolist()
    assert np.array_equal(np.array([[float(r[f"payoff_{p}"]) for p in players] for r in eq_rows]),
                          payoff)
    assert {r["solution_concept"] for r in rows} == {"NE (pure)"}
    none = [r for r in rows if not r["equilibrium"]]
    assert all(r["status"] in ("no_pure", "failed") and r["n_equilibria"] == "0" for r in none)
    # and numpy can read the numeric columns
    table = np.genfromtxt(out / "equilibria.csv", delimiter=",", names=True, dtype=None,
                          encoding="utf-8")
    assert np.array_equal(table["abandonment_fear"], values[:, 1])


def test_resume_after_an_interruption(tmp_path, monkeypatch, reference):
    real = engine.run_chunk

    def interrupted(doc, k, start, stop):
        if k == 2:
            raise KeyboardInterrupt
        return real(doc, k, start, stop)

    monkeypatch.setattr(engine, "run_chunk", interrupted)
    out = tmp_path / "out"
    args = ["sweep", "baseline-2018", "--sample", "sobol", "--n", 3000, "--seed", 7,
            "--params", ",".join(PARAMS), "--chunk-size", 1000, "--table", "csv", "-o", out]
    res = cli(*args)
    assert res.exit_code == 130
    assert "--resume" in res.stderr
    # nothing that looks complete
    assert not (out / "manifest.json").exists() and not (out / "results.npz").exists()
    assert st.done_chunks(out) == {0, 1}
    monkeypatch.setattr(engine, "run_chunk", real)
    res = cli("sweep", "--resume", out)
    assert res.exit_code == 0, res.output
    assert "2 of 3 chunks already done" in res.stderr
    assert data(out) == reference
    assert json.loads((out / "manifest.json").read_text())["resumed"] is True
    res = cli("sweep", "--resume", out)
    assert res.exit_code == 2 and "already complete" in res.stderr


def test_reproduce_passes_then_fails_when_tampered(tmp_path):
    out = tmp_path / "out"
    res = cli("sweep", "baseline-2018", "--vary", "abandonment_fear=0:10:9", "--vary",
              "hawk_weight=0:1:7", "-o", out, "--chunk-size", 20, "--table", "csv")
    assert res.exit_code == 0, res.output
    res = cli("reproduce", out)
    assert res.exit_code == 0 and "bit-for-bit identical" in res.output
    text = (out / "equilibria.csv").read_text().splitlines(keepends=True)
    text[5] = text[5].replace("TRANS", "FIRM", 1) if "TRANS" in text[5] else text[5].replace(",0,", ",1,", 1)
    (out / "equilibria.csv").write_text("".join(text))
    res = cli("reproduce", out)
    assert res.exit_code == 1
    assert "NOT reproduced" in res.output and "equilibria.csv: differs from line 6" in res.output


def test_reproduce_reports_a_tampered_array(tmp_path):
    out = tmp_path / "out"
    assert cli("sweep", "baseline-2018", "--sample", "random", "--n", 300, "--store", "counts",
               "-o", out).exit_code == 0
    with np.load(out / "results.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["count"][10] += 1
    np.savez(out / "results.npz", **arrays)
    res = cli("reproduce", out)
    assert res.exit_code == 1
    assert "'count' differs at 1 of 300 entries (first at 10" in res.output


def test_a_failing_chunk_marks_its_points_failed_and_the_sweep_finishes(tmp_path):
    from dataclasses import replace

    class Flaky(PureLayout):
        def reduce(self, params, start):
            if start == 200:
                raise RuntimeError("boom")
            return super().reduce(params, start)

    register(replace(PURE, name="test-flaky", sweep=Flaky))
    try:
        out = sweep_to(tmp_path / "out", spec(n=500, chunk=100, solver="test-flaky"))
    finally:
        CONCEPTS.pop("test-flaky")
    with np.load(out / "results.npz", allow_pickle=False) as z:
        status = z["status"]
        assert (status[200:300] == STATUS["failed"]).all()
        assert (status[:200] != STATUS["failed"]).all() and (status[300:] != STATUS["failed"]).all()
        assert not np.isin(z["eq_point"], np.arange(200, 300)).any()
    m = json.loads((out / "manifest.json").read_text())
    assert m["failed_chunks"][0]["chunk"] == 2 and "boom" in m["failed_chunks"][0]["error"]
    assert m["status_counts"]["failed"] == 100
    rows = (out / "equilibria.csv").read_text().splitlines()
    assert sum(",failed," in r for r in rows) == 100


def test_summary_and_no_progress_bar_off_a_tty(tmp_path):
    res = cli("sweep", "baseline-2018", "--vary", "abandonment_fear=0:10:11", "--store", "counts")
    assert res.exit_code == 0, res.output
    assert "TRANS/SUPPORT/SLICE/FREEZE" in res.output and "%" in res.output
    assert "no pure equilibrium" in res.output and "several pure equilibria" in res.output
    assert "points/s" in res.output
    assert "\r" not in res.stderr


def test_scenario_sweep_table_and_overwrite(tmp_path):
    scen = tmp_path / "mine.toml"
    scen.write_text('model = "four-power"\n[overrides]\nhawk_weight = 0.6\n'
                    '[sweep]\nvary = ["abandonment_fear=0:10:4", "entrapment_fear=0:10:3"]\n'
                    'store = "counts"\n')
    out = tmp_path / "out"
    assert cli("sweep", scen, "-o", out).exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["design"]["n"] == 12
    res = cli("sweep", scen, "--vary", "hawk_weight=0:1:2", "-o", out, "--overwrite")
    assert res.exit_code == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["design"]["n"] == 2 and m["scenario"]["overrides"] == {"hawk_weight": 0.6}
    scen.write_text('model = "four-power"\n[sweep]\nvry = ["a=0:1:2"]\n')
    res = cli("sweep", scen)
    assert res.exit_code == 2 and "did you mean 'vary'" in res.stderr


@pytest.mark.parametrize("args, message", [
    (["--vary", "abandonment_fear=0:10"], "--vary 'abandonment_fear=0:10': expected name=lo:hi:n"),
    (["--vary", "abandonment_fer=0:10:3"], "unknown parameter 'abandonment_fer'"),
    (["--vary", "abandonment_fear=0:20:3"], "outside abandonment_fear's declared range"),
    (["--sample", "sobol"], "expected --n N"),
    (["--sample", "sobol", "--n", "8", "--vary", "hawk_weight=0:1:2"], "give one design"),
    (["--sample", "sobol", "--n", "8", "--params", "nope"], "unknown parameter 'nope'"),
    (["--sample", "sobol", "--n", "8", "--jobs", "0"], "--jobs 0"),
    (["--sample", "sobol", "--n", "8", "--chunk-size", "0"], "--chunk-size 0"),
    (["--sample", "sobol", "--n", "8", "--tol", "-1"], "--tol"),
    (["--sample", "sobol", "--n", "8", "--solver", "pur"], "did you mean 'pure'"),
    (["--sample", "sobol", "--n", "8", "--lambda", "1.5"], "--lambda"),
    (["--sample", "sobol", "--n", "8", "--scheduler", "nowhere"], "--scheduler 'nowhere'"),
    ([], "expected a design"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_no_results(tmp_path, args, message):
    out = tmp_path / "out"
    res = cli("sweep", "baseline-2018", *args, "-o", out)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and message in lines[-1]
    assert "Traceback" not in res.output + res.stderr
    assert not (out / "manifest.json").exists() and not (out / "results.npz").exists()
    assert not out.exists()


def test_non_empty_folder_is_refused_without_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    res = cli("sweep", "baseline-2018", "--vary", "hawk_weight=0:1:2", "-o", out)
    assert res.exit_code == 2 and "not empty" in res.stderr and "--overwrite" in res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    res = cli("reproduce", out)
    assert res.exit_code == 2 and "no manifest.json" in res.stderr
    res = cli("sweep", "--resume", out)
    assert res.exit_code == 2 and "no plan.json" in res.stderr


def test_missing_dask_gives_a_one_line_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.startswith("dask") or name.startswith("distributed"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    res = cli("sweep", "baseline-2018", "--vary", "hawk_weight=0:1:2", "--scheduler", "local")
    assert res.exit_code == 2 and "pip install 'allysim[dask]'" in res.stderr


@pytest.mark.slow
def test_a_million_points_with_two_processes_reproduce(tmp_path):
    out = tmp_path / "out"
    res = cli("sweep", "baseline-2018", "--sample", "sobol", "--n", 1_000_000, "--jobs", 2, "-o", out,
              "--store", "counts")
    assert res.exit_code == 0, res.output
    res = cli("reproduce", out, "--jobs", 2)
    assert res.exit_code == 0, res.output
