"""Build hook: record the git commit a package is built from, so that a results folder
written by an installed copy (``pip install .`` from a clone) still says which commit
made it. Everything else about the build is in pyproject.toml."""
import json
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def build_info() -> dict | None:
    """``{"git_commit", "git_dirty"}`` when this folder is the top of a git work tree."""
    top = _git("rev-parse", "--show-toplevel")
    commit = _git("rev-parse", "--verify", "--quiet", "HEAD")
    if not top or Path(top).resolve() != HERE or not commit or len(commit) != 40:
        return None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def write_build_info(build_lib: str | Path) -> Path:
    """Write ``allysim/_build.json`` under ``build_lib`` (or remove a stale one when this
    folder is not a checkout); returns its path."""
    info = build_info()
    target = Path(build_lib) / "allysim" / "_build.json"
    if info is None:
        target.unlink(missing_ok=True)     # never a stale record from an earlier build
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(info, sort_keys=True) + "\n", encoding="utf-8")
    return target


class BuildPy(build_py):
    """build_py that also writes ``allysim/_build.json`` (read by allysim.provenance)."""

    def run(self):
        super().run()
        write_build_info(self.build_lib)


if __name__ == "__main__":      # as setuptools runs it; tests import the functions above
    setup(cmdclass={"build_py": BuildPy})
