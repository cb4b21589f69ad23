"""Sweep solver ``spe``: pure subgame-perfect equilibria of the staged game per point.

Options (``SweepSpec.options``): ``tol`` (default 1e-9) and ``stages``, a stage
order as ``"US>Japan>China,NorthKorea"`` or a list of lists of player names.
Without ``stages`` the four-power model uses MODEL.md's order (US > Japan >
China, NorthKorea) and any other model one player per stage in player order,
as ``allysim run --solver spe`` does.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import AllysimError
from ..solve import DEFAULT_TOL, STATUS
from ..solve.sequential import resolve_stages, subgame_perfect
from .reducers import (Field, Reducer, _floats, equilibrium_csv, payoffs_of, profile_shares,
                       register_reducer)

#: Count histogram bins: 0, 1, ..., 9, and "10 or more".
_BINS = 11
_DEFAULT = {("US", "Japan", "China", "NorthKorea"): (("US",), ("Japan",), ("China", "NorthKorea"))}


def _parse_stages(value, players):
    if value is None:
        return _DEFAULT.get(tuple(players), tuple((p,) for p in players))
    if isinstance(value, str):
        stages = tuple(tuple(p.strip() for p in st.split(",") if p.strip())
                       for st in value.replace("->", ">").split(">"))
    elif isinstance(value, (list, tuple)) and all(isinstance(st, (list, tuple)) for st in value):
        stages = tuple(tuple(str(p) for p in st) for st in value)
    else:
        raise AllysimError(f"stages {value!r}: expected e.g. \"US>Japan>China,NorthKorea\"")
    resolve_stages(stages, players, where="stages")
    return stages


@register_reducer
class SubgamePerfectReducer(Reducer):
    """Pure SPE per point: count, status, the equilibrium path; rows per SPE."""

    name = "spe"
    help = "pure subgame-perfect equilibria of the staged game: counts, status, path; rows per SPE"

    def __init__(self, model, options, store, backend="auto"):
        super().__init__(model, options, store, backend)
        if "lambda" in self.options:
            raise AllysimError("--lambda: applies to --solver qre, not to the spe solver")
        self.tol = self.tolerance(DEFAULT_TOL)
        self.stages = _parse_stages(self.options.get("stages"), model.players)
        self.options["stages"] = [list(s) for s in self.stages]
        self.index = resolve_stages(self.stages, model.players)
        self.size = math.prod(model.shape)
        shape = model.shape
        order = [p for st in self.index for p in st]
        self.n_choices = 0
        for t, st in enumerate(self.index):
            h = math.prod(shape[p] for s in self.index[:t] for p in s)
            self.n_choices += h * len(st)
        self.order = order

    @property
    def concept(self) -> str:
        return f"SPE (pure; stages {'>'.join(','.join(s) for s in self.stages)})"

    def note(self) -> str:
        return f"backward induction, stages {' > '.join(', '.join(s) for s in self.stages)} (NumPy)"

    def point_fields(self):
        n = self.model.n_players
        return [Field("count", "int32"), Field("status", "int8", (), int(STATUS["failed"])),
                Field("truncated", "bool"), Field("outcome", "int32", (), -1),
                Field("payoff", "float64", (n,), np.nan)]

    def row_fields(self):
        if self.store != "full":
            return []
        n = self.model.n_players
        return [Field("eq_point", "int64"), Field("eq_path", "int16", (n,)),
                Field("eq_payoff", "float64", (n,)), Field("eq_regret", "float64"),
                Field("eq_choices", "int16", (self.n_choices,))]

    def total_fields(self):
        return [Field("path_points", "int64", (self.size,)),
                Field("several_paths", "int64"), Field("count_histogram", "int64", (_BINS,))]

    def reduce(self, params, start):
        batch = len(params)
        n = self.model.n_players
        payoffs, finite = payoffs_of(self.model, params)
        count = np.zeros(batch, np.int32)
        status = np.full(batch, STATUS["failed"], np.int8)
        truncated = np.zeros(batch, bool)
        outcome = np.full(batch, -1, np.int32)
        payoff = np.full((batch, n), np.nan)
        rows = dict(eq_point=np.zeros(0, np.int64), eq_path=np.zeros((0, n), np.int16),
                    eq_payoff=np.zeros((0, n)), eq_regret=np.zeros(0),
                    eq_choices=np.zeros((0, self.n_choices), np.int16))
        if finite.any():
            idx = np.flatnonzero(finite)
            res = subgame_perfect(payoffs[finite], self.index, tol=self.tol)
            count[idx], status[idx], truncated[idx] = res.count, res.status, res.truncated
            flat = np.ravel_multi_index(tuple(np.maximum(res.path[:, 0].T, 0)), self.model.shape)
            same = (res.path == res.path[:, :1]).all(axis=2) | ~res.valid
            outcome[idx] = np.where(res.count == 0, -1, np.where(same.all(axis=1), flat, -2))
            payoff[idx] = np.where(res.count[:, None] > 0, res.payoff[:, 0], np.nan)
            if self.store == "full":
                local, k = np.nonzero(res.valid)
                choices = np.concatenate([res.choices[p][local, k] for p in self.order], axis=1)
                rows = dict(eq_point=(idx[local] + start).astype(np.int64),
                            eq_path=res.path[local, k].astype(np.int16),
                            eq_payoff=res.payoff[local, k], eq_regret=res.regret[local, k],
                            eq_choices=choices.astype(np.int16))
        out = {"count": count, "status": status, "truncated": truncated, "outcome": outcome,
               "payoff": payoff,
               "path_points": np.bincount(outcome[outcome >= 0], minlength=self.size).astype(np.int64),
               "several_paths": np.int64((outcome == -2).sum()),
               "count_histogram": np.bincount(np.minimum(count, _BINS - 1),
                                              minlength=_BINS).astype(np.int64)}
        if self.store == "full":
            out.update(rows)
        return out

    def csv_header(self, varied):
        players = self.model.players
        return (["point", "solution_concept", "status", "n_equilibria", "equilibrium", *varied,
                 *players, *(f"payoff_{p}" for p in players), "max_regret"])

    def csv_text(self, arrays, varied, start):
        path = arrays["eq_path"]
        columns = [np.asarray(ss, dtype=object)[path[:, i]] for i, ss in enumerate(self.model.strategies)]
        columns += [_floats(arrays["eq_payoff"][:, i]) for i in range(self.model.n_players)]
        columns.append(_floats(arrays["eq_regret"]))
        return equilibrium_csv(self.concept, arrays["count"], arrays["status"], arrays["eq_point"],
                               start, varied, columns)

    def summary(self, totals, n_points):
        if n_points == 0:
            return []
        hist = totals["count_histogram"]
        lines = [f"{self.concept}, tol {self.tol:g}; share of points by equilibrium path "
                 f"({'/'.join(self.model.players)}):"]
        shares, width = profile_shares(self.model, totals["path_points"], n_points, "paths")
        lines += shares
        none = int(totals["status_counts"][STATUS["no_pure"]] + totals["status_counts"][STATUS["timeout"]])
        lines.append(f"  {'several SPE, different paths':<{width}} "
                     f"{100 * int(totals['several_paths']) / n_points:6.2f}%")
        lines.append(f"  {'no pure SPE':<{width}} {100 * none / n_points:6.2f}%")
        lines.append(f"  {'several SPE (any paths)':<{width}} {100 * int(hist[2:].sum()) / n_points:6.2f}%")
        return lines
