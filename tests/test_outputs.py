"""Output that cannot be written (issue 12, item 14's ``-o``): under a file, into a read-only
file system, onto a full disk — for ``sweep``, ``export`` and ``plot`` — gives one line,
exit 2, and leaves nothing behind. (Tests run as root here, where permission bits do not
stop a write, so read-only and full file systems are simulated by the errors they raise.)"""
from __future__ import annotations

import errno
import os
import shutil

import pytest
from click.testing import CliRunner

from allysim.cli import main

SWEEP = ["sweep", "baseline-2018", "--vary", "hawk_weight=0:1:3", "--backend", "numpy"]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line(res, *pieces):
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output + res.stderr
    for piece in pieces:
        assert piece in lines[0], lines[0]
    return lines[0]


def raising(code):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return fail


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("res") / "out"
    assert cli(*SWEEP, "-o", out).exit_code == 0
    return out


def listing(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_under_a_file(tmp_path, results):
    afile = tmp_path / "afile"
    afile.write_text("x")
    one_line(cli(*SWEEP, "-o", afile / "sub"), f"-o {afile / 'sub'}", "is not a folder")
    one_line(cli("export", "baseline-2018", "-o", afile / "sub"), f"folder {afile} is not a folder")
    one_line(cli("plot", results, "-o", afile / "sub.png"), f"folder {afile} is not a folder")
    assert listing(tmp_path) == ["afile"] and afile.read_text() == "x"


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_place(tmp_path, monkeypatch, results, code):
    import allysim.io.atomic as atomic
    import pathlib

    folder = tmp_path / "ro"
    folder.mkdir()
    plot_src = tmp_path / "res"
    shutil.copytree(results, plot_src)
    before = listing(tmp_path)
    monkeypatch.setattr(pathlib.Path, "mkdir", raising(code))
    monkeypatch.setattr(atomic.tempfile, "mkstemp", raising(code))
    one_line(cli(*SWEEP, "-o", folder / "out"), "cannot create the folder", os.strerror(code))
    one_line(cli("export", "baseline-2018", "-o", folder / "g.nfg"), "cannot write", os.strerror(code))
    one_line(cli("plot", plot_src), "cannot write", os.strerror(code))
    monkeypatch.undo()
    assert listing(tmp_path) == before


def test_a_full_disk(tmp_path, monkeypatch, results):
    import allysim.io.atomic as atomic

    plot_src = tmp_path / "res"
    shutil.copytree(results, plot_src)
    before = listing(tmp_path)
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()
            return False

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.fh, name)

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    one_line(cli(*SWEEP, "-o", tmp_path / "out"), "No space left on device")
    one_line(cli("export", "baseline-2018", "-o", tmp_path / "g.nfg"), "No space left on device")
    one_line(cli("plot", plot_src), "No space left on device")
    monkeypatch.undo()
    assert listing(tmp_path) == before
