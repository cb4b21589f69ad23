"""What ``--resume`` may trust: stored chunks are checked before use, totals kept in chunk order.

Each chunk file carries the digest of the spec it was computed for
(:meth:`SweepSpec.sha256 <allysim.sweep.engine.SweepSpec.sha256>`) and its own
``(k, start, stop)``. Before a resume uses a stored chunk, :func:`check_chunk`
reads every array (a truncated or altered file fails the zip's CRC check) and
checks the keys, dtypes and shapes the concept's layout declares, the point
range of its rows, and its status codes and counts (a chunk holds no parameter
values: the design regenerates them when the folder is finalized). A chunk that fails any of these, or that
failed when it was computed, is computed again; nothing in it is used.

Totals (histograms, probability sums) are added in chunk order
(:class:`OrderedTotals`), whatever order chunks finish in, so floating-point totals
are the same bits for any executor and number of workers; chunks already stored are
read back one at a time as their turn comes, so memory stays flat.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..solve import STATUS_NAMES
from . import store as st

META_RANGE = "meta/range"
META_SPEC = "meta/spec_sha256"


def with_meta(arrays: dict[str, np.ndarray], digest: str, k: int, start: int,
              stop: int) -> dict[str, np.ndarray]:
    """``arrays`` plus the chunk's identity: its spec digest and ``(k, start, stop)``."""
    out = dict(arrays)
    out[META_SPEC] = np.frombuffer(digest.encode(), dtype=np.uint8).copy()
    out[META_RANGE] = np.array([k, start, stop], dtype=np.int64)
    return out


def expected_arrays(reducer, spec, m: int) -> dict[str, tuple[np.dtype, tuple]]:
    """The arrays a chunk of ``m`` points must hold: key -> (dtype, shape), None for a
    free length (rows)."""
    want: dict[str, tuple[np.dtype, tuple]] = {}
    for f in reducer.point_fields():
        want[f"p/{f.name}"] = (np.dtype(f.dtype), (m, *f.shape))
    for f in reducer.row_fields():
        want[f"r/{f.name}"] = (np.dtype(f.dtype), (None, *f.shape))
    for f in reducer.total_fields():
        want[f"t/{f.name}"] = (np.dtype(f.dtype), tuple(f.shape))
    want["t/status_counts"] = (np.dtype(np.int64), (len(STATUS_NAMES),))
    return want


def check_chunk(arrays: dict[str, np.ndarray], reducer, spec, digest: str, k: int, start: int,
                stop: int) -> str | None:
    """Why stored chunk ``k`` (points ``[start, stop)``) cannot be used, or None if it can."""
    meta = arrays.get(META_RANGE)
    if arrays.get(META_SPEC) is None or arrays[META_SPEC].tobytes() != digest.encode():
        return "was computed for another spec (or before chunks were stamped)"
    if meta is None or meta.shape != (3,) or meta.tolist() != [k, start, stop]:
        return f"holds {meta.tolist() if meta is not None else 'no range'}, not chunk {k} [{start}, {stop})"
    m = stop - start
    rows = None
    for key, (dtype, shape) in expected_arrays(reducer, spec, m).items():
        a = arrays.get(key)
        if a is None:
            return f"has no array {key}"
        if a.dtype != dtype or a.ndim != len(shape) or any(
                want is not None and got != want for got, want in zip(a.shape, shape)):
            return f"{key} is {a.dtype}{list(a.shape)}, expected {dtype}{[s if s is not None else 'any' for s in shape]}"
        if key.startswith("r/"):
            if rows is not None and len(a) != rows:
                return f"{key} has {len(a)} rows, other row arrays {rows}"
            rows = len(a)
    status = arrays["p/status"].astype(np.int64)
    if status.size and (status.min() < 0 or status.max() >= len(STATUS_NAMES)):
        return "p/status holds codes that are no status"
    counts = arrays["t/status_counts"]
    if not np.array_equal(counts, np.bincount(status, minlength=len(STATUS_NAMES))):
        return "t/status_counts does not count p/status"
    if "r/eq_point" in arrays:
        point = arrays["r/eq_point"]
        if len(point) and (point.min() < start or point.max() >= stop or (np.diff(point) < 0).any()):
            return f"r/eq_point holds points outside [{start}, {stop}) or out of order"
    return None


def stored_chunks(out: Path, spec, reducer, digest: str) -> tuple[set[int], list[tuple[int, str]]]:
    """The chunks of ``out`` a resume can use, and ``(k, reason)`` for the others
    (unreadable, invalid, or failed: all computed again)."""
    good, redo = set(), []
    for k in sorted(st.done_chunks(out)):
        if k >= spec.n_chunks:
            continue
        _, start, stop = spec.chunk(k)
        try:
            arrays = st.load_chunk(out, k)
        except Exception as exc:     # BadZipFile, a CRC error, EOFError, OSError, ValueError...
            redo.append((k, f"is unreadable ({type(exc).__name__}: {exc})"))
            continue
        reason = check_chunk(arrays, reducer, spec, digest, k, start, stop)
        if reason is None and "error" in arrays:
            reason = "failed when it was computed"
        if reason is None:
            good.add(k)
        else:
            redo.append((k, reason))
    return good, redo


class OrderedTotals:
    """Totals added in chunk order: chunk ``k`` is added once chunks ``0 .. k-1`` are.

    ``stored`` chunks are not passed to :meth:`add`; ``load(k)`` reads their totals
    when their turn comes.
    """

    def __init__(self, zeros: dict[str, np.ndarray], stored: set[int],
                 load: Callable[[int], dict[str, np.ndarray]]):
        self.totals = {key: np.array(v, copy=True) for key, v in zeros.items()}
        self.stored, self.load = stored, load
        self.next = 0
        self.pending: dict[int, dict[str, Any]] = {}
        self._advance()

    def add(self, k: int, totals: dict[str, np.ndarray]) -> None:
        self.pending[k] = totals
        self._advance()

    def _advance(self) -> None:
        while True:
            if self.next in self.pending:
                part = self.pending.pop(self.next)
            elif self.next in self.stored:
                part = self.load(self.next)
            else:
                return
            for key in self.totals:
                self.totals[key] += part[key]
            self.next += 1
