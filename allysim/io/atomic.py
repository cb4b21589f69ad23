"""Files written whole or not at all: write to a temporary name beside the target, then
rename (``os.replace`` is atomic on POSIX and Windows)."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
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


def check_target(path: str | Path, where: str | None = None) -> Path:
    """``path`` checked before anything is computed: its folder exists and it is not
    itself a folder; otherwise one :class:`~allysim.errors.AllysimError` line starting
    with ``where`` (default the path; the CLI passes ``-o PATH``)."""
    from ..errors import AllysimError
    target = Path(path)
    where = str(path) if where is None else where
    parent = target.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() or any(
            p.exists() and not p.is_dir() for p in parent.parents) else "does not exist"
        raise AllysimError(f"{where}: folder {parent} {what}")
    if target.is_dir():
        raise AllysimError(f"{where}: is a folder; expected a file name")
    return target


@contextmanager
def reporting(where: str):
    """Report a failure to write (no permission, a read-only or full file system) as one
    :class:`~allysim.errors.AllysimError` line starting with ``where``."""
    from ..errors import AllysimError
    try:
        yield
    except OSError as exc:
        raise AllysimError(f"{where}: cannot write: {exc.strerror or exc}") from None


def write_file(path: str | Path, write: Callable[[BinaryIO], None], *, where: str | None = None,
               sync: bool = True) -> None:
    """:func:`atomic_write` to a file a user named, every failure one
    :class:`~allysim.errors.AllysimError` line starting with ``where``
    (:func:`check_target`, :func:`reporting`)."""
    target = check_target(path, where)
    with reporting(str(path) if where is None else where):
        atomic_write(target, write, sync=sync)


def write_json(path: str | Path, doc: Any) -> None:
    """``doc`` as indented JSON, written atomically."""
    atomic_write(path, lambda fh: fh.write((json.dumps(doc, indent=2) + "\n").encode()))
