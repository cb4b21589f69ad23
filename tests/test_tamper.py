"""``reproduce`` against tampered results folders (issue 12, items 3, 10, 11): every edit is
a difference (exit 1) named on its own line, never a traceback; a 0.1.0 folder, which has no
manifest seal, reproduces with a note; QRE totals are the same bits run after run."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from allysim.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "results-0.1.0"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    out = tmp_path_factory.mktemp("orig") / "out"
    res = cli("sweep", "baseline-2018", "--vary", "abandonment_fear=0:10:5", "--vary",
              "hawk_weight=0:1:3", "--chunk-size", 4, "--backend", "numpy", "-o", out)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def folder(tmp_path, original):
    out = tmp_path / "out"
    shutil.copytree(original, out)
    return out


def load(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def save(out: Path, manifest: dict, *, reseal: bool) -> None:
    data = (json.dumps(manifest, indent=2) + "\n").encode()
    (out / "manifest.json").write_bytes(data)
    if reseal:      # an editor who also rewrites the seal: the re-run must still catch it
        (out / "manifest.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  manifest.json\n")


def not_reproduced(res) -> list[str]:
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output + res.stderr
    assert res.output.startswith("NOT reproduced")
    return [line.strip() for line in res.output.splitlines()[1:]]


def test_an_untouched_folder_reproduces(folder):
    res = cli("reproduce", folder, "--quiet")
    assert res.exit_code == 0 and "bit-for-bit identical" in res.output, res.output
    assert "note:" not in res.output


def _share(m):
    m["summary"][1] = re.sub(r"\d+\.\d\d%", "99.99%", m["summary"][1], count=1)


def _status(m):
    m["status_counts"]["ok"] += 1


def _seed(m):
    m["seed"] = 99


def _scenario_source(m):
    m["spec"]["scenario"]["source"] += "\n# edited\n"


def _files(m):
    del m["files"]


def _outside(m):
    m["files"]["../../etc/passwd"] = {"sha256": "0" * 64, "bytes": 1}


def _failed(m):
    m["failed_chunks"] = [{"chunk": 1, "start": 4, "stop": 8, "status": "failed", "error": "x"}]


@pytest.mark.parametrize("edit, expected", [
    (_share, "manifest.json: 'summary' differs from a fresh run: item 1"),
    (_status, "manifest.json: 'status_counts' differs from a fresh run: ok: 16 vs 15"),
    (_seed, "manifest.json: 'seed' is 99, but the spec the sweep re-runs says 0"),
    (_scenario_source, "manifest.json: spec.scenario.sha256 is not the sha256 of spec.scenario.source"),
    (_files, "manifest.json: 'files' is missing or not a table"),
    (_outside, "manifest.json: files lists '../../etc/passwd', which is not a file of the folder"),
    (_failed, "manifest.json: failed_chunks lists [(1, 'failed')], a fresh run none"),
])
@pytest.mark.parametrize("reseal", [False, True])
def test_an_edited_manifest_is_a_difference(folder, edit, expected, reseal):
    m = load(folder)
    edit(m)
    save(folder, m, reseal=reseal)
    lines = not_reproduced(cli("reproduce", folder, "--quiet"))
    assert any(line.startswith(expected) for line in lines), lines
    seal = "manifest.json: its sha256 is not the one in manifest.sha256: the manifest was edited after it was written"
    assert (seal in lines) is not reseal


def test_a_missing_seal_is_a_difference(folder):
    (folder / "manifest.sha256").unlink()
    lines = not_reproduced(cli("reproduce", folder, "--quiet"))
    assert lines == ["manifest.sha256: missing, though manifest.json says it was sealed"]


def test_a_flipped_byte_in_results_npz_is_reported_not_a_traceback(folder):
    with np.load(folder / "results.npz") as z:
        names = z.files
    raw = bytearray((folder / "results.npz").read_bytes())
    at = raw.index(b"count.npy") + 200           # inside the first array's data
    raw[at] ^= 0x01
    (folder / "results.npz").write_bytes(bytes(raw))
    lines = not_reproduced(cli("reproduce", folder, "--quiet"))
    assert "results.npz: sha256 differs from the one recorded in manifest.json" in lines
    assert any(re.match(r"results.npz: array '\w+' cannot be read \(BadZipFile", line) for line in lines), lines
    assert names
    res = cli("plot", folder)
    assert res.exit_code == 2 and "Traceback" not in res.output + res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith(f"error: {folder}/results.npz: unreadable")
    assert not (folder / "equilibria.png").exists()


def test_a_manifest_that_no_longer_parses_is_a_difference(folder):
    raw = (folder / "manifest.json").read_bytes()
    (folder / "manifest.json").write_bytes(raw.replace(b'"seed": 0', b'"seed": 0}', 1))
    lines = not_reproduced(cli("reproduce", folder, "--quiet"))
    assert lines[0].startswith("manifest.json: its sha256 is not the one in manifest.sha256")
    assert lines[1].startswith("manifest.json: cannot be read")


@pytest.mark.parametrize("reseal, code, message", [
    (False, 1, "not re-run: reproduce"),
    (True, 2, "pass --yes to run it anyway"),
])
def test_a_manifest_edited_to_1e15_points_is_not_run(folder, reseal, code, message):
    m = load(folder)
    for design in (m["design"], m["spec"]["design"]):      # every copy, consistently
        design.update(kind="random", n=10**15)
        del design["counts"]
    m["chunking"]["n_chunks"] = 10**15 // 4
    save(folder, m, reseal=reseal)
    res = cli("reproduce", folder, "--quiet")
    assert res.exit_code == code, res.output
    assert message in res.output + res.stderr and "Traceback" not in res.output + res.stderr


def test_a_changed_scenario_file_on_disk_is_a_note(tmp_path):
    scen = tmp_path / "mine.toml"
    scen.write_text('model = "four-power"\n[overrides]\nhawk_weight = 0.6\n')
    out = tmp_path / "out"
    res = cli("sweep", scen, "--vary", "abandonment_fear=0:10:3", "--backend", "numpy", "-o", out)
    assert res.exit_code == 0, res.output
    scen.write_text('model = "four-power"\n[overrides]\nhawk_weight = 0.7\n')
    res = cli("reproduce", out, "--quiet")
    assert res.exit_code == 0, res.output
    assert f"note: the scenario file {scen} has changed since this sweep" in res.output


@pytest.mark.parametrize("name", ["pure-full", "qre"])
def test_a_0_1_0_folder_reproduces_with_a_note(name):
    res = cli("reproduce", FIXTURES / name, "--quiet")
    assert res.exit_code == 0, res.output
    assert "note: no manifest hash (written by allysim 0.1.0)" in res.output


def test_qre_totals_are_the_same_bits_for_any_run_and_jobs(tmp_path):
    """Item 3: QRE probability sums once depended on the order chunks finished in."""
    args = ["sweep", "singapore-summit", "--vary", "halt_concession=0:4:9", "--vary",
            "deal_value=0:5:5", "--solver", "qre", "--lambda", "1.5", "--backend", "numpy", "--quiet"]
    summaries = set()
    for chunk in (3, 7):
        totals = []
        for run, jobs in enumerate([2, 2, 2, 1]):
            out = tmp_path / f"c{chunk}-{run}"
            res = cli(*args, "--chunk-size", chunk, "--jobs", jobs, "-o", out)
            assert res.exit_code == 0, res.output
            m = load(out)
            summaries.add(json.dumps([m["summary"], m["status_counts"]]))
            with np.load(out / "results.npz") as z:
                totals.append({k: z[k].tobytes() for k in z.files if k.startswith("total_")})
        assert totals[0].keys() >= {"total_prob_sum", "total_solved", "total_status_counts"}
        assert all(t == totals[0] for t in totals[1:])
        res = cli("reproduce", tmp_path / f"c{chunk}-0", "--jobs", 2, "--quiet")
        assert res.exit_code == 0 and "bit-for-bit identical" in res.output, res.output
    assert len(summaries) == 1


@pytest.mark.parametrize("key, value", [("model_source", None), ("chunk_size", "7"),
                                        ("options", [1]), ("design", 3)])
@pytest.mark.parametrize("reseal, code", [(False, 1), (True, 2)])
def test_a_spec_of_the_wrong_type_is_refused_in_one_line(folder, key, value, reseal, code):
    """Found by the manifest fuzz: spec.model_source = null reached compile_model."""
    m = load(folder)
    m["spec"][key] = value
    save(folder, m, reseal=reseal)
    res = cli("reproduce", folder, "--quiet")
    assert res.exit_code == code, res.output
    assert f"spec {key}" in res.output + res.stderr and "Traceback" not in res.output + res.stderr
    res = cli("verify", folder)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and f"spec {key}" in res.stderr


def test_an_edited_spec_that_cannot_run_is_a_difference(folder):
    m = load(folder)
    m["spec"]["options"]["tol"] = -5
    save(folder, m, reseal=False)
    lines = not_reproduced(cli("reproduce", folder, "--quiet"))
    assert lines == ["manifest.json: its sha256 is not the one in manifest.sha256: the manifest was "
                     "edited after it was written", "not re-run: --tol -5.0: expected a finite number >= 0"]
    save(folder, m, reseal=True)
    res = cli("reproduce", folder, "--quiet")
    assert res.exit_code == 2 and "--tol" in res.stderr
