"""One writer per results folder: an exclusive lock file with its owner's pid.

``DIR/.allysim.lock`` holds the pid, host and start time of the process writing
``DIR`` (a sweep, ``--resume`` or ``--retry-failed``). The lock itself is an
advisory ``flock`` on that file (``msvcrt.locking`` on Windows), which the
operating system drops when its holder dies however it dies (``kill -9``
included), so a lock file left by a dead process is stale and simply taken over;
a live holder makes a second writer stop with one line naming its pid.

A process may take the lock of a folder it already holds (the CLI holds it
around the engine, which takes it too); it is released when the last holder
lets go. Workers forked by the process pool close their inherited copy
(:func:`close_inherited`), so a worker that outlives its parent cannot keep
the folder locked.
"""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from ..errors import AllysimError

LOCK = ".allysim.lock"

try:                      # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
except ImportError:       # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True


class LockError(AllysimError):
    """A results folder that another live process is writing."""


#: Locks this process holds: resolved folder -> [fd, depth].
_HELD: dict[str, list[int]] = {}


def _owner(path: Path) -> str:
    try:
        text = path.read_text(errors="replace").split()
    except OSError:
        return "another process"
    return f"pid {text[0]}" + (f" on {text[1]}" if len(text) > 1 else "") if text else "another process"


def acquire(folder: str | Path, flag: str = "-o") -> None:
    """Take the exclusive lock of ``folder`` (which must exist), or raise :class:`LockError`.

    flag: the option that named the folder, for the message (``-o``, ``--resume``).
    """
    key = os.path.realpath(folder)
    if key in _HELD:
        _HELD[key][1] += 1
        return
    path = Path(folder) / LOCK
    for _ in range(5):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LockError(f"{flag} {folder}: cannot create the lock file {LOCK}: "
                            f"{exc.strerror or exc}") from None
        if not _try_lock(fd):
            os.close(fd)
            raise LockError(f"{flag} {folder}: another allysim ({_owner(path)}) is writing this "
                            "folder; wait for it to finish or stop it, or use another folder")
        # The file may have been removed (released) between our open and our lock: then
        # we hold a lock on a file nobody else will open; take the new one instead.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except OSError:
            same = False
        if not same:
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()} "
                     f"{time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
        _HELD[key] = [fd, 1]
        return
    raise LockError(f"{flag} {folder}: could not take the lock {LOCK} (it keeps changing)")


def release(folder: str | Path) -> None:
    """Let go of the lock of ``folder`` taken by :func:`acquire` (the last release removes
    the lock file)."""
    key = os.path.realpath(folder)
    held = _HELD.get(key)
    if held is None:
        return
    held[1] -= 1
    if held[1] > 0:
        return
    del _HELD[key]
    try:
        (Path(folder) / LOCK).unlink(missing_ok=True)   # while still holding it
    except OSError:
        pass
    os.close(held[0])


class locked:
    """``with locked(folder, flag):`` — :func:`acquire` then :func:`release`."""

    def __init__(self, folder: str | Path, flag: str = "-o"):
        self.folder, self.flag = folder, flag

    def __enter__(self):
        acquire(self.folder, self.flag)
        return self

    def __exit__(self, *exc):
        release(self.folder)
        return False


def close_inherited() -> None:
    """In a forked worker: close the lock files inherited from the parent (the parent's
    locks stay held by the parent)."""
    for fd, _ in _HELD.values():
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()
