"""Sweeps under injected faults (issue 12, items 5-9, 11, 13): a chunk that raises, a worker
that dies, a chunk that hangs, ``kill -9`` of the main process, two writers, a bad plan or
chunk on resume, a failure before the first chunk, and designs too large to list.

Faults come from the test-only concept of :mod:`tests.faults` (``--solver test-faults``,
the pure concept with a fault plan read from ``ALLYSIM_TEST_FAULTS``). Each recovery is
checked bit for bit against a clean run of the same spec.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from allysim.cli import main
from allysim.concepts import CONCEPTS
from allysim.solve import STATUS
from allysim.sweep import engine
from allysim.sweep import store as st
from tests.faults import ENV, ENV_DIR, NAME, register_faults

ROOT = Path(__file__).resolve().parent.parent
PARAMS = "us_credibility,abandonment_fear,entrapment_fear,hawk_weight"
#: 500 points in 5 chunks starting at points 0, 100, 200, 300, 400.
DESIGN = ["baseline-2018", "--sample", "sobol", "--n", "500", "--params", PARAMS, "--seed", "7",
          "--chunk-size", "100", "--solver", NAME, "--backend", "numpy", "--table", "csv", "--quiet"]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def data(folder: Path) -> dict[str, bytes]:
    with np.load(folder / "results.npz", allow_pickle=False) as z:
        out = {k: z[k].tobytes() for k in z.files}
    out["csv"] = (folder / "equilibria.csv").read_bytes()
    return out


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


@pytest.fixture
def faults(monkeypatch, tmp_path):
    """Register the fault concept for one test; ``faults({...})`` sets the fault plan."""
    register_faults()
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv(ENV_DIR, str(marks))
    monkeypatch.delenv(ENV, raising=False)

    def plan(mapping):
        monkeypatch.setenv(ENV, json.dumps(mapping))
    yield plan
    CONCEPTS.pop(NAME, None)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The reference: the same sweep with no fault, in-process."""
    register_faults()
    try:
        out = tmp_path_factory.mktemp("clean") / "out"
        res = cli("sweep", *DESIGN, "-o", out)
        assert res.exit_code == 0, res.output
        return data(out)
    finally:
        CONCEPTS.pop(NAME, None)


# -- item 5: failed chunks are retried, then reported --------------------------------------
@pytest.mark.parametrize("fault, jobs", [("raise-once", 1), ("raise-once", 2), ("exit-once", 2)])
def test_a_chunk_that_fails_once_is_retried_and_the_results_are_a_clean_run(
        tmp_path, faults, clean, fault, jobs):
    faults({"200": fault})
    out = tmp_path / "out"
    res = cli("sweep", *DESIGN, "--jobs", jobs, "-o", out)
    assert res.exit_code == 0, res.output
    assert data(out) == clean
    assert manifest(out)["failed_chunks"] == [] and manifest(out)["failed_points"] == 0
    assert sorted(p.name for p in out.iterdir()) == ["equilibria.csv", "manifest.json",
                                                     "manifest.sha256", "results.npz"]


@pytest.mark.parametrize("fault, jobs, error", [("raise", 1, "injected fault"),
                                                ("raise", 2, "injected fault"),
                                                ("exit", 2, "worker process died (exit code 3)")])
def test_a_chunk_that_always_fails_exits_3_is_listed_and_retry_failed_recomputes_it(
        tmp_path, faults, clean, fault, jobs, error):
    faults({"200": fault})
    out = tmp_path / "out"
    res = cli("sweep", *DESIGN, "--jobs", jobs, "--retries", 1, "-o", out)
    assert res.exit_code == 3, res.output
    assert "--retry-failed" in res.output
    m = manifest(out)
    assert [(f["chunk"], f["start"], f["stop"], f["status"], f["attempts"]) for f in m["failed_chunks"]] \
        == [(2, 200, 300, "failed", 2)]
    assert error in m["failed_chunks"][0]["error"]
    assert m["status_counts"]["failed"] == 100 and m["failed_points"] == 100
    with np.load(out / "results.npz") as z:            # only the guilty chunk failed
        assert (z["status"][200:300] == STATUS["failed"]).all()
        assert (z["status"][:200] != STATUS["failed"]).all() and (z["status"][300:] != STATUS["failed"]).all()
    # --resume no longer says "complete" as if nothing were lost
    res = cli("sweep", "--resume", out)
    assert res.exit_code == 2 and "1 chunk(s) failed" in res.stderr and "--retry-failed" in res.stderr
    faults({})
    res = cli("sweep", "--retry-failed", out, "--jobs", jobs)
    assert res.exit_code == 0, res.output
    assert "4 of 5 chunks already done" in res.stderr
    assert data(out) == clean
    assert manifest(out)["failed_chunks"] == []
    assert not (out / "plan.json").exists() and not (out / "chunks").exists()
    res = cli("sweep", "--retry-failed", out)
    assert res.exit_code == 0 and "nothing to compute again" in res.stderr
    res = cli("reproduce", out, "--quiet")
    assert res.exit_code == 0 and "bit-for-bit identical" in res.output, res.output


def test_retries_are_bounded(tmp_path, faults):
    faults({"100": "raise"})
    out = tmp_path / "out"
    res = cli("sweep", *DESIGN, "--retries", 3, "-o", out)
    assert res.exit_code == 3
    assert manifest(out)["failed_chunks"][0]["attempts"] == 4
    res = cli("sweep", *DESIGN, "--retries", 0, "-o", out, "--overwrite")
    assert res.exit_code == 3 and manifest(out)["failed_chunks"][0]["attempts"] == 1


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_chunk_past_its_timeout_is_stopped_and_retried(tmp_path, faults, clean, jobs):
    faults({"300": "sleep-once:60"})
    out = tmp_path / "out"
    t0 = time.monotonic()
    res = cli("sweep", *DESIGN, "--jobs", jobs, "--chunk-timeout", 2, "-o", out)
    assert res.exit_code == 0, res.output
    assert time.monotonic() - t0 < 50        # the 60 s sleep was cut short
    assert data(out) == clean


def test_a_chunk_that_always_times_out_gets_status_timeout(tmp_path, faults):
    faults({"0": "sleep:60"})
    out = tmp_path / "out"
    res = cli("sweep", *DESIGN, "--jobs", 2, "--chunk-timeout", 1, "--retries", 0, "-o", out)
    assert res.exit_code == 3, res.output
    m = manifest(out)
    assert m["failed_chunks"][0]["status"] == "timeout" and m["status_counts"]["timeout"] == 100
    assert "--chunk-timeout 1 s" in m["failed_chunks"][0]["error"]
    with np.load(out / "results.npz") as z:
        assert (z["status"][:100] == STATUS["timeout"]).all()


def test_dask_retries_a_failed_chunk_and_times_out_a_hung_one(tmp_path, faults, clean):
    import dask.distributed as distributed
    from allysim.sweep import SweepSpec, sample_design
    from allysim import load_scenario

    s = load_scenario("baseline-2018")
    design = sample_design(s.model, s.point, "sobol", 500, params=PARAMS.split(","), seed=7)
    spec = SweepSpec(s.model.source, "four-power.toml", design, NAME,
                     {"tol": 1e-9, "backend": "numpy"}, "full", 100,
                     {"name": s.name, "path": s.path, "sha256": s.sha256, "source": s.source,
                      "overrides": s.overrides, "force": False}, "csv")
    faults({"100": "raise-once", "300": "sleep-once:4"})
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        st.prepare(out, overwrite=False)
        engine.write_plan(out, spec, ["test"])
        run = engine.run_sweep(spec, out=out, scheduler=client, chunk_timeout=1.5)
    assert run.failed_chunks == []
    assert data(out) == clean


# -- item 8: workers die with their parent; item 6/7: the resume takes over -------------------
def _proc_stat(pid: int) -> tuple[str, int] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and (stat := _proc_stat(int(d))) and stat[1] == pid:
            out.append(int(d))
    return out


def _alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def _faulty_cli(args, plan, marks):
    """The CLI with the fault concept in a process of its own; its output goes to a file
    (a pipe would be held open by any worker that outlived it)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), ENV: json.dumps(plan), ENV_DIR: str(marks)}
    with open(Path(marks).parent / "cli-output.txt", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "tests.faults", *map(str, args)], cwd=ROOT,
                                env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)


def _wait_for(condition, seconds=120.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_kill_9_of_the_main_process_takes_its_workers_and_resume_finishes(tmp_path, faults, clean):
    out = tmp_path / "out"
    proc = _faulty_cli(["sweep", *DESIGN, "--jobs", 2, "-o", out], {"*": "sleep:1"}, tmp_path / "marks")
    workers: list[int] = []
    try:
        _wait_for(lambda: len(st.done_chunks(out)) >= 1 and len(_children(proc.pid)) == 2)
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        _wait_for(lambda: not any(_alive(w) for w in workers), seconds=5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for w in workers:           # if the test failed: do not leave its orphans behind
            if _alive(w):
                os.kill(w, signal.SIGKILL)
    assert (out / ".allysim.lock").exists() and not (out / "manifest.json").exists()
    res = cli("sweep", "--resume", out, "--jobs", 2)     # takes over the dead owner's lock
    assert res.exit_code == 0, res.output
    assert data(out) == clean


def test_a_second_writer_is_refused_while_the_first_runs(tmp_path, faults, clean):
    out = tmp_path / "out"
    proc = _faulty_cli(["sweep", *DESIGN, "-o", out], {"*": "sleep:0.4"}, tmp_path / "marks")
    try:
        _wait_for(lambda: (out / "plan.json").exists())
        res = cli("sweep", *DESIGN, "-o", out, "--overwrite")
        assert res.exit_code == 2, res.output
        assert f"another allysim (pid {proc.pid}" in res.stderr
        res = cli("sweep", "--resume", out)
        assert res.exit_code == 2 and f"pid {proc.pid}" in res.stderr
        assert proc.wait(120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    assert data(out) == clean
    assert not (out / ".allysim.lock").exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path, faults, clean):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".allysim.lock").write_text(f"{dead.pid} somehost 2026-01-01T00:00:00\n")
    res = cli("sweep", *DESIGN, "-o", out)
    assert res.exit_code == 0, res.output
    assert data(out) == clean and not (out / ".allysim.lock").exists()


# -- item 6: resume checks the plan and every chunk --------------------------------------------
def _interrupted(tmp_path, faults, at="300") -> Path:
    """A folder interrupted (Ctrl-C) at the chunk starting at point ``at``."""
    faults({at: "interrupt-once"})
    out = tmp_path / "out"
    res = cli("sweep", *DESIGN, "-o", out)
    assert res.exit_code == 130, res.output
    faults({})
    return out


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["spec"].update(chunk_size=77), "plan.json was changed"),
    (lambda p: p["spec"]["design"].update(seed=8), "plan.json was changed"),
    (lambda p: p.pop("spec_sha256"), "plan.json has no spec_sha256"),
])
def test_resume_refuses_a_plan_changed_after_the_start(tmp_path, faults, edit, message):
    out = _interrupted(tmp_path, faults)
    plan = json.loads((out / "plan.json").read_text())
    edit(plan)
    (out / "plan.json").write_text(json.dumps(plan))
    res = cli("sweep", "--resume", out)
    assert res.exit_code == 2 and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output


@pytest.mark.parametrize("flag", [["--seed", "0"], ["--chunk-size", "100"], ["--store", "full"],
                                  ["--overwrite"], ["--force"]])
def test_resume_refuses_flags_it_would_ignore(tmp_path, faults, flag):
    out = _interrupted(tmp_path, faults)
    res = cli("sweep", "--resume", out, *flag)
    assert res.exit_code == 2 and f"drop {flag[0]}" in res.stderr


def _truncate(path: Path):
    path.write_bytes(path.read_bytes()[:300])


def _flip(path: Path):
    b = bytearray(path.read_bytes())
    b[len(b) // 2] ^= 0xFF
    path.write_bytes(bytes(b))


def _swap(path: Path):
    other = path.with_name("chunk-000000.npz")
    a, b = path.read_bytes(), other.read_bytes()
    path.write_bytes(b), other.write_bytes(a)


def _status_counts(path: Path):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["t/status_counts"][0] += 5
    np.savez(path, **arrays)


def _foreign(path: Path):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["meta/spec_sha256"] = np.frombuffer(b"0" * 64, dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("damage, why", [(_truncate, "is unreadable (BadZipFile"),
                                         (_flip, "is unreadable"),
                                         (_swap, "not chunk 0"),
                                         (_status_counts, "does not count p/status"),
                                         (_foreign, "another spec")])
def test_resume_recomputes_a_bad_chunk(tmp_path, faults, clean, damage, why):
    out = _interrupted(tmp_path, faults)
    assert st.done_chunks(out) == {0, 1, 2}
    damage(st.chunk_path(out, 1))
    res = cli("sweep", "--resume", out)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert why in res.stderr and "computing" in res.stderr
    assert data(out) == clean


# -- item 9: nothing left behind by a sweep that fails before its first chunk -----------------
def test_an_unreachable_scheduler_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    res = cli("sweep", "baseline-2018", "--vary", "hawk_weight=0:1:3", "--scheduler",
              "tcp://127.0.0.1:1", "-o", out)
    assert res.exit_code == 2 and "cannot connect" in res.stderr
    assert not out.exists()
    out.mkdir()
    res = cli("sweep", "baseline-2018", "--vary", "hawk_weight=0:1:3", "--scheduler",
              "tcp://127.0.0.1:1", "-o", out)
    assert res.exit_code == 2 and list(out.iterdir()) == []


def test_a_failure_when_the_executor_starts_leaves_nothing(tmp_path, monkeypatch):
    from allysim.sweep import executors

    def broken(*args, **kwargs):
        raise engine.AllysimError("--scheduler tcp://x:1: cannot connect (refused)")
        yield  # pragma: no cover

    monkeypatch.setattr(executors, "processes", broken)
    out = tmp_path / "out"
    res = cli("sweep", "baseline-2018", "--vary", "hawk_weight=0:1:3", "--chunk-size", 1,
              "--jobs", 2, "--backend", "numpy", "-o", out)
    assert res.exit_code == 2 and "cannot connect" in res.stderr
    assert not out.exists()


def test_an_interruption_before_the_first_chunk_leaves_nothing(tmp_path, faults):
    faults({"0": "interrupt"})
    out = tmp_path / "out"
    res = cli("sweep", *DESIGN, "-o", out)
    assert res.exit_code == 130 and not out.exists()
    assert "--resume" not in res.stderr


def test_a_full_disk_at_the_first_chunk_leaves_nothing(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(st, "write_chunk", full)
    out = tmp_path / "out"
    res = cli("sweep", "baseline-2018", "--vary", "hawk_weight=0:1:3", "-o", out)
    assert res.exit_code == 2, res.output
    assert res.stderr.strip().splitlines() == [f"error: -o {out}: cannot write: No space left on device"]
    assert not out.exists()


# -- item 11: designs too large to list --------------------------------------------------------
def test_chunks_are_generated_lazily():
    from collections.abc import Iterator
    from itertools import islice
    from allysim import load_scenario
    from allysim.sweep import SweepSpec, sample_design

    s = load_scenario("baseline-2018")
    small = SweepSpec(s.model.source, "four-power.toml",
                      sample_design(s.model, s.point, "random", 10, seed=0), chunk_size=3)
    assert isinstance(small.chunks(), Iterator)         # not a list: never all built
    assert list(small.chunks()) == [(0, 0, 3), (1, 3, 6), (2, 6, 9), (3, 9, 10)]
    assert list(small.chunks(2)) == [(2, 6, 9), (3, 9, 10)]
    design = sample_design(s.model, s.point, "random", 2**53, seed=0)
    spec = SweepSpec(s.model.source, "four-power.toml", design, chunk_size=1)
    assert spec.n_chunks == 2**53
    assert spec.chunk(2**53 - 1) == (2**53 - 1, 2**53 - 1, 2**53)
    assert list(islice(spec.chunks(), 2)) == [(0, 0, 1), (1, 1, 2)]


def test_a_huge_design_starts_at_once_and_stops_cleanly(tmp_path):
    """2^53 points in chunks of one: listing the chunks up front exhausted the host's memory.
    Run in a process limited to 3 GB of address space, so a regression fails quickly."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    out = tmp_path / "out"
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), ENV: json.dumps({"3": "interrupt"}),
           ENV_DIR: str(marks)}
    res = subprocess.run([sys.executable, "-m", "tests.faults", "sweep", "baseline-2018",
                          "--sample", "random", "--n", str(2**53), "--chunk-size", "1",
                          "--solver", NAME, "--backend", "numpy", "--store", "counts", "--yes",
                          "-o", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                         preexec_fn=limit, timeout=300)
    assert res.returncode == 130, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "MemoryError" not in res.stderr
    assert st.done_chunks(out) == {0, 1, 2} and "--resume" in res.stderr


def test_chunks_of_a_large_model_stay_within_the_memory_limit(tmp_path, monkeypatch, clean, faults):
    # four-power: 2,592 bytes of payoffs per point; 100 kB hold 38 points
    monkeypatch.setenv("ALLYSIM_MAX_MEMORY", "100kB")
    out = tmp_path / "out"
    design = [a if a != "100" else "1000" for a in DESIGN]      # --chunk-size 1000
    res = cli("sweep", *design, "-o", out)
    assert res.exit_code == 0, res.output
    assert "--chunk-size 1000: using 38 points per chunk" in res.stderr
    assert manifest(out)["chunking"]["chunk_size"] == 38
    assert data(out) == clean


def test_a_chunk_is_solved_in_batches_within_the_memory_limit(monkeypatch):
    from allysim import load_scenario
    from allysim.sweep import SweepSpec, sample_design

    s = load_scenario("baseline-2018")
    design = sample_design(s.model, s.point, "sobol", 256, seed=3)
    spec = SweepSpec(s.model.source, "four-power.toml", design, "pure", {"backend": "numpy"},
                     "full", 256)
    whole = engine.run_chunk(spec.to_json(), 0, 0, 256)
    calls = []
    monkeypatch.setenv("ALLYSIM_MAX_MEMORY", "100kB")
    _, _, layout = engine.context(spec.to_json())
    original = type(layout).reduce

    def spy(self, params, start):
        calls.append(len(params))
        return original(self, params, start)

    monkeypatch.setattr(type(layout), "reduce", spy)
    batched = engine.run_chunk(spec.to_json(), 0, 0, 256)
    assert max(calls) == 38 and sum(calls) == 256
    assert whole.keys() == batched.keys()
    assert all(whole[k].tobytes() == batched[k].tobytes() for k in whole)


# -- item 13: workers capped by chunks and CPUs -------------------------------------------------
def test_jobs_are_capped_by_chunks_and_cpus(tmp_path):
    from allysim.sweep import executors

    res = cli("sweep", "baseline-2018", "--vary", "hawk_weight=0:1:11", "--jobs", 1000, "--quiet")
    assert res.exit_code == 0, res.output
    assert res.stderr.count("--jobs 1000: 1 worker process at most (1 chunk to compute") == 1
    assert "in-process" in res.output
    res = cli("sweep", "baseline-2018", "--vary", "hawk_weight=0:1:11", "--jobs", 1000,
              "--chunk-size", 2, "--quiet")
    cpus = executors.available_cpus()
    n = min(6, cpus)
    assert res.exit_code == 0, res.output
    assert f"--jobs 1000: {n} worker process{'es' if n > 1 else ''} at most (6 chunks" in res.stderr
    assert (f"{n} processes" if n > 1 else "in-process") in res.output


# -- item 12 (part) --------------------------------------------------------------------------
def test_dynamics_when_every_player_has_one_strategy(tmp_path):
    model = tmp_path / "one.toml"
    model.write_text('name = "one"\n[[players]]\nname = "A"\nstrategies = ["X"]\n'
                     '[[players]]\nname = "B"\nstrategies = ["Y"]\n'
                     '[parameters]\na = { default = 1, range = [0, 2] }\n'
                     '[payoffs]\nA = "a"\nB = "2 * a"\n')
    res = cli("run", model, "--solver", "dynamics", "--json")
    assert res.exit_code == 0, res.output
    rest = json.loads(res.output)["results"][0]["equilibria"]
    assert len(rest) == 1 and rest[0]["nash"] is True
    res = cli("sweep", model, "--vary", "a=0:2:3", "--solver", "dynamics")
    assert res.exit_code == 0, res.output and "ok 100.00%" in res.output
