"""Numbers to cite: ``thresholds``, ``path``, ``sensitivity`` and ``table``."""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click

from ..concepts import OPTIONS, get_concept
from ..concepts._report import table as text_table
from ..errors import AllysimError, InputError
from ..inputs import check_set_vs_design, parse_fix, parse_range, parse_sets
from ..io.tables import FORMATS, Table, render
from . import main
from ._common import (concept_options, force_option, given_options, json_document, json_option,
                      scenario_with_sets, set_option, solver_option, write_output)

output_option = click.option("-o", "--output", default=None, type=click.Path(),
                             help="Results folder (manifest.json last; reproduce re-checks it).")
overwrite_option = click.option("--overwrite", is_flag=True,
                                help="Replace the results in a non-empty -o folder.")


def point_options(fn):
    """--set, --force, --json, -o and --overwrite, shared by thresholds and path."""
    for option in (overwrite_option, output_option, json_option, force_option, set_option):
        fn = option(fn)
    return fn


def _text(t: Table) -> str:
    return "\n".join([t.caption, text_table(t.headers, t.rows)] + list(t.notes))


def _in_range(model, name: str, lo: float, hi: float, flag: str, force: bool) -> None:
    p = model.parameters[model.parameter_index(name)]
    if not force and (lo < p.low or hi > p.high):
        raise InputError(f"{flag}: [{lo:g}, {hi:g}] is outside {name}'s declared range "
                         f"[{p.low:g}, {p.high:g}] (use --force to allow)")


def _check_param(model, name: str, flag: str) -> None:
    try:
        model.parameter_index(name)
    except AllysimError as exc:
        raise InputError(f"{flag}: {exc}") from None


# ----------------------------------------------------------------------------- thresholds

@main.command()
@click.argument("name")
@click.option("--along", required=True, metavar="PARAM=LO:HI[:N]",
              help="The parameter to scan and its range; N scan points (default 401).")
@click.option("--by", default=None, metavar="PARAM=LO:HI:N",
              help="A second parameter: thresholds for each of its N values.")
@click.option("--outcome", default=None, metavar="PLAYER=STRATEGY",
              help="Only where this strategy starts or stops being played in some solution "
                   "[default: any change of the solution set].")
@solver_option("pure")
@concept_options()
@click.option("--scan", type=int, default=None,
              help="Scan points along the range per --by value (overrides N of --along) "
                   "[default: 401].")
@click.option("--xtol", type=float, default=None,
              help="Bisection tolerance on the threshold, in the parameter's units "
                   "[default: 1e-7 x (HI - LO)]. (--tol is the solver's regret tolerance.)")
@point_options
def thresholds(name, along, by, outcome, solver, scan, xtol, sets, force, as_json, output,
               overwrite, **kwargs):
    """Where along one parameter the equilibrium set (or one outcome) changes.

    A scan of the range finds every change between neighbouring scan points; bisection
    locates each to --xtol. For each value of --by.

    \b
    allysim thresholds baseline-2018 --along us_credibility=0.3:0.95 \\
        --by abandonment_fear=0:10:11 --outcome China=SEIZE
    """
    from ..analysis import DEFAULT_SCAN, find_thresholds, parse_outcome
    from ..analysis._folder import prepare_folder, write_folder
    started = time.time()
    given = given_options(kwargs)
    s = scenario_with_sets(name, sets, force)
    model = s.model
    rng = parse_range(along, "--along", error=InputError)
    _check_param(model, rng.name, f"--along {along}")
    _in_range(model, rng.name, rng.lo, rng.hi, f"--along {along}", force)
    by_rng = None
    if by is not None:
        by_rng = parse_range(by, "--by", require_n=True, error=InputError)
        _check_param(model, by_rng.name, f"--by {by}")
        _in_range(model, by_rng.name, by_rng.lo, by_rng.hi, f"--by {by}", force)
    check_set_vs_design(parse_sets(sets), [rng.name] + ([by_rng.name] if by_rng else []),
                        "--along/--by")
    concept = get_concept(solver)
    if solver == "dominance":
        raise InputError("--solver dominance: its answer is the surviving strategies, a profile "
                         "only where the game is dominance solvable; use --solver pure, "
                         "qre-limit, spe or mixed")
    if "lambda" in concept.options:
        raise InputError(f"--solver {solver}: a logit QRE gives every strategy positive "
                         "probability, so its support never changes; use --solver qre-limit "
                         "(the selected equilibrium), or path/sensitivity for QRE probabilities")
    options = concept.resolve(given, model.players)
    oc = parse_outcome(outcome, model) if outcome is not None else None
    scan = scan if scan is not None else (rng.n or DEFAULT_SCAN)
    out = prepare_folder(output, ("thresholds.json",), overwrite=overwrite) if output else None
    import numpy as np
    by_arg = None if by_rng is None else (by_rng.name, np.linspace(by_rng.lo, by_rng.hi, by_rng.n))
    res = find_thresholds(model, s.point, (rng.name, rng.lo, rng.hi), concept=concept,
                          options=options, by=by_arg, outcome=oc, scan=scan, xtol=xtol)
    doc = {"scenario": s.name, "model": model.name, "overrides": s.overrides, **res.to_json()}
    if out is not None:
        request = {"command": "thresholds", "base": [float(v) for v in s.point],
                   "along": [rng.name, rng.lo, rng.hi],
                   "by": None if by_rng is None else [by_rng.name, by_rng.lo, by_rng.hi, by_rng.n],
                   "outcome": outcome, "solver": solver, "options": options, "scan": scan,
                   "xtol": res.xtol}
        write_folder(out, "thresholds", {"thresholds.json": _json_bytes(doc)}, scenario=s,
                     request=request, command=list(sys.argv), started=started)
    if as_json:
        click.echo(json_document("thresholds", doc))
    else:
        click.echo(_text(_thresholds_text(doc, s.name)))
    if out is not None:
        click.echo(f"wrote {out}/ (manifest.json, thresholds.json); check it with: allysim "
                   f"reproduce {out}", err=True)


def _json_bytes(doc) -> bytes:
    return (json.dumps(doc, indent=2) + "\n").encode()


def _thresholds_text(doc, scenario):
    from ..analysis.tables import thresholds_table
    return thresholds_table(doc, scenario)


def recompute(manifest: dict) -> dict[str, bytes]:
    """The data files of a ``thresholds`` or ``path`` folder, recomputed from the
    request in its manifest (what ``allysim reproduce`` compares)."""
    import numpy as np

    from ..analysis import find_thresholds, follow_path, parse_outcome
    from ..model import compile_model
    req, sc = manifest["request"], manifest["scenario"]
    model = compile_model(manifest["model"]["source"], where=manifest["model"]["where"])
    base = np.asarray(req["base"], dtype=float)
    concept = get_concept(req["solver"])
    options = concept.resolve(req["options"], model.players)
    head = {"scenario": sc["name"], "model": model.name, "overrides": sc["overrides"]}
    if manifest["kind"] == "thresholds":
        by = req["by"]
        res = find_thresholds(
            model, base, tuple(req["along"]), concept=concept, options=options,
            by=None if by is None else (by[0], np.linspace(by[1], by[2], by[3])),
            outcome=None if req["outcome"] is None else parse_outcome(req["outcome"], model),
            scan=req["scan"], xtol=req["xtol"])
        return {"thresholds.json": _json_bytes({**head, **res.to_json()})}
    res = follow_path(model, base, req["parameter"], req["from"], req["to"], steps=req["steps"],
                      back=req["back"], solver=req["solver"], options=options,
                      start_profile=req["start"])
    return _path_files(head, res, model)


# ----------------------------------------------------------------------------- path

def _path_files(head: dict, res, model) -> dict[str, bytes]:
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = [f"P({p}={s})" for p, ss in zip(model.players, model.strategies) for s in ss]
    w.writerow(["direction", "step", res.parameter, "solution", "event"] + cols)
    for st in res.steps:
        w.writerow([st.direction, st.k, repr(st.x), st.name, st.event]
                   + [repr(float(v)) for v in st.state])
    return {"path.json": _json_bytes({**head, **res.to_json()}), "path.csv": buf.getvalue().encode()}


def _one_value(text: str, flag: str) -> tuple[str, float]:
    got = parse_sets([text], flag)
    (name, value), = got.items()
    return name, value


@main.command()
@click.argument("name")
@click.option("--from", "from_", required=True, metavar="PARAM=A", help="Where the path starts.")
@click.option("--to", "to", required=True, metavar="PARAM=B", help="Where it ends.")
@click.option("--steps", type=int, default=100, show_default=True, help="Equal steps from A to B.")
@click.option("--back", is_flag=True, help="Return from B to A along the same values (hysteresis).")
@solver_option("pure")
@concept_options(("tol", "lambda", "residual_tol"))
@click.option("--start", "start", multiple=True, metavar="PLAYER=STRATEGY",
              help="pure: the profile to start from, one --start per player [default: the logit "
                   "selection at A when pure, else the first equilibrium].")
@point_options
def path(name, from_, to, steps, back, solver, start, sets, force, as_json, output, overwrite,
         **kwargs):
    """Follow the equilibrium the game is in as a parameter moves (and back, with --back).

    pure: the game stays in its equilibrium while it remains one; when it vanishes,
    best-response dynamics from it lead to the next. qre: logit dynamics from the
    current QRE at each step (a jump where its branch folds).

    \b
    allysim path baseline-2018 --from us_credibility=0.95 --to us_credibility=0.3 --back
    """
    from ..analysis import follow_path
    from ..analysis._folder import prepare_folder, write_folder
    started = time.time()
    given = given_options(kwargs)
    s = scenario_with_sets(name, sets, force)
    model = s.model
    param, a = _one_value(from_, "--from")
    param_b, b = _one_value(to, "--to")
    if param != param_b:
        raise InputError(f"--from {from_} --to {to}: expected the same parameter in both")
    _check_param(model, param, f"--from {from_}")
    _in_range(model, param, min(a, b), max(a, b), f"--from {from_} --to {to}", force)
    check_set_vs_design(parse_sets(sets), [param], "--from/--to")
    if solver not in ("pure", "qre"):
        raise InputError(f"--solver {solver}: path follows --solver pure (best-response dynamics) "
                         "or --solver qre (logit dynamics)")
    concept = get_concept(solver)
    options = concept.resolve(given, model.players)
    start_profile = None
    if start:
        fixed = parse_fix(start, "--start")
        try:
            for p, strategy in fixed.items():
                model.strategy_index(p, strategy)
        except AllysimError as exc:
            raise InputError(f"--start {p}={strategy}: {exc}") from None
        missing = [p for p in model.players if p not in fixed]
        if missing:
            raise InputError(f"--start: give a strategy for every player; missing "
                             f"{', '.join(missing)}")
        start_profile = [model.strategy_index(p, fixed[p])[1] for p in model.players]
    out = (prepare_folder(output, ("path.json", "path.csv", "path.png"), overwrite=overwrite)
           if output else None)
    res = follow_path(model, s.point, param, a, b, steps=steps, back=back, solver=solver,
                      options=options, start_profile=start_profile)
    head = {"scenario": s.name, "model": model.name, "overrides": s.overrides}
    files = _path_files(head, res, model)
    if out is not None:
        request = {"command": "path", "base": [float(v) for v in s.point], "parameter": param,
                   "from": a, "to": b, "steps": steps, "back": back, "solver": solver,
                   "options": options, "start": start_profile}
        write_folder(out, "path", files, scenario=s, request=request, command=list(sys.argv),
                     started=started)
        _figure(out / "path.png", lambda: _path_plot(res, model))
    doc = json.loads(files["path.json"])
    if as_json:
        click.echo(json_document("path", doc))
        return
    from ..analysis.tables import path_table
    t = path_table(doc, s.name)
    lines = [t.caption, t.notes[0]]
    lines += ([text_table(t.headers, t.rows)] if t.rows else ["no regime change"])
    lines += t.notes[1:]
    click.echo("\n".join(lines))
    if out is not None:
        click.echo(f"wrote {out}/ (manifest.json, path.json, path.csv, path.png)", err=True)


def _path_plot(res, model):
    from ..plot.analysis import path_figure
    ax = path_figure(res, model)
    return (ax[0] if hasattr(ax, "__len__") else ax).figure


def _figure(target: Path, make) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = make()
    write_output(target, lambda fh: fig.savefig(fh, format=target.suffix.lstrip("."), dpi=150))
    plt.close(fig)


# ----------------------------------------------------------------------------- sensitivity

_SENS_OPTIONS = tuple(name for name in OPTIONS if name != "seed")


@main.command()
@click.argument("name", required=False)
@click.option("--outcome", default=None, metavar="PLAYER=STRATEGY",
              help="The outcome: whether the strategy is played in some equilibrium (pure "
                   "concepts), or its probability (qre, qre-limit).")
@click.option("--method", type=click.Choice(["sobol", "morris"]), default="sobol",
              show_default=True, help="Sobol' indices (Saltelli design) or Morris effects.")
@click.option("--params", default=None, metavar="A,B,...",
              help="Parameters that vary, over their declared ranges [default: all].")
@click.option("--n", "n", type=int, default=None,
              help="sobol: base rows N (points N x (d + 2); a power of two keeps the Sobol' "
                   "balance); morris: trajectories r (points r x (d + 1)).")
@click.option("--levels", type=int, default=4, show_default=True, help="Morris grid levels (even).")
@click.option("--resamples", type=int, default=1000, show_default=True,
              help="Bootstrap resamples for the intervals.")
@click.option("--confidence", type=float, default=0.95, show_default=True,
              help="Level of the bootstrap intervals.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the design, the solver's random starts and the bootstrap.")
@solver_option("pure")
@concept_options(_SENS_OPTIONS)
@set_option
@force_option
@click.option("--jobs", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--scheduler", default=None, metavar="local|tcp://HOST:PORT", help="Run on Dask.")
@click.option("--chunk-size", type=int, default=None, help="Points per chunk [default: 16384].")
@output_option
@overwrite_option
@click.option("--resume", default=None, type=click.Path(), metavar="DIR",
              help="Finish an interrupted sensitivity run from its folder.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--yes", is_flag=True, help="Run a design larger than ALLYSIM_MAX_POINTS.")
@json_option
def sensitivity(name, outcome, method, params, n, levels, resamples, confidence, seed, solver,
                sets, force, jobs, scheduler, chunk_size, output, overwrite, resume, quiet, yes,
                as_json, **kwargs):
    """Sobol' indices (or Morris effects) of an outcome over the parameters' ranges.

    The design runs through the sweep engine (chunks, --jobs, Dask, --resume; the
    folder re-runs bit for bit with allysim reproduce).

    \b
    allysim sensitivity baseline-2018 --outcome China=SEIZE --n 4096
    allysim sensitivity baseline-2018 --outcome China=SEIZE --solver qre --lambda 1.5 --n 1024
    """
    from ..analysis.sensitivity import REQUEST, RESULT, sensitivity_design
    from ..sweep import store as st
    from ..sweep.design import nearest_power_of_two
    from ..sweep.engine import DEFAULT_CHUNK_SIZE, SweepSpec, check_size, read_plan, write_plan
    from .sweep import _run
    given = given_options(kwargs)
    command = list(sys.argv)
    t0 = time.perf_counter()
    if resume is not None:
        typed = [f for f, v in (("NAME", name), ("--outcome", outcome), ("--n", n),
                                ("--params", params), ("-o", output), ("--set", sets),
                                *((OPTIONS[k].flag, v) for k, v in given.items())) if v]
        if typed:
            raise AllysimError(f"--resume {resume}: takes everything from {resume}; drop "
                               f"{', '.join(typed)}")
        out = Path(resume)
        try:
            request = json.loads((out / REQUEST).read_text())
        except (OSError, ValueError) as exc:
            raise AllysimError(f"--resume {resume}: no readable {REQUEST}; not a sensitivity "
                               f"folder ({exc})") from None
        if not (out / st.MANIFEST).exists():
            spec, plan = read_plan(out)
            check_size(spec, f"--resume {resume}", jobs=jobs, yes=yes)
            run = _run(spec, out, jobs, scheduler, quiet, resume=True,
                       command=plan.get("command"), started=plan.get("started"))
            swept = f"finished {run.n_points:,} points in {run.seconds:.1f} s ({run.executor})"
        else:
            swept = "the sweep was already complete"
        _finish_sensitivity(out, request, swept, as_json, t0, keep=True)
        return
    if name is None:
        raise AllysimError("sensitivity: expected a scenario or model NAME (or --resume DIR)")
    if outcome is None:
        raise AllysimError("sensitivity: expected --outcome PLAYER=STRATEGY, e.g. China=SEIZE")
    if n is None:
        raise AllysimError("sensitivity: expected --n N (sobol: base rows, e.g. 4096; morris: "
                           "trajectories, e.g. 100)")
    if not 0 < confidence < 1:
        raise InputError(f"--confidence {confidence:g}: expected a number between 0 and 1")
    if resamples < 10:
        raise InputError(f"--resamples {resamples}: expected at least 10")
    from ..analysis import parse_outcome
    s = scenario_with_sets(name, sets, force)
    oc = parse_outcome(outcome, s.model)
    concept = get_concept(solver)
    if "seed" in concept.options:
        given["seed"] = seed
    options = concept.resolve(given, s.model.players)
    if "lambda" in options and len(options["lambda"]) != 1:
        raise InputError("--lambda: sensitivity takes one lambda")
    design = sensitivity_design(s.model, s.point, method, n, params=params, seed=seed,
                                levels=levels)
    check_set_vs_design(parse_sets(sets), design.names, "--params")
    if method == "sobol" and n & (n - 1):
        p = nearest_power_of_two(n)
        click.echo(f"warning: --n {n} is not a power of two; the Saltelli design's Sobol' "
                   f"points keep their balance only for N = 2^m (nearest: {p})", err=True)
    # Concepts with one solution per point keep it per point (``prob``): no need for the
    # per-equilibrium rows and CSV of --store full, which the others need.
    layout = concept.sweep(concept, s.model, options, "counts")
    store = "counts" if "prob" in {f.name for f in layout.point_fields()} else "full"
    spec = SweepSpec.of_scenario(s, design, concept.name, options, store=store,
                                 chunk_size=chunk_size or DEFAULT_CHUNK_SIZE, force=force)
    spec.validate()
    check_size(spec, f"--method {method} --n {n}", jobs=jobs, yes=yes)
    keep = output is not None
    out = Path(output) if keep else Path(tempfile.mkdtemp(prefix="allysim-sensitivity-")) / "run"
    request = {"method": method, "outcome": oc.text, "resamples": resamples,
               "confidence": confidence, "seed": seed}
    try:
        if keep and overwrite:
            (out / REQUEST).unlink(missing_ok=True)
            for f in (RESULT, "sensitivity.png"):
                (out / f).unlink(missing_ok=True)
        st.prepare(out, overwrite=overwrite)
        write_plan(out, spec, command)
        st.write_json(out / REQUEST, request)
        run = _run(spec, out, jobs, scheduler, quiet, resume=False, command=command, started=None)
        swept = (f"swept {run.n_points:,} points in {run.seconds:.1f} s ({run.rate:,.0f} "
                 f"points/s; {run.executor})")
        _finish_sensitivity(out, request, swept, as_json, t0, keep=keep)
    finally:
        if not keep:
            shutil.rmtree(out.parent, ignore_errors=True)


def _finish_sensitivity(out: Path, request: dict, swept: str, as_json: bool, t0: float, *,
                        keep: bool) -> None:
    from ..analysis.sensitivity import RESULT, analyse_folder
    from ..analysis.tables import sensitivity_table
    from ..sweep import store as st
    res = analyse_folder(out, request)
    doc = res.to_json()
    if keep:
        st.write_json(out / RESULT, doc)
        _figure(out / "sensitivity.png", lambda: _bars(res))
    if as_json:
        click.echo(json_document("sensitivity", {"method": doc.get("method"),
                                                 "indices": doc["indices"]}))
    else:
        manifest = json.loads((out / st.MANIFEST).read_text())
        t = sensitivity_table(doc, manifest.get("scenario", {}).get("name", ""))
        click.echo("\n".join([t.caption, text_table(t.headers, t.rows)] + t.notes))
        click.echo(f"{swept}; whole command {time.perf_counter() - t0:.1f} s")
    if keep:
        files = ", ".join(f for f in (RESULT, "sensitivity.png", "results.npz", "equilibria.csv",
                                      "manifest.json") if (out / f).exists())
        click.echo(f"wrote {out}/ ({files}); re-run the sweep bit for bit with: allysim "
                   f"reproduce {out}", err=True)


def _bars(res):
    from ..plot.analysis import sensitivity_bars
    return sensitivity_bars(res).figure


# ----------------------------------------------------------------------------- table

@main.command("table")
@click.argument("folder", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)
@click.option("-o", "--output", default=None, type=click.Path(), help="File to write [default: print].")
def table_command(folder, fmt, output):
    """A paper table of a results folder: a sweep's equilibrium shares (what a share means
    in the notes), thresholds, sensitivity indices or a path's regime changes."""
    from ..analysis.tables import table_of_folder
    text = render(table_of_folder(folder), fmt)
    if output is None:
        click.echo(text)
        return
    write_output(output, lambda fh: fh.write((text + "\n").encode()))
    click.echo(f"wrote {output}", err=True)
