"""Global sensitivity of an outcome: Sobol' indices and Morris elementary effects.

The outcome at a parameter point is what :mod:`allysim.analysis._outcome` measures:
for concepts whose solutions are sets of equilibria (``pure``, ``spe``, ``mixed``),
1 when ``PLAYER=STRATEGY`` is in the support of some equilibrium and 0 otherwise;
for concepts with one mixed solution per point (``qre`` at one lambda, ``qre-limit``),
that strategy's probability. Parameters vary independently and uniformly over their
declared ranges.

Sobol' indices
--------------
With ``N`` base rows of the Saltelli design (:func:`allysim.sweep.design.saltelli_design`:
``A_j``, ``AB_j^(i)``, ``B_j``), outputs ``f_A``, ``f_B`` (N,) and ``f_AB`` (d, N), and
``V`` the variance of ``f_A`` and ``f_B`` together (``numpy.var``, ddof 0)::

    first[i] = mean(f_B * (f_AB[i] - f_A)) / V          Saltelli et al. (2010), Table 2 (b)
    total[i] = mean((f_A - f_AB[i]) ** 2) / (2 V)       Jansen (1999); Saltelli et al. (2010), (f)

the estimators of ``scipy.stats.sobol_indices`` and SALib's ``sobol.analyze``. The
outputs are first centred on their mean over the whole design, as SALib does (it also
divides by their standard deviation, which cancels): the indices estimated do not
change, but the first-order estimator's error does (it is not shift-invariant), so on
the same outputs allysim and SALib agree to rounding, and scipy does on centred
outputs (tested). The first-order index is the
share of the outcome's variance explained by a parameter alone; the total index
adds every interaction it takes part in, so a total near 0 means the parameter can
be fixed anywhere in its range. A parameter that does not enter the outcome has
``f_AB[i] == f_A`` exactly, hence both indices exactly 0.

Confidence intervals: a bootstrap over base rows (``resamples`` resamples, drawn
from ``SeedSequence(seed, spawn_key=(tag,))``), percentile intervals at
``confidence``. Base rows with a failed point are left out (and counted).

Morris elementary effects
-------------------------
Along each trajectory of :func:`allysim.sweep.design.morris_design`, the effect of the
parameter that moved is ``(y_after - y_before) / (+-delta)`` with delta on the unit
scale (a fraction of the declared range), as SALib's ``morris.analyze`` (unscaled);
``mu_star`` is the mean absolute effect, ``mu`` the mean, ``sigma`` the standard
deviation (ddof 1) over trajectories. A large ``mu_star`` marks an influential
parameter, a large ``sigma`` one whose effect depends on the others (interactions
or non-linearity). ``mu_star`` gets a bootstrap percentile interval over trajectories.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Default bootstrap resamples and confidence level.
RESAMPLES = 1000
CONFIDENCE = 0.95
_TAG_BOOTSTRAP = 2**32 + 11
#: Resamples computed at once (keeps the weight matrix near 50 MB).
_BLOCK = 1 << 22


def saltelli_split(y: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``f_A (N,)``, ``f_B (N,)``, ``f_AB (d, N)`` of outputs ``y`` in the Saltelli design's
    order (``N * (d + 2)`` values, SALib's order).

    >>> fa, fb, fab = saltelli_split(np.arange(8.0), 2)
    >>> fa.tolist(), fb.tolist(), fab.tolist()
    ([0.0, 4.0], [3.0, 7.0], [[1.0, 5.0], [2.0, 6.0]])
    """
    y = np.asarray(y, dtype=float).reshape(-1, d + 2)
    return y[:, 0].copy(), y[:, d + 1].copy(), np.ascontiguousarray(y[:, 1:d + 1].T)


def sobol_first_total(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """First-order (Saltelli 2010) and total (Jansen) indices ``(d,)`` each; NaN when the
    outputs do not vary.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.random((2, 4096, 2))
    >>> f = lambda x: x[..., 0]                      # only the first input matters
    >>> ab = np.stack([np.where(np.arange(2) == i, b, a) for i in range(2)])
    >>> s, st = sobol_first_total(f(a), f(b), f(ab))
    >>> np.round(s, 1).tolist(), np.round(st, 1).tolist()
    ([1.0, 0.0], [1.0, 0.0])
    """
    var = np.var(np.concatenate([f_a, f_b]))
    if not var > 0:
        nan = np.full(len(f_ab), np.nan)
        return nan, nan.copy()
    first = np.mean(f_b * (f_ab - f_a), axis=-1) / var
    total = 0.5 * np.mean((f_a - f_ab) ** 2, axis=-1) / var
    return first, total


def _weights(rng: np.random.Generator, resamples: int, n: int):
    """Bootstrap weights (how often each of ``n`` rows is drawn), in blocks ``(r, n)``."""
    per = max(1, _BLOCK // max(n, 1))
    done = 0
    while done < resamples:
        r = min(per, resamples - done)
        idx = rng.integers(n, size=(r, n)) + n * np.arange(r)[:, None]
        yield np.bincount(idx.ravel(), minlength=r * n).reshape(r, n).astype(float)
        done += r


def sobol_bootstrap(f_a, f_b, f_ab, *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap intervals ``(d, 2)`` of the first and total indices,
    resampling base rows with replacement."""
    n = len(f_a)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_TAG_BOOTSTRAP,)))
    first_terms = (f_b * (f_ab - f_a)).T                    # (N, d)
    total_terms = (0.5 * (f_a - f_ab) ** 2).T
    firsts, totals = [], []
    for w in _weights(rng, resamples, n):
        mean = w @ (f_a + f_b) / (2 * n)
        var = w @ (f_a ** 2 + f_b ** 2) / (2 * n) - mean ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            firsts.append((w @ first_terms / n) / var[:, None])
            totals.append((w @ total_terms / n) / var[:, None])
    return _percentile(np.concatenate(firsts), confidence), _percentile(np.concatenate(totals),
                                                                        confidence)


def _percentile(samples: np.ndarray, confidence: float) -> np.ndarray:
    """(d, 2) percentile interval of bootstrap samples ``(R, d)`` (NaN samples ignored)."""
    lo, hi = (1 - confidence) / 2, (1 + confidence) / 2
    with np.errstate(invalid="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.stack([np.nanquantile(samples, lo, axis=0),
                             np.nanquantile(samples, hi, axis=0)], axis=1)


def morris_split(unit: np.ndarray, y: np.ndarray, d: int) -> np.ndarray:
    """Elementary effects ``(d, r)`` of outputs ``y`` along the Morris trajectories of
    ``unit`` (``r * (d + 1)`` points on the unit cube), each divided by its signed step.

    >>> unit = np.array([[0, 0], [2/3, 0], [2/3, 2/3]])
    >>> morris_split(unit, np.array([0.0, 2.0, 1.0]), 2).tolist()
    [[3.0], [-1.5]]
    """
    x = np.asarray(unit, dtype=float).reshape(-1, d + 1, d)
    y = np.asarray(y, dtype=float).reshape(-1, d + 1)
    dx = np.diff(x, axis=1)                                  # (r, d, d): step m moves one column
    moved = np.abs(dx).argmax(axis=2)                        # (r, d)
    step = np.take_along_axis(dx, moved[..., None], axis=2)[..., 0]
    effect = np.diff(y, axis=1) / step                       # (r, d), by step
    out = np.empty((d, len(x)))
    rows = np.repeat(np.arange(len(x)), d)
    out[moved.ravel(), rows] = effect.ravel()
    return out


def morris_statistics(effects: np.ndarray, *, resamples: int = RESAMPLES,
                      confidence: float = CONFIDENCE, seed: int = 0) -> dict[str, np.ndarray]:
    """``mu``, ``mu_star``, ``sigma`` (d,) and ``mu_star_ci`` (d, 2) of effects ``(d, r)``."""
    r = effects.shape[1]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_TAG_BOOTSTRAP,)))
    samples = [w @ np.abs(effects).T / r for w in _weights(rng, resamples, r)]
    return {"mu": effects.mean(axis=1), "mu_star": np.abs(effects).mean(axis=1),
            "sigma": effects.std(axis=1, ddof=1) if r > 1 else np.full(len(effects), np.nan),
            "mu_star_ci": _percentile(np.concatenate(samples), confidence)}


@dataclass(frozen=True)
class SensitivityResult:
    """Indices of one outcome over a design: one record per parameter, ranked (Sobol':
    by total index, Morris: by mu_star), and what they rest on."""

    method: str
    outcome: str
    measure: str                  # "played in some equilibrium" or "probability"
    solver: str
    label: str
    records: tuple[dict, ...]
    n_points: int
    groups: int                   # base rows (Sobol') or trajectories (Morris)
    dropped: int                  # groups left out for a failed or unknown point
    mean: float                   # the outcome's mean over the design
    variance: float
    resamples: int
    confidence: float
    seed: int
    notes: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"method": self.method, "outcome": self.outcome, "measure": self.measure,
                "solver": self.solver, "solution_concept": self.label,
                "points": self.n_points, "groups": self.groups, "dropped": self.dropped,
                "mean": self.mean, "variance": self.variance, "resamples": self.resamples,
                "confidence": self.confidence, "seed": self.seed, "notes": list(self.notes),
                **self.extra, "indices": list(self.records)}


def _finite(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def sobol_records(names, y: np.ndarray, *, resamples=RESAMPLES, confidence=CONFIDENCE, seed=0):
    """Records ``{"parameter", "first", "total", "first_ci", "total_ci"}`` ranked by total
    index, from outputs ``y`` of a Saltelli design over ``names``; and the number of base
    rows used and dropped (a row with a NaN output is dropped)."""
    d = len(names)
    rows = np.asarray(y, dtype=float).reshape(-1, d + 2)
    keep = np.isfinite(rows).all(axis=1)
    kept = rows[keep].ravel()
    f_a, f_b, f_ab = saltelli_split(kept - kept.mean() if kept.size else kept, d)
    first, total = sobol_first_total(f_a, f_b, f_ab)
    if np.isfinite(first).all() and keep.sum() > 1:
        first_ci, total_ci = sobol_bootstrap(f_a, f_b, f_ab, resamples=resamples,
                                             confidence=confidence, seed=seed)
    else:
        first_ci = total_ci = np.full((d, 2), np.nan)
    records = [{"parameter": p, "first": _finite(first[i]), "total": _finite(total[i]),
                "first_ci": [_finite(v) for v in first_ci[i]],
                "total_ci": [_finite(v) for v in total_ci[i]]} for i, p in enumerate(names)]
    order = sorted(range(d), key=lambda i: (-np.nan_to_num(total[i], nan=-1.0), i))
    return [records[i] for i in order], int(keep.sum()), int((~keep).sum())


def morris_records(names, unit: np.ndarray, y: np.ndarray, *, resamples=RESAMPLES,
                   confidence=CONFIDENCE, seed=0):
    """Records ``{"parameter", "mu_star", "mu_star_ci", "mu", "sigma"}`` ranked by mu_star,
    from outputs ``y`` of Morris trajectories ``unit`` over ``names``; and the number of
    trajectories used and dropped."""
    d = len(names)
    rows = np.asarray(y, dtype=float).reshape(-1, d + 1)
    keep = np.isfinite(rows).all(axis=1)
    units = np.asarray(unit).reshape(-1, d + 1, d)[keep]
    effects = morris_split(units.reshape(-1, d), rows[keep].ravel(), d)
    if keep.sum() == 0:
        stats = {k: np.full(d, np.nan) for k in ("mu", "mu_star", "sigma")}
        stats["mu_star_ci"] = np.full((d, 2), np.nan)
    else:
        stats = morris_statistics(effects, resamples=resamples, confidence=confidence, seed=seed)
    records = [{"parameter": p, "mu_star": _finite(stats["mu_star"][i]),
                "mu_star_ci": [_finite(v) for v in stats["mu_star_ci"][i]],
                "mu": _finite(stats["mu"][i]), "sigma": _finite(stats["sigma"][i])}
               for i, p in enumerate(names)]
    order = sorted(range(d), key=lambda i: (-np.nan_to_num(stats["mu_star"][i], nan=-1.0), i))
    return [records[i] for i in order], int(keep.sum()), int((~keep).sum())


# ----------------------------------------------------------------------------- through the sweep engine

#: The file in a sensitivity results folder that records the request (outcome, method,
#: bootstrap), written before the sweep starts so that ``--resume`` can finish it.
REQUEST = "sensitivity-request.json"
#: The indices, written once the sweep has finished.
RESULT = "sensitivity.json"
METHODS = ("sobol", "morris")


def sensitivity_design(model, base, method: str, n: int, *, params=None, seed: int = 0,
                       levels: int = 4):
    """The design of a sensitivity analysis: Saltelli with ``n`` base rows (``sobol``)
    or ``n`` Morris trajectories (``morris``)."""
    from ..errors import DesignError
    from ..sweep.design import morris_design, saltelli_design
    if method == "sobol":
        return saltelli_design(model, base, n, params=params, seed=seed)
    if method == "morris":
        return morris_design(model, base, n, params=params, seed=seed, levels=levels)
    raise DesignError(f"--method {method!r}: expected one of {', '.join(METHODS)}")


def outcome_of_sweep(folder, spec, column: int) -> tuple[np.ndarray, str, str]:
    """Per point of a finished sweep, the outcome (module docstring) of the strategy in
    profile column ``column``; NaN where a point failed or its solutions were not kept.
    Returns the values ``(N,)``, the measure's name and the solution concept's label."""
    from pathlib import Path

    from ..concepts import get_concept
    from ..model import compile_model
    from ..solve import STATUS
    from ._outcome import SUPPORT
    model = compile_model(spec.model_source, where=spec.model_where)
    concept = get_concept(spec.solver)
    layout = concept.sweep(concept, model, concept.resolve(spec.options, model.players), spec.store)
    with np.load(Path(folder) / "results.npz", allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files if not k.startswith("total_")}
    n = len(data["status"])
    sol = layout.solutions(data)
    probability = "prob" in data
    y = np.full(n, np.nan) if probability else np.zeros(n)
    if len(sol["point"]):
        vals = sol["prob"][:, column] if probability else (sol["prob"][:, column] >= SUPPORT) * 1.0
        best = np.full(n, -np.inf)
        np.maximum.at(best, sol["point"], vals)
        have = np.isfinite(best)
        y[have] = best[have]
    y[~sol["known"]] = np.nan
    y[data["status"] == STATUS["failed"]] = np.nan
    measure = "probability" if probability else "played in some equilibrium (1) or not (0)"
    return y, measure, layout.label


def analyse_folder(folder, request: dict) -> SensitivityResult:
    """The indices of a finished sensitivity sweep in ``folder`` (its manifest's spec and
    results) for ``request`` (``method``, ``outcome``, ``resamples``, ``confidence``,
    ``seed``, as written to :data:`REQUEST`)."""
    import json
    from pathlib import Path

    from ..model import compile_model
    from ..sweep.engine import SweepSpec
    from ._outcome import parse_outcome
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    spec = SweepSpec.from_json(manifest["spec"])
    model = compile_model(spec.model_source, where=spec.model_where)
    outcome = parse_outcome(request["outcome"], model)
    y, measure, label = outcome_of_sweep(folder, spec, outcome.column)
    design = spec.design
    kw = dict(resamples=request["resamples"], confidence=request["confidence"],
              seed=request["seed"])
    if request["method"] == "sobol":
        records, groups, dropped = sobol_records(design.names, y, **kw)
    else:
        records, groups, dropped = morris_records(design.names, design.unit(0, design.n), y, **kw)
    ok = y[np.isfinite(y)]
    notes = []
    if ok.size and not np.var(ok) > 0:
        notes.append(f"{outcome.text} is {ok[0]:g} at every point of the design: the outcome "
                     "does not vary, so no parameter explains any of its variance")
    if dropped:
        notes.append(f"{dropped} of {groups + dropped} "
                     f"{'base rows' if request['method'] == 'sobol' else 'trajectories'} left out: "
                     "a point failed or its equilibria were not kept")
    extra = {"design": {"kind": design.kind, "n": design.n, "seed": design.seed,
                        "parameters": list(design.names)}}
    if design.kind == "morris":
        extra["design"]["levels"] = design.levels
        extra["delta"] = design.levels / (2 * (design.levels - 1))
    return SensitivityResult(request["method"], outcome.text, measure, spec.solver, label,
                             tuple(records), design.n, groups, dropped,
                             float(ok.mean()) if ok.size else math.nan,
                             float(ok.var()) if ok.size else math.nan, request["resamples"],
                             request["confidence"], request["seed"], tuple(notes), extra)
