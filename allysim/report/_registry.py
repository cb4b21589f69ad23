"""The registry of solvers that ``allysim run --solver NAME`` can call.

A solver entry computes a list of reports (plain dicts, JSON-ready) for one
game and knows how to print each as text. Every report carries
``solution_concept`` (e.g. ``"NE (pure)"``, ``"QRE(lambda=1.5)"``) so each
output row says what it is, and the formatter is picked by that key's prefix.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..solve import DEFAULT_TOL


@dataclass(frozen=True)
class SolveOptions:
    """Options of ``allysim run`` passed to every solver.

    tol: regret/best-response tolerance; lambdas: logit QRE precisions;
    fix: {player: strategy} restrictions to a subgame; stages: sequential
    stage order as a list of lists of player names; seed: for searches that
    draw random starts.
    """

    tol: float = DEFAULT_TOL
    lambdas: tuple[float, ...] = (1.5,)
    fix: dict[str, str] = field(default_factory=dict)
    stages: tuple[tuple[str, ...], ...] | None = None
    seed: int = 0


#: compute(game, opts): ``game`` is an :class:`allysim.game.Game` with one game (B = 1),
#: already restricted to the subgame of ``opts.fix``.
Compute = Callable[[Any, SolveOptions], list[dict[str, Any]]]
Formatter = Callable[[dict[str, Any], Any], str]


@dataclass(frozen=True)
class SolverEntry:
    name: str
    compute: Compute
    formatters: dict[str, Formatter]
    help: str


SOLVERS: dict[str, SolverEntry] = {}


def register_solver(name: str, compute: Compute, formatters: dict[str, Formatter], help: str) -> None:
    """Add a solver to ``allysim run --solver``; formatters map a
    ``solution_concept`` prefix to a function ``(report, game) -> str``."""
    SOLVERS[name] = SolverEntry(name, compute, formatters, help)


def format_report(report: dict[str, Any], game: Any) -> str:
    """Text of one report, by the formatter whose prefix matches its concept."""
    for entry in SOLVERS.values():
        for prefix, fmt in entry.formatters.items():
            if report["solution_concept"].startswith(prefix):
                return fmt(report, game)
    raise KeyError(f"no formatter for {report['solution_concept']!r}")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with a dashed rule under the header."""
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h)
              for k, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])
