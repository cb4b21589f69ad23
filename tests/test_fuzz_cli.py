"""Fuzzing the command lines of ``sweep``, ``reproduce`` and ``verify`` and the results folders
they read (issue 12): junk flags and values, folders that are files or half-made, manifests
mutated at random. The contract on every example:

- the command ends with exit 0 (ok), 1 (differences: ``reproduce``/``verify`` only),
  2 (bad input) or 3 (failed chunks), never an uncaught exception or a traceback;
- on exit 2 the last line on stderr is one ``error: ...`` line, and no other line is an
  error; a sweep refused with exit 2 leaves no new results folder behind.

Designs are kept small (``ALLYSIM_MAX_POINTS=60``, no ``--yes``). The default run keeps a few
dozen examples per property; ``-m slow`` runs many more.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from allysim.cli import main

JUNK = hs.one_of(
    hs.text(max_size=12),
    hs.sampled_from(["", "-1", "0", "1", "2", "3.5", "nan", "inf", "-inf", "1e400", "1e-400",
                     "10000000000000", "0x10", "1_0", " 3", "３", "a=0:1:3", "hawk_weight=0:1:3",
                     "hawk_weight=1:0:3", "hawk_weight=0:1:0", "hawk_weight=0:1:-3",
                     "hawk_weight=0:nan:3", "abandonment_fear=0:10:5", "us_credibility=0.3:0.9:4",
                     "hawk_weight", "hawk_weight,hawk_weight", ",", "pure", "qre", "spe",
                     "dominance", "dynamics", "pur", "full", "counts", "sobol", "lhs", "halton",
                     "random", "grid", "local", "tcp://127.0.0.1:1", "tcp://:x", "nowhere",
                     "US>Japan>China,NorthKorea", "US>US", "0.5,1.5", "0:2:3", "1.5", "auto",
                     "numba", "numpy", "China=SLICE", "hawk_weight=0.5", "hawk_weight=9"]),
    hs.integers(-3, 70).map(str),
    hs.floats(allow_nan=True, allow_infinity=True).map(repr),
)

#: Plausible values per flag; each flag's value is one of these or junk, so examples reach
#: past the first check into designs, options, executors and folders.
PLAUSIBLE = {
    "--vary": ["hawk_weight=0:1:3", "abandonment_fear=0:10:4", "us_credibility=0.3:0.95:2",
               "hawk_weight=0:1:61"],
    "--sample": ["sobol", "lhs", "halton", "random"], "--n": ["8", "16", "5", "60", "61"],
    "--params": ["hawk_weight", "hawk_weight,abandonment_fear"], "--seed": ["0", "3"],
    "--set": ["entrapment_fear=2", "hawk_weight=0.5"],
    "--solver": ["pure", "dominance", "qre", "spe", "dynamics"], "--lambda": ["1.5", "0.5,1.5"],
    "--tol": ["1e-9", "1e-6"], "--residual-tol": ["1e-10"], "--starts": ["3"],
    "--stages": ["US>Japan>China,NorthKorea"], "--backend": ["numpy", "auto"],
    "--store": ["full", "counts"], "--jobs": ["1", "2", "1000"],
    "--chunk-size": ["1", "2", "7", "100"], "--chunk-timeout": ["30", "0.5"],
    "--retries": ["0", "2"], "--scheduler": ["tcp://127.0.0.1:1", "nowhere"],
}
FLAGS = list(PLAUSIBLE)
SWITCHES = ["--force", "--overwrite", "--quiet"]
NAMES = ["baseline-2018"] * 6 + ["singapore-summit", "chicken", "no-such-scenario", "", "-",
                                  "../x", "baseline-2018.toml"]


def cli(args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def check_contract(res, allowed=(0, 2, 3)):
    assert res.exception is None or isinstance(res.exception, SystemExit), \
        f"uncaught {type(res.exception).__name__}: {res.exception}"
    assert res.exit_code in allowed, (res.exit_code, res.output, res.stderr)
    text = res.output + res.stderr
    assert "Traceback" not in text
    if res.exit_code == 2:
        lines = res.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("error: "), res.stderr
        assert sum(line.startswith("error") for line in lines) == 1
        assert len(lines[-1]) <= 1100


@pytest.fixture(autouse=True)
def small_designs(monkeypatch):
    monkeypatch.setenv("ALLYSIM_MAX_POINTS", "60")


@hs.composite
def flag_value(draw):
    flag = draw(hs.sampled_from(FLAGS))
    value = draw(hs.sampled_from(PLAUSIBLE[flag]) if draw(hs.integers(0, 3)) else JUNK)
    return flag, value


sweep_args = hs.tuples(
    hs.sampled_from(NAMES),
    hs.lists(flag_value(), max_size=6).flatmap(
        lambda pairs: hs.sampled_from([pairs, [("--vary", "hawk_weight=0:1:3"), *pairs],
                                       [("--vary", "abandonment_fear=0:10:5"), *pairs]])),
    hs.lists(hs.sampled_from(SWITCHES), max_size=2),
    hs.sampled_from(["none", "missing", "missing", "file", "empty", "nonempty"]),
)


def _place(kind: str, tmp: Path, finished: Path | None = None) -> Path:
    """``tmp/f`` as a folder argument of the given kind: ``missing`` (nothing there), a
    ``file``, an ``empty`` or ``nonempty`` folder, a copy of a ``finished`` sweep, or a
    folder with a junk or incomplete plan (``plan-junk``, ``plan-only``)."""
    target = tmp / "f"
    if kind == "file":
        target.write_text("{}")
    elif kind == "finished":
        shutil.copytree(finished, target)
    elif kind != "missing":
        target.mkdir()
        plans = {"plan-junk": '{"spec": [1, 2], "spec_sha256": 3}',
                 "plan-only": json.dumps({"spec": {"model_source": "x"}})}
        if kind == "nonempty":
            (target / "notes.txt").write_text("mine")
        elif kind in plans:
            (target / "plan.json").write_text(plans[kind])
    return target


def _output(kind: str, tmp: Path) -> list[str]:
    return [] if kind == "none" else ["-o", str(_place(kind, tmp))]


def _listing(tmp: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))


def _run_sweep_example(example):
    name, flagged, switches, output = example
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        args = ["sweep", name] + [x for pair in flagged for x in pair] + switches + _output(output, tmp)
        before = _listing(tmp)
        res = cli(args)
        check_contract(res)
        if res.exit_code == 2:
            assert _listing(tmp) == before, (args, res.stderr)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(sweep_args)
def test_sweep_arguments_run_or_are_refused_in_one_line(example):
    _run_sweep_example(example)


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(sweep_args)
def test_sweep_arguments_many_slow(example):
    _run_sweep_example(example)


# -- resume, retry-failed, reproduce and verify on odd folders -----------------------------
@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("fin") / "out"
    res = cli(["sweep", "baseline-2018", "--vary", "abandonment_fear=0:10:4", "--vary",
               "hawk_weight=0:1:3", "--chunk-size", 5, "--backend", "numpy", "-o", out])
    assert res.exit_code == 0, res.output
    return out


FOLDERS = ["finished", "missing", "file", "empty", "plan-junk", "plan-only"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(command=hs.sampled_from(["--resume", "--retry-failed", "reproduce", "verify"]),
       kind=hs.sampled_from(FOLDERS),
       extra=hs.lists(hs.tuples(hs.sampled_from(["--jobs", "--scheduler", "--sample", "--seed",
                                                 "--chunk-timeout", "--retries", "--n"]), JUNK),
                      max_size=2))
def test_folder_commands_run_or_are_refused_in_one_line(finished, command, kind, extra):
    with tempfile.TemporaryDirectory() as d:
        folder = _place(kind, Path(d), finished)
        flags = [x for pair in extra for x in pair]
        args = (["sweep", command, folder] if command.startswith("--") else [command, folder]) + flags
        res = cli(args)
        check_contract(res, allowed=(0, 1, 2, 3))


# -- random edits of a finished folder's manifest ---------------------------------------
JSON = hs.recursive(hs.none() | hs.booleans() | hs.integers(-10**20, 10**20) |
                    hs.floats(allow_nan=False) | hs.text(max_size=8),
                    lambda inner: hs.lists(inner, max_size=3) | hs.dictionaries(hs.text(max_size=5), inner, max_size=3),
                    max_leaves=6)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:4]):
            yield from _paths(v, prefix + (i,))


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hs.data(), reseal=hs.booleans(), delete=hs.booleans())
def test_a_mutated_manifest_is_reported_never_a_traceback(finished, data, reseal, delete):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "f"
        shutil.copytree(finished, folder)
        doc = json.loads((folder / "manifest.json").read_text())
        paths = [p for p in _paths(doc) if p]
        path = data.draw(hs.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        old = parent[path[-1]]
        if delete and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON)
        raw = (json.dumps(doc, indent=2) + "\n").encode()
        (folder / "manifest.json").write_bytes(raw)
        if reseal:
            (folder / "manifest.sha256").write_text(f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n")
        res = cli(["reproduce", folder, "--quiet"])
        check_contract(res, allowed=(0, 1, 2))
        untouched = (not delete or not isinstance(parent, dict)) and parent.get(path[-1], None) == old \
            if isinstance(parent, dict) else False
        if not reseal and not untouched:
            assert res.exit_code == 1 or res.exit_code == 2, res.output
        res = cli(["verify", folder])
        check_contract(res, allowed=(0, 1, 2))


def test_flipped_bytes_anywhere_in_results_npz(finished, tmp_path):
    size = (finished / "results.npz").stat().st_size
    for at in np.linspace(0, size - 1, 12).astype(int):
        folder = tmp_path / f"f{at}"
        shutil.copytree(finished, folder)
        raw = bytearray((folder / "results.npz").read_bytes())
        raw[at] ^= 0x55
        (folder / "results.npz").write_bytes(bytes(raw))
        res = cli(["reproduce", folder, "--quiet"])
        check_contract(res, allowed=(1,))
        assert "results.npz: sha256 differs" in res.output
        for command in (["verify", folder], ["plot", folder]):
            check_contract(cli(command), allowed=(0, 1, 2))
