"""Results folders written by allysim 0.1.0 still reproduce bit for bit (their manifests
use that version's option names: ``tol`` for the QRE residual, ``backend`` beside the
options), and they plot."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allysim.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "results-0.1.0"
FOLDERS = ["pure-full", "pure-counts", "qre", "mixed", "spe"]


@pytest.mark.parametrize("name", FOLDERS)
def test_old_results_folder_reproduces(name):
    res = CliRunner().invoke(main, ["reproduce", str(FIXTURES / name), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "bit-for-bit identical" in res.output


@pytest.mark.parametrize("name", FOLDERS)
def test_old_results_folder_plots(name, tmp_path):
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    res = CliRunner().invoke(main, ["plot", str(folder)])
    assert res.exit_code == 0, res.stderr
    assert (folder / "equilibria.png").read_bytes()[:4] == b"\x89PNG"
