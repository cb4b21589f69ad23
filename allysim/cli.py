"""The ``allysim`` command line: parse, call the library, print.

Bad input of any kind prints one line ``error: ...`` on stderr and exits with
code 2; no traceback, no output file.
"""
from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import click

from . import __version__, report
from .errors import AllysimError
from .game import Game
from .io.nfg import to_nfg
from .model import load_model
from .sweep.store import atomic_write
from .scenario import list_scenarios, load_scenario
from .solve import DEFAULT_TOL


class _Group(click.Group):
    """A click group that turns every usage or input error into one line and exit 2."""

    def main(self, args=None, prog_name=None, **extra):
        try:
            return super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            click.echo(f"error: {where}{exc.format_message()}", err=True)
            sys.exit(2)
        except AllysimError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


def _parse_sets(values: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise AllysimError(f"--set {item!r}: expected name=value")
        try:
            out[key.strip()] = float(raw)
        except ValueError:
            raise AllysimError(f"--set {item!r}: value {raw!r} is not a number") from None
    return out


def _scenario(name: str, sets: tuple[str, ...], force: bool):
    scenario = load_scenario(name, force=force)
    return scenario.with_overrides(_parse_sets(sets), force=force) if sets else scenario


def _atomic_write(path: str | Path, write) -> None:
    """Call ``write(fh)`` on a binary temporary file, then rename it to ``path``;
    any failure leaves no file behind and is reported as one line."""
    target = Path(path)
    if not target.parent.exists():
        raise AllysimError(f"-o {path}: folder {target.parent} does not exist")
    if target.is_dir():
        raise AllysimError(f"-o {path}: is a folder; expected a file name")
    try:
        atomic_write(target, write)
    except OSError as exc:
        raise AllysimError(f"-o {path}: cannot write: {exc.strerror or exc}") from None


set_option = click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                          help="Override a parameter (repeatable).")
force_option = click.option("--force", is_flag=True,
                            help="Allow parameter values outside their declared ranges.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")


def _check_tol(ctx, param, value):
    if not (0 <= value < float("inf")):
        raise click.BadParameter(f"{value} is not a finite number >= 0", ctx=ctx, param=param)
    return value


tol_option = click.option("--tol", type=float, default=DEFAULT_TOL, show_default=True, callback=_check_tol,
                          help="Tolerance for best-response and regret comparisons (payoff units).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="allysim")
def main():
    """allysim: alliance politics as game theory.

    Solve, sweep and plot the four-power model of the US-Japan alliance
    (US, Japan, China, North Korea) and other games written as model files.
    """


@main.command()
@json_option
def scenarios(as_json):
    """List the scenarios: name, model, description."""
    rows = []
    for name in list_scenarios():
        s = load_scenario(name)
        rows.append([name, s.model.name, s.description])
    if as_json:
        click.echo(json.dumps([dict(zip(["name", "model", "description"], r)) for r in rows], indent=2))
    else:
        click.echo(report.format_listing(rows, ["scenario", "model", "description"]))


@main.command()
@click.argument("name")
@set_option
@force_option
@json_option
def show(name, sets, force, as_json):
    """Show a scenario (or model): parameters with default, value and range, and strategies."""
    s = _scenario(name, sets, force)
    if as_json:
        click.echo(json.dumps({
            "scenario": s.name, "model": s.model.name, "description": s.description,
            "question": s.question, "overrides": s.overrides,
            "players": {p: list(st) for p, st in zip(s.model.players, s.model.strategies)},
            "parameters": {p.name: {"default": p.default, "value": float(v), "range": [p.low, p.high],
                                    "description": p.description}
                           for p, v in zip(s.model.parameters, s.point)},
        }, indent=2))
        return
    click.echo(f"{s.name}  (model {s.model.name})")
    if s.description:
        click.echo(s.description)
    if s.question:
        click.echo(f"Asks: {s.question}")
    click.echo("")
    click.echo(report.format_strategies(s))
    click.echo("")
    click.echo(report.format_parameters(s))
    click.echo("(* = overridden by the scenario or --set)")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
def validate(files):
    """Check model and scenario files; print one line per file, exit 2 on the first bad one."""
    for f in files:
        path = Path(f)
        if not path.is_file():
            raise AllysimError(f"{f}: no such file")
        if _is_model_file(path):
            m = load_model(path)
            payoffs = m.payoffs(m.defaults)  # raises on NaN/inf at the defaults
            click.echo(f"{f}: ok (model {m.name}: {m.n_players} players, "
                       f"{'x'.join(map(str, payoffs.shape[2:]))} profiles, {len(m.parameters)} parameters)")
        else:
            s = load_scenario(path)
            s.model.payoffs(s.point)
            click.echo(f"{f}: ok (scenario {s.name} of model {s.model.name}, "
                       f"{len(s.overrides)} override(s))")


def _is_model_file(path: Path) -> bool:
    """A model file declares players; anything else is read as a scenario."""
    try:
        return "players" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return b"[[players]]" in path.read_bytes()


def _parse_lambdas(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise AllysimError(f"--lambda {text!r}: expected comma-separated numbers, e.g. 0.5,1.5") from None
    if not values or any(not (v >= 0) or v == float("inf") for v in values):
        raise AllysimError(f"--lambda {text!r}: expected finite numbers >= 0")
    return values


def _parse_fix(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        player, sep, strategy = item.partition("=")
        if not sep or not player or not strategy:
            raise AllysimError(f"--fix {item!r}: expected Player=STRATEGY")
        out[player.strip()] = strategy.strip()
    return out


def _parse_stages(text: str | None) -> tuple[tuple[str, ...], ...] | None:
    if text is None:
        return None
    stages = tuple(tuple(p.strip() for p in stage.split(",") if p.strip())
                   for stage in text.replace("->", ">").split(">"))
    if not stages or any(not stage for stage in stages):
        raise AllysimError(f"--stages {text!r}: expected e.g. US>Japan>China,NorthKorea")
    return stages


@main.command()
@click.argument("name")
@set_option
@force_option
@click.option("--solver", type=click.Choice(sorted(report.SOLVERS)), default="pure", show_default=True,
              help="Solution concept: " + "; ".join(f"{k}: {v.help}" for k, v in sorted(report.SOLVERS.items())))
@click.option("--lambda", "lambdas", default="1.5", show_default=True, metavar="L1,L2,...",
              help="Logit QRE precision(s), on raw payoffs as in Gambit.")
@click.option("--fix", "fix", multiple=True, metavar="PLAYER=STRATEGY",
              help="Fix a player's strategy, solving the subgame of the others (repeatable).")
@click.option("--stages", default=None, metavar="ORDER",
              help="Sequential stage order, e.g. 'US>Japan>China,NorthKorea' (players in one stage move together).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for searches with random starts.")
@tol_option
@json_option
def run(name, sets, force, solver, lambdas, fix, stages, seed, tol, as_json):
    """Solve a scenario (or a model at its defaults) and print its equilibria."""
    s = _scenario(name, sets, force)
    opts = report.SolveOptions(tol=tol, lambdas=_parse_lambdas(lambdas), fix=_parse_fix(fix),
                               stages=_parse_stages(stages), seed=seed)
    game = Game.from_model(s.model, s.point).restrict(opts.fix)
    results = report.SOLVERS[solver].compute(game, opts)
    if as_json:
        click.echo(json.dumps({"scenario": s.name, "model": s.model.name, "overrides": s.overrides,
                               "fix": opts.fix, "results": results}, indent=2))
        return
    click.echo(f"{s.name}  (model {s.model.name}"
               + (", " + ", ".join(f"{k}={v:g}" for k, v in s.overrides.items()) if s.overrides else "")
               + ")")
    if opts.fix:
        click.echo("subgame with " + ", ".join(f"{p} fixed at {v}" for p, v in opts.fix.items()))
    for res in results:
        click.echo("")
        click.echo(report.format_report(res, game))


@main.command()
@click.argument("name")
@set_option
@force_option
@click.option("--format", "fmt", type=click.Choice(["nfg"]), default="nfg", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(), help="File to write.")
def export(name, sets, force, fmt, output):
    """Export a scenario's game in Gambit's .nfg format."""
    s = _scenario(name, sets, force)
    payoffs = s.model.payoffs(s.point)
    comment = f"allysim scenario {s.name}, model {s.model.name}; overrides: {json.dumps(s.overrides)}"
    text = to_nfg(payoffs[0], s.model.players, s.model.strategies,
                  title=f"{s.model.name}: {s.name}", comment=comment)
    _atomic_write(output, lambda fh: fh.write(text.encode("utf-8")))
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.argument("folder", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Image file to write (.png, .pdf, .svg) [default: FOLDER/equilibria.png].")
@click.option("--x", "x", default=None, help="Swept parameter on the x axis [default: the first].")
@click.option("--y", "y", default=None, help="Swept parameter on the y axis [default: the second].")
def plot(folder, output, x, y):
    """Plot where each pure equilibrium holds in a sweep's results folder.

    One swept parameter gives a band per equilibrium profile; two or more give
    a map of each point's equilibrium set (an image for a grid, a scatter for a sample).
    """
    import matplotlib
    matplotlib.use("Agg")
    from .plot import load_sweep, plot_sweep

    results = load_sweep(folder)
    target = Path(output) if output else Path(folder) / "equilibria.png"
    suffix = target.suffix.lower().lstrip(".")
    if suffix not in ("png", "pdf", "svg"):
        raise AllysimError(f"-o {target}: expected a .png, .pdf or .svg file name")
    fig = plot_sweep(results, x, y)
    _atomic_write(target, lambda fh: fig.savefig(fh, format=suffix, dpi=150))
    click.echo(f"wrote {target}", err=True)


from .sweep.commands import register as _register_sweep  # noqa: E402

_register_sweep(main, set_option=set_option, force_option=force_option, parse_sets=_parse_sets)

if __name__ == "__main__":  # pragma: no cover
    main()
