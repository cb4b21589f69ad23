"""Concepts ``pure`` (all pure Nash equilibria) and ``dominance`` (iterated strict dominance)."""
from __future__ import annotations

import math

import numpy as np

from ..limits import check_kernel, kernel_entries, kernel_too_large
from ..solve import STATUS, iterated_dominance, pure_nash
from ..solve._backend import numba_available, resolve_backend
from ._base import Concept, register
from ._report import solutions_report, solutions_table
from ._sweep import (FAILED, Column, Field, SweepLayout, label_column, point_columns, profile_name,
                     profile_shares)


# ----------------------------------------------------------------------------- pure

def _solve_pure(payoffs, options, game):
    return pure_nash(payoffs, tol=options["tol"])


def _pure_run(concept, result, game, options):
    return [solutions_report(concept, result, game, options)]


def _format_pure(report, game) -> str:
    head = (f"Pure Nash equilibria: {report['count']}  (status {report['status']}, "
            f"tol {report['parameters']['tol']:g})")
    if not report["equilibria"]:
        return head + "\n  none: try --solver qre or --solver mixed"
    return head + "\n" + solutions_table(report, game)


class PureLayout(SweepLayout):
    """Per point: the number of pure equilibria, status and the unique outcome (flat
    profile index; -1 none, -2 several); with ``--store full`` one row per equilibrium.
    With numba (the ``fast`` extra) both stores run a kernel generated from the model
    (:mod:`allysim.model._numba`), which applies the same comparisons and emits the
    equilibrium rows (profiles, full payoffs, regret) itself."""

    row_pure = "eq_profile"


    def __init__(self, concept, model, options, store):
        super().__init__(concept, model, options, store)
        self.tol = options["tol"]
        self.n_profiles = math.prod(model.shape)
        self.backend = options["backend"]
        self.kernel = None
        self.too_large = kernel_too_large(model)

    def prepare(self) -> None:
        if self.kernel is not None:
            return
        if self.backend == "numba":
            check_kernel(self.model)            # refuses past ALLYSIM_KERNEL_MAX_ENTRIES
        if self.too_large:
            return
        if resolve_backend(self.backend, "sweep", batch=1, min_batch=1) == "numba":
            from .._notice import notice
            from ..model._numba import build_kernel
            self.kernel = build_kernel(self.model, notify=notice)

    def note(self) -> str:
        if self.kernel is not None:
            how = "compiled" if self.kernel.compiled else "loaded from the cache"
            return (f"numba kernel generated from the model ({how} in "
                    f"{self.kernel.compile_seconds:.2f} s)")
        if self.backend == "numpy":
            return "NumPy path (--backend numpy)"
        if self.too_large:
            return (f"NumPy path: the model has {kernel_entries(self.model):,} payoff entries per "
                    "point, too many for a generated kernel (ALLYSIM_KERNEL_MAX_ENTRIES)")
        if not numba_available():
            return "NumPy path: numba is not installed, so this is slower; pip install 'allysim[fast]'"
        return "NumPy path"

    def point_fields(self):
        return [Field("count", "int32"), Field("status", "int8", (), FAILED),
                Field("outcome", "int32", (), -1)]

    def row_fields(self):
        if self.store != "full":
            return []
        n = self.model.n_players
        return [Field("eq_point", "int64"), Field("eq_profile", "int16", (n,)),
                Field("eq_payoff", "float64", (n,)), Field("eq_regret", "float64")]

    def total_fields(self):
        return [Field("equilibrium_points", "int64", (self.n_profiles,)),
                Field("count_histogram", "int64", (self.n_profiles + 1,))]

    def reduce(self, params, start):
        batch = len(params)
        self.prepare()
        if self.kernel is not None and self.store == "counts":
            count, status, outcome, hist = self.kernel.counts(params, self.tol)
            out = {"count": count, "status": status, "outcome": outcome, "equilibrium_points": hist}
        elif self.kernel is not None:
            out = self.kernel.rows(params, self.tol, start)
            out["equilibrium_points"] = out.pop("hist")
        else:
            payoffs = (self.kernel.payoffs(params) if self.kernel is not None
                       else self.model.payoffs(params, check=False))
            finite = np.isfinite(payoffs.reshape(batch, -1)).all(axis=1)
            mask = np.zeros((batch, self.n_profiles), dtype=bool)
            count = np.zeros(batch, np.int32)
            status = np.full(batch, STATUS["failed"], np.int8)
            res = None
            if finite.any():
                res = pure_nash(payoffs[finite], tol=self.tol)
                mask[finite] = res.mask.reshape(-1, self.n_profiles)
                count[finite] = res.count
                status[finite] = res.status
            outcome = np.where(count == 1, mask.argmax(axis=1), np.where(count == 0, -1, -2))
            out = {"count": count, "status": status, "outcome": outcome.astype(np.int32),
                   "equilibrium_points": mask.sum(axis=0, dtype=np.int64)}
            if self.store == "full":
                out.update(self._rows(res, finite, start))
        out["count_histogram"] = np.bincount(out["count"], minlength=self.n_profiles + 1).astype(np.int64)
        return out

    def _rows(self, res, finite, start):
        n = self.model.n_players
        if res is None or not res.count.sum():
            return dict(eq_point=np.zeros(0, np.int64), eq_profile=np.zeros((0, n), np.int16),
                        eq_payoff=np.zeros((0, n)), eq_regret=np.zeros(0))
        local, slot = np.nonzero(res.pure[:, :, 0] >= 0)        # by point, then canonical order
        profile = res.pure[local, slot]
        idx = (local, slice(None)) + tuple(profile.T)
        payoff = res.payoffs[idx]
        return dict(eq_point=(np.flatnonzero(finite)[local] + start).astype(np.int64),
                    eq_profile=profile.astype(np.int16),
                    eq_payoff=np.ascontiguousarray(payoff, dtype=np.float64),
                    eq_regret=res.regret[local, slot])

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


PURE = register(Concept(
    name="pure", title="pure Nash equilibria",
    help="pure Nash equilibria (all of them, with payoffs and regret); run adds dominance",
    options=("tol", "backend"), solve=_solve_pure, label=lambda o, m: "NE (pure)", pure=True,
    sweep=PureLayout, run=_pure_run, format=_format_pure, companions=("dominance",)))


# ----------------------------------------------------------------------------- dominance

def _solve_dominance(payoffs, options, game):
    return iterated_dominance(payoffs, tol=options["tol"])


def _dominance_run(concept, result, game, options):
    rep = solutions_report(concept, result, game, options)
    rep["rounds"] = int(result.rounds[0])
    rep["solved"] = bool(result.solved[0])
    rep["surviving"] = {p: [s for s, alive in zip(game.strategies[i], result.surviving[i][0]) if alive]
                        for i, p in enumerate(game.players)}
    return [rep]


def _format_dominance(report, game) -> str:
    lines = [f"Iterated strict dominance: {report['rounds']} round(s), "
             + ("dominance solvable" if report["solved"] else "not dominance solvable")]
    for player, strategies in report["surviving"].items():
        lines.append(f"  {player}: {', '.join(strategies)}")
    return "\n".join(lines)


class DominanceLayout(SweepLayout):
    """Per point: rounds of elimination, whether dominance solvable, which strategies
    survive, and the surviving profile (flat index, -1 unless solvable)."""

    points_per_second = 10_000.0

    def note(self) -> str:
        return "iterated elimination of strictly dominated strategies (NumPy)"

    def point_fields(self):
        return [Field("count", "int32"), Field("status", "int8", (), FAILED),
                Field("rounds", "int32"), Field("surviving", "bool", (self.size,)),
                Field("outcome", "int32", (), -1)]

    def total_fields(self):
        return [Field("surviving_points", "int64", (self.size,)),
                Field("outcome_points", "int64", (math.prod(self.model.shape),))]

    def fill(self, out, result, idx, payoffs, start):
        out["count"][idx] = result.count
        out["status"][idx] = result.status
        out["rounds"][idx] = result.rounds
        out["surviving"][idx] = np.concatenate(result.surviving, axis=1)
        pure = result.pure[:, 0]
        solved = result.solved
        flat = np.full(len(idx), -1, np.int64)
        if solved.any():
            flat[solved] = np.ravel_multi_index(tuple(pure[solved].T), self.model.shape)
        out["outcome"][idx] = flat

    def played(self, data):
        """The surviving strategies, not only the solvable points' profiles: on a scale of
        2 per point, 2 for a player's only surviving strategy (in every surviving
        profile), 1 for one that survives beside others (in some), 0 for one eliminated;
        nothing at a failed point."""
        surv = data["surviving"].astype(bool)
        starts = np.cumsum([0, *self.model.shape[:-1]])
        # each column: how many strategies of its player survive
        survivors = np.repeat(np.add.reduceat(surv, starts, axis=1, dtype=np.int64), self.model.shape,
                              axis=1)
        ok = (data["status"] != FAILED)[:, None]
        played = np.where(surv & ok, np.where(survivors == 1, 2, 1), 0).astype(np.int64)
        return played, np.where(ok[:, 0], 2, 0).astype(np.int64)

    def totals(self, out):
        outcome = out["outcome"]
        return {"surviving_points": out["surviving"].sum(axis=0, dtype=np.int64),
                "outcome_points": np.bincount(outcome[outcome >= 0],
                                              minlength=math.prod(self.model.shape)).astype(np.int64)}

    def csv_header(self, varied):
        return ["point", "solution_concept", "status", "rounds", "solved", *varied,
                *(f"surviving_{p}" for p in self.model.players)]

    def columns(self, arrays, varied, start):
        surv = arrays["surviving"]
        offsets = np.cumsum([0, *self.model.shape])
        columns = [Column("", arrays["rounds"].astype(np.int64)),
                   Column("", (arrays["count"] == 1).astype(np.int8), ("false", "true"))]
        for i, ss in enumerate(self.model.strategies):
            block = surv[:, offsets[i]:offsets[i + 1]]
            columns.append(label_column(["|".join(s for s, a in zip(ss, row) if a)
                                         for row in block.tolist()]))
        concept = Column("", np.zeros(len(surv), np.int8), (self.label,))
        return point_columns(start, concept, arrays["status"], varied, columns)

    def summary(self, totals, n_points):
        if n_points == 0:
            return []
        lines = [f"{self.label}, tol {self.options['tol']:g}; share of points where each strategy "
                 f"survives:"]
        start = 0
        for player, strategies in zip(self.model.players, self.model.strategies):
            cells = "  ".join(f"{s} {100 * totals['surviving_points'][start + k] / n_points:.2f}%"
                              for k, s in enumerate(strategies))
            lines.append(f"  {player:<12} {cells}")
            start += len(strategies)
        solved = totals["outcome_points"]
        lines.append(f"  dominance solvable at {100 * solved.sum() / n_points:.2f}% of the points"
                     + (":" if solved.sum() else ""))
        for flat in np.argsort(-solved, kind="stable")[:12]:
            if solved[flat]:
                lines.append(f"    {profile_name(self.model, flat):<28} "
                             f"{100 * solved[flat] / n_points:6.2f}%")
        return lines


DOMINANCE = register(Concept(
    name="dominance", title="iterated strict dominance",
    help="iterated elimination of strictly dominated strategies",
    options=("tol",), solve=_solve_dominance,
    label=lambda o, m: "IESDS (pure-strategy domination)", pure=True, sweep=DominanceLayout,
    run=_dominance_run, format=_format_dominance))
