"""Commands that look at one game: ``scenarios``, ``show``, ``validate``, ``run``, ``export``."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..concepts import get_concept
from ..concepts._report import table
from ..errors import AllysimError
from ..game import Game
from ..io.nfg import to_nfg
from ..model import is_model_file, load_model
from ..scenario import load_scenario, scenario_files
from ..inputs import parse_fix
from . import main
from ._common import (concept_options, force_option, given_options, json_document, json_option,
                      output_path, scenario_with_sets, set_option, solver_option, write_output,
                      writing)


@main.command()
@json_option
def scenarios(as_json):
    """List the scenarios: name, model, description, and where each is found
    (./scenarios, ALLYSIM_PATH or shipped; the first match of a name wins)."""
    rows = []
    for entry in scenario_files():
        s = load_scenario(entry.name)
        rows.append([entry.name, s.model.name, entry.origin, s.description, str(entry.path)])
    if as_json:
        click.echo(json_document("scenarios", {"scenarios": [
            dict(zip(["name", "model", "origin", "description", "path"], r)) for r in rows]}))
    else:
        click.echo(table(["scenario", "model", "from", "description"], [r[:4] for r in rows]))


def _parameters_table(s) -> str:
    rows = []
    for p, value in zip(s.model.parameters, s.point):
        mark = "*" if p.name in s.overrides else ""
        rows.append([p.name, f"{p.default:g}", f"{value:g}{mark}", f"[{p.low:g}, {p.high:g}]",
                     p.description])
    return table(["parameter", "default", "value", "range", "meaning"], rows)


@main.command()
@click.argument("name")
@set_option
@force_option
@click.option("--payoffs", is_flag=True,
              help="Print the payoff tables: a bimatrix for two players, else one table per "
                   "profile of the other players (or --long).")
@click.option("--fix", "fix", multiple=True, metavar="PLAYER=STRATEGY",
              help="With --payoffs: fix a player's strategy (repeatable).")
@click.option("--long", "long_", is_flag=True,
              help="With --payoffs: one row per profile (a tidy long table).")
@click.option("--expressions", is_flag=True,
              help="Print the model's formulas, then with the parameter values substituted.")
@json_option
def show(name, sets, force, payoffs, fix, long_, expressions, as_json):
    """Show a scenario (or model): parameters with default, value and range, and strategies;
    with --payoffs its payoff tables, with --expressions its formulas at its values."""
    s = scenario_with_sets(name, sets, force)
    if (fix or long_) and not payoffs:
        raise AllysimError(f"{'--fix' if fix else '--long'}: only with --payoffs")
    if payoffs or expressions:
        from ..io.payoff_tables import show_payoffs_and_formulas
        click.echo(show_payoffs_and_formulas(s, parse_fix(fix), payoffs=payoffs, long=long_,
                                             expressions=expressions, as_json=as_json))
        return
    if as_json:
        click.echo(json_document("show", {
            "scenario": s.name, "model": s.model.name, "description": s.description,
            "question": s.question, "overrides": s.overrides,
            "source": {"path": s.path, "origin": s.origin},
            "players": {p: list(st) for p, st in zip(s.model.players, s.model.strategies)},
            "parameters": {p.name: {"default": p.default, "value": float(v), "range": [p.low, p.high],
                                    "description": p.description}
                           for p, v in zip(s.model.parameters, s.point)},
        }))
        return
    click.echo(f"{s.name}  (model {s.model.name}; {s.origin}: {s.path})")
    if s.description:
        click.echo(s.description)
    if s.question:
        click.echo(f"Asks: {s.question}")
    click.echo("")
    click.echo(table(["player", "strategies (in axis order)"],
                     [[p, ", ".join(st)] for p, st in zip(s.model.players, s.model.strategies)]))
    click.echo("")
    click.echo(_parameters_table(s))
    click.echo("(* = overridden by the scenario or --set)")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
def validate(files):
    """Check model and scenario files; print one line per file, exit 2 on the first bad one."""
    for f in files:
        path = Path(f)
        if not path.is_file():
            raise AllysimError(f"{f}: no such file")
        if is_model_file(path):
            m = load_model(path)
            payoffs = m.payoffs(m.defaults)  # raises on NaN/inf at the defaults
            click.echo(f"{f}: ok (model {m.name}: {m.n_players} players, "
                       f"{'x'.join(map(str, payoffs.shape[2:]))} profiles, {len(m.parameters)} parameters)")
        else:
            s = load_scenario(path)
            s.model.payoffs(s.point)
            click.echo(f"{f}: ok (scenario {s.name} of model {s.model.name}, "
                       f"{len(s.overrides)} override(s))")


class _FileScenario:
    """What ``run`` prints about a game read from a Gambit file."""

    def __init__(self, name, game):
        self.name, self.overrides, self.path, self.origin = name, {}, game.path, "file"
        self.model = type("GameFileModel", (), {"name": f"Gambit {game.format} file"})()


def _game_file(name: str | None, game_file: str | None, sets) -> str | None:
    """The Gambit game file ``run`` reads (``--nfg FILE`` or a NAME ending in .nfg/.efg)."""
    if game_file is not None and name is not None:
        raise AllysimError(f"--nfg {game_file}: give a scenario NAME or --nfg FILE, not both")
    if game_file is None and name is not None and Path(name).suffix.lower() in (".nfg", ".efg"):
        game_file = name
    if game_file is None and name is None:
        raise AllysimError("run: expected a scenario NAME, a model or scenario file, or a Gambit "
                           "game file (FILE.nfg, or --nfg FILE)")
    if game_file is not None and sets:
        raise AllysimError(f"--set: a Gambit game file ({game_file}) has no parameters to set")
    return game_file


def solve_game(game: Game, solver: str, given: dict) -> list[dict]:
    """Reports of ``solver`` (and the concepts ``run`` prints with it) on one game."""
    concept = get_concept(solver)
    options = concept.resolve(given, game.players)
    result = concept.solve(game.payoffs, options, game)
    reports = concept.reports(result, game, options)
    for name in concept.companions:
        companion = get_concept(name)
        shared = {k: v for k, v in options.items() if k in companion.options}
        opts = companion.resolve(shared, game.players)
        reports += companion.reports(companion.solve(game.payoffs, opts, game), game, opts)
    return reports


@main.command()
@click.argument("name", required=False)
@set_option
@force_option
@solver_option("pure")
@click.option("--fix", "fix", multiple=True, metavar="PLAYER=STRATEGY",
              help="Fix a player's strategy, solving the subgame of the others (repeatable).")
@concept_options()
@json_option
@click.option("--nfg", "game_file", type=click.Path(), default=None, metavar="FILE",
              help="Solve a Gambit game file (.nfg; .efg through pygambit) instead of NAME "
                   "(a NAME ending in .nfg or .efg is read the same way).")
@click.option("--plot", "plot_file", type=click.Path(), default=None, metavar="FILE",
              help="Also draw the game to FILE (.png, .pdf, .svg): with --solver qre its QRE "
                   "correspondence over --lambda (e.g. 0:20:201), with --solver dynamics the "
                   "trajectories on each player's simplex and in time.")
def run(name, sets, force, solver, fix, as_json, game_file, plot_file, **kwargs):
    """Solve a scenario (or a model at its defaults, or a Gambit game file) and print its
    equilibria."""
    import warnings

    from ..errors import DegenerateGameWarning
    given = given_options(kwargs)
    if plot_file:
        from ..plot.games import check_run_plot
        check_run_plot(solver, plot_file)
    game_file = _game_file(name, game_file, sets)
    fixed = parse_fix(fix)
    if game_file is not None:
        from ..io.nfg import load_game
        loaded = load_game(game_file)
        s = _FileScenario(Path(game_file).name, loaded)
        game = loaded.restrict(fixed, where="--fix")
    else:
        s = scenario_with_sets(name, sets, force)
        game = Game.from_model(s.model, s.point).restrict(fixed, where="--fix")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)   # the status says it
        reports = solve_game(game, solver, given)
        if plot_file:
            from ..plot.games import plot_game
            plot_game(game, solver, get_concept(solver).resolve(given, game.players), plot_file,
                      scenario=s.name)
            click.echo(f"wrote {plot_file}", err=True)
    if as_json:
        doc = {"scenario": s.name, "model": s.model.name, "overrides": s.overrides,
               "source": {"path": s.path, "origin": s.origin}, "fix": fixed, "results": reports}
        if game_file is not None:
            doc["game"] = {"path": loaded.path, "title": loaded.title, "format": loaded.format}
        click.echo(json_document("run", doc))
        return
    click.echo(f"{s.name}  (model {s.model.name}"
               + (", " + ", ".join(f"{k}={v:g}" for k, v in s.overrides.items()) if s.overrides else "")
               + f"; {s.origin}: {s.path})")
    if fixed:
        click.echo("subgame with " + ", ".join(f"{p} fixed at {v}" for p, v in fixed.items()))
    for rep in reports:
        click.echo("")
        click.echo(get_concept(rep["solver"]).text(rep, game))


@main.command()
@click.argument("name")
@set_option
@force_option
@click.option("--format", "fmt", type=click.Choice(["nfg", "csv", "parquet"]), default=None,
              help="nfg: a scenario's game for Gambit (the default for a scenario); csv or "
                   "parquet: the tidy table of a results folder (default: from -o's suffix).")
@click.option("-o", "--output", required=True, type=click.Path(), help="File to write.")
def export(name, sets, force, fmt, output):
    """Export a scenario's game (.nfg) or a results folder's tidy table (CSV or Parquet).

    \b
    allysim export baseline-2018 --format nfg -o baseline.nfg
    allysim export out/ --format parquet -o out.parquet
    allysim export out/ -o table.csv
    """
    if Path(name).is_dir():
        _export_results(name, sets, fmt, output)
        return
    if fmt not in (None, "nfg"):
        raise AllysimError(f"--format {fmt}: {name} is a scenario; csv and parquet export a "
                           "results folder (allysim export DIR --format csv -o FILE)")
    s = scenario_with_sets(name, sets, force)
    payoffs = s.model.payoffs(s.point)
    comment = f"allysim scenario {s.name}, model {s.model.name}; overrides: {json.dumps(s.overrides)}"
    text = to_nfg(payoffs[0], s.model.players, s.model.strategies,
                  title=f"{s.model.name}: {s.name}", comment=comment)
    write_output(output, lambda fh: fh.write(text.encode("utf-8")))
    click.echo(f"wrote {output}", err=True)


def _export_results(folder, sets, fmt, output):
    from ..sweep.results import export_table

    if sets:
        raise AllysimError(f"--set: does not apply to a results folder ({folder})")
    suffix = Path(output).suffix.lower().lstrip(".")
    fmt = fmt or {"csv": "csv", "parquet": "parquet", "pq": "parquet"}.get(suffix)
    if fmt not in ("csv", "parquet"):
        raise AllysimError(f"export {folder}: expected --format csv or parquet for a results folder")
    target = output_path(output)
    with writing(output):
        export_table(folder, target, fmt)
    click.echo(f"wrote {output}", err=True)
