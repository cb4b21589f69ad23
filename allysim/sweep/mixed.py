"""Sweep solver ``mixed``: mixed Nash equilibria per point (``NE (mixed)``).

Per point: the number of equilibria found, the status, whether the list is
complete (two players with a choice: support enumeration) and whether a
continuum was found; with ``--store full`` one row per equilibrium with every
``P(Player=STRATEGY)``, expected payoffs and max regret. The search's random
starts use a fixed seed (0) and are the same for every point, so the answers
do not depend on chunking, workers or executor.

Options (``SweepSpec.options``): ``tol`` (default 1e-8, the regret certificate).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import AllysimError, DegenerateGameWarning
from ..solve import STATUS, mixed_nash, split_profile, strategy_values
from ..solve.mixed_nash import MIXED_TOL
from .reducers import Field, Reducer, _floats, equilibrium_csv, payoffs_of, register_reducer

#: Count histogram bins: 0, 1, ..., 14, and "15 or more".
_BINS = 16


@register_reducer
class MixedReducer(Reducer):
    """Mixed Nash equilibria per point: count, status, completeness; rows per equilibrium."""

    name = "mixed"
    help = ("mixed Nash equilibria: count, status, complete (two players) or searched; rows "
            "with P(Player=STRATEGY) per equilibrium")

    def __init__(self, model, options, store, backend="auto"):
        super().__init__(model, options, store, backend)
        if "lambda" in self.options:
            raise AllysimError("--lambda: applies to --solver qre, not to the mixed solver")
        self.tol = self.tolerance(MIXED_TOL)
        self.size = sum(model.shape)

    concept = "NE (mixed)"

    def note(self) -> str:
        active = sum(s > 1 for s in self.model.shape)
        return ("support enumeration, batched (every equilibrium)" if active <= 2 else
                "certified search from pure, QRE-limit, random and support starts (seed 0)")

    def point_fields(self):
        return [Field("count", "int32"), Field("status", "int8", (), int(STATUS["failed"])),
                Field("complete", "bool"), Field("continuum", "bool")]

    def row_fields(self):
        if self.store != "full":
            return []
        n = self.model.n_players
        return [Field("eq_point", "int64"), Field("eq_prob", "float64", (self.size,)),
                Field("eq_payoff", "float64", (n,)), Field("eq_regret", "float64")]

    def total_fields(self):
        return [Field("count_histogram", "int64", (_BINS,)), Field("pure_only", "int64"),
                Field("mixed_points", "int64")]

    def reduce(self, params, start):
        batch = len(params)
        n = self.model.n_players
        payoffs, finite = payoffs_of(self.model, params)
        count = np.zeros(batch, np.int32)
        status = np.full(batch, STATUS["failed"], np.int8)
        complete = np.zeros(batch, bool)
        continuum = np.zeros(batch, bool)
        rows = dict(eq_point=np.zeros(0, np.int64), eq_prob=np.zeros((0, self.size)),
                    eq_payoff=np.zeros((0, n)), eq_regret=np.zeros(0))
        pure_only = mixed_points = 0
        if finite.any():
            idx = np.flatnonzero(finite)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DegenerateGameWarning)   # the status says it
                res = mixed_nash(payoffs[finite], tol=self.tol, seed=0)
            count[idx], status[idx] = res.count, res.status
            complete[idx], continuum[idx] = res.complete, res.continuum
            local, k = np.nonzero(np.arange(res.equilibria.shape[1]) < res.count[:, None])
            sigma = res.equilibria[local, k]
            is_pure = ((sigma == 0) | (sigma == 1)).all(axis=1)
            has_mixed = np.zeros(len(idx), bool)
            has_mixed[local[~is_pure]] = True
            mixed_points = int(has_mixed.sum())
            pure_only = int(((res.count > 0) & ~has_mixed).sum())
            if self.store == "full" and len(local):
                values = strategy_values(payoffs[idx[local]], sigma)
                mixes = split_profile(sigma, self.model.shape)
                payoff = np.stack([(v * m).sum(axis=1) for v, m in zip(values, mixes)], axis=1)
                rows = dict(eq_point=(idx[local] + start).astype(np.int64), eq_prob=sigma,
                            eq_payoff=payoff, eq_regret=res.regret[local, k])
        out = {"count": count, "status": status, "complete": complete, "continuum": continuum,
               "count_histogram": np.bincount(np.minimum(count, _BINS - 1),
                                              minlength=_BINS).astype(np.int64),
               "pure_only": np.int64(pure_only), "mixed_points": np.int64(mixed_points)}
        if self.store == "full":
            out.update(rows)
        return out

    def csv_header(self, varied):
        m = self.model
        probs = [f"P({p}={s})" for p, ss in zip(m.players, m.strategies) for s in ss]
        return (["point", "solution_concept", "status", "n_equilibria", "equilibrium", *varied,
                 *probs, *(f"payoff_{p}" for p in m.players), "max_regret"])

    def csv_text(self, arrays, varied, start):
        columns = [_floats(arrays["eq_prob"][:, j]) for j in range(self.size)]
        columns += [_floats(arrays["eq_payoff"][:, i]) for i in range(self.model.n_players)]
        columns.append(_floats(arrays["eq_regret"]))
        return equilibrium_csv(self.concept, arrays["count"], arrays["status"], arrays["eq_point"],
                               start, varied, columns)

    def summary(self, totals, n_points):
        if n_points == 0:
            return []
        hist = totals["count_histogram"]
        sc = totals["status_counts"]
        lines = [f"{self.concept}, certified to max regret <= {self.tol:g}; {self.note()}:"]
        width = 34
        for c in range(_BINS):
            if hist[c]:
                label = f"{c} equilibria" if c < _BINS - 1 else f"{c} or more equilibria"
                lines.append(f"  {label:<{width}} {100 * hist[c] / n_points:6.2f}%")
        lines.append(f"  {'some mixed equilibrium':<{width}} "
                     f"{100 * int(totals['mixed_points']) / n_points:6.2f}%")
        lines.append(f"  {'pure equilibria only':<{width}} "
                     f"{100 * int(totals['pure_only']) / n_points:6.2f}%")
        for name in ("degenerate", "not_converged", "failed"):
            if sc[STATUS[name]]:
                lines.append(f"  {'status ' + name:<{width}} {100 * sc[STATUS[name]] / n_points:6.2f}%")
        return lines
