"""A results folder's manifest, sealed and checked.

``manifest.json`` is sealed by ``manifest.sha256`` beside it: the sha256 of its exact
bytes, in the format of ``sha256sum`` (so ``sha256sum -c manifest.sha256`` checks it
too). The manifest says it has one (``"integrity": "manifest.sha256"``, which the
seal covers); a manifest without that key and without a seal was written by allysim
0.1.0, and is read with a note instead.

:func:`check_folder` finds everything in a folder that does not hold together
without re-running anything: the seal, the data files against the hashes the
manifest lists (a manifest must list ``results.npz``, and with ``--store full`` the
table its spec names, ``equilibria.csv`` or ``equilibria.parquet``), and the manifest's copies of one fact against each other (the
model's and scenario's text against their sha256, the top-level ``seed``, ``design``,
``store``, ``solver`` and ``chunking`` against the spec the re-run uses). A scenario
file on disk that no longer matches the manifest's copy is a note: the re-run uses
the copy. :func:`compare_manifests` compares what a fresh run of the spec writes
(summary, status counts, failed chunks, ...) with what the manifest says.

A seal proves the manifest was not edited after it was written, by anyone who did not
also rewrite the seal: it is a checksum, not a signature. Re-running the sweep
(``allysim reproduce``) is what shows the numbers are right.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import store as st

SEAL = "manifest.sha256"
#: The manifest key that says the folder has a seal (0.1.0 manifests lack it).
INTEGRITY_KEY = "integrity"
#: Manifest entries a fresh run of the same spec reproduces exactly.
DETERMINISTIC = ("scenario", "model", "design", "seed", "solver", "store", "chunking",
                 "status_counts", "failed_points", "summary", "spec")


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.sha256`` then ``manifest.json`` (last: its presence marks a finished
    folder), both atomically."""
    doc = dict(manifest)
    doc[INTEGRITY_KEY] = SEAL
    data = (json.dumps(doc, indent=2) + "\n").encode()
    digest = hashlib.sha256(data).hexdigest()
    st.atomic_write(Path(out) / SEAL, lambda fh: fh.write(f"{digest}  {st.MANIFEST}\n".encode()))
    st.atomic_write(Path(out) / st.MANIFEST, lambda fh: fh.write(data))


@dataclass
class FolderCheck:
    """What :func:`check_folder` found: ``differences`` make a folder fail; ``notes`` do not.
    ``legacy``: a manifest without a seal, written by allysim 0.1.0."""

    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sealed: bool = False
    legacy: bool = False


def read_manifest(folder: Path):
    """``(manifest, spec)`` of a finished results folder, or a one-line
    :class:`~allysim.sweep.store.ResultsError`."""
    from .engine import SweepSpec

    folder = Path(folder)
    if not (folder / st.MANIFEST).is_file():
        hint = (f"; finish it first with: allysim sweep --resume {folder}"
                if (folder / st.PLAN).exists() else "")
        raise st.ResultsError(f"{folder}: no manifest.json; not a finished sweep folder{hint}")
    try:
        manifest = json.loads((folder / st.MANIFEST).read_text())
        spec = SweepSpec.from_json(manifest["spec"])
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise st.ResultsError(f"{folder}/manifest.json: unreadable ({exc})") from None
    return manifest, spec


def seal_differences(folder: Path) -> tuple[list[str], bool, bool]:
    """Check ``manifest.json`` against ``manifest.sha256``: (differences, sealed, seal_present)."""
    folder = Path(folder)
    seal = folder / SEAL
    if not seal.is_file() or not (folder / st.MANIFEST).is_file():
        return [], False, seal.is_file()
    try:
        want = seal.read_text(errors="replace").split()[0].lower()
    except (OSError, IndexError):
        return [f"{SEAL}: unreadable or empty"], False, True
    got = st.sha256_file(folder / st.MANIFEST)
    if got != want:
        return [f"{st.MANIFEST}: its sha256 is not the one in {SEAL}: the manifest was edited "
                "after it was written"], False, True
    return [], True, True


def _text_sha(text) -> str | None:
    return hashlib.sha256(text.encode()).hexdigest() if isinstance(text, str) else None


def check_folder(folder: Path, manifest: dict[str, Any], spec) -> FolderCheck:
    """Everything in ``folder`` that can be checked without re-running (module docstring).

    manifest: the parsed ``manifest.json``; spec: the :class:`~allysim.sweep.SweepSpec`
    read from it.
    """
    folder = Path(folder)
    out = FolderCheck()
    diffs, out.sealed, present = seal_differences(folder)
    out.differences += diffs
    if not present:
        if INTEGRITY_KEY in manifest:
            out.differences.append(f"{SEAL}: missing, though {st.MANIFEST} says it was sealed")
        else:
            out.legacy = True
            out.notes.append(f"no manifest hash (written by allysim "
                             f"{manifest.get('allysim', '0.1.0')}): the manifest's own values are "
                             "checked against a fresh run only where a run reproduces them")
    # data files against the hashes the manifest lists
    files = manifest.get("files")
    table = {"csv": st.CSV, "parquet": st.PARQUET}.get(spec.table)
    needed = [st.RESULTS] + ([table] if spec.store == "full" and table else [])
    if not isinstance(files, dict):
        out.differences.append(f"{st.MANIFEST}: 'files' is missing or not a table, so the data "
                               "files cannot be checked against their sha256")
        files = {}
    for name in needed:
        if name not in files:
            if files or isinstance(manifest.get("files"), dict):
                out.differences.append(f"{st.MANIFEST}: 'files' does not list {name}")
    for name, info in files.items():
        path = folder / str(name)
        if Path(str(name)).name != name or name in (".", ".."):
            out.differences.append(f"{st.MANIFEST}: files lists {_short(name)}, which is not a "
                                   "file of the folder")
        elif not isinstance(info, dict):
            out.differences.append(f"{st.MANIFEST}: files.{name} is not a table")
        elif not path.is_file():
            out.differences.append(f"{name}: listed in the manifest but missing")
        elif info.get("bytes") is not None and path.stat().st_size != info.get("bytes"):
            out.differences.append(f"{name}: {path.stat().st_size:,} bytes, the manifest says "
                                   f"{info.get('bytes')}")
        elif st.sha256_file(path) != info.get("sha256"):
            out.differences.append(f"{name}: sha256 differs from the one recorded in {st.MANIFEST}")
    # one fact, several copies
    sdoc = spec.to_json()
    model = manifest.get("model") if isinstance(manifest.get("model"), dict) else {}
    if model.get("source") is not None and model.get("source") != spec.model_source:
        out.differences.append(f"{st.MANIFEST}: model.source is not the spec's model_source")
    if model.get("sha256") is not None and model.get("sha256") != _text_sha(spec.model_source):
        out.differences.append(f"{st.MANIFEST}: model.sha256 is not the sha256 of the model's text")
    scen = sdoc.get("scenario") or {}
    if isinstance(scen.get("source"), str) and scen.get("sha256") and \
            _text_sha(scen["source"]) != scen["sha256"]:
        out.differences.append(f"{st.MANIFEST}: spec.scenario.sha256 is not the sha256 of "
                               "spec.scenario.source (the scenario's text was edited)")
    copies = {"scenario": sdoc.get("scenario"), "design": sdoc["design"],
              "seed": sdoc["design"]["seed"], "store": sdoc["store"]}
    for key, want in copies.items():
        if key in manifest and manifest[key] != want:
            out.differences.append(f"{st.MANIFEST}: '{key}' is {_short(manifest[key])}, but the spec "
                                   f"the sweep re-runs says {_short(want)}")
    solver = manifest.get("solver")
    if isinstance(solver, dict) and solver.get("name") != spec.solver:
        out.differences.append(f"{st.MANIFEST}: solver.name is {_short(solver.get('name'))}, the "
                               f"spec's solver is {spec.solver!r}")
    chunking = manifest.get("chunking")
    if isinstance(chunking, dict) and (chunking.get("chunk_size") != spec.chunk_size
                                       or chunking.get("n_chunks") != spec.n_chunks):
        out.differences.append(f"{st.MANIFEST}: chunking is {_short(chunking)}, the spec has "
                               f"chunk_size {spec.chunk_size} ({spec.n_chunks} chunks)")
    # the scenario file on disk
    path = scen.get("path")
    if isinstance(path, str) and path and scen.get("sha256"):
        p = Path(path)
        try:
            if p.is_file() and st.sha256_file(p) != scen["sha256"]:
                out.notes.append(f"the scenario file {path} has changed since this sweep (its sha256 "
                                 "differs from the copy in the manifest); the re-run uses the copy")
        except OSError:
            pass
    return out


def compare_manifests(old: dict[str, Any], fresh: dict[str, Any], *, legacy: bool) -> list[str]:
    """Differences between a folder's manifest and a fresh run's, on the entries a run
    reproduces. A 0.1.0 manifest (``legacy``) is compared on its status counts and
    failed chunks only (its summary lines were worded differently)."""
    keys = ("status_counts",) if legacy else DETERMINISTIC
    diffs = []
    for key in keys:
        if key not in old and key not in fresh:
            continue
        if key not in old:
            diffs.append(f"{st.MANIFEST}: '{key}' is missing (a fresh run writes it)")
        elif old[key] != fresh.get(key):
            diffs.append(f"{st.MANIFEST}: '{key}' differs from a fresh run: "
                         f"{_first_difference(old[key], fresh.get(key))}")
    old_failed, new_failed = _failed(old), _failed(fresh)
    if old_failed != new_failed:
        diffs.append(f"{st.MANIFEST}: failed_chunks lists {old_failed or 'none'}, a fresh run "
                     f"{new_failed or 'none'}")
    return diffs


def _failed(manifest) -> list:
    items = manifest.get("failed_chunks") or []
    if not isinstance(items, list):
        return ["(not a list)"]
    return [(f.get("chunk"), f.get("status", "failed")) if isinstance(f, dict) else f for f in items]


def _short(value, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _first_difference(a, b) -> str:
    """Where ``a`` and ``b`` (JSON values) first differ, in a few words."""
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return f"item {i}: {_short(x)} vs {_short(y)}"
        return f"{len(a)} items vs {len(b)}"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k) != b.get(k):
                return f"{k}: {_short(a.get(k))} vs {_short(b.get(k))}"
    return f"{_short(a)} vs {_short(b)}"
