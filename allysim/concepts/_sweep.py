"""How a concept's result becomes a sweep's arrays, tidy table and summary (private).

The sweep engine cuts a design into chunks of points and, for each chunk, calls
:meth:`SweepLayout.reduce`: parameters in, plain arrays out. A layout declares the
arrays it returns, so the engine can store, concatenate and fill them without
knowing the concept:

``point_fields()``
    one entry per point (leading axis = points of the chunk); must include
    ``status`` (int8, codes of :data:`allysim.solve.STATUS_NAMES`).
``row_fields()``
    ragged rows, e.g. one per equilibrium; must include ``eq_point`` (int64, the
    point's global index). Empty when the store level does not keep rows.
``total_fields()``
    fixed-shape arrays summed over chunks (in chunk order) for the summary.

The default :meth:`SweepLayout.reduce` builds the chunk's payoffs, marks points
with non-finite payoffs ``failed``, solves the rest with the concept's ``solve``
and hands the result to :meth:`SweepLayout.fill`. A layout that needs randomness
must derive it from the options' seed alone, so results do not depend on chunking.

The tidy table (one row per point and solution) is declared as typed columns
(:class:`Column`: numbers, or codes into labels for names, with a validity mask) by
:meth:`SweepLayout.columns` and named by :meth:`SweepLayout.csv_header`; the same
columns become ``equilibria.parquet``, ``equilibria.csv`` (:func:`csv_rows`, the text
allysim 0.1.0 wrote) and the DataFrame of ``allysim.load``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DegenerateGameWarning
from ..solve import STATUS, STATUS_NAMES

#: What a sweep keeps per point: ``counts`` (per-point counts, status and outcome) or
#: ``full`` (also the parameters and one row per equilibrium, and equilibria.csv).
STORES = ("counts", "full")


@dataclass(frozen=True)
class Field:
    """An array a layout returns: name, dtype, trailing shape, fill for failed points."""

    name: str
    dtype: str
    shape: tuple[int, ...] = ()
    fill: Any = 0


def payoffs_of(model, params: np.ndarray, kernel=None) -> tuple[np.ndarray, np.ndarray]:
    """Payoffs ``(B, n, s1..sn)`` of a chunk (unchecked) and a ``(B,)`` mask of finite points;
    from the model's generated ``kernel`` when given (:mod:`allysim.model._numba`)."""
    payoffs = model.payoffs(params, check=False) if kernel is None else kernel.payoffs(params)
    finite = np.isfinite(payoffs.reshape(len(params), -1)).all(axis=1)
    return payoffs, finite


def floats(values: np.ndarray) -> list[str]:
    """CSV text of floats: Python's shortest round-trip ``repr``."""
    return [repr(v) for v in values.tolist()]


def probability_labels(model) -> list[str]:
    """``P(Player=STRATEGY)`` for every strategy of every player, in profile order."""
    return [f"P({p}={s})" for p, ss in zip(model.players, model.strategies) for s in ss]


def profile_name(model, flat) -> str:
    """``TRANS/SUPPORT/SLICE/FREEZE`` for a flat profile index (C order)."""
    return "/".join(model.strategies[i][a]
                    for i, a in enumerate(np.unravel_index(int(flat), model.shape)))


def profile_shares(model, counts: np.ndarray, n_points: int, what: str,
                   top: int = 12) -> tuple[list[str], int]:
    """Summary lines ``"  TRANS/SUPPORT/SLICE/FREEZE  41.20%"`` for the ``top`` profiles by
    ``counts: (s1*...*sn,)`` (flat profile index, C order), then one line for the other
    ``what``; returns the lines and the label width, for lines that follow."""
    shown = [c for c in np.argsort(-counts, kind="stable") if counts[c] > 0]
    width = max([len(profile_name(model, c)) for c in shown[:top]] + [28])
    lines = [f"  {profile_name(model, c):<{width}} {100 * counts[c] / n_points:6.2f}%"
             for c in shown[:top]]
    if len(shown) > top:
        rest = int(counts[shown[top:]].sum())
        lines.append(f"  {'(' + str(len(shown) - top) + ' other ' + what + ')':<{width}} "
                     f"{100 * rest / n_points:6.2f}%")
    return lines, width


@dataclass(frozen=True)
class Column:
    """One column of a tidy table: typed values, written as CSV text or an Arrow column.

    ``values`` are numbers (int or float), or, with ``labels``, codes into ``labels``
    (strategy, status and concept names: a categorical column). Where ``valid`` is
    False the cell is empty (CSV) or null (Parquet, pandas).
    """

    name: str
    values: np.ndarray
    labels: tuple[str, ...] | None = None
    valid: np.ndarray | None = None


def text_cells(col: Column) -> list[str]:
    """The CSV cells of a column: floats as Python's shortest round-trip ``repr``,
    integers in decimal, labels by name, invalid cells empty."""
    v = col.values
    if col.labels is not None:
        cells = np.asarray(col.labels, dtype=object)[np.asarray(v, dtype=np.intp)].tolist()
    elif v.dtype.kind == "f":
        cells = floats(v)
    else:
        cells = [str(x) for x in v.tolist()]
    if col.valid is not None:
        cells = blank_where(cells, col.valid.tolist())
    return cells


def csv_rows(columns: list[Column]) -> str:
    """CSV text (no header) of equal-length columns."""
    if not columns or not len(columns[0].values):
        return ""
    return "\n".join(map(",".join, zip(*(text_cells(c) for c in columns)))) + "\n"


def name_columns(names: list[str], columns: list[Column]) -> list[Column]:
    """``columns`` renamed to ``names`` (a layout's CSV header), in order."""
    if len(names) != len(columns):
        raise ValueError(f"table: {len(columns)} columns for a header of {len(names)}")
    return [Column(n, c.values, c.labels, c.valid) for n, c in zip(names, columns)]


def equilibrium_columns(concept: str, count: np.ndarray, status: np.ndarray, eq_point: np.ndarray,
                        start: int, varied: np.ndarray, eq_columns: list[Column]) -> list[Column]:
    """Table rows of a chunk: one per (point, equilibrium), one blank-tailed row per point
    without equilibria, sorted by point then by the equilibria's canonical order.

    count, status: (m,) per point; eq_point: (k,) global point index of each
    equilibrium, ascending; varied: (m, d) swept values; eq_columns: per-equilibrium
    columns, each of k values (strategies, probabilities, payoffs, regret).
    """
    points = eq_point - start
    k = len(points)
    empty = np.nonzero(count == 0)[0]
    row_point = np.concatenate([points, empty]).astype(np.intp)
    row_eq = np.concatenate([np.arange(k), np.full(len(empty), k)])   # k: the blank row
    order = np.lexsort((row_eq, row_point))
    row_point, row_eq = row_point[order], row_eq[order]
    kth = np.arange(k) - np.searchsorted(points, points) + 1          # k-th equilibrium of its point
    has = row_eq < k
    at = np.minimum(row_eq, max(k - 1, 0))

    def per_row(col: Column) -> Column:
        values = col.values[at] if k else np.zeros(len(row_eq), col.values.dtype)
        valid = has if col.valid is None else has & (col.valid[at] if k else has)
        return Column(col.name, values, col.labels, valid)

    cols = [Column("point", (row_point + start).astype(np.int64)),
            Column("solution_concept", np.zeros(len(row_point), np.int8), (concept,)),
            Column("status", status[row_point], tuple(STATUS_NAMES)),
            Column("n_equilibria", count[row_point].astype(np.int64)),
            per_row(Column("equilibrium", kth.astype(np.int64)))]
    cols += varied_columns(varied, row_point)
    cols += [per_row(c) for c in eq_columns]
    return cols


def varied_columns(varied: np.ndarray, rows: np.ndarray | None = None) -> list[Column]:
    """One column per varied parameter (``varied: (m, d)``), at the points ``rows``
    (default: every point once), each contiguous."""
    by_column = np.ascontiguousarray(varied.T)
    if rows is not None and not (len(rows) == varied.shape[0]
                                 and np.array_equal(rows, np.arange(len(rows)))):
        by_column = np.take(by_column, rows, axis=1)
    return [Column("", by_column[j]) for j in range(varied.shape[1])]


def point_columns(start: int, concept: Column, status: np.ndarray, varied: np.ndarray,
                  columns: list[Column]) -> list[Column]:
    """Table rows, one per point: point, solution concept, status, the varied values,
    then ``columns`` (each m values)."""
    m = len(status)
    cols = [Column("point", np.arange(start, start + m, dtype=np.int64)), concept,
            Column("status", status, tuple(STATUS_NAMES))]
    return cols + varied_columns(varied) + columns


def label_column(values: list[str]) -> Column:
    """A categorical column of arbitrary strings (codes into the sorted distinct values)."""
    labels, codes = np.unique(np.asarray(values, dtype=str), return_inverse=True) if len(values) \
        else (np.zeros(0, dtype=str), np.zeros(0, np.intp))
    return Column("", codes.astype(np.int32), tuple(labels.tolist()))


def blank_where(values: list[str], keep) -> list[str]:
    return [v if h else "" for v, h in zip(values, keep)]


def count_lines(totals: dict, n_points: int, width: int = 34, bins: int | None = None) -> list[str]:
    """Summary lines ``"  2 equilibria   40.00%"`` from a ``count_histogram`` total."""
    hist = totals["count_histogram"]
    bins = len(hist) if bins is None else bins
    lines = []
    for c in range(len(hist)):
        if hist[c]:
            label = f"{c} equilibria" if c < bins - 1 else f"{c} or more equilibria"
            lines.append(f"  {label:<{width}} {100 * hist[c] / n_points:6.2f}%")
    return lines


class SweepLayout:
    """The arrays a concept's sweep keeps; subclass per concept (module docstring).

    ``certificate`` says how ``allysim verify`` rechecks a stored solution from the
    payoffs alone: ``nash`` (max regret <= tol x payoff scale), ``qre`` (logit residual
    <= residual_tol), ``rest`` (a rest point of the replicator), or ``resolve`` (the
    sampled points are solved again and must give the stored arrays bit for bit).
    ``chunk_points`` is the largest chunk the concept's cost suits (the engine cuts chunks
    smaller so that every job gets work: :func:`allysim.sweep.engine.auto_chunk_size`).
    ``points_per_second`` is a rough rate of one worker on a game of the four-power
    model's size (4 players x 3 strategies), measured on the 2-core development machine;
    it only feeds the estimate printed before a large sweep (:meth:`cost`).
    """

    certificate = "nash"
    chunk_points = 16384
    points_per_second = 500_000.0
    payoff_kernel = None
    _prepared = False

    def __init__(self, concept, model, options: dict, store: str):
        self.concept, self.model, self.options, self.store = concept, model, options, store
        self.size = int(sum(model.shape))
        # A sweep resolves ``backend="auto"`` once, not per chunk: the compiled and NumPy
        # paths agree to rounding only, and results must not depend on the chunk size.
        self.solve_options = dict(options)
        if "backend" in options:
            from ..solve._backend import check_backend, numba_available
            check_backend(options["backend"], "sweep")
            self.solve_options["backend"] = ("numba" if options["backend"] != "numpy"
                                             and numba_available() else "numpy")

    # -- declarations --------------------------------------------------------------------
    def point_fields(self) -> list[Field]:
        raise NotImplementedError

    def row_fields(self) -> list[Field]:
        return []

    def total_fields(self) -> list[Field]:
        return []

    @property
    def label(self) -> str:
        return self.concept.label(self.options, 0)

    def note(self) -> str:
        """One line on how a chunk is computed, for the summary and the manifest."""
        return ""

    def cost(self, d: int, table: bool = True) -> tuple[float, float]:
        """A rough ``(points per second of one worker, bytes of results per point)`` for a
        sweep of ``d`` varied parameters: the rate scaled by the payoff entries per game
        (four-power's: 324), the bytes from the declared fields (with ``--store full``,
        the parameters and two rows per point, in results.npz and, with ``table``, in the
        tidy table too)."""
        entries = self.model.n_players * math.prod(self.model.shape)
        rate = self.points_per_second * 324 / max(entries, 1)

        def nbytes(fields):
            return sum(np.dtype(f.dtype).itemsize * math.prod(f.shape) for f in fields)
        size = nbytes(self.point_fields())
        if self.store == "full":
            size += (2 if table else 1) * (8 * d + 2 * nbytes(self.row_fields()))
        return rate, float(size)

    # -- computing -----------------------------------------------------------------------
    def empty(self, batch: int) -> dict[str, np.ndarray]:
        out = {f.name: np.full((batch, *f.shape), f.fill, dtype=f.dtype) for f in self.point_fields()}
        out.update({f.name: np.zeros((0, *f.shape), dtype=f.dtype) for f in self.row_fields()})
        return out

    def reduce(self, params: np.ndarray, start: int) -> dict[str, np.ndarray]:
        """Arrays for points ``start .. start + len(params)``; params: (B, P) float64.

        Returns every point field, row field and total field by name.
        """
        payoffs, finite = payoffs_of(self.model, params, self.payoff_kernel)
        out = self.empty(len(params))
        idx = np.flatnonzero(finite)
        if idx.size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DegenerateGameWarning)   # the status says it
                result = self.concept.solve(payoffs[idx], self.solve_options, self.model)
            self.fill(out, result, idx, payoffs[idx], start)
        out.update(self.totals(out))
        return out

    def fill(self, out: dict, result, idx: np.ndarray, payoffs: np.ndarray, start: int) -> None:
        """Write ``result`` (of the points ``idx`` of the chunk) into ``out``."""
        raise NotImplementedError

    def totals(self, out: dict) -> dict[str, np.ndarray]:
        return {}

    def prepare(self) -> None:
        """Build what chunks share once, before workers start (and fork): when the sweep
        runs the compiled backend, the model's generated payoff kernel (bitwise the NumPy
        payoffs for ``+ - * /`` models, five times faster) and the solver's own numba
        kernels, warmed on one point. A compile says so in one line on stderr."""
        if self._prepared:
            return
        self._prepared = True
        if self.solve_options.get("backend") != "numba":
            return
        from .._notice import notice
        from ..limits import kernel_too_large
        if not kernel_too_large(self.model):
            from ..model._numba import build_kernel
            self.payoff_kernel = build_kernel(self.model, notify=notice)
        warm_solver(self, notice)

    # -- reading back --------------------------------------------------------------------
    def solutions(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The solutions stored in a finished sweep's arrays, for figures and analysis:
        ``point (E,)`` ascending, ``prob (E, K)`` mixed profiles (0/1 for pure ones),
        ``slot (E,)`` (the lambda index for QRE concepts, else 0), and ``known (N,)``:
        False where the store kept only that a point has several solutions (``--store
        counts``), so they are not listed."""
        from ..solve.result import one_hot
        n_points = len(data["status"])
        known = np.ones(n_points, dtype=bool)
        if "eq_point" in data:
            point = data["eq_point"].astype(np.int64)
            if "eq_prob" in data:
                prob = data["eq_prob"]
            else:
                prob = one_hot(data["eq_profile"] if "eq_profile" in data else data["eq_path"],
                               self.model.shape)
            slot = np.zeros(len(point), dtype=np.int64)
        elif "prob" in data:
            p = data["prob"]
            lanes = p.shape[1] if p.ndim == 3 else 1
            flat = p.reshape(n_points * lanes, -1)
            keep = np.isfinite(flat).all(axis=1)
            point = np.repeat(np.arange(n_points), lanes)[keep]
            slot = np.tile(np.arange(lanes), n_points)[keep]
            prob = flat[keep]
        elif "outcome" not in data:      # --store counts of a concept without a unique outcome
            point = np.zeros(0, dtype=np.int64)
            prob = np.zeros((0, self.size))
            slot = np.zeros(0, dtype=np.int64)
            known = data["count"] == 0
        else:
            outcome = data["outcome"].astype(np.int64)
            point = np.flatnonzero(outcome >= 0)
            pure = np.stack(np.unravel_index(outcome[point], self.model.shape), axis=1)
            prob = one_hot(pure, self.model.shape)
            slot = np.zeros(len(point), dtype=np.int64)
            known = outcome != -2
        return {"point": point, "prob": prob, "slot": slot, "known": known}

    def played(self, data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
        """For figures, ``(played (N, K), stored (N,))`` when a concept's strategies are
        not read off its :meth:`solutions` (a strategy is played in every solution of a
        point where ``played == stored``, in some where ``0 < played < stored``); None:
        count them from the solutions."""
        return None

    # -- output --------------------------------------------------------------------------
    #: Layouts with one CSV row per solution name the row array holding each solution:
    #: strategy indices (``row_pure``, e.g. ``"eq_profile"``) or probabilities
    #: (``row_prob``, ``"eq_prob"``); ``row_payoff`` whether ``eq_payoff`` is kept.
    row_pure: str | None = None
    row_prob: str | None = None
    row_payoff: bool = True

    #: Extra columns of a one-row-per-solution layout, by header (see :meth:`row_extra`).
    row_extra_names: tuple[str, ...] = ()

    def row_extra(self, arrays: dict[str, np.ndarray]) -> list[Column]:
        """The :attr:`row_extra_names` columns of a chunk's rows."""
        return []

    def csv_header(self, varied: tuple[str, ...]) -> list[str]:
        if self.row_pure is None and self.row_prob is None:
            return []
        return self.solution_header(varied, pure=self.row_pure is not None,
                                    payoff=self.row_payoff, extra=self.row_extra_names)

    def solution_header(self, varied, *, pure: bool, payoff: bool = True, extra=()) -> list[str]:
        """Header of a table with one row per solution: point, concept, status, the number of
        solutions and which this is, the varied values, the strategies (``pure``) or
        ``P(Player=STRATEGY)``, payoffs, max regret and ``extra``."""
        players = self.model.players
        return ["point", "solution_concept", "status", "n_equilibria", "equilibrium", *varied,
                *(players if pure else probability_labels(self.model)),
                *((f"payoff_{p}" for p in players) if payoff else ()), "max_regret", *extra]

    def solution_columns(self, arrays, varied, start, *, pure_key=None, prob_key=None,
                         payoff: bool = True, extra=()) -> list[Column]:
        """Columns of :meth:`solution_header` from the row arrays ``eq_*``: strategy names from
        ``pure_key`` (strategy indices, ``(E, n)``) or probabilities from ``prob_key``."""
        columns: list[Column] = []
        if pure_key is not None:
            columns += [Column("", arrays[pure_key][:, i], tuple(ss))
                        for i, ss in enumerate(self.model.strategies)]
        if prob_key is not None:
            columns += [Column("", arrays[prob_key][:, j]) for j in range(self.size)]
        if payoff:
            columns += [Column("", arrays["eq_payoff"][:, i]) for i in range(self.model.n_players)]
        columns.append(Column("", arrays["eq_regret"]))
        columns += list(extra)
        return equilibrium_columns(self.label, arrays["count"], arrays["status"], arrays["eq_point"],
                                   start, varied, columns)

    def columns(self, arrays: dict[str, np.ndarray], varied: np.ndarray, start: int) -> list[Column]:
        """The tidy table of one chunk (``arrays``: its point and row fields; varied: (B, d)
        values of the varied parameters), unnamed; :meth:`table` names them."""
        if self.row_pure is None and self.row_prob is None:
            return []
        return self.solution_columns(arrays, varied, start, pure_key=self.row_pure,
                                     prob_key=self.row_prob, payoff=self.row_payoff,
                                     extra=tuple(self.row_extra(arrays)))

    def table(self, arrays: dict[str, np.ndarray], varied: np.ndarray, start: int,
              names: tuple[str, ...]) -> list[Column]:
        """The tidy table of one chunk, its columns named by :meth:`csv_header`."""
        return name_columns(self.csv_header(names), self.columns(arrays, varied, start))

    def csv_text(self, arrays: dict[str, np.ndarray], varied: np.ndarray, start: int) -> str:
        """CSV rows (no header) for one chunk; varied: (B, d) values of the varied parameters."""
        return csv_rows(self.columns(arrays, varied, start))

    def summary(self, totals: dict[str, np.ndarray], n_points: int) -> list[str]:
        """Summary lines; ``totals`` also holds ``status_counts`` (per status code)."""
        return []


FAILED = int(STATUS["failed"])


def _numba_compiles() -> int:
    """How many times allysim's numba solver kernels have been compiled (not loaded
    from numba's cache) in this process so far."""
    import sys
    total = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("allysim.solve._") and name.endswith("_numba") and module is not None:
            for obj in vars(module).values():
                stats = getattr(obj, "stats", None)
                misses = getattr(stats, "cache_misses", None)
                if misses is not None:
                    total += sum(misses.values())
    return total


def warm_solver(layout: SweepLayout, notice) -> None:
    """Run the layout's solver on one point (the model's defaults), so its compiled
    kernels are loaded, or compiled and cached, in this process before workers fork."""
    import time
    start = time.perf_counter()
    before = _numba_compiles()
    payoffs = layout.model.payoffs(layout.model.defaults[None], check=False)
    if not np.isfinite(payoffs).all():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layout.concept.solve(payoffs, layout.solve_options, layout.model)
    if _numba_compiles() > before:
        notice(f"compiled the {layout.concept.name} solver's numba kernels in "
               f"{time.perf_counter() - start:.1f} s (once: numba caches them beside allysim's "
               "modules)")


class LambdaLayout(SweepLayout):
    """The layout of concepts with one solution per point and lambda (the QRE concepts).

    Per point: the solution's probabilities ``prob`` (NaN where none was certified),
    its max regret and residual, expected payoffs when ``payoff`` is set, and the
    status. With one lambda the arrays are ``prob (N, K)``, ``regret (N,)``, ...; with
    L lambdas they gain a lambda axis, ``prob (N, L, K)``, ``regret (N, L)``,
    ``lambda_status (N, L)``, and ``status (N,)`` is the largest code over the lambdas.
    The CSV has one row per point and lambda, each naming its concept (``QRE(lambda=…)``).
    """

    payoff = False
    certificate = "qre"
    chunk_points = 4096     # the batched continuation's cost per game levels off here
    points_per_second = 25_000.0

    def cost(self, d: int, table: bool = True) -> tuple[float, float]:
        rate, size = super().cost(d, table)
        return rate / max(len(self.options.get("lambda", [0])), 1), size

    def __init__(self, concept, model, options, store):
        super().__init__(concept, model, options, store)
        self.lams = list(options["lambda"])
        self.axis = () if len(self.lams) == 1 else (len(self.lams),)

    def point_fields(self):
        fields = [Field("prob", "float64", (*self.axis, self.size), np.nan)]
        if self.payoff:
            fields.append(Field("payoff", "float64", (*self.axis, self.model.n_players), np.nan))
        fields += [Field("regret", "float64", self.axis, np.nan),
                   Field("residual", "float64", self.axis, np.nan),
                   Field("status", "int8", (), FAILED)]
        if self.axis:
            fields.append(Field("lambda_status", "int8", self.axis, FAILED))
        return fields

    def total_fields(self):
        return [Field("prob_sum", "float64", (*self.axis, self.size)),
                Field("solved", "int64", self.axis)]

    def fill(self, out, res, idx, payoffs, start):
        lanes = (slice(None),) if self.axis else (slice(None), 0)
        out["prob"][idx], out["regret"][idx] = res.profiles[lanes], res.regret[lanes]
        out["residual"][idx] = res.residual[lanes]
        if self.payoff:
            out["payoff"][idx] = res.payoff[lanes]
        if self.axis:
            out["lambda_status"][idx] = res.lambda_status
        out["status"][idx] = res.status

    def totals(self, out):
        prob = out["prob"]
        solved = np.isfinite(prob).all(axis=-1)
        return {"prob_sum": np.where(solved[..., None], prob, 0.0).sum(axis=0),
                "solved": solved.sum(axis=0).astype(np.int64)}

    def csv_header(self, varied):
        return ["point", "solution_concept", "status", *varied, *probability_labels(self.model),
                *((f"payoff_{p}" for p in self.model.players) if self.payoff else ()), "max_regret"]

    def columns(self, arrays, varied, start):
        m, lanes = len(arrays["status"]), len(self.lams)
        prob = arrays["prob"].reshape(m * lanes, self.size)
        ok = np.isfinite(prob).all(axis=1)
        status = (arrays["lambda_status"] if self.axis else arrays["status"]).reshape(-1)
        rows = np.repeat(np.arange(m), lanes)
        labels = tuple(self.concept.label(self.options, li) for li in range(lanes))
        cols = [Column("point", (start + rows).astype(np.int64)),
                Column("solution_concept", np.tile(np.arange(lanes, dtype=np.int16), m), labels),
                Column("status", status, tuple(STATUS_NAMES))]
        cols += varied_columns(varied, rows)
        cols += [Column("", prob[:, c], valid=ok) for c in range(self.size)]
        if self.payoff:
            pay = arrays["payoff"].reshape(m * lanes, -1)
            cols += [Column("", pay[:, i], valid=ok) for i in range(self.model.n_players)]
        cols.append(Column("", arrays["regret"].reshape(-1), valid=ok))
        return cols

    def summary(self, totals, n_points):
        solved = np.atleast_1d(totals["solved"])
        prob_sum = totals["prob_sum"].reshape(len(solved), self.size)
        lines = []
        for li in range(len(self.lams)):
            label = self.concept.label(self.options, li)
            if not solved[li]:
                lines.append(f"{label}: no point solved")
                continue
            lines.append(f"{label}; mean probability over the {int(solved[li])} points solved:")
            lines += mean_probability_lines(self.model, prob_sum[li], int(solved[li]))
        return lines


def mean_probability_lines(model, prob_sum: np.ndarray, solved: int) -> list[str]:
    """``  US  FIRM 0.0261  TRANS 0.0506  ACCOM 0.9233`` for each player."""
    mean = prob_sum / solved
    lines, start = [], 0
    for player, strategies in zip(model.players, model.strategies):
        cells = "  ".join(f"{s} {mean[start + i]:.4f}" for i, s in enumerate(strategies))
        lines.append(f"  {player:<12} {cells}")
        start += len(strategies)
    return lines
