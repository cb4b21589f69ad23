"""Options and helpers shared by the commands (defined once, used by every command)."""
from __future__ import annotations

from pathlib import Path

import click

from ..concepts import CONCEPTS, OPTIONS
from ..inputs import parse_sets
from ..io.atomic import check_target, reporting, write_file
from ..scenario import load_scenario

#: Version of every command's ``--json`` document (README, "JSON output"). Raised only when
#: a key is removed or changes meaning; new keys may appear without it.
JSON_SCHEMA_VERSION = 1


def json_document(command: str, doc: dict) -> str:
    """``doc`` as the JSON a command prints: an object starting with ``schema_version``
    and ``command``."""
    import json
    return json.dumps({"schema_version": JSON_SCHEMA_VERSION, "command": command, **doc}, indent=2)


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
            takers = ", ".join(sorted(c.name for c in CONCEPTS.values() if name in c.options))
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
    """An ``-o FILE`` checked before anything is computed (:func:`~allysim.io.atomic.check_target`)."""
    return check_target(path, f"-o {path}")


def writing(path: str | Path):
    """Report a failure to write ``-o path`` (full disk, permissions) as one line."""
    return reporting(f"-o {path}")


def write_output(path: str | Path, write) -> None:
    """Call ``write(fh)`` on a binary temporary file, then rename it to ``path``;
    any failure leaves no file behind and is reported as one line naming ``-o``."""
    write_file(path, write, where=f"-o {path}")
