"""Which code made a result: allysim's version, a hash of its source, the git commit.

A results folder must say which code wrote it even after ``pip install .``, where
the package no longer sits in a git checkout. So the record does not rely on git:

* :func:`source_hash` -- sha256 over the source files of the allysim package that
  is running (every ``.py`` and ``.toml`` file, models and shipped scenarios
  included). It is computed over the paths those files have once installed, so a
  source checkout and ``pip install .`` of the same tree give the same hash.
* :func:`git_commit` -- the commit, when the package is imported from a git
  checkout (the checkout's ``allysim/`` folder itself, not merely some folder
  inside a repository, such as a virtual environment kept in one); for a copy
  installed from a checkout, the commit the build recorded (:func:`build_info`);
  else None.
* :func:`versions` -- Python, the platform and the versions of the libraries
  results depend on, read from the installed distributions' metadata (no
  imports: numba alone takes half a second to import).

:func:`provenance` gathers them for a manifest and :func:`compare_provenance`
turns a recorded one into warnings about the code running now.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import warnings
from pathlib import Path

__all__ = ["source_files", "source_hash", "build_info", "git_commit", "git_dirty", "versions",
           "provenance", "manifest_fields", "compare_provenance"]

_PACKAGE = Path(__file__).resolve().parent
_SUFFIXES = (".py", ".toml")
BUILD_INFO = "_build.json"   # not a source file: the hash of a tree does not depend on its build
#: Libraries whose versions are always recorded (allysim's dependencies).
REQUIRED = ("numpy", "scipy", "click", "matplotlib")
#: Optional libraries, recorded when installed.
OPTIONAL = ("numba", "dask", "distributed", "pandas", "pyarrow", "xarray")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def source_files(package: Path | None = None) -> dict[str, Path]:
    """The files :func:`source_hash` covers: ``{path as installed: file}``.

    Every ``.py`` and ``.toml`` file under the package folder (``__pycache__``
    skipped), keyed by its path relative to the package's parent
    (``"allysim/solve/regret.py"``). In a source checkout the shipped scenarios
    live outside the package, at the top level; they are keyed as pip installs
    them (``"allysim/scenarios/NAME.toml"``).

    Parameters
    ----------
    package : Path, optional
        The package folder; default the running allysim's.

    >>> files = source_files()
    >>> "allysim/provenance.py" in files, "allysim/scenarios/baseline-2018.toml" in files
    (True, True)
    """
    from .scenario import shipped_scenarios_dir

    package = (package or _PACKAGE).resolve()
    files: dict[str, Path] = {}
    for path in package.rglob("*"):
        if path.suffix in _SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(package.parent).as_posix()] = path
    if package == _PACKAGE:
        shipped = shipped_scenarios_dir()
        if shipped is not None and package not in shipped.resolve().parents:
            for path in shipped.glob("*.toml"):
                files.setdefault(f"{package.name}/scenarios/{path.name}", path)
    return dict(sorted(files.items()))


def _digest(files: dict[str, Path]) -> str:
    h = hashlib.sha256()
    for rel, path in files.items():   # sorted by relative path
        data = path.read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


@functools.cache
def source_hash() -> str:
    """sha256 (hex) of the running allysim's source files, cached for the process.

    The digest runs over :func:`source_files` in order of their relative paths,
    each contributing ``path NUL length NUL bytes``, so renaming, moving or
    editing any file changes it, while file times, folder order and compiled
    ``.pyc`` files do not.

    >>> len(source_hash())
    64
    """
    return _digest(source_files())


def _git_root(package: Path) -> Path | None:
    """The checkout whose ``allysim/`` folder is ``package``, or None."""
    root = package.parent
    if (root / ".git").exists() and (root / "pyproject.toml").is_file():
        return root
    return None


def _git_dir(root: Path) -> Path | None:
    """The git directory of a checkout: ``.git``, or where a ``.git`` file points
    (worktrees and submodules write ``gitdir: PATH``)."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    try:
        text = dot.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text[len("gitdir:"):].strip())
    return gitdir if gitdir.is_absolute() else (root / gitdir).resolve()


def _read_head(gitdir: Path) -> str | None:
    """HEAD's commit read from the files of a git directory, without git."""
    try:
        head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if _SHA.match(head):
        return head
    if not head.startswith("ref:"):
        return None
    ref = head[len("ref:"):].strip()
    common = gitdir
    try:  # a linked worktree keeps its refs in the main repository
        common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    except (OSError, UnicodeDecodeError):
        pass
    for base in dict.fromkeys((gitdir, common)):
        try:
            sha = (base / ref).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            sha = ""
        if _SHA.match(sha):
            return sha
        try:
            packed = (base / "packed-refs").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for line in packed.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and _SHA.match(parts[0]):
                return parts[0]
    return None


def _git(root: Path, *args: str) -> str | None:
    """``git -C root args`` stdout, or None when git is missing or fails."""
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                             timeout=10, check=True,
                             env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def build_info(package: Path | None = None) -> dict:
    """What the build recorded beside an installed package (``allysim/_build.json``,
    written by setup.py's build hook when built from a git checkout):
    ``{"git_commit", "git_dirty"}``, or ``{}`` (not built from a checkout, or unreadable).

    >>> isinstance(build_info(), dict)
    True
    """
    try:
        doc = json.loads(((package or _PACKAGE) / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def git_commit(package: Path | None = None) -> str | None:
    """The git commit of the checkout allysim is imported from, or None.

    Only the package's own location counts: the package folder must be the
    ``allysim/`` folder at the top of a git work tree (next to ``.git`` and
    ``pyproject.toml``), never the current working directory. Asks ``git
    rev-parse HEAD``; without git (or if it fails) reads ``.git/HEAD`` and the
    refs directly. Never raises.

    >>> commit = git_commit()
    >>> commit is None or len(commit) == 40
    True
    """
    package = (package or _PACKAGE).resolve()
    root = _git_root(package)
    if root is None:
        commit = build_info(package).get("git_commit")
        return commit if isinstance(commit, str) and _SHA.match(commit) else None
    out = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    if out is not None and _SHA.match(out.strip()):
        return out.strip()
    gitdir = _git_dir(root)
    return _read_head(gitdir) if gitdir is not None else None


def git_dirty(package: Path | None = None) -> bool | None:
    """Whether the checkout's tracked files differ from its commit (None: no
    checkout, or git not available). Untracked files are not counted; the
    source hash covers what actually runs either way."""
    package = (package or _PACKAGE).resolve()
    root = _git_root(package)
    if root is None:
        dirty = build_info(package).get("git_dirty")
        return dirty if isinstance(dirty, bool) else None
    out = _git(root, "status", "--porcelain", "--untracked-files=no")
    return None if out is None else bool(out.strip())


def _version(name: str) -> str | None:
    """The installed distribution's version; for a module imported without one
    (e.g. from a source tree on ``sys.path``), its ``__version__``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pass
    with warnings.catch_warnings():   # e.g. click deprecates its __version__ attribute
        warnings.simplefilter("ignore")
        version = getattr(sys.modules.get(name), "__version__", None)
    return version if isinstance(version, str) else None


def versions() -> dict[str, str]:
    """Python, the platform, and the versions of allysim's libraries.

    Always ``python``, ``platform``, and each of numpy, scipy, click and
    matplotlib (``"not installed"`` if one is missing); each of numba, dask,
    distributed, pandas, pyarrow and xarray only when installed. Versions are
    read from the installed distributions' metadata, so nothing is imported
    (a module already imported without metadata gives its ``__version__``).

    >>> v = versions()
    >>> sorted(k for k in ("python", "platform", "numpy", "scipy", "click", "matplotlib") if k in v)
    ['click', 'matplotlib', 'numpy', 'platform', 'python', 'scipy']
    """
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in REQUIRED:
        out[name] = _version(name) or "not installed"
    for name in OPTIONAL:
        version = _version(name)
        if version is not None:
            out[name] = version
    return out


def provenance() -> dict:
    """Everything a manifest records about the code that made a result.

    Returns
    -------
    dict
        ``{"allysim": version, "source_sha256": hex, "git_commit": str | None,
        "git_dirty": bool | None, "versions": {name: version}}``, JSON-ready.

    >>> p = provenance()
    >>> sorted(p)
    ['allysim', 'git_commit', 'git_dirty', 'source_sha256', 'versions']
    """
    from . import __version__

    return {"allysim": __version__, "source_sha256": source_hash(), "git_commit": git_commit(),
            "git_dirty": git_dirty(), "versions": versions()}


def manifest_fields() -> dict:
    """The keys a manifest gives to provenance: ``provenance`` (:func:`provenance`), and
    ``environment`` (its versions) and ``git_commit`` as allysim 0.1.0 wrote them."""
    p = provenance()
    return {"environment": p["versions"], "git_commit": p["git_commit"], "provenance": p}


def compare_provenance(recorded: dict, current: dict | None = None) -> list[str]:
    """Warnings, one line each, where the running code differs from a recorded one.

    Compares the allysim version, the source hash, the git commit (when both
    have one) and the versions of the recorded libraries (python, numpy,
    scipy, numba, ... -- a different numpy can change results in the last bit).
    Missing fields in ``recorded`` (a folder written before provenance was
    recorded) give one warning saying what cannot be checked. An empty list
    means nothing differs.

    Parameters
    ----------
    recorded : dict
        A :func:`provenance` dict read back from a manifest.
    current : dict, optional
        What to compare with; default :func:`provenance` now.

    >>> compare_provenance(provenance())
    []
    >>> old = dict(provenance(), allysim="0.0.1")
    >>> compare_provenance(old)[0].startswith("results were written by allysim 0.0.1")
    True
    """
    if not isinstance(recorded, dict):
        return [f"no provenance recorded (got {type(recorded).__name__}): cannot tell which code "
                f"wrote these results"]
    now = provenance() if current is None else current
    out: list[str] = []
    if recorded.get("allysim") != now.get("allysim"):
        out.append(f"results were written by allysim {recorded.get('allysim', 'unknown')}, "
                        f"this is allysim {now.get('allysim')}")
    old_hash, new_hash = recorded.get("source_sha256"), now.get("source_sha256")
    if not old_hash:
        out.append("no source hash recorded: cannot tell whether the code is the same")
    elif old_hash != new_hash:
        where = ""
        old_commit, new_commit = recorded.get("git_commit"), now.get("git_commit")
        if old_commit:
            where = f" (recorded at git commit {str(old_commit)[:12]}"
            where += f"{', with uncommitted changes' if recorded.get('git_dirty') else ''}"
            where += f"; now {str(new_commit)[:12]})" if new_commit else ")"
        out.append(f"the allysim source differs from the one that wrote the results: "
                        f"sha256 {str(old_hash)[:12]}... recorded, {str(new_hash)[:12]}... now{where}")
    old_versions = recorded.get("versions") or {}
    new_versions = now.get("versions") or {}
    if not isinstance(old_versions, dict):  # a hand-edited manifest: say so, never a traceback
        out.append(f"recorded library versions are not a table (got {type(old_versions).__name__}): "
                   f"cannot compare them")
        old_versions = {}
    changed = [f"{name} {new_versions.get(name, 'not installed')} (recorded {old})"
               for name, old in old_versions.items()
               if name != "platform" and new_versions.get(name, "not installed") != old]
    if old_versions:  # an optional library installed now but not then (e.g. numba: another backend)
        changed += [f"{name} {new} (not installed then)" for name, new in new_versions.items()
                    if name in OPTIONAL and name not in old_versions]
    if changed:
        out.append("library versions differ, results may differ in the last digits: "
                        + ", ".join(changed))
    if old_versions.get("platform") and old_versions.get("platform") != new_versions.get("platform"):
        out.append(f"platform differs: {new_versions.get('platform')} "
                        f"(recorded {old_versions['platform']})")
    return out
