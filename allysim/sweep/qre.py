"""Sweep solver ``qre``: the logit QRE on the principal branch at one lambda, per point.

Options (``SweepSpec.options``): ``lambda`` (default 1.5, on raw payoffs as in
Gambit) and ``tol`` (the QRE residual tolerance, max |p - logit response to p|;
default 1e-10). Each point keeps its QRE probabilities ``prob: (s1 + ... + sn,)``
(NaN where no certified QRE was found), the QRE's max regret and residual, and
its status; ``equilibria.csv`` has one row per point with ``P(Player=STRATEGY)``
columns and the solution concept ``QRE(lambda=...)``. The summary gives each
strategy's mean probability over the points solved.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import AllysimError
from ..solve import STATUS, STATUS_NAMES, logit_qre
from ..solve.logit_qre import DEFAULT_QRE_TOL
from . import _kernel
from .reducers import Field, Reducer, _floats, payoffs_of, register_reducer

DEFAULT_LAMBDA = 1.5


def _number(options, key, default, flag, low, strict=False):
    value = options.setdefault(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not (value > low if strict else value >= low):
        raise AllysimError(f"{flag} {value!r}: expected a finite number {'>' if strict else '>='} {low}")
    return float(value)


@register_reducer
class QREReducer(Reducer):
    """Logit QRE per point (``QRE(lambda=L)``): probabilities, regret, residual, status."""

    name = "qre"
    help = "logit QRE at --lambda (principal branch): probabilities, regret and status per point"

    def __init__(self, model, options, store, backend="auto"):
        super().__init__(model, options, store, backend)
        self.lam = _number(self.options, "lambda", DEFAULT_LAMBDA, "--lambda", 0.0)
        self.tol = _number(self.options, "tol", DEFAULT_QRE_TOL, "--tol", 0.0, strict=True)
        self.k = int(sum(model.shape))
        self.labels = [f"{p}={s}" for p, strategies in zip(model.players, model.strategies)
                       for s in strategies]
        if backend == "numba" and not _kernel.available():
            raise AllysimError("--backend numba: numba is not installed; "
                               "install the fast extra: pip install 'allysim[fast]'")
        # Resolved once, so every chunk (and the manifest's note) uses the same path.
        self.qre_backend = "numba" if backend in ("auto", "numba") and _kernel.available() else "numpy"

    @property
    def concept(self) -> str:
        return f"QRE(lambda={self.lam:g})"

    def note(self) -> str:
        path = "numba kernels" if self.qre_backend == "numba" else "NumPy reference path"
        return (f"batched logit QRE, principal branch, lambda {self.lam:g} ({path}, "
                f"residual <= {self.tol:g})")

    def point_fields(self):
        return [Field("prob", "float64", (self.k,), np.nan), Field("regret", "float64", (), np.nan),
                Field("residual", "float64", (), np.nan),
                Field("status", "int8", (), int(STATUS["failed"]))]

    def total_fields(self):
        return [Field("prob_sum", "float64", (self.k,)), Field("solved", "int64")]

    def reduce(self, params, start):
        batch = len(params)
        payoffs, finite = payoffs_of(self.model, params)
        prob = np.full((batch, self.k), np.nan)
        regret = np.full(batch, np.nan)
        residual = np.full(batch, np.nan)
        status = np.full(batch, STATUS["failed"], np.int8)
        if finite.any():
            res = logit_qre(payoffs[finite], self.lam, tol=self.tol, backend=self.qre_backend)
            prob[finite], regret[finite] = res.profiles[:, 0], res.regret[:, 0]
            residual[finite], status[finite] = res.residual[:, 0], res.status[:, 0]
        solved = np.isfinite(prob).all(axis=1)
        return {"prob": prob, "regret": regret, "residual": residual, "status": status,
                "prob_sum": prob[solved].sum(axis=0), "solved": np.int64(solved.sum())}

    def csv_header(self, varied):
        return (["point", "solution_concept", "status", *varied,
                 *(f"P({label})" for label in self.labels), "max_regret"])

    def csv_text(self, arrays, varied, start):
        prob, status = arrays["prob"], arrays["status"]
        m = len(status)
        if not m:
            return ""
        names = np.asarray(STATUS_NAMES, dtype=object)
        ok = np.isfinite(prob).all(axis=1).tolist()

        def blank(values):
            return [v if h else "" for v, h in zip(values, ok)]

        cols = [[str(start + i) for i in range(m)], [self.concept] * m, names[status].tolist()]
        for j in range(varied.shape[1]):
            cols.append(_floats(varied[:, j]))
        for c in range(self.k):
            cols.append(blank(_floats(prob[:, c])))
        cols.append(blank(_floats(arrays["regret"])))
        return "\n".join(map(",".join, zip(*cols))) + "\n"

    def summary(self, totals, n_points):
        solved = int(totals["solved"])
        if not solved:
            return [f"{self.concept}: no point solved"]
        mean = totals["prob_sum"] / solved
        lines = [f"{self.concept}, principal branch; mean probability over the {solved} points "
                 f"solved:"]
        start = 0
        for player, strategies in zip(self.model.players, self.model.strategies):
            cells = "  ".join(f"{s} {mean[start + i]:.4f}" for i, s in enumerate(strategies))
            lines.append(f"  {player:<12} {cells}")
            start += len(strategies)
        return lines
