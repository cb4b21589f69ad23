#!/usr/bin/env python
"""Regenerate every figure of docs/examples.md by running the commands it shows.

    python docs/make_figures.py              # rewrites docs/figures/*.png
    python docs/make_figures.py --out DIR    # writes the figures to DIR instead

The commands are read from docs/examples.md itself (every line that starts with
``$ allysim``, split at ``&&``), so the page and the figures cannot drift apart. They
run in this process, in order, through allysim's own command line; the results
folders they name (``sweep-...``) go to a temporary directory that is removed at the
end. About a minute on two cores.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import shlex
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
EXAMPLES = DOCS / "examples.md"


def commands(text: str) -> list[list[str]]:
    """The ``allysim`` commands of a Markdown page, each as its argument list."""
    out = []
    for line in text.splitlines():
        if line.startswith("$ allysim "):
            out += [shlex.split(part)[1:] for part in line[2:].split(" && ")]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS / "figures",
                        help="folder for the figures (default: docs/figures)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from allysim.cli import main as allysim

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="allysim-figures-") as tmp:
        def where(arg: str) -> str:
            if arg.startswith("sweep-"):
                return str(Path(tmp) / arg)
            if arg.startswith("docs/figures/"):
                return str(args.out / arg.removeprefix("docs/figures/"))
            return arg

        for argv in commands(EXAMPLES.read_text()):
            argv = [where(a) for a in argv]
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    allysim.main(args=argv, prog_name="allysim")
                except SystemExit as exc:
                    if exc.code:
                        print(f"failed ({exc.code}): allysim {shlex.join(argv)}", file=sys.stderr)
                        return 1
            print(f"{time.perf_counter() - t0:6.1f} s  allysim {shlex.join(argv[:2])} ...",
                  file=sys.stderr)
    print(f"all figures written to {args.out} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
