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
from ..limits import format_bytes, max_batch, max_memory
from ..provenance import compare_provenance
from ..solve import STATUS_NAMES
from ..sweep import store as st
from ..sweep.design import SAMPLE_KINDS, DesignError, grid_design, sample_design, sobol_warning
from ..sweep import integrity, lock
from ..sweep.engine import (DEFAULT_RETRIES, DESCRIPTIVE, TABLES, SweepSpec, auto_chunk_size,
                            check_run_options, check_size, check_scheduler, context, read_plan, run_sweep,
                            write_plan)
from . import EXIT_DIFFERENT, EXIT_FAILED_POINTS, main
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
        points = sum(f["stop"] - f["start"] for f in run.failed_chunks)
        again = (f"; compute them again with: allysim sweep --retry-failed {run.out}"
                 if run.out is not None else "")
        lines.append(f"failed: {len(run.failed_chunks)} chunk(s), {points:,} points marked "
                     f"failed or timeout after {first.get('attempts', 1)} attempt(s); first: chunk "
                     f"{first['chunk']}: {first['error']}{again}")
    if run.out is not None:
        files = ", ".join(p for p in (st.MANIFEST, st.RESULTS, st.PARQUET, st.CSV)
                          if (run.out / p).exists())
        lines.append(f"wrote {run.out}/ ({files}) in {run.finalize_seconds:.2f} s; "
                     f"load it with allysim.load('{run.out}'); check it with: "
                     f"allysim reproduce {run.out}")
    return lines


def _note(message: str) -> None:
    click.echo(message, err=True)


def _run(spec, out, jobs, scheduler, quiet, *, resume, command, started, chunk_timeout=None,
         retries=DEFAULT_RETRIES):
    progress = not quiet and sys.stderr.isatty()
    try:
        return run_sweep(spec, out=out, jobs=jobs, scheduler=scheduler, progress=progress,
                         resume=resume, command=command, started=started,
                         chunk_timeout=chunk_timeout, retries=retries, log=_note)
    except KeyboardInterrupt:
        stored = len(st.done_chunks(out)) if out is not None else 0
        if stored:
            click.echo(f"interrupted: {stored} of {spec.n_chunks} chunks are "
                       f"stored; finish with: allysim sweep --resume {out}", err=True)
        raise
    except OSError as exc:     # a full disk, a folder made read-only under us...
        if out is None:
            raise
        stored = len(st.done_chunks(out))
        hint = (f"; {stored} of {spec.n_chunks} chunks are stored: free space and finish with "
                f"allysim sweep --resume {out}" if stored else "")
        raise st.ResultsError(f"-o {out}: cannot write: {exc.strerror or exc}{hint}") from None


def _finish(run, started_at: float) -> None:
    """Print a run's summary; exit 3 when some chunks could not be computed."""
    click.echo("\n".join(_format_run(run, started_at)))
    if run.failed_chunks:
        sys.exit(EXIT_FAILED_POINTS)


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
    most = max_batch(s.model.shape)
    if chunk_size > most:
        click.echo(f"--chunk-size {chunk_size}: using {most:,} points per chunk: the payoffs of "
                   f"more would pass ALLYSIM_MAX_MEMORY ({format_bytes(max_memory())})", err=True)
        chunk_size = most
    return SweepSpec.of_scenario(s, design, concept.name, options, store=store,
                                 chunk_size=chunk_size, force=force, table=tidy)


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
@click.option("--jobs", type=int, default=1, show_default=True,
              help="Worker processes (at most one per chunk and per CPU).")
@click.option("--scheduler", default=None, metavar="local|tcp://HOST:PORT",
              help="Run on Dask distributed (needs allysim[dask]).")
@click.option("--chunk-size", type=int, default=None,
              help="Points per chunk [default: by concept (16384 for pure) and cut so that every "
                   "job gets at least two chunks].")
@click.option("--chunk-timeout", type=float, default=None, metavar="SECONDS",
              help="Stop a chunk that runs longer (its points get status timeout after the "
                   "retries) [default: no limit].")
@click.option("--retries", type=int, default=DEFAULT_RETRIES, show_default=True,
              help="Times a failed chunk is computed again before its points are stored failed.")
@click.option("-o", "--output", default=None, type=click.Path(), help="Results folder.")
@click.option("--overwrite", is_flag=True, help="Replace the results in a non-empty -o folder.")
@click.option("--resume", default=None, type=click.Path(), metavar="DIR",
              help="Finish an interrupted sweep from its folder.")
@click.option("--retry-failed", "retry_failed", default=None, type=click.Path(), metavar="DIR",
              help="Compute the failed chunks of a finished sweep again.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--yes", is_flag=True, help="Run a design larger than ALLYSIM_MAX_POINTS.")
def sweep(name, vary, sample_kind, n_points, params, seed, sets, force, solver, store, table_format,
          jobs, scheduler, chunk_size, chunk_timeout, retries, output, overwrite, resume,
          retry_failed, quiet, yes, **kwargs):
    """Sweep a scenario over a grid (--vary) or a sample (--sample) of parameter points.

    \b
    allysim sweep baseline-2018 --vary abandonment_fear=0:10:101 --vary entrapment_fear=0:10:101 -o out/
    allysim sweep baseline-2018 --sample sobol --n 1048576 --jobs 2 --store counts -o big/
    allysim sweep --resume big/
    allysim sweep --retry-failed big/

    Exit codes: 0 done, 2 bad input, 3 done but some chunks failed (their points are
    stored failed or timeout and listed in manifest.json; --retry-failed computes them
    again), 130 interrupted (--resume finishes).
    """
    started_at = _process_start()
    given = given_options(kwargs)
    command = list(sys.argv)
    check_run_options(jobs, chunk_timeout, retries)
    if resume is not None or retry_failed is not None:
        if resume is not None and retry_failed is not None:
            raise AllysimError("--resume and --retry-failed: give one")
        folder, flag = (resume, "--resume") if resume is not None else (retry_failed, "--retry-failed")
        typed = [f for f, v in (("NAME", name), ("--vary", vary), ("--sample", sample_kind),
                                ("--n", n_points), ("--params", params), ("--seed", seed),
                                ("--set", sets), ("--force", force), ("--solver", solver),
                                ("--store", store), ("--table", table_format),
                                ("--chunk-size", chunk_size), ("-o", output),
                                ("--overwrite", overwrite),
                                *((OPTIONS[k].flag, v) for k, v in given.items()))
                 if v is not None and v is not False and v != ()]       # --seed 0 is typed too
        if typed:
            raise AllysimError(f"{flag} {folder}: takes everything from {folder}/plan.json; "
                               f"drop {', '.join(typed)}")
        _finish(_continue(Path(folder), flag, jobs, scheduler, quiet, yes, chunk_timeout, retries),
                started_at)
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
    size = check_size(spec, flag, jobs=jobs, yes=yes)
    if spec.design.n >= 1_000_000:
        click.echo(f"design: {size}", err=True)
    if overwrite and output is None:
        raise AllysimError("--overwrite: only with -o DIR")
    # Validate everything that can be validated before touching a folder.
    spec.validate()
    check_scheduler(scheduler, connect=True)
    context(spec.to_json())
    if output is None:
        _finish(_run(spec, None, jobs, scheduler, quiet, resume=False, command=command,
                     started=None, chunk_timeout=chunk_timeout, retries=retries), started_at)
        return
    _finish(_new_folder(spec, Path(output), overwrite, command, jobs, scheduler, quiet,
                        chunk_timeout, retries), started_at)


def _new_folder(spec, out, overwrite, command, jobs, scheduler, quiet, chunk_timeout, retries):
    """Run a new sweep into ``out``; if it stops before its first chunk is stored, leave
    nothing it created (the folder, plan.json, chunks/)."""
    created = st.make_folder(out)
    prepared = False
    try:
        with lock.locked(out, "-o"):
            try:
                st.prepare(out, overwrite=overwrite)
                prepared = True
                try:
                    write_plan(out, spec, command)
                except OSError as exc:
                    raise st.ResultsError(f"-o {out}: cannot write: {exc.strerror or exc}") from None
                return _run(spec, out, jobs, scheduler, quiet, resume=False, command=command,
                            started=None, chunk_timeout=chunk_timeout, retries=retries)
            except BaseException:
                if prepared:
                    st.forget(out)
                raise
    finally:
        if created:
            try:
                out.rmdir()          # only if nothing is left in it
            except OSError:
                pass


def _continue(out, flag, jobs, scheduler, quiet, yes, chunk_timeout, retries):
    """``--resume`` (an unfinished folder) or ``--retry-failed`` (a finished one whose
    manifest lists failed chunks): check the plan, then compute what is missing, invalid
    or failed."""
    check_scheduler(scheduler, connect=True)
    if not out.is_dir():
        raise st.ResultsError(f"{flag} {out}: no such folder")
    with lock.locked(out, flag):
        if flag == "--retry-failed" and (out / st.MANIFEST).is_file():
            try:
                failed = json.loads((out / st.MANIFEST).read_text()).get("failed_chunks")
            except (OSError, ValueError, AttributeError) as exc:
                raise st.ResultsError(f"{flag} {out}: manifest.json is unreadable ({exc})") from None
            if not failed:
                click.echo(f"{out}: no failed chunks; nothing to compute again", err=True)
                sys.exit(0)
        spec, plan = read_plan(out, flag)
        check_size(spec, f"{flag} {out}", jobs=jobs, yes=yes)
        if flag == "--retry-failed":
            # From here the folder is unfinished again: an interruption leaves it for --resume.
            (out / st.MANIFEST).unlink()
            (out / integrity.SEAL).unlink(missing_ok=True)
        return _run(spec, out, jobs, scheduler, quiet, resume=True, command=plan.get("command"),
                    started=plan.get("started"), chunk_timeout=chunk_timeout, retries=retries)


@main.command()
@click.argument("folder", type=click.Path())
@click.option("--jobs", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--scheduler", default=None, metavar="local|tcp://HOST:PORT", help="Run on Dask.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--yes", is_flag=True, help="Re-run a design larger than ALLYSIM_MAX_POINTS.")
def reproduce(folder, jobs, scheduler, quiet, yes):
    """Re-run a results folder from its manifest and check it bit for bit.

    A sweep or sensitivity folder is swept again, and the manifest itself is checked (its
    seal manifest.sha256, the data files' hashes, its copies of the spec) and compared with
    the fresh run (summary, status counts, failed chunks); a thresholds or path folder is
    recomputed from the request its manifest records. Exit 0 reproduced, 1 differences
    found, 2 bad input.
    """
    out = Path(folder)
    check_run_options(jobs, None, 0)
    check_scheduler(scheduler, connect=True)
    seal_diffs, _, _ = integrity.seal_differences(out)
    try:
        kind = json.loads((out / st.MANIFEST).read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        kind = None
    if kind in ("thresholds", "path"):
        return _reproduce_analysis(out, json.loads((out / st.MANIFEST).read_text()))
    try:
        manifest, spec = integrity.read_manifest(out)
    except st.ResultsError as exc:
        if seal_diffs:      # an edited manifest that no longer even reads: a difference
            _not_reproduced(folder, seal_diffs + [f"{st.MANIFEST}: cannot be read ({exc})"], [])
        raise
    check = integrity.check_folder(out, manifest, spec)
    try:
        check_size(spec, f"reproduce {folder}", jobs=jobs, yes=yes)
    except AllysimError as exc:
        if check.differences:   # e.g. a manifest edited to 1e15 points: say so, do not run it
            _not_reproduced(folder, check.differences + [f"not re-run: {exc}"], check.notes)
        raise
    diffs = list(check.differences)
    tmp = Path(tempfile.mkdtemp(prefix="allysim-reproduce-"))
    try:
        fresh = tmp / "rerun"
        st.prepare(fresh, overwrite=False)
        t0 = time.perf_counter()
        try:
            run = _run(spec, fresh, jobs, scheduler, quiet, resume=False,
                       command=manifest.get("command"), started=None)
        except AllysimError as exc:
            if diffs:       # an edited manifest whose spec cannot even run: say both
                _not_reproduced(folder, diffs + [f"not re-run: {exc}"], check.notes)
            raise
        seconds = time.perf_counter() - t0
        diffs += st.compare_folders(out, fresh, optional=DESCRIPTIVE)
        fresh_manifest = json.loads((fresh / st.MANIFEST).read_text())
        diffs += integrity.compare_manifests(manifest, fresh_manifest, legacy=check.legacy)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if diffs:
        _not_reproduced(folder, diffs, check.notes)
    for note in check.notes:
        click.echo(f"note: {note}")
    for warning in compare_provenance(manifest.get("provenance")) if "provenance" in manifest else ():
        click.echo(f"warning: {warning}")
    files = " and ".join(f for f in (st.RESULTS, st.PARQUET, st.CSV) if (out / f).exists())
    click.echo(f"reproduced: {files} in {folder} are bit-for-bit identical to a fresh run "
               f"({run.n_points:,} points in {seconds:.2f} s, {run.executor})")


def _listed_file_diffs(out: Path, manifest: dict) -> list[str]:
    """The files the manifest lists that are missing or whose sha256 changed."""
    diffs = []
    for fname, info in manifest.get("files", {}).items():
        path = out / fname
        if not path.exists():
            diffs.append(f"{fname}: listed in the manifest but missing")
        elif st.sha256_file(path) != info.get("sha256"):
            diffs.append(f"{fname}: sha256 differs from the one recorded in manifest.json")
    return diffs


def _exit_on_diffs(out: Path, diffs: list[str]) -> None:
    """Print the differences and exit 1, if there are any."""
    if diffs:
        _not_reproduced(out, diffs, [])


def _reproduce_analysis(out: Path, manifest: dict) -> None:
    """``reproduce`` of a thresholds or path folder: recompute its data files from the
    request in its manifest and compare them byte for byte (exit 1 if they differ)."""
    from .analysis import recompute
    t0 = time.perf_counter()
    fresh = recompute(manifest)
    diffs = _listed_file_diffs(out, manifest)
    for fname in manifest.get("files", {}):
        path = out / fname
        if not path.exists():
            continue
        if fname not in fresh:
            diffs.append(f"{fname}: not produced by the re-run")
        elif path.read_bytes() != fresh[fname]:
            diffs.append(f"{fname}: differs from the re-run")
    _exit_on_diffs(out, diffs)
    click.echo(f"reproduced: {', '.join(manifest['files'])} in {out} are byte-for-byte identical "
               f"to a fresh {manifest['kind']} run ({time.perf_counter() - t0:.2f} s)")


def _not_reproduced(folder, diffs: list[str], notes: list[str]):
    click.echo(f"NOT reproduced: {folder} differs from a fresh run of its manifest "
               f"({len(diffs)} difference(s)):")
    for d in diffs:
        click.echo(f"  {d}")
    for note in notes:
        click.echo(f"note: {note}")
    sys.exit(EXIT_DIFFERENT)   # SystemExit passes through the group (click returns Exit codes instead)
