"""Per-chunk solvers for sweeps ("reducers") and their registry.

The sweep engine cuts a design into chunks of points and, for each chunk, calls
one reducer: parameters in, plain arrays out. A reducer declares the arrays it
returns, so the engine can store, concatenate and fill them without knowing
the solution concept:

``point_fields()``
    one entry per point (leading axis = points of the chunk); must include
    ``status`` (int8, codes of :mod:`allysim.solve._status`).
``row_fields()``
    ragged rows, e.g. one per equilibrium; must include ``point`` (int64, the
    point's global index). Empty when the store level does not keep rows.
``total_fields()``
    fixed-shape arrays summed over chunks (histograms for the summary).

Writing a reducer (e.g. logit QRE)
----------------------------------
Subclass :class:`Reducer`, set ``name`` and ``help``, validate the options you
need in ``__init__`` (raise :class:`allysim.errors.AllysimError` naming the
flag), and implement ``point_fields``, ``reduce``, ``csv_header``/``csv_text``
and ``summary``; then ``register_reducer(MyReducer)``. For QRE at
``--lambda 1.5`` that is: point fields ``prob`` (float64, shape
``(s1 + ... + sn,)``), ``regret`` (float64) and ``status``; ``reduce`` builds
payoffs with :func:`payoffs_of` and calls the batched QRE solver; CSV rows
carry ``P(Player=STRATEGY)`` columns and ``solution_concept`` ``QRE(lambda=1.5)``.
The engine then gives you chunking, every executor, resume, reproduce and the
results folder for free. A reducer that needs randomness must derive it from
the sweep seed and the global point index (``start`` is passed to ``reduce``)
so results stay independent of chunking.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import AllysimError, suggest
from ..solve import DEFAULT_TOL, STATUS, STATUS_NAMES, pure_nash, pure_regret
from . import _kernel

#: What a sweep keeps per point: ``counts`` (per-point counts, status and outcome) or
#: ``full`` (also the parameters and one row per equilibrium, and equilibria.csv).
STORES = ("counts", "full")
BACKENDS = ("auto", "numba", "numpy")


@dataclass(frozen=True)
class Field:
    """An array a reducer returns: name, dtype, trailing shape, fill for failed points."""

    name: str
    dtype: str
    shape: tuple[int, ...] = ()
    fill: Any = 0


class Reducer(ABC):
    """Solve and reduce one chunk of a sweep. See the module docstring."""

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""

    def __init__(self, model, options: dict[str, Any], store: str, backend: str = "auto"):
        self.model, self.options, self.store, self.backend = model, dict(options), store, backend

    def tolerance(self, default: float) -> float:
        """The ``tol`` option (``default`` when absent, and then recorded), checked finite and >= 0."""
        tol = self.options.setdefault("tol", default)
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0 \
                or not math.isfinite(tol):
            raise AllysimError(f"--tol {tol!r}: expected a finite number >= 0")
        return float(tol)

    @abstractmethod
    def point_fields(self) -> list[Field]: ...

    def row_fields(self) -> list[Field]:
        return []

    def total_fields(self) -> list[Field]:
        return []

    @abstractmethod
    def reduce(self, params: np.ndarray, start: int) -> dict[str, np.ndarray]:
        """Arrays for points ``start .. start + len(params)``; params: (B, P) float64.

        Returns every point field, row field and total field by name.
        """

    def csv_header(self, varied: tuple[str, ...]) -> list[str]:
        return []

    def csv_text(self, arrays: dict[str, np.ndarray], varied: np.ndarray, start: int) -> str:
        """CSV rows (no header) for one chunk; varied: (B, d) values of the varied parameters."""
        return ""

    def summary(self, totals: dict[str, np.ndarray], n_points: int) -> list[str]:
        """Summary lines; ``totals`` also holds ``status_counts`` (per status code)."""
        return []

    def note(self) -> str:
        """One line on how the chunk is computed (backend), for the summary and manifest."""
        return ""


REDUCERS: dict[str, type[Reducer]] = {}


def register_reducer(cls: type[Reducer]) -> type[Reducer]:
    """Make a reducer available as ``allysim sweep --solver NAME`` (usable as a decorator)."""
    if not cls.name:
        raise ValueError("register_reducer(): the reducer class needs a name")
    REDUCERS[cls.name] = cls
    return cls


def get_reducer(name: str) -> type[Reducer]:
    if name not in REDUCERS:
        raise AllysimError(f"--solver {name!r}: no sweep solver of that name"
                           f"{suggest(name, REDUCERS)}; expected one of {', '.join(sorted(REDUCERS))}")
    return REDUCERS[name]


def payoffs_of(model, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Payoffs ``(B, n, s1..sn)`` of a chunk (unchecked) and a ``(B,)`` mask of finite points."""
    payoffs = model.payoffs(params, check=False)
    finite = np.isfinite(payoffs.reshape(len(params), -1)).all(axis=1)
    return payoffs, finite


def _floats(values: np.ndarray) -> list[str]:
    return [repr(v) for v in values.tolist()]


def profile_shares(model, counts: np.ndarray, n_points: int, what: str,
                   top: int = 12) -> tuple[list[str], int]:
    """Summary lines ``"  TRANS/SUPPORT/SLICE/FREEZE  41.20%"`` for the ``top`` profiles by
    ``counts: (s1*...*sn,)`` (flat profile index, C order), then one line for the other
    ``what``; returns the lines and the label width, for lines that follow."""
    def name(flat) -> str:
        return "/".join(model.strategies[i][a]
                        for i, a in enumerate(np.unravel_index(int(flat), model.shape)))

    shown = [c for c in np.argsort(-counts, kind="stable") if counts[c] > 0]
    width = max([len(name(c)) for c in shown[:top]] + [28])
    lines = [f"  {name(c):<{width}} {100 * counts[c] / n_points:6.2f}%" for c in shown[:top]]
    if len(shown) > top:
        rest = int(counts[shown[top:]].sum())
        lines.append(f"  {'(' + str(len(shown) - top) + ' other ' + what + ')':<{width}} "
                     f"{100 * rest / n_points:6.2f}%")
    return lines, width


def equilibrium_csv(concept: str, count: np.ndarray, status: np.ndarray, eq_point: np.ndarray,
                    start: int, varied: np.ndarray, eq_columns: list) -> str:
    """CSV rows of a chunk: one per (point, equilibrium), one blank-tailed row per point
    without equilibria, sorted by point then by the equilibria's canonical order.

    count, status: (m,) per point; eq_point: (k,) global point index of each
    equilibrium, ascending; varied: (m, d) swept values; eq_columns: per-equilibrium
    columns, each k strings (strategies, probabilities, payoffs, regret).
    """
    points = eq_point - start
    k = len(points)
    empty = np.nonzero(count == 0)[0]
    row_point = np.concatenate([points, empty])
    row_eq = np.concatenate([np.arange(k), np.full(len(empty), k)])   # k: the blank row
    if not len(row_point):
        return ""
    order = np.lexsort((row_eq, row_point))
    row_point, row_eq = row_point[order], row_eq[order]
    kth = np.arange(k) - np.searchsorted(points, points) + 1          # k-th equilibrium of its point

    def per_row(column) -> list[str]:
        return np.asarray(list(column) + [""], dtype=object)[row_eq].tolist()

    names = np.asarray(STATUS_NAMES, dtype=object)
    cols = [[str(p + start) for p in row_point.tolist()], [concept] * len(row_point),
            names[status[row_point]].tolist(), [str(c) for c in count[row_point].tolist()],
            per_row(str(e) for e in kth.tolist())]
    cols += [_floats(varied[row_point, j]) for j in range(varied.shape[1])]
    cols += [per_row(c) for c in eq_columns]
    return "\n".join(map(",".join, zip(*cols))) + "\n"


@register_reducer
class PureReducer(Reducer):
    """All pure Nash equilibria per point (``NE (pure)``), with a tolerance ``tol``."""

    name = "pure"
    help = "pure Nash equilibria: counts, status, the unique outcome; rows per equilibrium"

    def __init__(self, model, options, store, backend="auto"):
        super().__init__(model, options, store, backend)
        self.tol = self.tolerance(DEFAULT_TOL)
        self.size = math.prod(model.shape)
        if backend not in BACKENDS:
            raise AllysimError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
        if backend == "numba" and not _kernel.available():
            raise AllysimError("--backend numba: numba is not installed; "
                               "install the fast extra: pip install 'allysim[fast]'")
        self.kernel = None
        self.compile_seconds = 0.0
        if backend in ("auto", "numba") and _kernel.available():
            self.kernel = _kernel.build_kernel(model)
            self.compile_seconds = self.kernel.compile_seconds

    @property
    def concept(self) -> str:
        return "NE (pure)"

    def note(self) -> str:
        if self.kernel is not None:
            return (f"numba kernel generated from the model (compiled in "
                    f"{self.compile_seconds:.1f} s)")
        if self.backend == "numpy":
            return "NumPy path (--backend numpy)"
        return "NumPy path: numba is not installed, so this is slower; pip install 'allysim[fast]'"

    def point_fields(self):
        return [Field("count", "int32"), Field("status", "int8", (), int(STATUS["failed"])),
                Field("outcome", "int32", (), -1)]

    def row_fields(self):
        if self.store != "full":
            return []
        n = self.model.n_players
        return [Field("eq_point", "int64"), Field("eq_profile", "int16", (n,)),
                Field("eq_payoff", "float64", (n,)), Field("eq_regret", "float64")]

    def total_fields(self):
        return [Field("equilibrium_points", "int64", (self.size,)),
                Field("count_histogram", "int64", (self.size + 1,))]

    def reduce(self, params, start):
        batch = len(params)
        if self.kernel is not None and self.store == "counts":
            count, status, outcome, hist = self.kernel.counts(params, self.tol)
            out = {"count": count, "status": status, "outcome": outcome, "equilibrium_points": hist}
        else:
            payoffs = (self.kernel.payoffs(params) if self.kernel is not None
                       else self.model.payoffs(params, check=False))
            finite = np.isfinite(payoffs.reshape(batch, -1)).all(axis=1)
            mask = np.zeros((batch, self.size), dtype=bool)
            count = np.zeros(batch, np.int32)
            status = np.full(batch, STATUS["failed"], np.int8)
            if finite.any():
                res = pure_nash(payoffs[finite], tol=self.tol)
                mask[finite] = res.mask.reshape(-1, self.size)
                count[finite] = res.count
                status[finite] = res.status
            outcome = np.where(count == 1, mask.argmax(axis=1), np.where(count == 0, -1, -2))
            out = {"count": count, "status": status, "outcome": outcome.astype(np.int32),
                   "equilibrium_points": mask.sum(axis=0, dtype=np.int64)}
            if self.store == "full":
                local, flat = np.nonzero(mask)          # row-major: by point, then profile order
                profile = np.stack(np.unravel_index(flat, self.model.shape), axis=1)
                eq_pay = payoffs[local]
                idx = (np.arange(len(local)),) + (slice(None),) + tuple(profile.T)
                payoff = eq_pay[idx] if len(local) else np.zeros((0, self.model.n_players))
                regret = (pure_regret(eq_pay, profile).max(axis=1) if len(local)
                          else np.zeros(0))
                out.update(eq_point=(local + start).astype(np.int64),
                           eq_profile=profile.astype(np.int16),
                           eq_payoff=np.ascontiguousarray(payoff, dtype=np.float64), eq_regret=regret)
        out["count_histogram"] = np.bincount(out["count"], minlength=self.size + 1).astype(np.int64)
        return out

    def csv_header(self, varied):
        players = self.model.players
        return (["point", "solution_concept", "status", "n_equilibria", "equilibrium", *varied,
                 *players, *(f"payoff_{p}" for p in players), "max_regret"])

    def csv_text(self, arrays, varied, start):
        profile = arrays["eq_profile"]
        columns = [np.asarray(ss, dtype=object)[profile[:, i]] for i, ss in enumerate(self.model.strategies)]
        columns += [_floats(arrays["eq_payoff"][:, i]) for i in range(self.model.n_players)]
        columns.append(_floats(arrays["eq_regret"]))
        return equilibrium_csv("NE (pure)", arrays["count"], arrays["status"], arrays["eq_point"],
                               start, varied, columns)

    def summary(self, totals, n_points):
        if n_points == 0:
            return []
        lines = [f"pure Nash equilibria (tol {self.tol:g}); share of points where each profile "
                 f"({'/'.join(self.model.players)}) is an equilibrium:"]
        shares, width = profile_shares(self.model, totals["equilibrium_points"], n_points, "profiles")
        lines += shares
        hist = totals["count_histogram"]
        none = int(totals["status_counts"][STATUS["no_pure"]])
        lines.append(f"  {'no pure equilibrium':<{width}} {100 * none / n_points:6.2f}%")
        lines.append(f"  {'several pure equilibria':<{width}} {100 * hist[2:].sum() / n_points:6.2f}%")
        return lines
