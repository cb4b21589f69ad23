"""Results folders of the analysis commands (``thresholds``, ``path``): files written
whole, then ``manifest.json`` last, with the request that recomputes them (private).

A folder holds ``manifest.json`` (``kind``, the command line, times, the scenario and
model text with sha256, the request, package versions, git commit and the sha256 of
every data file) and the command's data files. ``allysim reproduce DIR`` recomputes
the data files from the manifest's request and compares them byte for byte.
(A ``sensitivity`` folder is a sweep folder: see :mod:`allysim.analysis.sensitivity`.)
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..io.atomic import atomic_write, write_json
from ..provenance import manifest_fields
from ..sweep.store import prepare, sha256_file

MANIFEST = "manifest.json"


def prepare_folder(out: str | Path, own: tuple[str, ...], *, overwrite: bool) -> Path:
    """Create ``out``, or refuse a non-empty one unless ``overwrite`` (which removes the
    files named in ``own`` and the manifest)."""
    prepare(Path(out), overwrite=overwrite, own=own + (MANIFEST,), chunks=False)
    return Path(out)


def scenario_record(s) -> dict[str, Any]:
    """The scenario and its model as a manifest records them (text and sha256)."""
    return ({"name": s.name, "path": s.path, "sha256": s.sha256, "source": s.source,
             "overrides": s.overrides},
            {"name": s.model.name, "sha256": s.model.sha256, "source": s.model.source,
             "where": Path(s.model.path).name if s.model.path else s.model.name})


def write_folder(out: Path, kind: str, files: dict[str, bytes], *, scenario, request: dict,
                 command: list[str] | None, started: float, summary: list[str] = ()) -> None:
    """Write ``files`` (name -> bytes) into ``out``, then the manifest."""
    for name, data in files.items():
        atomic_write(out / name, lambda fh, d=data: fh.write(d))
    sc, model = scenario_record(scenario)
    manifest = {
        "allysim": __version__, "kind": kind, "command": command or [],
        "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 3),
        "scenario": sc, "model": model, "request": request, "summary": list(summary),
        **manifest_fields(),
        "files": {name: {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size}
                  for name in files},
    }
    write_json(out / MANIFEST, manifest)
