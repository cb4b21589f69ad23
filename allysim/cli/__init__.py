"""The ``allysim`` command line: parse, call the library, print.

Bad input of any kind prints one line ``error: ...`` on stderr and exits with
code 2; no traceback, no output file. Exit codes (:data:`EXIT_CODES`): 0 ok,
1 differences found (``reproduce``, ``verify``), 2 bad input, 3 a sweep finished
but some of its chunks failed (their points are stored ``failed`` or ``timeout``),
130 interrupted. The commands live in one module per group
(:mod:`.run`, :mod:`.sweep`, :mod:`.verify`, :mod:`.plot`, :mod:`.analysis`); their shared
options are defined once
in :mod:`._common`.
"""
from __future__ import annotations

import sys

import click

from .. import __version__
from ..errors import AllysimError

EXIT_OK, EXIT_DIFFERENT, EXIT_BAD_INPUT, EXIT_FAILED_POINTS, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: What each exit code of ``allysim`` means (the README lists them too).
EXIT_CODES = {EXIT_OK: "ok", EXIT_DIFFERENT: "differences found (reproduce, verify)",
              EXIT_BAD_INPUT: "bad input (one line on stderr)",
              EXIT_FAILED_POINTS: "a sweep finished, but some chunks failed: their points are "
                                  "stored failed or timeout (allysim sweep --retry-failed DIR)",
              EXIT_INTERRUPTED: "interrupted"}


class _Group(click.Group):
    """A click group that turns every usage or input error into one line and exit 2."""

    def main(self, args=None, prog_name=None, **extra):
        try:
            return super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            click.echo(f"error: {where}{exc.format_message()}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except AllysimError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="allysim")
def main():
    """allysim: alliance politics as game theory.

    Solve, sweep and plot the four-power model of the US-Japan alliance
    (US, Japan, China, North Korea) and other games written as model files.
    """


from . import analysis, plot, run, sweep, verify  # noqa: E402,F401  (each adds its commands to ``main``)

__all__ = ["main"]
