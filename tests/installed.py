"""Copies of allysim laid out as ``pip install .`` lays it out, for tests that must
see the package from outside its source checkout (scenario search, provenance).

:func:`install_copy` reads ``pyproject.toml``'s ``[tool.setuptools]`` tables
(``packages``, ``package-dir``, ``package-data``) and copies what setuptools
would install: each listed package's own ``.py`` files and its package data.
(Checked by hand against a real ``pip install --target``: the same file list.)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def installed_files(repo: Path = REPO) -> dict[str, Path]:
    """``{installed relative path: source file}`` for a plain ``pip install .``."""
    tool = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    package_dir = tool.get("package-dir", {})
    package_data = tool.get("package-data", {})
    files: dict[str, Path] = {}
    for package in tool["packages"]:
        source = repo / package_dir.get(package, package.replace(".", "/"))
        target = package.replace(".", "/")
        patterns = ["*.py", *package_data.get(package, [])]
        for pattern in patterns:
            for path in sorted(source.glob(pattern)):
                if path.is_file():
                    files[f"{target}/{path.name}"] = path
    return files


def install_copy(dest: Path, repo: Path = REPO) -> Path:
    """Copy allysim into ``dest`` as installed (``dest/allysim/...``); returns ``dest``."""
    for rel, path in installed_files(repo).items():
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
    return dest


def checkout_copy(dest: Path, repo: Path = REPO) -> Path:
    """Copy the parts of a source checkout that allysim reads at run time:
    ``pyproject.toml``, ``allysim/`` (its .py and .toml files) and ``scenarios/``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(repo / "pyproject.toml", dest / "pyproject.toml")
    for sub, patterns in (("allysim", ("**/*.py", "**/*.toml")), ("scenarios", ("*.toml",))):
        for pattern in patterns:
            for path in (repo / sub).glob(pattern):
                if "__pycache__" in path.parts:
                    continue
                out = dest / sub / path.relative_to(repo / sub)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, out)
    return dest


def run_python(code: str, *, path: Path, cwd: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess:
    """Run ``python -P -c code`` importing allysim from ``path`` only (``-P``: not from
    ``cwd``), in ``cwd``."""
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ALLYSIM_PATH")}
    environ.update(env or {})
    environ["PYTHONPATH"] = str(path)
    return subprocess.run([sys.executable, "-P", "-c", code], cwd=cwd, env=environ,
                          capture_output=True, text=True, check=False)
