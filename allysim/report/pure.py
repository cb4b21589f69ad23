"""Reports of the pure Nash and dominance solvers, and scenario listings."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..game import Game
from ..scenario import Scenario
from ..solve import iterated_dominance, pure_nash, pure_regret, status_names
from ._registry import SolveOptions, register_solver, table as _table


def pure_report(game: Game, opts: SolveOptions) -> dict[str, Any]:
    """Pure Nash equilibria of one game (``game.payoffs: (1, n, s1, ..., sn)``)."""
    model, tol, payoffs = game, opts.tol, game.payoffs
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


def dominance_report(game: Game, opts: SolveOptions) -> dict[str, Any]:
    """Iterated elimination of strictly dominated strategies for one game."""
    model, tol, payoffs = game, opts.tol, game.payoffs
    result = iterated_dominance(payoffs, tol=tol)
    surviving = {p: [s for s, alive in zip(model.strategies[i], result.surviving[i][0]) if alive]
                 for i, p in enumerate(model.players)}
    return {"solution_concept": "IESDS (pure-strategy domination)", "tol": tol,
            "rounds": int(result.rounds[0]), "solved": bool(result.solved[0]),
            "surviving": surviving}


def format_pure(report: dict[str, Any], game: Game) -> str:
    players = game.players
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


def format_dominance(report: dict[str, Any], game: Game) -> str:
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


register_solver("pure", lambda g, o: [pure_report(g, o), dominance_report(g, o)],
                {"NE (pure)": format_pure, "IESDS (pure-strategy domination)": format_dominance},
                help="pure Nash equilibria (all of them, with payoffs and regret) and dominance")
register_solver("dominance", lambda g, o: [dominance_report(g, o)],
                {"IESDS (pure-strategy domination)": format_dominance},
                help="iterated elimination of strictly dominated strategies")
