"""The results a sweep writes and how they are read back: typed chunks, the tidy table as
Parquet or CSV (the same rows), the names in results.npz, reproduce comparing the table,
``allysim export DIR`` and ``allysim.load`` (pandas, xarray), also on 0.1.0 folders."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import allysim
from allysim.cli import main
from allysim.sweep.engine import auto_chunk_size

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")

FIXTURES = Path(__file__).parent / "fixtures" / "results-0.1.0"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """One full-store grid sweep written as Parquet and the same as CSV."""
    root = tmp_path_factory.mktemp("tables")
    args = ["sweep", "baseline-2018", "--vary", "abandonment_fear=0:10:7", "--vary",
            "us_credibility=0.3:0.95:5", "--chunk-size", 11, "--quiet"]
    for fmt in ("parquet", "csv"):
        res = cli(*args, "--table", fmt, "-o", root / fmt)
        assert res.exit_code == 0, res.output
    return root


def test_parquet_and_csv_hold_the_same_rows(grid):
    table = pd.read_parquet(grid / "parquet" / "equilibria.parquet")
    text = pd.read_csv(grid / "csv" / "equilibria.csv")
    assert list(table.columns) == list(text.columns)
    assert len(table) == len(text)
    for name in table.columns:
        a, b = table[name], text[name]
        if isinstance(a.dtype, pd.CategoricalDtype):
            assert a.astype(object).fillna("").tolist() == b.astype(object).fillna("").tolist(), name
        else:
            assert np.array_equal(a.to_numpy(dtype=float, na_value=np.nan),
                                  b.to_numpy(dtype=float, na_value=np.nan), equal_nan=True), name
    assert isinstance(table["US"].dtype, pd.CategoricalDtype)
    assert table["point"].dtype == np.int64 and table["payoff_US"].dtype == np.float64
    meta = json.loads(pq.read_schema(grid / "parquet" / "equilibria.parquet").metadata[b"allysim"])
    assert meta["players"]["US"] == ["FIRM", "TRANS", "ACCOM"]
    assert meta["parameters"] == ["abandonment_fear", "us_credibility"]


def test_results_npz_names_itself(grid):
    with np.load(grid / "parquet" / "results.npz", allow_pickle=False) as z:
        assert z["player_names"].tolist() == ["US", "Japan", "China", "NorthKorea"]
        assert z["strategy_names"][1].tolist() == ["SUPPORT", "ARM", "DISTANCE"]
        assert z["solution_concept"].tolist() == ["NE (pure)"] and str(z["solver"]) == "pure"
        assert z["param_names"].tolist() == ["abandonment_fear", "us_credibility"]
        # decode a row with numpy alone
        names = [z["strategy_names"][i][a] for i, a in enumerate(z["eq_profile"][0])]
    assert all(isinstance(s, str) and s for s in names)
    manifest = json.loads((grid / "parquet" / "manifest.json").read_text())
    assert manifest["table"] == {"format": "parquet", "file": "equilibria.parquet"}
    assert set(manifest["timings"]) == {"setup", "compile", "solve", "write"}
    assert manifest["chunking"]["chunk_size"] == 11


def test_reproduce_compares_the_parquet_table(grid, tmp_path):
    folder = tmp_path / "pq"
    shutil.copytree(grid / "parquet", folder)
    res = cli("reproduce", folder, "--quiet")
    assert res.exit_code == 0 and "equilibria.parquet" in res.output, res.output
    table = pq.read_table(folder / "equilibria.parquet")
    values = table.column("payoff_US").to_numpy(zero_copy_only=False).copy()
    values[3] += 1.0
    tampered = table.set_column(table.schema.get_field_index("payoff_US"), "payoff_US",
                                pa.array(values))
    pq.write_table(tampered, folder / "equilibria.parquet")
    res = cli("reproduce", folder, "--quiet")
    assert res.exit_code == 1 and "equilibria.parquet: column 'payoff_US' differs" in res.output


def test_export_makes_the_csv_and_parquet_of_any_folder(grid, tmp_path):
    res = cli("export", grid / "parquet", "--format", "csv", "-o", tmp_path / "t.csv")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t.csv").read_bytes() == (grid / "csv" / "equilibria.csv").read_bytes()
    res = cli("export", grid / "csv", "-o", tmp_path / "t.parquet")
    assert res.exit_code == 0, res.output
    assert pq.read_table(tmp_path / "t.parquet").equals(pq.read_table(grid / "parquet" / "equilibria.parquet"))
    res = cli("export", grid / "csv", "-o", tmp_path / "t.txt")
    assert res.exit_code == 2 and "expected --format csv or parquet" in res.output
    res = cli("export", "baseline-2018", "--format", "csv", "-o", tmp_path / "x.csv")
    assert res.exit_code == 2 and "is a scenario" in res.output


@pytest.mark.parametrize("name", ["pure-full", "qre", "mixed", "spe"])
def test_export_of_a_0_1_0_folder_gives_its_csv_byte_for_byte(name, tmp_path):
    res = cli("export", FIXTURES / name, "--format", "csv", "-o", tmp_path / "t.csv")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t.csv").read_bytes() == (FIXTURES / name / "equilibria.csv").read_bytes()


def test_load_as_pandas(grid):
    df = allysim.load(grid / "parquet")
    assert df.equals(pd.read_parquet(grid / "parquet" / "equilibria.parquet")) or \
        len(df) == len(pd.read_parquet(grid / "parquet" / "equilibria.parquet"))
    assert {"abandonment_fear", "us_credibility", "US", "payoff_US", "max_regret"} <= set(df.columns)
    assert set(df["US"].dropna()) <= {"FIRM", "TRANS", "ACCOM"}
    with np.load(grid / "parquet" / "results.npz") as z:
        assert len(df) == np.maximum(z["count"], 1).sum()
    old = allysim.load(FIXTURES / "pure-full")
    assert len(old) == len(pd.read_csv(FIXTURES / "pure-full" / "equilibria.csv"))
    counts = allysim.load(FIXTURES / "pure-counts")
    assert len(counts) == 64 and {"count", "outcome", "us_credibility"} <= set(counts.columns)


def test_load_as_xarray(grid):
    xr = pytest.importorskip("xarray")
    ds = allysim.load(grid / "parquet", as_="xarray")
    assert isinstance(ds, xr.Dataset)
    assert ds["count"].dims == ("abandonment_fear", "us_credibility")
    assert ds["count"].shape == (7, 5)
    assert np.allclose(ds["abandonment_fear"], np.linspace(0, 10, 7))
    assert set(np.unique(ds["status"].values)) <= {"ok", "no_pure", "degenerate"}
    qre = allysim.load(FIXTURES / "qre", as_="xarray")
    assert qre["prob"].dims == ("halt_concession", "strategy")
    assert "China=SEIZE" in qre["strategy"].values.tolist()
    sample = allysim.load(FIXTURES / "pure-counts", as_="xarray")
    assert sample["count"].dims == ("point",) and "us_credibility" in sample.coords


def test_a_missing_extra_is_one_line(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_xarray(name, *a, **k):
        if name == "xarray":
            raise ImportError("no xarray")
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_xarray)
    with pytest.raises(allysim.AllysimError, match=r"pip install 'allysim\[xarray\]'"):
        allysim.load(FIXTURES / "qre", as_="xarray")


def test_chunk_size_gives_every_job_work():
    assert auto_chunk_size(2**21, 2, 16384) == 16384
    assert auto_chunk_size(16384, 2, 4096) == 4096        # QRE: 4 chunks for 2 jobs
    assert auto_chunk_size(3000, 2, 16384) == 750         # 4 chunks, not 1
    assert auto_chunk_size(3000, 1, 16384) == 3000
    for n in (100, 1000, 5000, 40000):
        for jobs in (2, 3, 4):
            size = auto_chunk_size(n, jobs, 16384)
            assert -(-n // size) >= jobs or size == 64
    assert auto_chunk_size(40, 2, 4096) == 16               # costly points: small chunks


def test_qre_sweep_with_two_jobs_cuts_several_chunks(tmp_path):
    res = cli("sweep", "singapore-summit", "--solver", "qre", "--vary", "deal_value=0:5:40",
              "--jobs", "2", "--quiet", "-o", tmp_path / "q")
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "q" / "manifest.json").read_text())
    assert m["chunking"]["n_chunks"] >= 2


def test_summary_rate_is_over_the_whole_command(grid, tmp_path):
    res = cli("sweep", "baseline-2018", "--vary", "abandonment_fear=0:10:5", "--quiet",
              "-o", tmp_path / "s")
    line = res.output.splitlines()[0]
    assert "over the whole command: start-up" in line
    for part in ("compile", "solve", "write"):
        assert f"{part} " in line


def test_without_pyarrow_the_default_table_is_csv_and_parquet_is_one_line(monkeypatch, tmp_path):
    import allysim.sweep.engine as engine
    monkeypatch.setattr(engine, "pyarrow_available", lambda: False)
    assert engine.default_table() == "csv"
    import builtins
    real = builtins.__import__

    def no_pyarrow(name, *a, **k):
        if name.startswith("pyarrow"):
            raise ImportError("no pyarrow")
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    res = cli("sweep", "baseline-2018", "--vary", "abandonment_fear=0:10:3", "--table", "parquet",
              "--quiet", "-o", tmp_path / "p")
    assert res.exit_code == 2 and "pip install 'allysim[parquet]'" in res.output
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("broken", ["table", "results"])
def test_a_failing_writer_stops_finalize_with_its_error(broken, tmp_path, monkeypatch):
    """Either writer failing ends finalize with that error (no hang), and no manifest."""
    import allysim.sweep.engine as engine
    from allysim.sweep import store as st

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")
    if broken == "table":
        monkeypatch.setattr(engine, "write_table", boom)
    else:
        monkeypatch.setattr(st, "write_npz_stream", boom)
    res = cli("sweep", "baseline-2018", "--sample", "sobol", "--n", 64, "--chunk-size", 8,
              "--quiet", "-o", tmp_path / "o")
    assert res.exit_code == 2 and "No space left on device" in res.stderr
    assert "allysim sweep --resume" in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "o" / "manifest.json").exists()
    monkeypatch.undo()
    res = cli("sweep", "--resume", tmp_path / "o")         # the chunks were kept
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "manifest.json").exists()
