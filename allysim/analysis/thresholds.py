"""Regime thresholds: where along one parameter the equilibrium set changes.

:func:`find_thresholds` answers "below what US credibility does China's SEIZE become
an equilibrium, and how does Japan's abandonment fear shift that?" to a stated
precision, for any solution concept of the registry.

The method
----------
For each value of the ``by`` parameter (or once, without one):

1. **Scan**: solve the game at ``scan`` evenly spaced values of the ``along``
   parameter over ``[lo, hi]`` (both ends included), all at once as one batch, and
   classify each point: its solution set (the solutions' supports, sorted), or with
   an ``outcome`` whether that strategy is in the support of some solution.
2. **Bisect**: every pair of neighbouring scan points whose classes differ brackets
   a switch. All brackets of all ``by`` values are halved together, one batch per
   round, until each is at most ``xtol`` wide. A midpoint whose class matches
   neither end holds a third regime: the bracket is split in two and both halves
   are followed, so regimes first met during bisection are not lost.
3. Switches closer than ``xtol`` are merged (a weak equilibrium exactly at a
   boundary shows both sets there), and a merged switch whose two sides agree
   (a regime only at a point) is dropped.

Each threshold is the midpoint of its final bracket (at most ``xtol`` wide, or
``2 xtol`` where two brackets meeting at a boundary point were merged), so it is
within ``xtol / 2`` of a point where the class changes. What a scan can miss: a regime that holds
only on an interval narrower than the scan step (``(hi - lo) / (scan - 1)``) and
lies wholly between two scan points whose classes agree, and two switches
within one step that cancel out. Raise ``scan`` to look closer.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ._outcome import Outcome, outcome_values, solution_sets, solve_points

#: Default number of scan points along the parameter (step = range / 400).
DEFAULT_SCAN = 401
#: Default bisection tolerance, as a fraction of the scanned range.
DEFAULT_XTOL = 1e-7
#: Most brackets followed at once (a guard against a class that flickers everywhere).
MAX_BRACKETS = 100_000


@dataclass(frozen=True)
class Switch:
    """One threshold: the ``by`` values, where (``at``, within ``[lo, hi]``), and the
    class just below and just above it (``below``/``above``: the solution sets, or
    with an outcome whether it is played; ``below_set``/``above_set``: the sets)."""

    by: dict
    at: float
    lo: float
    hi: float
    below: object
    above: object
    below_set: str
    above_set: str

    def to_json(self) -> dict:
        return {"by": dict(self.by), "at": self.at, "below": self.below, "above": self.above,
                "bracket": [self.lo, self.hi], "below_set": self.below_set,
                "above_set": self.above_set}


@dataclass(frozen=True)
class ThresholdResult:
    """Every switch found, in order of the ``by`` values then of ``at``, with what was
    done to find them.

    along : (name, lo, hi); by : (name, values) or None; scan : scan points per
    ``by`` value; step : the scan step; xtol : the bisection tolerance;
    regimes : per ``by`` value, ``(by dict, class at lo, class at hi, number of
    switches)``; evaluations : games solved in all.
    """

    along: tuple[str, float, float]
    by: tuple[str, tuple[float, ...]] | None
    outcome: Outcome | None
    scan: int
    step: float
    xtol: float
    switches: tuple[Switch, ...]
    regimes: tuple[tuple[dict, object, object, int], ...]
    evaluations: int
    solver: str
    options: dict = field(default_factory=dict)
    label: str = ""

    def to_json(self) -> dict:
        return {"along": {"parameter": self.along[0], "lo": self.along[1], "hi": self.along[2]},
                "by": None if self.by is None else {"parameter": self.by[0],
                                                    "values": list(self.by[1])},
                "outcome": None if self.outcome is None else self.outcome.text,
                "solver": self.solver, "solution_concept": self.label, "options": self.options,
                "scan": {"points": self.scan, "step": self.step,
                         "misses": "a regime holding only on an interval narrower than the "
                                   "step, between two scan points of the same class"},
                "xtol": self.xtol, "evaluations": self.evaluations,
                "thresholds": [s.to_json() for s in self.switches],
                "regimes": [{"by": b, "at_lo": lo, "at_hi": hi, "switches": k}
                            for b, lo, hi, k in self.regimes]}


class _Classifier:
    """Classes of parameter points: solve, then the solution set or the outcome."""

    def __init__(self, model, concept, options, outcome: Outcome | None):
        self.model, self.concept, self.options, self.outcome = model, concept, options, outcome
        self.evaluations = 0

    def __call__(self, params: np.ndarray) -> tuple[list, list[str]]:
        n = len(params)
        self.evaluations += n
        result, idx = solve_points(self.concept, self.options, self.model, params)
        sets = solution_sets(self.model, result, idx, n)
        if self.outcome is None:
            return list(sets), sets
        played = outcome_values(result, idx, n, self.outcome.column, probability=False)
        keys = [s if s == "failed" else bool(v) for s, v in zip(sets, played.tolist())]
        return keys, sets


def find_thresholds(model, base: np.ndarray, along: tuple[str, float, float], *, concept,
                    options: dict, by: tuple[str, Sequence[float]] | None = None,
                    outcome: Outcome | None = None, scan: int = DEFAULT_SCAN,
                    xtol: float | None = None) -> ThresholdResult:
    """Every value of the ``along`` parameter in ``[lo, hi]`` at which the solution set
    of ``concept`` (or, with ``outcome``, whether it is played) changes, for each value
    of the ``by`` parameter. See the module docstring for the method.

    Parameters
    ----------
    model : a compiled :class:`~allysim.model.Model`
    base : ndarray of float, shape (P,): the other parameters' values
    along : (name, lo, hi)
    concept, options : a registry concept and its resolved options
    by : (name, values) or None
    outcome : an :class:`~allysim.analysis.Outcome` or None (the whole solution set)
    scan : int >= 2, scan points per ``by`` value
    xtol : float > 0, bisection tolerance in the parameter's units (default
        ``1e-7 * (hi - lo)``)

    >>> from allysim import load_model
    >>> from allysim.concepts import get_concept
    >>> m = load_model("prisoners-dilemma")
    >>> c = get_concept("pure")
    >>> res = find_thresholds(m, m.defaults, ("temptation", 0, 10), concept=c,
    ...                       options=c.resolve({}, m.players))
    >>> [(round(s.at, 6), s.below, s.above) for s in res.switches]   # temptation = reward
    [(3.0, 'C/C + D/D', 'D/D')]
    """
    name, lo, hi = along
    col = model.parameter_index(name)
    if isinstance(scan, bool) or not isinstance(scan, (int, np.integer)) or scan < 2:
        raise InputError(f"--scan {scan!r}: expected a whole number >= 2")
    if not hi > lo:
        raise InputError(f"--along {name}={lo:g}:{hi:g}: expected LO < HI")
    width = hi - lo
    xtol = DEFAULT_XTOL * width if xtol is None else float(xtol)
    if not (math.isfinite(xtol) and xtol > 0):
        raise InputError(f"--xtol {xtol!r}: expected a finite number > 0")
    by_col, by_values = None, [None]
    if by is not None:
        by_col = model.parameter_index(by[0])
        if by_col == col:
            raise InputError(f"--by {by[0]}: is also the --along parameter; expected another one")
        by_values = [float(v) for v in by[1]]
    classify = _Classifier(model, concept, options, outcome)
    xs = np.linspace(lo, hi, scan)
    step = float(xs[1] - xs[0])

    def points(x: np.ndarray, g: np.ndarray) -> np.ndarray:
        out = np.repeat(np.asarray(base, dtype=float)[None], len(x), axis=0)
        out[:, col] = x
        if by_col is not None:
            out[:, by_col] = np.asarray(by_values)[g]
        return out

    # 1. scan, every by value in one batch
    g_all = np.repeat(np.arange(len(by_values)), scan)
    keys, sets = classify(points(np.tile(xs, len(by_values)), g_all))
    brackets = []            # (group, lo, hi, key_lo, key_hi, set_lo, set_hi)
    regimes_ends = []
    for g in range(len(by_values)):
        k = keys[g * scan:(g + 1) * scan]
        s = sets[g * scan:(g + 1) * scan]
        regimes_ends.append((k[0], k[-1]))
        for j in range(scan - 1):
            if k[j] != k[j + 1]:
                brackets.append((g, xs[j], xs[j + 1], k[j], k[j + 1], s[j], s[j + 1]))
    # 2. bisect all brackets together
    done = []
    while brackets:
        if len(brackets) > MAX_BRACKETS:
            raise InputError(f"--along {name}: more than {MAX_BRACKETS:,} switches; the class "
                             "changes almost everywhere (try --outcome)")
        narrow = [b for b in brackets if b[2] - b[1] <= xtol]
        done += narrow
        brackets = [b for b in brackets if b[2] - b[1] > xtol]
        if not brackets:
            break
        mids = np.array([0.5 * (b[1] + b[2]) for b in brackets])
        mkeys, msets = classify(points(mids, np.array([b[0] for b in brackets])))
        nxt = []
        for b, x, mk, ms in zip(brackets, mids.tolist(), mkeys, msets):
            g, a, c, ka, kc, sa, sc = b
            if mk == ka:
                nxt.append((g, x, c, mk, kc, ms, sc))
            elif mk == kc:
                nxt.append((g, a, x, ka, mk, sa, ms))
            else:                                   # a third regime inside the bracket
                nxt.append((g, a, x, ka, mk, sa, ms))
                nxt.append((g, x, c, mk, kc, ms, sc))
        brackets = nxt
    # 3. merge switches within xtol, drop those whose sides agree
    switches, regimes = [], []
    for g, value in enumerate(by_values):
        by_dict = {} if by is None else {by[0]: value}
        mine = sorted((b for b in done if b[0] == g), key=lambda b: b[1])
        merged = []
        for b in mine:
            if merged and b[1] - merged[-1][2] <= xtol:
                m = merged[-1]
                merged[-1] = (g, m[1], b[2], m[3], b[4], m[5], b[6])
            else:
                merged.append(b)
        kept = [b for b in merged if b[3] != b[4]]
        switches += [Switch(by_dict, float(0.5 * (b[1] + b[2])), float(b[1]), float(b[2]), b[3],
                            b[4], b[5], b[6]) for b in kept]
        regimes.append((by_dict, regimes_ends[g][0], regimes_ends[g][1], len(kept)))
    return ThresholdResult((name, float(lo), float(hi)),
                           None if by is None else (by[0], tuple(by_values)), outcome, int(scan),
                           step, xtol, tuple(switches), tuple(regimes), classify.evaluations,
                           concept.name, dict(options), concept.label(options, 0))


def class_text(value, outcome: Outcome | None) -> str:
    """A class as a table cell: ``played``/``not played`` for an outcome, else the set."""
    if outcome is not None and isinstance(value, bool):
        return "played" if value else "not played"
    return str(value)
