"""The ``sweep`` and ``reproduce`` commands."""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click

from ..concepts import OPTIONS, STORES, get_concept
from ..errors import AllysimError
from ..inputs import check_set_vs_design, parse_params
from ..limits import check_points
from ..solve import STATUS_NAMES
from ..sweep import store as st
from ..sweep.design import SAMPLE_KINDS, DesignError, grid_design, sample_design, sobol_warning
from ..sweep.engine import (DESCRIPTIVE, TABLES, SweepSpec, auto_chunk_size, check_scheduler,
                            context, default_table, read_plan, run_sweep, write_plan)
from . import main
from ._common import (concept_options, force_option, given_options, parse_sets, set_option,
                      solver_option)

_IMPORTED = time.time()

#: Options of the solvers a sweep takes as flags (``--seed`` is the sweep's own: it seeds
#: the design and the solver's random starts alike).
_SOLVER_OPTIONS = tuple(name for name in OPTIONS if name != "seed")


def _process_start() -> float:
    """``time.time()`` when this process started (Linux: /proc; elsewhere: when the
    allysim command line was imported)."""
    import os
    try:     # the process's age: seconds since boot now, less its start in ticks since boot
        with open("/proc/self/stat") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED


def _timing_line(run, started_at: float, write_extra: float = 0.0) -> str:
    """The whole command's wall time split into start-up, compile, solve and write, and
    the rate over all of it."""
    total = max(time.time() - started_at, 1e-9)
    t = run.timings
    solve, compile_, write = t["solve"], t["compile"], t["write"] + write_extra
    startup = max(total - solve - compile_ - write, 0.0)
    return (f"swept {run.n_points:,} points in {total:.2f} s "
            f"({run.n_points / total:,.0f} points/s over the whole command: start-up "
            f"{startup:.2f} s, compile {compile_:.2f} s, solve {solve:.2f} s, write {write:.2f} s; "
            f"{run.executor}; {run.spec.solver} solver, --store {run.spec.store})")


def _format_run(run, started_at: float) -> list[str]:
    lines = [_timing_line(run, started_at),
             f"kernel: {run.note}; chunks of {run.spec.chunk_size:,} points "
             f"({run.spec.n_chunks:,} chunks); solve alone {run.rate:,.0f} points/s"]
    lines += run.summary
    counts = run.totals["status_counts"]
    n = max(int(counts.sum()), 1)
    status = ", ".join(f"{name} {100 * c / n:.2f}%" for name, c in zip(STATUS_NAMES, counts) if c)
    lines.append(f"status: {status}")
    if run.failed_chunks:
        first = run.failed_chunks[0]
        lines.append(f"failed: {len(run.failed_chunks)} chunk(s), points marked failed; first: "
                     f"chunk {first['chunk']}: {first['error']}")
    if run.out is not None:
        files = ", ".join(p for p in (st.MANIFEST, st.RESULTS, st.PARQUET, st.CSV)
                          if (run.out / p).exists())
        lines.append(f"wrote {run.out}/ ({files}) in {run.finalize_seconds:.2f} s; "
                     f"load it with allysim.load('{run.out}'); check it with: "
                     f"allysim reproduce {run.out}")
    return lines


def _run(spec, out, jobs, scheduler, quiet, *, resume, command, started):
    progress = not quiet and sys.stderr.isatty()
    try:
        return run_sweep(spec, out=out, jobs=jobs, scheduler=scheduler, progress=progress,
                         resume=resume, command=command, started=started)
    except KeyboardInterrupt:
        if out is not None:
            click.echo(f"interrupted: {len(st.done_chunks(out))} of {spec.n_chunks} chunks are "
                       f"stored; finish with: allysim sweep --resume {out}", err=True)
        raise


def build_spec(s, *, vary, sample_kind, n_points, params, seed, force, solver, given, store,
               chunk_size, sets=None, jobs: int = 1, table: str | None = None) -> SweepSpec:
    """The spec of a sweep of scenario ``s`` from its flags and its ``[sweep]`` table
    (flags win)."""
    tidy = table
    table = dict(s.sweep)     # checked by load_scenario (allysim.scenario.validate_sweep_table)
    if vary and sample_kind:
        raise AllysimError("--vary and --sample: give one design, a grid or a sample")
    if not vary and not sample_kind:
        vary, sample_kind = tuple(table.get("vary", ())), table.get("sample")
        if n_points is None:
            n_points = table.get("n")
        if params is None and table.get("params"):
            params = table["params"]
    seed = table.get("seed", 0) if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise AllysimError(f"--seed {seed!r}: expected a whole number >= 0")
    if vary and sample_kind:
        raise AllysimError(f"{s.name}: [sweep] gives both vary and sample; give one")
    if vary:
        if n_points is not None:
            raise AllysimError("--n: only for --sample; a --vary grid has the product of its n's")
        design = grid_design(s.model, s.point, list(vary), force=force, seed=seed)
    elif sample_kind:
        if n_points is None:
            raise DesignError(f"--sample {sample_kind}: expected --n N, the number of points")
        names = parse_params(params)
        design = sample_design(s.model, s.point, sample_kind, n_points, params=names, seed=seed)
        if sample_kind == "sobol" and (msg := sobol_warning(n_points)):
            click.echo(f"warning: {msg}", err=True)
    else:
        raise DesignError("sweep: expected a design: --vary NAME=LO:HI:N (repeatable) or "
                          "--sample sobol|lhs|halton|random --n N (or a [sweep] table in the scenario)")
    check_set_vs_design(sets or {}, design.names, "--vary" if vary else "--sample")
    concept = get_concept(solver or table.get("solver", "pure"))
    merged = {name: table.get(name) for name in _SOLVER_OPTIONS}
    merged.update({k: v for k, v in given.items() if v is not None})
    if "seed" in concept.options:
        merged["seed"] = seed
    flags = {name: f"[sweep] {name}" for name in _SOLVER_OPTIONS if table.get(name) is not None
             and given.get(name) is None}
    options = concept.resolve(merged, s.model.players, flags)
    store = store or table.get("store", "full")
    chunk_size = chunk_size if chunk_size is not None else table.get("chunk_size")
    if chunk_size is None:
        layout = concept.sweep
        chunk_size = auto_chunk_size(design.n, jobs if isinstance(jobs, int) else 1,
                                     getattr(layout, "chunk_points", 16384))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise AllysimError(f"--chunk-size {chunk_size!r}: expected a whole number >= 1")
    scenario = {"name": s.name, "path": s.path, "sha256": s.sha256, "source": s.source,
                "overrides": s.overrides, "force": force}
    return SweepSpec(s.model.source, Path(s.model.path).name if s.model.path else s.model.name,
                     design, concept.name, options, store, chunk_size, scenario,
                     tidy or default_table())


@main.command("sweep")
@click.argument("name", required=False)
@click.option("--vary", multiple=True, metavar="NAME=LO:HI:N",
              help="Grid axis over a parameter (repeatable; axes compose into a full grid).")
@click.option("--sample", "sample_kind", default=None, metavar="|".join(SAMPLE_KINDS),
              help="Sample the declared ranges with scipy.stats.qmc (scrambled, seeded).")
@click.option("--n", "n_points", type=int, default=None, help="Number of sample points.")
@click.option("--params", default=None, metavar="A,B,...", help="Parameters to sample (default: all).")
@click.option("--seed", type=int, default=None,
              help="Seed of every random stream: the sample and the solver's random starts [default: 0].")
@set_option
@force_option
@solver_option(None)
@concept_options(_SOLVER_OPTIONS)
@click.option("--store", type=click.Choice(STORES), default=None,
              help="counts: per-point counts/status/outcome; full (default): also "
                   "parameters, one row per equilibrium and the tidy table.")
@click.option("--table", "table_format", type=click.Choice(TABLES), default=None,
              help="Format of the tidy table of --store full: parquet (equilibria.parquet; the "
                   "default when pyarrow is installed), csv (equilibria.csv; the default "
                   "otherwise) or none (results.npz only; allysim export makes either later).")
@click.option("--jobs", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--scheduler", default=None, metavar="local|tcp://HOST:PORT",
              help="Run on Dask distributed (needs allysim[dask]).")
@click.option("--chunk-size", type=int, default=None,
              help="Points per chunk [default: by concept (16384 for pure) and cut so that every "
                   "job gets at least two chunks].")
@click.option("-o", "--output", default=None, type=click.Path(), help="Results folder.")
@click.option("--overwrite", is_flag=True, help="Replace the results in a non-empty -o folder.")
@click.option("--resume", default=None, type=click.Path(), metavar="DIR",
              help="Finish an interrupted sweep from its folder.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--yes", is_flag=True, help="Run a design larger than ALLYSIM_MAX_POINTS.")
def sweep(name, vary, sample_kind, n_points, params, seed, sets, force, solver, store, table_format,
          jobs, scheduler, chunk_size, output, overwrite, resume, quiet, yes, **kwargs):
    """Sweep a scenario over a grid (--vary) or a sample (--sample) of parameter points.

    \b
    allysim sweep baseline-2018 --vary abandonment_fear=0:10:101 --vary entrapment_fear=0:10:101 -o out/
    allysim sweep baseline-2018 --sample sobol --n 1048576 --jobs 2 --store counts -o big/
    allysim sweep --resume big/
    """
    started_at = _process_start()
    given = given_options(kwargs)
    command = list(sys.argv)
    if resume is not None:
        typed = [flag for flag, v in (("NAME", name), ("--vary", vary), ("--sample", sample_kind),
                                      ("--n", n_points), ("--params", params), ("--seed", seed),
                                      ("--set", sets), ("--solver", solver), ("--store", store),
                                      ("--table", table_format),
                                      ("--chunk-size", chunk_size), ("-o", output),
                                      *((OPTIONS[k].flag, v) for k, v in given.items())) if v]
        if typed:
            raise AllysimError(f"--resume {resume}: takes everything from {resume}/plan.json; "
                               f"drop {', '.join(typed)}")
        spec, plan = read_plan(Path(resume))
        check_points(spec.design.n, f"--resume {resume}", yes=yes)
        done = len(st.done_chunks(resume))
        click.echo(f"resuming {resume}: {done} of {spec.n_chunks} chunks already done", err=True)
        run = _run(spec, Path(resume), jobs, scheduler, quiet, resume=True,
                   command=plan.get("command"), started=plan.get("started"))
        click.echo("\n".join(_format_run(run, started_at)))
        return
    if name is None:
        raise AllysimError("sweep: expected a scenario NAME (or --resume DIR)")
    from ..scenario import load_scenario
    s = load_scenario(name, force=force)
    overrides = parse_sets(sets)
    if overrides:
        s = s.with_overrides(overrides, force=force)
    spec = build_spec(s, vary=vary, sample_kind=sample_kind, n_points=n_points, params=params,
                      seed=seed, force=force, solver=solver, given=given, store=store,
                      chunk_size=chunk_size, sets=overrides, jobs=jobs, table=table_format)
    flag = " ".join(f"--vary {v}" for v in vary) if vary else f"--sample {spec.design.kind} --n {spec.design.n}"
    size = check_points(spec.design.n, flag, yes=yes)
    if spec.design.n >= 1_000_000:
        click.echo(f"design: {size}", err=True)
    if overwrite and output is None:
        raise AllysimError("--overwrite: only with -o DIR")
    out = Path(output) if output is not None else None
    if out is not None:
        # Validate everything that can be validated before touching the folder.
        spec.validate()
        check_scheduler(scheduler)
        if isinstance(jobs, bool) or jobs < 1:
            raise AllysimError(f"--jobs {jobs}: expected a whole number >= 1")
        context(spec.to_json())
        st.prepare(out, overwrite=overwrite)
        write_plan(out, spec, command)
    run = _run(spec, out, jobs, scheduler, quiet, resume=False, command=command, started=None)
    click.echo("\n".join(_format_run(run, started_at)))


@main.command()
@click.argument("folder", type=click.Path())
@click.option("--jobs", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--scheduler", default=None, metavar="local|tcp://HOST:PORT", help="Run on Dask.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--yes", is_flag=True, help="Re-run a design larger than ALLYSIM_MAX_POINTS.")
def reproduce(folder, jobs, scheduler, quiet, yes):
    """Re-run a sweep from its manifest and check the results bit for bit (exit 1 if not equal)."""
    out = Path(folder)
    manifest_path = out / st.MANIFEST
    if not manifest_path.is_file():
        hint = (f"; finish it first with: allysim sweep --resume {folder}"
                if (out / st.PLAN).exists() else "")
        raise st.ResultsError(f"{folder}: no manifest.json; not a finished sweep folder{hint}")
    try:
        manifest = json.loads(manifest_path.read_text())
        spec = SweepSpec.from_json(manifest["spec"])
    except (ValueError, KeyError, TypeError) as exc:
        raise st.ResultsError(f"{folder}/manifest.json: unreadable ({exc})") from None
    check_points(spec.design.n, f"reproduce {folder}", yes=yes)
    diffs = []
    for fname, info in manifest.get("files", {}).items():
        path = out / fname
        if not path.exists():
            diffs.append(f"{fname}: listed in the manifest but missing")
        elif st.sha256_file(path) != info.get("sha256"):
            diffs.append(f"{fname}: sha256 differs from the one recorded in manifest.json")
    tmp = Path(tempfile.mkdtemp(prefix="allysim-reproduce-"))
    try:
        fresh = tmp / "rerun"
        st.prepare(fresh, overwrite=False)
        t0 = time.perf_counter()
        run = _run(spec, fresh, jobs, scheduler, quiet, resume=False,
                   command=manifest.get("command"), started=None)
        seconds = time.perf_counter() - t0
        diffs += st.compare_folders(out, fresh, optional=DESCRIPTIVE)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if diffs:
        click.echo(f"NOT reproduced: {folder} differs from a fresh run of its manifest "
                   f"({len(diffs)} difference(s)):")
        for d in diffs:
            click.echo(f"  {d}")
        sys.exit(1)   # SystemExit passes through the group (click returns Exit codes instead)
    files = " and ".join(f for f in (st.RESULTS, st.PARQUET, st.CSV) if (out / f).exists())
    click.echo(f"reproduced: {files} in {folder} are bit-for-bit identical to a fresh run "
               f"({run.n_points:,} points in {seconds:.2f} s, {run.executor})")
