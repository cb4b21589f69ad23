"""Where a sweep's chunks run: in-process, a pool of worker processes, or Dask.

Every executor takes a :class:`TaskQueue` of chunks ``(k, start, stop)`` and yields
``(task, result)`` as chunks finish, in any order: ``result`` is the chunk's arrays,
or a :class:`ChunkFailure` (:class:`WorkerDied`, :class:`ChunkTimeout`) or the
exception the chunk raised. The engine decides what to do with a failure (retry
it through :meth:`TaskQueue.retry`, or store its points as failed); an executor
only reports. Executors pull tasks lazily, so the list of chunks is never built.

The process pool is allysim's own (not :class:`concurrent.futures.ProcessPoolExecutor`,
whose broken pool cannot say which chunk killed a worker, nor stop one chunk):

- each worker is told one or two chunks ahead and says when it starts one, so a
  chunk's time is measured from its start and a dead worker is charged with exactly
  the chunk it was computing (the one queued behind it goes back to the queue);
- ``timeout`` (seconds per chunk) kills the worker computing a chunk past it, which
  is reported as :class:`ChunkTimeout`, and starts a new worker;
- workers exit when their parent dies, even by ``kill -9``: on Linux through
  ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, elsewhere (and as a second guard) a watchdog
  thread that checks the parent's pid twice a second; they ignore Ctrl-C (the parent
  stops them) and close the parent's folder lock (:mod:`.lock`).

On Dask a chunk's clock starts when it is submitted (at most one chunk per worker
thread is in flight while a timeout is set); a timed-out chunk is cancelled, but
Dask cannot interrupt a running task, so its thread stays busy until it returns.
"""
from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection as mpc
import os
import queue as queue_module
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import lock

Task = tuple[int, int, int]
#: Chunks a pool worker is told ahead of the one it computes (keeps it busy between chunks).
DEPTH = 2
#: Seconds a worker's watchdog waits between checks of its parent's pid.
WATCHDOG_SECONDS = 0.5


class ChunkFailure(Exception):
    """A chunk that could not be computed; ``status`` is the status its points get."""

    status = "failed"


class WorkerDied(ChunkFailure):
    """The worker process computing the chunk died (a crash, ``os._exit``, the OOM killer)."""


class ChunkTimeout(ChunkFailure):
    """The chunk ran past its time limit (``--chunk-timeout``) and was stopped."""

    status = "timeout"


class TaskQueue:
    """The chunks still to compute: retries first, then fresh chunks drawn lazily."""

    def __init__(self, fresh: Iterable[Task]):
        self._fresh = iter(fresh)
        self._again: collections.deque[Task] = collections.deque()

    def pop(self) -> Task | None:
        """The next chunk to compute, or None when there is none."""
        if self._again:
            return self._again.popleft()
        return next(self._fresh, None)

    def retry(self, task: Task) -> None:
        """Compute ``task`` again, before any fresh chunk."""
        self._again.append(task)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "process_cpu_count"):
        return max(1, os.process_cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# -- in-process ----------------------------------------------------------------------------
def in_process(run: Callable, doc: dict, tasks: TaskQueue) -> Iterator[tuple[Task, Any]]:
    """Compute chunks one after the other in this process (no timeout is possible here)."""
    while (task := tasks.pop()) is not None:
        try:
            result = run(doc, *task)
        except Exception as exc:    # as a worker's exception: the engine decides
            result = exc
        yield task, result


# -- the process pool ------------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    """Make this worker exit as soon as process ``parent`` is gone."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)     # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(WATCHDOG_SECONDS)

    if os.getppid() != parent:          # died before we could ask
        os._exit(1)
    threading.Thread(target=watch, name="allysim-watchdog", daemon=True).start()


def _worker_main(conn, run: Callable, doc: dict, parent: int) -> None:
    """A pool worker: compute the chunks sent on ``conn`` until told to stop (None)."""
    _die_with_parent(parent)
    lock.close_inherited()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        conn.send(("start", task[0], None))
        try:
            result = run(doc, *task)
        except BaseException as exc:   # reported, never raised: the worker lives on
            result = ChunkFailure(f"{type(exc).__name__}: {exc}")
        try:
            conn.send(("done", task[0], result))
        except Exception as exc:       # e.g. a result that cannot be pickled
            conn.send(("done", task[0], ChunkFailure(f"returning the result: {exc}")))
    conn.close()


class _Worker:
    """One worker process, its pipe and the chunks sent to it (``tasks[0]`` runs first)."""

    def __init__(self, ctx, run: Callable, doc: dict):
        here, there = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(there, run, doc, os.getpid()),
                                name="allysim-worker", daemon=True)
        self.proc.start()
        there.close()
        self.conn = here
        self.tasks: collections.deque[Task] = collections.deque()
        self.started: float | None = None     # when tasks[0] started, once the worker says so

    def stop(self, wait: float) -> None:
        """Ask the worker to exit; kill it if it has not within ``wait`` seconds."""
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(wait)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def _context():
    # fork lets workers inherit compiled kernels; elsewhere each worker builds them once.
    if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def processes(run: Callable, doc: dict, tasks: TaskQueue, workers: int,
              timeout: float | None = None) -> Iterator[tuple[Task, Any]]:
    """Compute chunks on ``workers`` worker processes (see the module docstring)."""
    ctx = _context()
    pool: list[_Worker | None] = [None] * workers
    try:
        while True:
            for i in range(workers):
                if pool[i] is not None and not pool[i].tasks and not pool[i].proc.is_alive():
                    pool[i].kill()          # died while idle: nothing to charge
                    pool[i] = None
                while pool[i] is None or len(pool[i].tasks) < DEPTH:
                    task = tasks.pop()
                    if task is None:
                        break
                    if pool[i] is None:
                        pool[i] = _Worker(ctx, run, doc)
                    pool[i].tasks.append(task)
                    try:
                        pool[i].conn.send(task)
                    except OSError:         # it died: the loop below sees it and reassigns
                        break
            busy = [w for w in pool if w is not None and w.tasks]
            if not busy:
                return
            wait = None
            if timeout is not None:
                starts = [w.started for w in busy if w.started is not None]
                wait = max(0.0, min(starts) + timeout - time.monotonic()) if starts else timeout
            mpc.wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], wait)
            for i, w in enumerate(pool):
                if w is None or not w.tasks:
                    continue
                dead = False
                while w.tasks:
                    try:
                        if not w.conn.poll():
                            break
                        kind, _, result = w.conn.recv()
                    except (EOFError, OSError):
                        dead = True
                        break
                    if kind == "start":
                        w.started = time.monotonic()
                    else:
                        w.started = None
                        yield w.tasks.popleft(), result
                if not w.tasks:
                    continue
                if dead or not w.proc.is_alive():
                    w.proc.join(5)
                    failure: ChunkFailure = WorkerDied(
                        f"worker process died (exit code {w.proc.exitcode})")
                elif (timeout is not None and w.started is not None
                      and time.monotonic() - w.started >= timeout):
                    w.kill()
                    failure = ChunkTimeout(f"ran past --chunk-timeout {timeout:g} s; stopped")
                else:
                    continue
                culprit = w.tasks.popleft()
                for task in w.tasks:        # told ahead, never started: not its fault
                    tasks.retry(task)
                pool[i] = None
                yield culprit, failure
    finally:
        for w in pool:
            if w is not None:
                w.stop(wait=0.5 if w.tasks else 5.0)


# -- Dask --------------------------------------------------------------------------------------
def dask(run: Callable, doc: dict, tasks: TaskQueue, client, timeout: float | None = None
         ) -> Iterator[tuple[Task, Any]]:
    """Compute chunks on a Dask ``client``'s workers (see the module docstring)."""
    info = client.scheduler_info().get("workers", {})
    slots = max(1, sum(int(w.get("nthreads", 1)) for w in info.values()) or 1)
    limit = slots if timeout is not None else 2 * slots
    finished: queue_module.Queue = queue_module.Queue()
    pending: dict[Any, tuple[Task, float]] = {}
    try:
        while True:
            while len(pending) < limit and (task := tasks.pop()) is not None:
                fut = client.submit(run, doc, *task, pure=False)
                pending[fut] = (task, time.monotonic())
                fut.add_done_callback(finished.put)
            if not pending:
                return
            wait = None
            if timeout is not None:
                oldest = min(t0 for _, t0 in pending.values())
                wait = max(0.0, oldest + timeout - time.monotonic())
            try:
                fut = finished.get(timeout=wait)
            except queue_module.Empty:
                fut = None
            if fut is not None and fut in pending:
                task, _ = pending.pop(fut)
                try:
                    result = fut.result()
                except Exception as exc:
                    result = exc
                fut.release()
                yield task, result
            if timeout is not None:
                now = time.monotonic()
                for fut, (task, t0) in list(pending.items()):
                    if now - t0 >= timeout:
                        del pending[fut]
                        fut.cancel()
                        yield task, ChunkTimeout(f"ran past --chunk-timeout {timeout:g} s; "
                                                 "cancelled")
    finally:
        for fut in pending:
            fut.cancel()
