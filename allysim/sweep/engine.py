"""The streaming sweep engine: plan chunks, run them on an executor, store, summarise.

A sweep is a :class:`SweepSpec` (model text, design, solver, options, store
level, chunk size). Its points are cut into chunks ``[start, stop)`` of
``chunk_size``; each chunk is computed by :func:`run_chunk` — sample, payoffs,
solve, reduce — which returns plain arrays, so any executor can run it:

- in-process (``jobs=1``), a process pool (``jobs=N``), or
- Dask distributed (``scheduler="local"`` starts a ``LocalCluster``;
  ``"tcp://host:port"`` connects to a running scheduler; or pass a ``Client``).

A chunk's result depends only on the spec and its slice of points, and the
design generates any slice bitwise identically (see :mod:`.design`), so results
do not depend on the number of workers, the chunk size or the executor. Chunks
are generated lazily (:meth:`SweepSpec.chunks`) and only a bounded number is in
flight, so memory stays flat however many points there are. A chunk holds typed
arrays only; :func:`finalize` writes results.npz (the parameters generated again
from the design, and the names that make the file readable alone) and the tidy
table (``spec.table``: Parquet or CSV) from the stored chunks.

A chunk that fails — raises, loses its worker, runs past ``chunk_timeout`` — is
computed again up to ``retries`` times (:mod:`.executors`); one that still fails
is stored with every point ``failed`` (or ``timeout``) and listed in the
manifest, and the sweep goes on (the CLI then exits 3). The folder is locked
while a sweep writes it (:mod:`.lock`); the plan and every chunk carry the spec's
sha256, and a resume checks each stored chunk before using it (:mod:`.resume`);
the manifest is sealed by ``manifest.sha256`` (:mod:`.integrity`).
"""
from __future__ import annotations

import hashlib
import json
import math
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..concepts import STORES, SweepLayout, get_concept
from ..errors import AllysimError, quote
from ..io.table import pyarrow_available, require_pyarrow
from ..limits import max_batch
from ..model import compile_model
from ..provenance import manifest_fields
from ..solve import STATUS, STATUS_NAMES
from . import executors, integrity, lock
from . import resume as resume_mod
from . import store as st
from .design import Design

#: Default points per chunk: enough to amortise per-chunk overhead, small enough to stay in cache.
DEFAULT_CHUNK_SIZE = 16384
#: Formats of the tidy table a ``--store full`` sweep writes (``none``: results.npz only;
#: ``allysim export DIR --format csv|parquet`` makes either later).
TABLES = ("parquet", "csv", "none")


def default_table() -> str:
    """``parquet`` when pyarrow is installed, else ``csv``."""
    return "parquet" if pyarrow_available() else "csv"


def auto_chunk_size(n: int, jobs: int, cost_chunk: int) -> int:
    """Points per chunk for ``n`` points on ``jobs`` workers: the concept's own size
    (``cost_chunk``: large for cheap pure solves, small for QRE, mixed or dynamics), cut
    so that every worker gets at least two chunks whenever there are enough points, and
    never below ``cost_chunk / 256`` points (per-chunk overhead: 64 for pure, 16 for QRE).
    Results never depend on it.

    >>> auto_chunk_size(2**21, 2, 16384), auto_chunk_size(16384, 2, 4096), auto_chunk_size(100, 4, 16384)
    (16384, 4096, 64)
    """
    per_job = math.ceil(n / (2 * max(jobs, 1))) if jobs > 1 else n
    return int(max(1, cost_chunk // 256, min(cost_chunk, per_job)))


@dataclass(frozen=True)
class SweepSpec:
    """Everything that determines a sweep's results (and nothing that does not).

    ``options`` are the solver's options as resolved by its concept
    (:meth:`allysim.concepts.Concept.resolve`: every option with its value, defaults
    included), so the plan and the manifest record what was used.
    """

    model_source: str
    model_where: str
    design: Design
    solver: str = "pure"
    options: dict[str, Any] = field(default_factory=dict)
    store: str = "full"
    chunk_size: int = DEFAULT_CHUNK_SIZE
    scenario: dict[str, Any] = field(default_factory=dict)   # provenance only
    table: str = field(default_factory=lambda: default_table())   # output only: see TABLES

    def to_json(self) -> dict[str, Any]:
        return {"model_source": self.model_source, "model_where": self.model_where,
                "design": self.design.to_json(), "solver": self.solver, "options": self.options,
                "store": self.store, "chunk_size": self.chunk_size, "scenario": self.scenario,
                "table": self.table}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SweepSpec:
        """The spec written by :meth:`to_json`; anything else (a plan or manifest edited by
        hand) is an :class:`~allysim.errors.AllysimError` naming the key."""
        _check_spec_doc(doc)
        options = _upgrade_options(doc["solver"], dict(doc["options"]), doc.get("backend"))
        # allysim 0.1.0 wrote no "table": its full store wrote equilibria.csv.
        return cls(doc["model_source"], doc["model_where"], Design.from_json(doc["design"]),
                   doc["solver"], options, doc["store"], int(doc["chunk_size"]),
                   dict(doc.get("scenario", {})), doc.get("table", "csv"))

    @classmethod
    def of_scenario(cls, s, design: Design, solver: str, options: dict[str, Any], *,
                    store: str = "full", chunk_size: int = DEFAULT_CHUNK_SIZE,
                    force: bool = False, table: str | None = None) -> SweepSpec:
        """The spec of a sweep of scenario ``s`` (its model text and provenance)."""
        scenario = {"name": s.name, "path": s.path, "sha256": s.sha256, "source": s.source,
                    "overrides": s.overrides, "force": force}
        return cls(s.model.source, Path(s.model.path).name if s.model.path else s.model.name,
                   design, solver, options, store, chunk_size, scenario,
                   default_table() if table is None else table)

    @property
    def n_chunks(self) -> int:
        return -(-self.design.n // self.chunk_size)

    def chunk(self, k: int) -> tuple[int, int, int]:
        """``(k, start, stop)`` of chunk ``k``."""
        start = k * self.chunk_size
        return k, start, min(self.design.n, start + self.chunk_size)

    def chunks(self, first: int = 0) -> Iterator[tuple[int, int, int]]:
        """``(k, start, stop)`` of every chunk from ``first`` on, generated lazily (a design
        of 2^53 points has 2^39 chunks of the default size: they are never listed)."""
        return (self.chunk(k) for k in range(first, self.n_chunks))

    def sha256(self) -> str:
        """Digest of everything that determines the results (the plan and every stored chunk
        carry it, so ``--resume`` can tell chunks of another spec); the output format
        ``table`` is left out: it does not change a chunk."""
        doc = self.to_json()
        del doc["table"]
        return _key(doc)

    def validate(self) -> None:
        if self.store not in STORES:
            raise AllysimError(f"--store {self.store!r}: expected one of {', '.join(STORES)}")
        if self.table not in TABLES:
            raise AllysimError(f"--table {self.table!r}: expected one of {', '.join(TABLES)}")
        if self.table == "parquet" and self.store == "full":
            require_pyarrow("--table parquet")
        if isinstance(self.chunk_size, bool) or self.chunk_size < 1:
            raise AllysimError(f"--chunk-size {self.chunk_size}: expected a whole number >= 1")


def _check_spec_doc(doc) -> None:
    if not isinstance(doc, dict):
        raise AllysimError(f"spec {quote(doc, 40)}: expected a table")
    for key, kind, what in (("model_source", str, "text"), ("model_where", str, "text"),
                            ("solver", str, "text"), ("store", str, "text"),
                            ("options", dict, "a table"), ("design", dict, "a table")):
        if not isinstance(doc.get(key), kind):
            raise AllysimError(f"spec {key} {quote(doc.get(key), 40)}: expected {what}")
    size = doc.get("chunk_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise AllysimError(f"spec chunk_size {quote(size, 40)}: expected a whole number >= 1")
    if not isinstance(doc.get("scenario", {}), dict):
        raise AllysimError(f"spec scenario {quote(doc.get('scenario'), 40)}: expected a table")
    if doc.get("table", "csv") not in TABLES:
        raise AllysimError(f"spec table {quote(doc.get('table'), 40)}: expected one of {', '.join(TABLES)}")


def _upgrade_options(solver: str, options: dict[str, Any], backend: str | None) -> dict[str, Any]:
    """Options of a plan or manifest written by allysim 0.1.0, in today's names: the
    ``qre`` solver's ``tol`` was its residual tolerance, and ``backend`` was a field of
    the spec rather than an option."""
    if solver == "qre" and "tol" in options and "residual_tol" not in options:
        options["residual_tol"] = options.pop("tol")
    if backend is not None and "backend" not in options:
        try:
            takes = "backend" in get_concept(solver).options
        except AllysimError:
            takes = False
        if takes:
            options["backend"] = backend
    return options


# -- the worker side -----------------------------------------------------------------------
_CONTEXTS: dict[str, tuple[Any, Design, SweepLayout]] = {}


def _key(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def context(doc: dict[str, Any]) -> tuple[Any, Design, SweepLayout]:
    """(model, design, layout) of a spec, built once per process."""
    key = _key(doc)
    if key not in _CONTEXTS:
        spec = SweepSpec.from_json(doc)
        model = compile_model(spec.model_source, where=spec.model_where)
        concept = get_concept(spec.solver)
        options = concept.resolve(spec.options, model.players)
        reducer = concept.sweep(concept, model, options, spec.store)
        if spec.design.kind == "halton":
            import scipy.stats.qmc  # noqa: F401  (a slow import: pay it here, not in a chunk)
        _CONTEXTS.clear()      # one sweep at a time per worker; keep memory flat
        _CONTEXTS[key] = (model, spec.design, reducer)
    return _CONTEXTS[key]


def _pack(reducer: SweepLayout, arrays: dict[str, np.ndarray], m: int) -> dict[str, np.ndarray]:
    out = {}
    for f in reducer.point_fields():
        a = np.ascontiguousarray(arrays[f.name], dtype=f.dtype)
        if a.shape != (m, *f.shape):
            raise ValueError(f"solver {reducer.concept.name}: field {f.name} has shape {a.shape}, "
                             f"expected {(m, *f.shape)}")
        out[f"p/{f.name}"] = a
    for f in reducer.row_fields():
        out[f"r/{f.name}"] = np.ascontiguousarray(arrays[f.name], dtype=f.dtype).reshape(-1, *f.shape)
    for f in reducer.total_fields():
        out[f"t/{f.name}"] = np.ascontiguousarray(arrays[f.name], dtype=f.dtype).reshape(f.shape)
    out["t/status_counts"] = np.bincount(out["p/status"].astype(np.intp),
                                         minlength=len(STATUS_NAMES)).astype(np.int64)
    return out


def failed_chunk(reducer: SweepLayout, m: int, error: str, status: str = "failed") -> dict[str, np.ndarray]:
    """The arrays of a chunk whose computation failed: every point ``status`` (``failed``,
    or ``timeout`` for a chunk stopped by ``--chunk-timeout``)."""
    arrays = {f.name: np.full((m, *f.shape), f.fill, dtype=f.dtype) for f in reducer.point_fields()}
    arrays["status"] = np.full(m, STATUS[status], dtype=np.int8)
    arrays.update({f.name: np.zeros((0, *f.shape), dtype=f.dtype) for f in reducer.row_fields()})
    arrays.update({f.name: np.zeros(f.shape, dtype=f.dtype) for f in reducer.total_fields()})
    out = _pack(reducer, arrays, m)
    out["error"] = np.frombuffer(error.encode()[:2000], dtype=np.uint8).copy()
    return out


def run_chunk(doc: dict[str, Any], k: int, start: int, stop: int) -> dict[str, np.ndarray]:
    """Compute chunk ``k`` (points ``[start, stop)``) of the sweep ``doc``; plain typed
    arrays out (point, row and total fields). The parameters are not returned: the design
    regenerates any slice bitwise (:func:`finalize` writes them), and the tidy table is
    made from these arrays when the folder is finalized."""
    model, design, reducer = context(doc)
    m = stop - start
    params = design.points(start, stop)
    try:
        return _pack(reducer, reduce_in_batches(reducer, params, start), m)
    except Exception as exc:  # the sweep goes on; these points are marked failed
        return failed_chunk(reducer, m, f"{type(exc).__name__}: {exc}")


def reduce_in_batches(reducer: SweepLayout, params: np.ndarray, start: int) -> dict[str, np.ndarray]:
    """``reducer.reduce`` over a chunk's points in batches of at most
    :func:`allysim.limits.max_batch` points, so the payoffs of a large model stay within
    ``ALLYSIM_MAX_MEMORY`` whatever the chunk size; per-point and per-row arrays are the
    batches' concatenated (a game's answer does not depend on its batch), totals their
    sum in batch order."""
    batch = max_batch(reducer.model.shape)
    if len(params) <= batch:
        return reducer.reduce(params, start)
    parts = [reducer.reduce(params[i:i + batch], start + i) for i in range(0, len(params), batch)]
    out = {}
    for f in (*reducer.point_fields(), *reducer.row_fields()):
        out[f.name] = np.concatenate([np.asarray(p[f.name]).reshape(-1, *f.shape) for p in parts])
    for f in reducer.total_fields():
        total = np.asarray(parts[0][f.name]).copy()
        for p in parts[1:]:
            total = total + p[f.name]
        out[f.name] = total
    return out


# -- executors (allysim.sweep.executors; Dask's client here) -----------------------------------
def _require_dask(scheduler) -> None:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise AllysimError(f"--scheduler {scheduler}: Dask is not installed; "
                           "install the dask extra: pip install 'allysim[dask]'") from None


def _dask_client(scheduler, jobs: int):
    _require_dask(scheduler)
    from dask.distributed import Client, LocalCluster

    if not isinstance(scheduler, str):
        return scheduler, None       # a Client given by the caller
    if scheduler == "local":
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="10s"), None
    except (OSError, TimeoutError) as exc:
        raise AllysimError(f"--scheduler {scheduler}: cannot connect ({exc})") from None


def check_scheduler(scheduler, *, connect: bool = False) -> None:
    """Refuse a ``--scheduler`` that is not ``local`` or an address, or Dask missing; with
    ``connect``, also an address nothing listens on (checked before a folder is touched)."""
    if scheduler is None or not isinstance(scheduler, str):
        return
    if scheduler != "local" and "://" not in scheduler:
        raise AllysimError(f"--scheduler {scheduler!r}: expected 'local' or an address such as "
                           "tcp://host:8786")
    _require_dask(scheduler)
    if connect and scheduler.startswith("tcp://"):
        import socket
        host, _, port = scheduler[len("tcp://"):].rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout=10):
                pass
        except ValueError:
            raise AllysimError(f"--scheduler {scheduler}: expected tcp://HOST:PORT") from None
        except OSError as exc:
            raise AllysimError(f"--scheduler {scheduler}: cannot connect "
                               f"({exc.strerror or exc})") from None


# -- progress --------------------------------------------------------------------------------
class Progress:
    """A one-line progress bar on stderr with rate and ETA (off unless stderr is a TTY)."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.done = total, enabled, 0
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.2 and self.done < self.total):
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r[{bar:<30}] {100 * frac:5.1f}% {self.done:,}/{self.total:,} points "
                         f"{rate:,.0f}/s ETA {int(eta) // 60}:{int(eta) % 60:02d} ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


# -- running ---------------------------------------------------------------------------------
@dataclass
class SweepRun:
    """What a finished (or summary-only) sweep reports."""

    spec: SweepSpec
    n_points: int
    seconds: float
    totals: dict[str, np.ndarray]
    failed_chunks: list[dict[str, Any]]
    executor: str
    note: str
    summary: list[str]
    out: Path | None = None
    finalize_seconds: float = 0.0
    compile_seconds: float = 0.0     # building the layout: compiling or loading kernels
    setup_seconds: float = 0.0       # the spec's model, design and layout (before compiling)

    @property
    def rate(self) -> float:
        """Points per second of the chunk loop alone (the manifest's ``points_per_second``)."""
        return self.n_points / self.seconds if self.seconds > 0 else float("inf")

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent by :func:`run_sweep`: ``setup``, ``compile``, ``solve``, ``write``."""
        return {"setup": self.setup_seconds, "compile": self.compile_seconds,
                "solve": self.seconds, "write": self.finalize_seconds}


#: Times a chunk that fails (raises, loses its worker, times out) is computed again
#: before its points are stored as failed (``--retries``).
DEFAULT_RETRIES = 2


def executor_name(workers: int, scheduler) -> str:
    if scheduler is not None:
        return f"dask ({scheduler if isinstance(scheduler, str) else 'client'})"
    return "in-process" if workers == 0 else f"{workers} process{'es' if workers > 1 else ''}"


def plan_workers(jobs: int, chunks: int, scheduler=None) -> tuple[int, str | None]:
    """Workers for ``--jobs`` with ``chunks`` chunks to compute: at most one per chunk and
    one per CPU; and a note when that is fewer than asked."""
    if scheduler is not None and scheduler != "local":
        return jobs, None            # a running cluster has the workers it has
    cpus = executors.available_cpus()
    n = max(1, min(jobs, chunks, cpus))
    if n >= jobs:
        return n, None
    if scheduler == "local":
        what = "Dask workers" if n > 1 else "Dask worker"
    else:
        what = "worker processes" if n > 1 else "worker process"
    return n, (f"--jobs {jobs}: {n} {what} at most ({chunks:,} chunk{'s' if chunks != 1 else ''} "
               f"to compute, {cpus} CPU{'s' if cpus != 1 else ''})")


def check_size(spec: SweepSpec, flag: str, *, jobs: int = 1, yes: bool = False) -> str:
    """:func:`allysim.limits.check_points` of the spec's design, with the concept's own rough
    rate (times the workers ``jobs`` gives, at most one per CPU) and bytes per point; the
    estimate line."""
    from ..limits import check_points
    _, design, layout = context(spec.to_json())
    rate, size = layout.cost(design.d, spec.table != "none")
    workers = max(1, min(jobs if isinstance(jobs, int) and not isinstance(jobs, bool) else 1,
                         executors.available_cpus()))
    # Solving is shared by the workers; writing (chunks, results.npz, the table, their
    # hashes) runs at about 300 MB/s on the development machine, whatever --jobs.
    seconds_per_point = 1 / (rate * workers) + size / 3e8
    return check_points(design.n, flag, yes=yes, rate=1 / seconds_per_point, bytes_per_point=size)


def check_run_options(jobs, chunk_timeout, retries) -> None:
    """Refuse ``--jobs``, ``--chunk-timeout`` or ``--retries`` values that cannot be used."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise AllysimError(f"--jobs {jobs}: expected a whole number >= 1")
    if chunk_timeout is not None and (isinstance(chunk_timeout, bool) or not isinstance(
            chunk_timeout, (int, float)) or not 0 < chunk_timeout < 1e9):
        raise AllysimError(f"--chunk-timeout {chunk_timeout}: expected a number of seconds > 0")
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 100:
        raise AllysimError(f"--retries {retries}: expected a whole number from 0 to 100")


def _failure(reducer: SweepLayout, m: int, result) -> dict[str, np.ndarray]:
    """The arrays stored for a chunk of ``m`` points that failed every attempt (its points
    ``failed`` or ``timeout``)."""
    if not isinstance(result, BaseException):
        return result                # run_chunk caught it: already a failed chunk
    status = getattr(result, "status", "failed")
    message = str(result) if isinstance(result, executors.ChunkFailure) else \
        f"{type(result).__name__}: {result}"
    return failed_chunk(reducer, m, message, status)


def run_sweep(spec: SweepSpec, *, out: str | Path | None = None, jobs: int = 1, scheduler=None,
              progress: bool = False, resume: bool = False, command: list[str] | None = None,
              started: str | None = None, chunk_timeout: float | None = None,
              retries: int = DEFAULT_RETRIES, log=None) -> SweepRun:
    """Run (or, with ``resume``, finish) a sweep; with ``out``, store and finalize its folder.

    The folder must already be prepared (:func:`allysim.sweep.store.prepare`) and its
    ``plan.json`` written (:func:`write_plan`); the sweep holds its lock
    (:mod:`allysim.sweep.lock`) while it runs. With ``resume`` the stored chunks are
    checked (:mod:`allysim.sweep.resume`) and the missing, invalid and failed ones
    computed. A chunk that fails is computed again up to ``retries`` times; one that
    still fails has its points stored ``failed`` (``timeout`` if it ran past
    ``chunk_timeout`` seconds) and is listed in ``SweepRun.failed_chunks``.
    ``log(message)`` receives one-line notes (workers capped, chunks recomputed).
    """
    spec.validate()
    check_run_options(jobs, chunk_timeout, retries)
    check_scheduler(scheduler)
    if out is None:
        return _run_sweep(spec, None, jobs, scheduler, progress, False, command, started,
                          chunk_timeout, retries, log or (lambda message: None))
    with lock.locked(out, "--resume" if resume else "-o"):
        return _run_sweep(spec, Path(out), jobs, scheduler, progress, resume, command, started,
                          chunk_timeout, retries, log or (lambda message: None))


def _run_sweep(spec, out, jobs, scheduler, progress, resume, command, started, chunk_timeout,
               retries, log) -> SweepRun:
    doc = spec.to_json()
    t_setup = time.perf_counter()
    model, design, reducer = context(doc)   # validates options
    t_compile = time.perf_counter()
    reducer.prepare()                        # compiles kernels once, before workers fork
    digest = spec.sha256()
    compile_seconds = time.perf_counter() - t_compile
    setup_seconds = t_compile - t_setup
    keys = [f"t/{f.name}" for f in reducer.total_fields()] + ["t/status_counts"]
    stored: set[int] = set()
    if out is not None and resume:
        stored, redo = resume_mod.stored_chunks(out, spec, reducer, digest)
        log(f"resuming {out}: {len(stored):,} of {spec.n_chunks:,} chunks already done")
        if redo:
            k, why = redo[0]
            log(f"computing {len(redo):,} stored chunk(s) again: chunk {k} {why}"
                + (f" (and {len(redo) - 1:,} more)" if len(redo) > 1 else ""))
    todo_chunks = spec.n_chunks - len(stored)
    todo_points = design.n - sum(spec.chunk(k)[2] - spec.chunk(k)[1] for k in stored)
    zeros = {f"t/{f.name}": np.zeros(f.shape, dtype=f.dtype) for f in reducer.total_fields()}
    zeros["t/status_counts"] = np.zeros(len(STATUS_NAMES), np.int64)
    totals = resume_mod.OrderedTotals(
        zeros, stored, lambda k: {key: st.load_chunk_key(out, k, key) for key in keys})
    tasks = executors.TaskQueue(t for t in spec.chunks() if t[0] not in stored)
    workers, note = plan_workers(jobs, todo_chunks, scheduler)
    if note:
        log(note)
    bar = Progress(todo_points, progress)
    started = started or datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    cluster = None
    if scheduler is not None:
        client, cluster = _dask_client(scheduler, workers)
        stream = executors.dask(run_chunk, doc, tasks, client, chunk_timeout)
        used = 0
    elif workers > 1 or chunk_timeout is not None:
        # a chunk can only be stopped in a process of its own: a timeout takes a pool
        stream = executors.processes(run_chunk, doc, tasks, workers, chunk_timeout)
        used = workers
    else:
        stream = executors.in_process(run_chunk, doc, tasks)
        used = 0
    attempts: dict[int, int] = {}
    failed: list[dict[str, Any]] = []
    try:
        for (k, start, stop), result in stream:
            if isinstance(result, BaseException) or "error" in result:
                attempts[k] = attempts.get(k, 0) + 1
                if attempts[k] <= retries:
                    tasks.retry((k, start, stop))
                    continue
                result = _failure(reducer, stop - start, result)
                failed.append({"chunk": k, "start": start, "stop": stop,
                               "status": STATUS_NAMES[int(result["p/status"][0])] if stop > start
                               else "failed", "attempts": attempts[k],
                               "error": result["error"].tobytes().decode(errors="replace")})
            if out is not None:
                st.write_chunk(out, k, resume_mod.with_meta(result, digest, k, start, stop))
            totals.add(k, {key: result[key] for key in keys})
            bar.update(stop - start)
    finally:
        bar.close()
        stream.close()
        if cluster is not None:
            client.close()
            cluster.close()
    seconds = time.perf_counter() - t0
    if totals.next != spec.n_chunks:     # every chunk is added exactly once
        raise RuntimeError(f"run_sweep(): {totals.next} of {spec.n_chunks} chunks were summed")
    failed.sort(key=lambda f: f["chunk"])
    named = {k[2:]: v for k, v in totals.totals.items()}
    summary = reducer.summary(named, design.n)
    run = SweepRun(spec, todo_points, seconds, named, failed,
                   executor_name(used, scheduler), reducer.note(), summary,
                   compile_seconds=compile_seconds, setup_seconds=setup_seconds)
    if out is not None:
        t1 = time.perf_counter()
        finalize(Path(out), spec, reducer, run, command=command, started=started, resumed=resume)
        run.finalize_seconds = time.perf_counter() - t1
        run.out = Path(out)
    return run


def write_plan(out: Path, spec: SweepSpec, command: list[str] | None) -> None:
    st.write_json(Path(out) / st.PLAN, {"allysim": __version__, "spec": spec.to_json(),
                                        "spec_sha256": spec.sha256(),
                                        "command": command or [],
                                        "started": datetime.now(timezone.utc).isoformat(timespec="seconds")})


def read_plan(out: Path, flag: str = "--resume") -> tuple[SweepSpec, dict[str, Any]]:
    """The spec of an unfinished sweep folder (``flag`` is ``--resume``) or of a finished one
    with failed chunks (``--retry-failed``), checked against the plan's own hash."""
    out = Path(out)
    failed = []
    if (out / st.MANIFEST).exists():
        try:
            failed = json.loads((out / st.MANIFEST).read_text()).get("failed_chunks") or []
        except (OSError, ValueError, AttributeError):
            failed = []
        kept = (out / st.PLAN).exists() and (out / st.CHUNKS).is_dir()
        if flag == "--resume":
            hint = (f"; {len(failed)} chunk(s) failed: compute them again with allysim sweep "
                    f"--retry-failed {out}" if failed and kept else
                    f"; check it with allysim reproduce {out}")
            raise st.ResultsError(f"--resume {out}: this sweep is already complete (manifest.json "
                                  f"exists){hint}")
        if failed and not kept:
            raise st.ResultsError(f"{flag} {out}: its chunks were not kept (plan.json and chunks/ "
                                  "are gone); run the sweep again")
    elif flag == "--retry-failed":
        hint = (f"; finish it with allysim sweep --resume {out}" if (out / st.PLAN).exists()
                else "")
        raise st.ResultsError(f"{flag} {out}: no manifest.json; not a finished sweep folder{hint}")
    if not (out / st.PLAN).exists():
        raise st.ResultsError(f"{flag} {out}: no plan.json; not a sweep folder "
                              "(start a sweep with -o DIR)")
    try:
        doc = json.loads((out / st.PLAN).read_text())
        spec = SweepSpec.from_json(doc["spec"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise st.ResultsError(f"{flag} {out}: plan.json is unreadable ({exc})") from None
    digest = doc.get("spec_sha256")
    if not isinstance(digest, str):
        raise st.ResultsError(f"{flag} {out}: plan.json has no spec_sha256, so its chunks cannot be "
                              f"checked against it; start again with -o {out} --overwrite")
    if spec.sha256() != digest:
        raise st.ResultsError(f"{flag} {out}: plan.json was changed after the sweep started (its "
                              "spec no longer matches its spec_sha256: a changed chunk_size, seed "
                              f"or design would mix chunks of two sweeps); start again with -o {out} "
                              "--overwrite")
    return spec, doc


def names_entries(model, reducer: SweepLayout) -> dict[str, np.ndarray]:
    """The names that make results.npz readable without the model: ``player_names (n,)``,
    ``strategy_names (n, max s_i)`` (padded with ""), ``solution_concept (L,)`` (the label
    of each solution slot, e.g. one per lambda) and ``solver`` (the ``--solver`` name)."""
    smax = max(len(ss) for ss in model.strategies)
    strategies = [list(ss) + [""] * (smax - len(ss)) for ss in model.strategies]
    slots = len(reducer.options.get("lambda", [0])) if "lambda" in reducer.options else 1
    labels = [reducer.concept.label(reducer.options, i) for i in range(slots)]
    return {"player_names": np.asarray(model.players, dtype=str),
            "strategy_names": np.asarray(strategies, dtype=str),
            "solution_concept": np.asarray(labels, dtype=str),
            "solver": np.asarray(reducer.concept.name, dtype=str)}


#: Entries of results.npz that only describe the others (allysim 0.1.0 did not write them).
DESCRIPTIVE = ("player_names", "strategy_names", "solution_concept", "solver")


def table_pieces(reducer: SweepLayout, design: Design, chunks, arrays_of):
    """The tidy table of a sweep, piece by piece: for each ``(k, start, stop)`` of
    ``chunks``, :meth:`SweepLayout.table` of the arrays ``arrays_of(k, start, stop)``
    (point and row fields by name) with the varied values the design generates."""
    for k, start, stop in chunks:
        yield reducer.table(arrays_of(k, start, stop), design.varied(start, stop), start,
                            design.names)


def table_metadata(model, design: Design, reducer: SweepLayout) -> dict[str, Any]:
    """What a table file says about itself (Parquet key-value metadata ``allysim``)."""
    return {"allysim": __version__, "model": model.name, "solver": reducer.concept.name,
            "solution_concept": names_entries(model, reducer)["solution_concept"].tolist(),
            "players": {p: list(ss) for p, ss in zip(model.players, model.strategies)},
            "parameters": list(design.names)}


def write_table(path: Path, fmt: str, reducer: SweepLayout, design: Design, model, chunks,
                arrays_of) -> None:
    """Write the tidy table as ``fmt`` (``parquet`` or ``csv``) to ``path``."""
    from ..io.table import write_csv, write_parquet
    pieces = table_pieces(reducer, design, chunks, arrays_of)
    if fmt == "parquet":
        grid = tuple(design.names) if design.kind == "grid" else ()
        write_parquet(path, pieces, table_metadata(model, design, reducer), dictionary=grid)
    else:
        write_csv(path, reducer.csv_header(design.names), pieces)


def table_file(fmt: str) -> str:
    return st.PARQUET if fmt == "parquet" else st.CSV


def finalize(out: Path, spec: SweepSpec, reducer: SweepLayout, run: SweepRun, *,
             command: list[str] | None, started: str, resumed: bool) -> None:
    """Assemble results.npz and the tidy table from the chunk files, then write manifest.json.

    The two files are written by two threads at once (the zip and Parquet writers, the
    copies and the sha256 release the GIL), each reading the chunks and generating the
    parameters from the design on its own (generating them twice costs less than making
    either writer wait for the other); each hashes its file when done.
    """
    t0 = time.perf_counter()
    design, n = spec.design, spec.design.n
    ks = range(spec.n_chunks)
    model, _, _ = context(spec.to_json())
    table = spec.table if spec.store == "full" else "none"

    def pieces(key):
        return lambda: (st.load_chunk_key(out, k, key) for k in ks)

    def varied():
        for _, start, stop in spec.chunks():
            yield design.varied(start, stop)

    entries = []
    for f in reducer.point_fields():
        entries.append((f.name, np.dtype(f.dtype), (n, *f.shape), pieces(f"p/{f.name}")))
    for f in reducer.row_fields():
        rows = sum(st.chunk_key_length(out, k, f"r/{f.name}") for k in ks)
        entries.append((f.name, np.dtype(f.dtype), (rows, *f.shape), pieces(f"r/{f.name}")))
    if spec.store == "full":
        entries.append(("params", np.dtype("float64"), (n, design.d), varied))
    for name, value in run.totals.items():
        entries.append((f"total_{name}", value.dtype, value.shape, lambda v=value: [v]))
    names = np.asarray(design.names, dtype=str) if design.d else np.zeros(0, dtype="<U1")
    entries.append(("param_names", names.dtype, names.shape, lambda: [names]))
    status = np.asarray(STATUS_NAMES)
    entries.append(("status_names", status.dtype, status.shape, lambda: [status]))
    for name, value in names_entries(model, reducer).items():
        entries.append((name, value.dtype, value.shape, lambda v=value: [v]))
    files = {st.RESULTS: out / st.RESULTS}
    hashes: dict[str, str] = {}
    errors: list[BaseException] = []

    def write_results():
        st.write_npz_stream(out / st.RESULTS, entries)
        hashes[st.RESULTS] = st.sha256_file(out / st.RESULTS)

    def write_tidy():
        name = table_file(table)

        def arrays_of(k, start, stop):
            chunk = st.load_chunk(out, k)
            return {key[2:]: v for key, v in chunk.items() if key[:2] in ("p/", "r/")}

        # its own copy of the design: one Sobol' engine stepped by two threads in turn
        # would be reset and fast-forwarded from the start at every chunk
        own = replace(design, _cache={})
        write_table(out / name, table, reducer, own, model, spec.chunks(), arrays_of)
        hashes[name] = st.sha256_file(out / name)

    def guarded(fn):
        try:
            fn()
        except BaseException as exc:      # re-raised in the calling thread below
            errors.append(exc)

    if table != "none":
        files[table_file(table)] = out / table_file(table)
        tidy = threading.Thread(target=guarded, args=(write_tidy,), daemon=True)
        tidy.start()
        guarded(write_results)
        tidy.join()
    else:
        guarded(write_results)
    if errors and isinstance(errors[0], OSError):
        exc = errors[0]
        raise st.ResultsError(f"{out}: cannot write the results: {exc.strerror or exc}; the computed "
                              f"chunks are kept: finish with allysim sweep --resume {out}") from None
    if errors:
        raise errors[0]
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    run.finalize_seconds = time.perf_counter() - t0
    manifest = {
        "allysim": __version__,
        "kind": "sweep",
        "command": command or [],
        "started": started,
        "finished": finished,
        "resumed": resumed,
        "seconds": round(run.seconds, 3),
        "points_computed": run.n_points,
        "points_per_second": round(run.rate, 1),
        "scenario": spec.scenario,
        "model": {"name": model.name, "sha256": model.sha256, "where": spec.model_where,
                  "source": spec.model_source},
        "design": design.to_json(),
        "seed": design.seed,
        "solver": {"name": spec.solver, "solution_concept": reducer.label,
                   "options": reducer.options},
        "store": spec.store,
        "table": {"format": spec.table, "file": table_file(spec.table)} if spec.store == "full"
        and spec.table != "none" else None,
        "timings": {k: round(v, 3) for k, v in run.timings.items()},
        "chunking": {"chunk_size": spec.chunk_size, "n_chunks": spec.n_chunks,
                     "seed_block": design.to_json()["seed_block"]},
        "execution": {"executor": run.executor, "kernel": run.note},
        **manifest_fields(),
        "failed_chunks": run.failed_chunks,
        "failed_points": sum(f["stop"] - f["start"] for f in run.failed_chunks),
        "status_counts": {name: int(c) for name, c in zip(STATUS_NAMES, run.totals["status_counts"])},
        "summary": run.summary,
        "spec": spec.to_json(),
        "files": {name: {"sha256": hashes[name], "bytes": p.stat().st_size}
                  for name, p in files.items()},
    }
    integrity.write_manifest(out, manifest)
    # The manifest is down: the folder is complete; drop the resume state, unless some
    # chunks failed: then --retry-failed computes just those from it.
    if not run.failed_chunks:
        import shutil
        shutil.rmtree(out / st.CHUNKS, ignore_errors=True)
        (out / st.PLAN).unlink(missing_ok=True)
