"""Provenance: a source hash that survives ``pip install .``, the git commit of a
checkout (with and without git), library versions read without imports, and the
warnings ``reproduce`` prints when the code differs.

The installed layout comes from tests/installed.py (what setuptools installs,
read from pyproject.toml); fake git directories are written by hand so the
fallback reader is checked without git.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import allysim
from allysim import provenance as prov
from tests.installed import REPO, checkout_copy, install_copy, run_python

SHA_A = "a" * 40
SHA_B = "0123456789abcdef0123456789abcdef01234567"
HASH_PROBE = "from allysim.provenance import source_hash, git_commit; print(source_hash(), git_commit())"


# ----------------------------------------------------------------------------- source hash

def test_source_hash_is_the_documented_digest_of_the_source_files():
    files = prov.source_files()
    assert list(files) == sorted(files)
    assert "allysim/provenance.py" in files and "allysim/model/models/four-power.toml" in files
    assert {f"allysim/scenarios/{p.name}" for p in (REPO / "scenarios").glob("*.toml")} <= set(files)
    assert not any("__pycache__" in rel or rel.endswith(".pyc") for rel in files)
    h = hashlib.sha256()
    for rel, path in files.items():
        data = path.read_bytes()
        h.update(rel.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    assert prov.source_hash() == h.hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", prov.source_hash())


def test_installed_and_checkout_copies_hash_like_the_running_source(tmp_path):
    site = install_copy(tmp_path / "site")
    checkout = checkout_copy(tmp_path / "checkout")
    (tmp_path / "checkout" / "allysim" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "checkout" / "allysim" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    hashes = {}
    # cwd is this repository (maybe a git checkout): only the package's own location counts
    for name, path in (("site", site), ("checkout", checkout)):
        result = run_python(HASH_PROBE, path=path, cwd=REPO)
        assert result.returncode == 0, result.stderr
        hashes[name] = result.stdout.split()
    assert hashes["site"] == [prov.source_hash(), "None"]        # installed: no git commit
    assert hashes["checkout"] == [prov.source_hash(), "None"]    # a copy without .git


@pytest.mark.parametrize("change", ["edit", "rename", "add", "scenario"])
def test_any_source_change_changes_the_hash(tmp_path, change):
    site = install_copy(tmp_path / "site")
    package = site / "allysim"
    if change == "edit":
        path = package / "solve" / "regret.py"
        path.write_text(path.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    elif change == "rename":
        (package / "game.py").rename(package / "game2.py")
    elif change == "add":
        (package / "extra.py").write_text("x = 1\n", encoding="utf-8")
    else:
        path = package / "scenarios" / "baseline-2018.toml"
        path.write_text(path.read_text(encoding="utf-8").replace("status quo", "status quo!"),
                        encoding="utf-8")
    result = run_python(HASH_PROBE, path=site, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] != prov.source_hash()


def test_source_hash_is_cached():
    prov.source_hash.cache_clear()
    first = prov.source_hash()
    assert prov.source_hash.cache_info().hits == 0
    assert prov.source_hash() == first and prov.source_hash.cache_info().hits == 1


# ----------------------------------------------------------------------------- git commit

def test_git_commit_of_this_checkout_is_gits_head():
    if (REPO / ".git").exists() and shutil.which("git"):
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        assert prov.git_commit() == head
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert prov.git_dirty() is bool(dirty)
    else:   # a source tree that is not a git checkout (e.g. an sdist): nothing to report
        assert prov.git_commit() is None


def fake_checkout(root: Path, head: str, refs: dict[str, str] | None = None, packed: str = "",
                  gitfile: bool = False) -> Path:
    """A checkout with a hand-written git directory: ``root/allysim`` is its package."""
    (root / "allysim").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'allysim'\n", encoding="utf-8")
    gitdir = root / ("gitdata" if gitfile else ".git")
    gitdir.mkdir()
    (gitdir / "HEAD").write_text(head + "\n", encoding="utf-8")
    for ref, sha in (refs or {}).items():
        (gitdir / ref).parent.mkdir(parents=True, exist_ok=True)
        (gitdir / ref).write_text(sha + "\n", encoding="utf-8")
    if packed:
        (gitdir / "packed-refs").write_text(packed, encoding="utf-8")
    if gitfile:
        (root / ".git").write_text("gitdir: gitdata\n", encoding="utf-8")
    return root / "allysim"


@pytest.fixture
def no_git(monkeypatch):
    """No git executable on PATH: the fallback reader must do the work."""
    monkeypatch.setenv("PATH", "")


@pytest.mark.parametrize("case", ["branch", "detached", "packed", "gitfile"])
def test_git_commit_without_git_reads_the_git_directory(tmp_path, no_git, case):
    if case == "branch":
        package = fake_checkout(tmp_path, "ref: refs/heads/main", {"refs/heads/main": SHA_B})
    elif case == "detached":
        package = fake_checkout(tmp_path, SHA_B)
    elif case == "packed":
        package = fake_checkout(tmp_path, "ref: refs/heads/main",
                                packed=f"# pack-refs with: peeled\n{SHA_A} refs/heads/other\n"
                                       f"{SHA_B} refs/heads/main\n")
    else:
        package = fake_checkout(tmp_path, "ref: refs/heads/main", {"refs/heads/main": SHA_B}, gitfile=True)
    assert prov.git_commit(package) == SHA_B
    assert prov.git_dirty(package) is None          # needs git


def test_git_commit_in_a_linked_worktree_without_git(tmp_path, no_git):
    main = tmp_path / "main" / ".git"
    (main / "refs" / "heads").mkdir(parents=True)
    (main / "refs" / "heads" / "feature").write_text(SHA_B + "\n", encoding="utf-8")
    wtdir = main / "worktrees" / "wt"
    wtdir.mkdir(parents=True)
    (wtdir / "HEAD").write_text("ref: refs/heads/feature\n", encoding="utf-8")
    (wtdir / "commondir").write_text("../..\n", encoding="utf-8")
    root = tmp_path / "wt"
    (root / "allysim").mkdir(parents=True)
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    (root / ".git").write_text(f"gitdir: {wtdir}\n", encoding="utf-8")
    assert prov.git_commit(root / "allysim") == SHA_B


@pytest.mark.parametrize("case", ["unborn", "garbage", "bad-gitfile", "no-pyproject"])
def test_git_commit_is_none_when_there_is_no_commit_to_read(tmp_path, no_git, case):
    if case == "unborn":        # a fresh repository: HEAD names a branch with no commit yet
        package = fake_checkout(tmp_path, "ref: refs/heads/main")
    elif case == "garbage":
        package = fake_checkout(tmp_path, "not a ref")
    elif case == "bad-gitfile":
        package = fake_checkout(tmp_path, SHA_B, gitfile=True)
        (tmp_path / ".git").write_text("nonsense", encoding="utf-8")
    else:
        package = fake_checkout(tmp_path, SHA_B)
        (tmp_path / "pyproject.toml").unlink()
    assert prov.git_commit(package) is None


def test_a_virtual_environment_inside_a_repository_is_not_a_checkout(tmp_path, no_git):
    fake_checkout(tmp_path, SHA_B)
    package = tmp_path / ".venv" / "lib" / "python3" / "site-packages" / "allysim"
    package.mkdir(parents=True)
    assert prov.git_commit(package) is None and prov.git_dirty(package) is None


def _commit_all(root: Path) -> str:
    """``git init`` in ``root`` and commit everything in it; returns the commit."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")
def test_git_commit_of_a_real_repository(tmp_path):
    root = checkout_copy(tmp_path / "repo")
    head = _commit_all(root)
    assert prov.git_commit(root / "allysim") == head
    assert prov.git_dirty(root / "allysim") is False
    (root / "allysim" / "game.py").write_text("# edited\n", encoding="utf-8")
    assert prov.git_dirty(root / "allysim") is True
    result = run_python(HASH_PROBE, path=root, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == head


# ----------------------------------------------------------------------------- versions

def test_versions_name_python_platform_and_the_libraries():
    v = prov.versions()
    assert v["python"] == ".".join(map(str, __import__("sys").version_info[:3]))
    for name in prov.REQUIRED:
        assert v[name] == importlib.metadata.version(name)
    for name in prov.OPTIONAL:
        try:
            expected = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            expected = None
        assert v.get(name) == expected


def test_versions_and_provenance_import_neither_numba_nor_pandas(tmp_path):
    code = ("import sys, json; from allysim.provenance import provenance; p = provenance(); "
            "print(json.dumps([p['versions'].get('numba'), 'numba' in sys.modules, "
            "'pandas' in sys.modules, 'dask' in sys.modules]))")
    result = run_python(code, path=REPO, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    numba_version, *imported = json.loads(result.stdout)
    assert imported == [False, False, False]
    try:
        assert numba_version == importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        assert numba_version is None


def test_provenance_is_json_ready():
    p = prov.provenance()
    assert json.loads(json.dumps(p)) == p
    assert p["allysim"] == allysim.__version__ and p["source_sha256"] == prov.source_hash()
    assert p["git_commit"] == prov.git_commit() and p["versions"] == prov.versions()


# ----------------------------------------------------------------------------- compare

def test_same_code_gives_no_warning():
    assert prov.compare_provenance(prov.provenance()) == []
    assert prov.compare_provenance(json.loads(json.dumps(prov.provenance()))) == []


def test_different_version_and_source_are_reported():
    now = prov.provenance()
    old = dict(now, allysim="0.0.9", source_sha256="f" * 64, git_commit=SHA_A, git_dirty=True)
    warnings = prov.compare_provenance(old, current=dict(now, git_commit=SHA_B))
    assert len(warnings) == 2
    assert warnings[0] == f"results were written by allysim 0.0.9, this is allysim {allysim.__version__}"
    assert warnings[1].startswith("the allysim source differs from the one that wrote the results: "
                                  f"sha256 ffffffffffff... recorded, {now['source_sha256'][:12]}... now")
    assert f"git commit {SHA_A[:12]}, with uncommitted changes; now {SHA_B[:12]}" in warnings[1]


def test_library_and_platform_differences_are_reported():
    now = prov.provenance()
    versions = dict(now["versions"], numpy="1.0.0", platform="Plan9")
    versions.pop("numba", None)
    warnings = prov.compare_provenance(dict(now, versions=versions))
    assert warnings[0].startswith("library versions differ")
    assert f"numpy {now['versions']['numpy']} (recorded 1.0.0)" in warnings[0]
    assert ("numba" in now["versions"]) == ("(not installed then)" in warnings[0])
    assert warnings[1] == f"platform differs: {now['versions']['platform']} (recorded Plan9)"


@pytest.mark.parametrize("recorded,expected", [
    ({}, "no source hash recorded: cannot tell whether the code is the same"),
    (None, "no provenance recorded (got NoneType): cannot tell which code wrote these results"),
])
def test_missing_provenance_is_reported(recorded, expected):
    assert expected in prov.compare_provenance(recorded)


# ----------------------------------------------------------------------------- installed copies

def _setup_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("allysim_setup_py", REPO / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("record,commit,dirty", [
    ({"git_commit": SHA_B, "git_dirty": True}, SHA_B, True),
    ({"git_commit": SHA_A, "git_dirty": False}, SHA_A, False),
    ({"git_commit": "not-a-sha", "git_dirty": "yes"}, None, None),
    ([SHA_A], None, None),
    (None, None, None),        # no _build.json: not built from a checkout
])
def test_an_installed_copy_reports_the_commit_its_build_recorded(tmp_path, no_git, record, commit, dirty):
    package = tmp_path / "site-packages" / "allysim"
    package.mkdir(parents=True)
    if record is not None:
        (package / prov.BUILD_INFO).write_text(json.dumps(record), encoding="utf-8")
    assert prov.git_commit(package) == commit
    assert prov.git_dirty(package) is dirty


def test_a_broken_build_record_is_ignored(tmp_path):
    package = tmp_path / "allysim"
    package.mkdir()
    (package / prov.BUILD_INFO).write_text("{not json", encoding="utf-8")
    assert prov.build_info(package) == {}


def test_the_build_record_is_not_a_source_file(tmp_path):
    package = install_copy(tmp_path / "site") / "allysim"
    (package / prov.BUILD_INFO).write_text(json.dumps({"git_commit": SHA_A}), encoding="utf-8")
    files = prov.source_files(package)
    assert files and not any(name.endswith(prov.BUILD_INFO) for name in files)


def _committed_copy(root: Path) -> tuple[Path, str]:
    """This working tree's package, scenarios and build files, committed to a new repository:
    its folder and the commit."""
    checkout_copy(root)
    for name in ("setup.py", "README.md"):
        shutil.copyfile(REPO / name, root / name)
    return root, _commit_all(root)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")
def test_the_build_hook_records_the_checkouts_commit(tmp_path, monkeypatch):
    setup_py = _setup_module()
    root, head = _committed_copy(tmp_path / "repo")
    monkeypatch.setattr(setup_py, "HERE", root.resolve())
    target = setup_py.write_build_info(tmp_path / "build")
    assert json.loads(target.read_text()) == {"git_commit": head, "git_dirty": False}
    assert prov.git_commit(target.parent) == head
    # a folder that is not the top of a work tree (e.g. an sdist unpacked inside some
    # repository) records nothing, and a stale record of an earlier build goes
    inner = root / "scenarios"
    monkeypatch.setattr(setup_py, "HERE", inner.resolve())
    assert setup_py.build_info() is None
    assert not setup_py.write_build_info(tmp_path / "build").exists()


@pytest.mark.slow
def test_pip_install_from_a_clone_records_the_commit(tmp_path):
    """End to end: the wheel pip builds from a clone carries the clone's commit."""
    if shutil.which("git") is None:
        pytest.fail("needs the git executable")
    clone, head = _committed_copy(tmp_path / "clone")
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                          str(tmp_path / "wheels"), str(clone)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    import zipfile
    wheel, = (tmp_path / "wheels").glob("allysim-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        record = json.loads(zf.read("allysim/_build.json"))
    assert record == {"git_commit": head, "git_dirty": False}
