"""Files written whole or not at all: write to a temporary name beside the target, then
rename (``os.replace`` is atomic on POSIX and Windows)."""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None], *, sync: bool = True) -> None:
    """Call ``write(fh)`` on a temporary file next to ``path``, then rename it to ``path``.

    Any failure leaves no file behind. ``sync`` flushes the file to disk before the
    rename (survives a power cut, not just a killed process); files that are cheap to
    recompute may skip it.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.chmod(tmp, _MODE)     # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, doc: Any) -> None:
    """``doc`` as indented JSON, written atomically."""
    atomic_write(path, lambda fh: fh.write((json.dumps(doc, indent=2) + "\n").encode()))
