"""One-line notices on stderr about one-time work (compiling a kernel), for the user
who is waiting: where the time goes when it is not solving.

The library calls :func:`notice`; a program that wants them elsewhere (or nowhere)
sets :data:`SINK`.
"""
from __future__ import annotations

import sys
from collections.abc import Callable

#: Where notices go: a callable taking one line (default: stderr).
SINK: Callable[[str], None] | None = None


def notice(line: str) -> None:
    """Say ``line`` (one line, no newline) on stderr, or to :data:`SINK` when set."""
    if SINK is not None:
        SINK(line)
        return
    sys.stderr.write(f"{line}\n")
    sys.stderr.flush()
