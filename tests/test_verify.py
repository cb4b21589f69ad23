"""``allysim verify DIR``: a sample of stored solutions rechecked from the manifest alone, for
every concept whose sweep stores solutions; tampered numbers are mismatches (exit 1); points
exported as Gambit files are checked by pygambit."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pygambit
import pytest
from click.testing import CliRunner

from allysim.cli import main

# one small sweep per concept (each stores rows or per-point profiles)
SWEEPS = {
    "pure": ["baseline-2018", "--vary", "abandonment_fear=0:10:7", "--vary", "hawk_weight=0:1:5",
             "--backend", "numpy"],
    "pure-counts": ["baseline-2018", "--vary", "abandonment_fear=0:10:7", "--vary",
                    "hawk_weight=0:1:5", "--backend", "numpy", "--store", "counts"],
    "dominance": ["baseline-2018", "--vary", "abandonment_fear=0:10:7", "--solver", "dominance"],
    "mixed": ["battle-of-sexes", "--vary", "PARAM", "--solver", "mixed"],
    "qre": ["singapore-summit", "--vary", "halt_concession=0:4:5", "--solver", "qre",
            "--lambda", "0.5,1.5", "--backend", "numpy"],
    "qre-limit": ["singapore-summit", "--vary", "halt_concession=0:4:4", "--solver", "qre-limit",
                  "--backend", "numpy"],
    "spe": ["baseline-2018", "--vary", "us_credibility=0.3:0.95:6", "--solver", "spe"],
    "agent-qre": ["singapore-summit", "--vary", "halt_concession=0:4:3", "--solver", "agent-qre",
                  "--lambda", "1.5"],
    "dynamics": ["baseline-2018", "--vary", "hawk_weight=0:1:3", "--solver", "dynamics"],
}


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _args(kind):
    args = list(SWEEPS[kind])
    if "PARAM" in args:
        show = json.loads(cli("show", args[0], "--json").output)
        name, p = next(iter(show["parameters"].items()))
        args[args.index("PARAM")] = f"{name}={p['range'][0]}:{p['range'][1]}:7"
    return args


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("verify")
    out = {}
    for kind in SWEEPS:
        out[kind] = base / kind
        res = cli("sweep", *_args(kind), "--quiet", "-o", out[kind])
        assert res.exit_code == 0, (kind, res.output)
    return out


def copy(folders, kind, tmp_path) -> Path:
    target = tmp_path / kind
    shutil.copytree(folders[kind], target)
    return target


def rewrite(folder: Path, **changes) -> None:
    """Replace arrays of results.npz (the manifest's hash then no longer matches either)."""
    with np.load(folder / "results.npz") as z:
        arrays = {k: z[k] for k in z.files}
    for name, change in changes.items():
        arrays[name] = change(arrays[name].copy())
    np.savez(folder / "results.npz", **arrays)


@pytest.mark.parametrize("kind", list(SWEEPS))
def test_every_concept_verifies(folders, kind):
    res = cli("verify", folders[kind])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "from the manifest alone" in lines[0] and lines[-1] == "no mismatch"
    checked, rows = (int(x.replace(",", "")) for x in
                     lines[0].split("rechecked ")[1].split(" stored")[0].split(" of "))
    assert checked == rows > 0
    assert lines[1].startswith("worst regret: ")


def test_the_sample_is_seeded_and_bounded(folders):
    a = cli("verify", folders["pure"], "--sample", 5, "--seed", 3)
    b = cli("verify", folders["pure"], "--sample", 5, "--seed", 3)
    assert a.exit_code == 0 and a.output == b.output
    assert "rechecked 5 of " in a.output


def _break_payoff(a):
    a[3, 0] += 0.5
    return a


def _break_regret(a):
    a[2] = 0.25
    return a


def _not_an_equilibrium(a):
    a[0, 0] = (a[0, 0] + 1) % 3        # another US strategy: not a best reply
    return a


def _params(a):
    a[4, 0] += 1e-6
    return a


@pytest.mark.parametrize("kind, changes, expected", [
    ("pure", {"eq_payoff": _break_payoff}, "stored expected payoffs"),
    ("pure", {"eq_regret": _break_regret}, "stored regret 0.25"),
    ("pure", {"eq_profile": _not_an_equilibrium}, "not an equilibrium within tol 1e-09"),
    ("pure", {"params": _params}, "stored parameters"),
    ("mixed", {"eq_prob": lambda a: a[:, [1, 0, 2, 3]]}, "not an equilibrium within tol 1e-08"),
    ("qre", {"prob": lambda a: a + np.tile([1e-3, -1e-3, 0.0], 4)}, "not a logit QRE"),
    ("spe", {"eq_choices": lambda a: (a + 1) % 2}, "differs from solving them again"),
    ("dynamics", {"eq_regret": lambda a: a + 1}, "stored regret"),
    ("pure-counts", {"outcome": lambda a: np.where(a >= 0, (a + 1) % 81, a)}, "not an equilibrium"),
])
def test_tampered_numbers_are_mismatches(folders, tmp_path, kind, changes, expected):
    folder = copy(folders, kind, tmp_path)
    rewrite(folder, **changes)
    res = cli("verify", folder)
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output + res.stderr
    assert "MISMATCH" in res.output and expected in res.output, res.output


def test_an_unreadable_results_file_is_a_mismatch(folders, tmp_path):
    folder = copy(folders, "pure", tmp_path)
    raw = bytearray((folder / "results.npz").read_bytes())
    raw[raw.index(b"eq_payoff.npy") + 300] ^= 0xFF
    (folder / "results.npz").write_bytes(bytes(raw))
    res = cli("verify", folder)
    assert res.exit_code == 1 and "results.npz: cannot be read (BadZipFile" in res.output


def test_export_nfg_points_agree_with_pygambit(folders, tmp_path):
    out = tmp_path / "nfg"
    res = cli("verify", folders["pure"], "--export-nfg", 6, "-o", out, "--seed", 1)
    assert res.exit_code == 0, res.output
    files = sorted(out.iterdir())
    assert len(files) == 6 and all(f.suffix == ".nfg" for f in files)
    with np.load(folders["pure"] / "results.npz") as z:
        eq_point, eq_profile = z["eq_point"], z["eq_profile"]
    for f in files:
        point = int(f.stem.split("-")[1])
        game = pygambit.read_nfg(str(f))
        found = sorted(tuple(int(np.argmax([float(eq[s]) for s in p.strategies])) for p in game.players)
                       for eq in pygambit.nash.enumpure_solve(game).equilibria)
        stored = sorted(tuple(int(x) for x in row) for row in eq_profile[eq_point == point])
        assert found == stored, f
        assert game.title == f"four-power: point {point}"
        assert f"point {point} of pure sweep" in f.read_text()


@pytest.mark.parametrize("args, message", [
    (["--sample", "0"], "--sample 0"),
    (["--export-nfg", "3"], "--export-nfg K and -o DIR"),
    (["--seed", "-1"], "--seed -1"),
])
def test_bad_input_is_one_line(folders, args, message):
    res = cli("verify", folders["pure"], *args)
    assert res.exit_code == 2 and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_export_into_a_non_empty_folder_is_refused_and_leaves_nothing(folders, tmp_path):
    out = tmp_path / "nfg"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    res = cli("verify", folders["pure"], "--export-nfg", 2, "-o", out)
    assert res.exit_code == 2 and "not an empty folder" in res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nfg"]
