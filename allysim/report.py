"""Solver results as plain records (for ``--json``) and as text tables.

Each report is a dict with ``solution_concept`` naming the concept, the
scenario and point, and a list of ``equilibria`` rows carrying strategy names,
expected payoffs and regret, so every output row says what it is.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .scenario import Scenario
from .solve import iterated_dominance, pure_nash, pure_regret, status_names


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h)
              for k, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def pure_report(scenario: Scenario, payoffs: np.ndarray, tol: float) -> dict[str, Any]:
    """Pure Nash equilibria of one game: ``payoffs: (1, n, s1, ..., sn)``."""
    model = scenario.model
    result = pure_nash(payoffs, tol=tol)
    profiles = result.profiles(0)
    rows = []
    if len(profiles):
        regrets = pure_regret(np.repeat(payoffs, len(profiles), axis=0), profiles)
        for k, prof in enumerate(profiles):
            rows.append({
                "profile": {p: model.strategies[i][a] for i, (p, a) in enumerate(zip(model.players, prof))},
                "payoff": {p: float(payoffs[(0, i, *prof)]) for i, p in enumerate(model.players)},
                "regret": {p: float(regrets[k, i]) for i, p in enumerate(model.players)},
            })
    return {"solution_concept": "NE (pure)", "status": str(status_names(result.status)[0]),
            "tol": tol, "count": int(result.count[0]), "equilibria": rows}


def dominance_report(scenario: Scenario, payoffs: np.ndarray, tol: float) -> dict[str, Any]:
    """Iterated elimination of strictly dominated strategies for one game."""
    model = scenario.model
    result = iterated_dominance(payoffs, tol=tol)
    surviving = {p: [s for s, alive in zip(model.strategies[i], result.surviving[i][0]) if alive]
                 for i, p in enumerate(model.players)}
    return {"solution_concept": "IESDS (pure-strategy domination)", "tol": tol,
            "rounds": int(result.rounds[0]), "solved": bool(result.solved[0]),
            "surviving": surviving}


def format_pure(report: dict[str, Any], players: tuple[str, ...]) -> str:
    head = f"Pure Nash equilibria: {report['count']}  (status {report['status']}, tol {report['tol']:g})"
    if not report["equilibria"]:
        return head + "\n  none: try --solver qre or --solver mixed"
    headers = ["#"] + list(players) + [f"u({p})" for p in players] + ["max regret"]
    rows = []
    for k, eq in enumerate(report["equilibria"], 1):
        rows.append([str(k)] + [eq["profile"][p] for p in players]
                    + [f"{eq['payoff'][p]:.4f}" for p in players]
                    + [f"{max(eq['regret'].values()):.1e}"])
    return head + "\n" + _table(headers, rows)


def format_dominance(report: dict[str, Any]) -> str:
    lines = [f"Iterated strict dominance: {report['rounds']} round(s), "
             + ("dominance solvable" if report["solved"] else "not dominance solvable")]
    for player, strategies in report["surviving"].items():
        lines.append(f"  {player}: {', '.join(strategies)}")
    return "\n".join(lines)


def format_parameters(scenario: Scenario) -> str:
    model = scenario.model
    rows = []
    for p, value in zip(model.parameters, scenario.point):
        mark = "*" if p.name in scenario.overrides else ""
        rows.append([p.name, f"{p.default:g}", f"{value:g}{mark}", f"[{p.low:g}, {p.high:g}]",
                     p.description])
    return _table(["parameter", "default", "value", "range", "meaning"], rows)


def format_strategies(scenario: Scenario) -> str:
    model = scenario.model
    rows = [[p, ", ".join(s)] for p, s in zip(model.players, model.strategies)]
    return _table(["player", "strategies (in axis order)"], rows)


def format_listing(rows: list[list[str]], headers: list[str]) -> str:
    return _table(headers, rows)
