"""Solution concepts as declarations: options, solver call, rows, summary (private core).

A :class:`Concept` says once everything ``run``, ``sweep`` and ``plot`` need:

* its ``name`` (the ``--solver`` value), a one-line ``help`` and its ``options``
  (names from :data:`OPTIONS`, each with one meaning, one validation and one
  default shared by every command; a concept may declare its own default);
* ``solve(payoffs, options, game) -> Result``, the call into :mod:`allysim.solve`;
* ``label(options, slot)``: the solution concept each row names (``NE (pure)``,
  ``QRE(lambda=1.5)``);
* ``pure``: whether its solutions are pure profiles (strategy names in tables) or
  mixed ones (``P(Player=STRATEGY)`` columns);
* the sweep layout (:mod:`allysim.concepts._sweep`): point, row and total fields,
  how a chunk's result becomes them, CSV columns and the summary;
* optional hooks for ``run``: how a result becomes reports (JSON) and their text.

Generic code turns a result into JSON records and text tables
(:mod:`allysim.concepts._report`) and into sweep arrays and CSV
(:mod:`allysim.sweep`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import inputs
from ..errors import AllysimError, suggest
from ..solve import DEFAULT_QRE_TOL, DEFAULT_TOL
from ..solve._backend import BACKENDS

class OptionError(AllysimError):
    """An option value that cannot be used."""


# ----------------------------------------------------------------------------- option parsers
# Each takes a value as typed on the command line (str) or read from TOML/JSON (number,
# list) and returns the canonical, JSON-ready value; ``flag`` names it in the message.

def _number(value, flag: str, *, strict: bool) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise OptionError(f"{flag} {value!r}: expected a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise OptionError(f"{flag} {value!r}: expected a number")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (strict and value == 0):
        raise OptionError(f"{flag} {value!r}: expected a finite number {'>' if strict else '>='} 0")
    return value


def parse_tolerance(value, flag: str = "--tol") -> float:
    """A tolerance: a finite number >= 0."""
    return _number(value, flag, strict=False)


def parse_positive(value, flag: str) -> float:
    """A finite number > 0."""
    return _number(value, flag, strict=True)


def parse_lambdas(value, flag: str = "--lambda") -> list[float]:
    """Logit precisions: ``1.5``, ``"0.5,1.5,4"``, ``"LO:HI:N"`` (numpy.linspace) or a list
    (text goes through :func:`allysim.inputs.parse_lambdas`).

    >>> parse_lambdas("0.5,1.5"), parse_lambdas("0:2:3"), parse_lambdas(1.5)
    ([0.5, 1.5], [0.0, 1.0, 2.0], [1.5])
    """
    if isinstance(value, str):
        return list(inputs.parse_lambdas(value, flag))
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if not values or len(values) > inputs.MAX_LAMBDAS:
        raise OptionError(f"{flag}: expected 1 to {inputs.MAX_LAMBDAS} values")
    return [_number(v, flag, strict=False) for v in values]


def parse_stages(value, flag: str = "--stages") -> list[list[str]]:
    """A stage order: ``"US>Japan>China,NorthKorea"`` (through
    :func:`allysim.inputs.parse_stages`) or a list of lists of names.

    >>> parse_stages("US>Japan>China,NorthKorea")
    [['US'], ['Japan'], ['China', 'NorthKorea']]
    """
    if isinstance(value, (list, tuple)) and all(isinstance(s, (list, tuple)) for s in value):
        value = ">".join(",".join(str(p) for p in stage) for stage in value)
    if not isinstance(value, str):
        raise OptionError(f"{flag} {value!r}: expected e.g. US>Japan>China,NorthKorea")
    return [list(stage) for stage in inputs.parse_stages(value, flag)]


def parse_count(value, flag: str, *, low: int = 0) -> int:
    """A whole number >= ``low``."""
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise OptionError(f"{flag} {value!r}: expected a whole number >= {low}") from None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise OptionError(f"{flag} {value!r}: expected a whole number >= {low}")
    return int(value)


def parse_backend(value, flag: str = "--backend") -> str:
    if value not in BACKENDS:
        raise OptionError(f"{flag} {value!r}: expected one of {', '.join(BACKENDS)}")
    return value


@dataclass(frozen=True)
class Option:
    """One option: its name (the key in ``options`` and manifests), flag, default, help,
    metavar and parser. Its meaning is the same for every concept and command."""

    name: str
    flag: str
    default: Any
    help: str
    metavar: str
    parse: Callable[[Any, str], Any]


OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("tol", "--tol", DEFAULT_TOL,
           "best-reply and regret tolerance, relative to each game's payoff scale (the largest "
           "regret a profile can have)", "X", parse_tolerance),
    Option("lambda", "--lambda", [1.5],
           "logit precision(s) on raw payoffs, as Gambit's lambda: L, L1,L2,... or LO:HI:N",
           "L", parse_lambdas),
    Option("residual_tol", "--residual-tol", DEFAULT_QRE_TOL,
           "largest accepted logit QRE residual max |p - logit response to p| (probability units)",
           "X", parse_positive),
    Option("stages", "--stages", None,
           "sequential stage order, e.g. 'US>Japan>China,NorthKorea' (players in one stage move "
           "together; default: the model's own order, else one player per stage)",
           "ORDER", parse_stages),
    Option("seed", "--seed", 0, "seed of the random starts", "N",
           lambda v, f: parse_count(v, f, low=0)),
    Option("starts", "--starts", 9, "starts of the dynamics: the barycentre and STARTS - 1 random",
           "N", lambda v, f: parse_count(v, f, low=1)),
    Option("backend", "--backend", "auto",
           "numba (compiled kernels, the fast extra) or numpy (the reference); auto: numba where "
           "it pays", "|".join(BACKENDS), parse_backend),
)}


#: The stage order of a model's own sequential variant, keyed by its players
#: (docs/model.md, "The sequential variant").
DEFAULT_STAGES: dict[tuple[str, ...], list[list[str]]] = {
    ("US", "Japan", "China", "NorthKorea"): [["US"], ["Japan"], ["China", "NorthKorea"]],
}


def default_stages(players: Sequence[str]) -> list[list[str]]:
    """The four-power model's order for its players, else one player per stage."""
    return DEFAULT_STAGES.get(tuple(players), [[p] for p in players])


# ----------------------------------------------------------------------------- concepts

@dataclass(frozen=True)
class Concept:
    """A solution concept as ``run``, ``sweep`` and ``plot`` see it (module docstring)."""

    name: str
    help: str
    options: tuple[str, ...]
    solve: Callable[[np.ndarray, dict, Any], Any]
    label: Callable[[dict, int], str]
    pure: bool
    sweep: Any                                   # a :class:`allysim.concepts._sweep.SweepLayout`
    defaults: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""
    run: Callable | None = None        # (concept, result, game, options) -> reports of game 0
    format: Callable | None = None     # (report, game) -> text
    companions: tuple[str, ...] = ()   # concepts ``run`` prints after this one

    def reports(self, result, game, options: dict) -> list[dict]:
        """JSON-ready reports of game 0 of ``result`` (``run`` solves one game)."""
        from ._report import solutions_report
        if self.run is not None:
            return self.run(self, result, game, options)
        return [solutions_report(self, result, game, options)]

    def text(self, report: dict, game) -> str:
        """The text of one report."""
        from ._report import default_text
        return (self.format or default_text)(report, game)

    def default(self, name: str) -> Any:
        return self.defaults.get(name, OPTIONS[name].default)

    def resolve(self, given: Mapping[str, Any], players: Sequence[str],
                flags: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The options of one call: ``given`` (values as typed, or None) validated, the
        rest filled with this concept's defaults. Refuses an option the concept does not
        take, naming it and the concepts that do."""
        flags = flags or {}
        out: dict[str, Any] = {}
        for name, value in given.items():
            if value is None:
                continue
            if name not in OPTIONS:
                raise OptionError(f"option {name!r}: unknown{suggest(name, OPTIONS)}; expected one "
                                  f"of {', '.join(OPTIONS)}")
            flag = flags.get(name, OPTIONS[name].flag)
            if name not in self.options:
                takers = sorted(c.name for c in CONCEPTS.values() if name in c.options)
                raise OptionError(f"{flag}: does not apply to --solver {self.name}; it applies to "
                                  f"--solver {', '.join(takers)}")
            out[name] = OPTIONS[name].parse(value, flag)
        for name in self.options:
            if name not in out:
                value = self.default(name)
                out[name] = list(value) if isinstance(value, list) else value
        if "stages" in self.options:
            if out["stages"] is None:
                out["stages"] = default_stages(players)
            from ..solve import resolve_stages
            resolve_stages(out["stages"], players, where=flags.get("stages", "--stages"))
        return out

    def option_text(self, options: Mapping[str, Any]) -> str:
        """``tol 1e-09, seed 0``: the options as a short phrase for summaries."""
        parts = []
        for name in self.options:
            v = options.get(name)
            if name == "stages":
                v = ">".join(",".join(s) for s in v)
            elif name == "lambda":
                v = ",".join(f"{x:g}" for x in v)
            elif isinstance(v, float):
                v = f"{v:g}"
            parts.append(f"{name.replace('_', ' ')} {v}")
        return ", ".join(parts)


CONCEPTS: dict[str, Concept] = {}


def register(concept: Concept) -> Concept:
    """Make a concept available to ``run``, ``sweep`` and ``plot`` as ``--solver NAME``."""
    unknown = [o for o in concept.options if o not in OPTIONS]
    if unknown:
        raise ValueError(f"register(): concept {concept.name!r} has unknown option(s) {unknown}")
    CONCEPTS[concept.name] = concept
    return concept


def get_concept(name: str, flag: str = "--solver") -> Concept:
    """The concept called ``name``; an unknown name's error lists the known ones."""
    if name not in CONCEPTS:
        raise OptionError(f"{flag} {name!r}: no solution concept of that name{suggest(name, CONCEPTS)}; "
                          f"expected one of {', '.join(sorted(CONCEPTS))}")
    return CONCEPTS[name]
