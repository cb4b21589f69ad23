"""Fault injection for the sweep tests: a test-only concept that fails on purpose.

``register()`` adds the concept ``test-faults`` (the ``pure`` concept with a layout
whose ``reduce`` first consults the plan below); sweep with ``--solver test-faults``.
``python -m tests.faults ARGS...`` runs the ``allysim`` CLI with it registered, for
tests that need a real process (``kill -9``, two writers). Worker processes of the
pool are forked, so they inherit the registration.

The plan is JSON in the environment variable ``ALLYSIM_TEST_FAULTS`` (read here and
nowhere in allysim), mapping a chunk's first point (``"200"``) or ``"*"`` (every
chunk) to a fault:

``raise``          raise ``RuntimeError("injected fault")``
``exit``           ``os._exit(3)``: the worker process dies (never in-process!)
``sleep:S``        sleep S seconds, then compute normally
``interrupt``      raise ``KeyboardInterrupt`` (in-process: as Ctrl-C)

and each with ``-once`` (``raise-once``, ``sleep-once:30``...) fires only the first
time for that chunk: a marker file in ``ALLYSIM_TEST_FAULTS_DIR`` (created with
``O_EXCL``, so exactly once across processes) remembers it.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace

from allysim.concepts import CONCEPTS, register
from allysim.concepts.pure import PURE, PureLayout

NAME = "test-faults"
ENV, ENV_DIR = "ALLYSIM_TEST_FAULTS", "ALLYSIM_TEST_FAULTS_DIR"


def _first_time(start: int, kind: str) -> bool:
    folder = os.environ.get(ENV_DIR)
    if not folder:
        raise RuntimeError(f"{ENV_DIR} must name a folder for '-once' faults")
    try:
        fd = os.open(os.path.join(folder, f"{start}-{kind}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def inject(start: int) -> None:
    """Apply the fault planned for the chunk that starts at point ``start``, if any."""
    plan = json.loads(os.environ.get(ENV) or "{}")
    fault = plan.get(str(start), plan.get("*"))
    if not fault:
        return
    kind, _, arg = fault.partition(":")
    if kind.endswith("-once"):
        kind = kind[:-5]
        if not _first_time(start, kind):
            return
    if kind == "raise":
        raise RuntimeError("injected fault")
    if kind == "exit":
        os._exit(3)
    if kind == "sleep":
        time.sleep(float(arg))
        return
    if kind == "interrupt":
        raise KeyboardInterrupt
    raise ValueError(f"tests/faults.py: unknown fault {fault!r}")


class FaultLayout(PureLayout):
    """The pure concept's layout, with a fault before each chunk as planned."""

    def reduce(self, params, start):
        inject(start)
        return super().reduce(params, start)


def register_faults() -> None:
    if NAME not in CONCEPTS:
        register(replace(PURE, name=NAME, sweep=FaultLayout))


def main(argv: list[str] | None = None) -> None:
    register_faults()
    from allysim.cli import main as cli
    cli(args=argv if argv is not None else sys.argv[1:], prog_name="allysim")


if __name__ == "__main__":
    main()
