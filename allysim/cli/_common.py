"""Options and helpers shared by the commands (defined once, used by every command)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from ..concepts import CONCEPTS, OPTIONS
from ..errors import AllysimError
from ..inputs import parse_sets
from ..io.atomic import atomic_write
from ..scenario import load_scenario

set_option = click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                          help="Override a parameter (repeatable).")
force_option = click.option("--force", is_flag=True,
                            help="Allow parameter values outside their declared ranges.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")


def solver_option(default: str | None):
    names = sorted(CONCEPTS)
    return click.option(
        "--solver", default=default, metavar="|".join(names),
        help="Solution concept: " + "; ".join(f"{k}: {CONCEPTS[k].help}" for k in names)
             + (f" [default: {default}]" if default else " [default: pure]"))


def _default_text(name: str) -> str:
    """The real default of an option, with the concepts that declare their own."""
    opt = OPTIONS[name]
    default = opt.default
    shared = ",".join(f"{x:g}" for x in default) if isinstance(default, list) else default
    special = [f"{c.name}: {c.defaults[name]:g}" for c in CONCEPTS.values()
               if name in c.defaults and isinstance(c.defaults[name], float)]
    if name == "stages":
        return "the model's own order, else one player per stage"
    return f"{shared}" + (f"; {'; '.join(special)}" if special else "")


def concept_options(names: tuple[str, ...] = tuple(OPTIONS)):
    """The solver options as click options (default None: not given), for ``names``."""
    def decorate(fn):
        for name in reversed(names):
            opt = OPTIONS[name]
            takers = ", ".join(c.name for c in CONCEPTS.values() if name in c.options)
            fn = click.option(opt.flag, f"opt_{name}", default=None, metavar=opt.metavar,
                              help=f"{opt.help[0].upper()}{opt.help[1:]} [default: "
                                   f"{_default_text(name)}; for --solver {takers}].")(fn)
        return fn
    return decorate


def given_options(kwargs: dict) -> dict:
    """The solver options typed on the command line (popped from ``kwargs``)."""
    return {name[4:]: kwargs.pop(name) for name in list(kwargs) if name.startswith("opt_")}


def scenario_with_sets(name: str, sets: tuple[str, ...], force: bool):
    scenario = load_scenario(name, force=force)
    return scenario.with_overrides(parse_sets(sets), force=force) if sets else scenario


def output_path(path: str | Path) -> Path:
    """An ``-o FILE`` checked before anything is computed: its folder exists and it is
    not itself a folder."""
    target = Path(path)
    if not target.parent.exists():
        raise AllysimError(f"-o {path}: folder {target.parent} does not exist")
    if target.is_dir():
        raise AllysimError(f"-o {path}: is a folder; expected a file name")
    return target


@contextmanager
def writing(path: str | Path):
    """Report a failure to write ``-o path`` (full disk, permissions) as one line."""
    try:
        yield
    except OSError as exc:
        raise AllysimError(f"-o {path}: cannot write: {exc.strerror or exc}") from None


def write_output(path: str | Path, write) -> None:
    """Call ``write(fh)`` on a binary temporary file, then rename it to ``path``;
    any failure leaves no file behind and is reported as one line."""
    target = output_path(path)
    with writing(path):
        atomic_write(target, write)
