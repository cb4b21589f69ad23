"""Reports of the sequential solvers: ``spe`` (pure subgame-perfect equilibria)
and ``agent-qre`` (agent logit QRE of the staged game).

Stage order: ``--stages`` when given; otherwise, for the four-power model
(players US, Japan, China, NorthKorea), MODEL.md's sequential variant
``US > Japan > China, NorthKorea``; for any other game one player per stage in
the game's player order.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..game import Game
from ..solve import status_names
from ..solve.sequential import agent_logit_qre, history_profile, resolve_stages, subgame_perfect
from ._registry import SolveOptions, register_solver, table as _table

#: MODEL.md's stage order for the four-power model, keyed by its players.
DEFAULT_STAGES: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    ("US", "Japan", "China", "NorthKorea"): (("US",), ("Japan",), ("China", "NorthKorea")),
}

#: Equilibria whose full strategies are printed (all are in --json).
MAX_PRINTED = 4


def stage_order(game: Game, opts: SolveOptions) -> tuple[tuple[str, ...], ...]:
    """The stage order (player names) used for ``game``: opts.stages, else the default."""
    if opts.stages is not None:
        stages = tuple(tuple(s) for s in opts.stages)
    else:
        stages = DEFAULT_STAGES.get(tuple(game.players), tuple((p,) for p in game.players))
    resolve_stages(stages, game.players)          # raises ScenarioError on bad input
    return stages


def _stage_text(stages) -> str:
    return " > ".join(", ".join(s) for s in stages)


def _histories(game: Game, idx, t: int) -> list[dict[str, str]]:
    """Names of the earlier moves at every history of stage t."""
    H = int(np.prod([game.shape[p] for st in idx[:t] for p in st])) if t else 1
    out = []
    for h in range(H):
        moves = history_profile(game.shape, idx, t, h)
        out.append({game.players[p]: game.strategies[p][a] for p, a in moves.items()})
    return out


def spe_report(game: Game, opts: SolveOptions) -> dict[str, Any]:
    """Pure SPE of one game (``game.payoffs: (1, n, s1, ..., sn)``) under the stage order."""
    stages = stage_order(game, opts)
    idx = resolve_stages(stages, game.players)
    res = subgame_perfect(game.payoffs, idx, tol=opts.tol)
    players, strategies = game.players, game.strategies
    equilibria = []
    for k in range(int(res.count[0])):
        path = res.path[0, k]
        strat = {}
        for t, stage in enumerate(idx):
            hist = _histories(game, idx, t)
            for p in stage:
                strat[players[p]] = [{"history": hist[h], "move": strategies[p][int(res.choices[p][0, k, h])]}
                                     for h in range(len(hist))]
        equilibria.append({
            "path": {players[p]: strategies[p][int(a)] for p, a in enumerate(path)},
            "payoff": {players[p]: float(res.payoff[0, k, p]) for p in range(len(players))},
            "regret": float(res.regret[0, k]),
            "strategies": strat,
        })
    return {"solution_concept": f"SPE (pure; stages {'>'.join(','.join(s) for s in stages)})",
            "stages": [list(s) for s in stages], "status": str(status_names(res.status)[0]),
            "tol": opts.tol, "count": int(res.count[0]), "truncated": bool(res.truncated[0]),
            "equilibria": equilibria}


def agent_qre_reports(game: Game, opts: SolveOptions) -> list[dict[str, Any]]:
    """Agent logit QRE of one game at each of opts.lambdas."""
    stages = stage_order(game, opts)
    idx = resolve_stages(stages, game.players)
    res = agent_logit_qre(game.payoffs, idx, opts.lambdas)
    players, strategies = game.players, game.strategies
    offsets = np.concatenate([[0], np.cumsum(game.shape)[:-1]])
    reports = []
    for li, lam in enumerate(res.lambdas):
        behaviour = {}
        for t, stage in enumerate(idx):
            hist = _histories(game, idx, t)
            for p in stage:
                behaviour[players[p]] = [
                    {"history": hist[h],
                     "probabilities": {s: float(res.behaviour[p][0, li, h, k]) for k, s in enumerate(strategies[p])}}
                    for h in range(len(hist))]
        reports.append({
            "solution_concept": f"AQRE(lambda={lam:g}; stages {'>'.join(','.join(s) for s in stages)})",
            "lambda": float(lam), "stages": [list(s) for s in stages],
            "status": str(status_names(res.status[0:1, li])[0]),
            "residual": float(res.residual[0, li]), "tol": res.tol,
            "outcome_probabilities": {
                players[p]: {s: float(res.marginals[0, li, offsets[p] + k]) for k, s in enumerate(strategies[p])}
                for p in range(len(players))},
            "expected_payoff": {players[p]: float(res.value[0, li, p]) for p in range(len(players))},
            "behaviour": behaviour,
        })
    return reports


def _history_label(hist: dict[str, str]) -> str:
    return ", ".join(f"{p}={m}" for p, m in hist.items())


def format_spe(report: dict[str, Any], game: Game) -> str:
    stages = report["stages"]
    head = (f"Subgame-perfect equilibria (pure), stages {_stage_text(stages)}: {report['count']}"
            f"{' or more (enumeration stopped)' if report['truncated'] else ''}"
            f"  (status {report['status']}, tol {report['tol']:g})")
    if not report["equilibria"]:
        return (head + "\n  none: some stage game has no pure equilibrium on every branch;"
                " try --solver agent-qre")
    players = game.players
    order = [p for st in stages for p in st]
    rows = [[str(k)] + [eq["path"][p] for p in order] + [f"{eq['payoff'][p]:.4f}" for p in players]
            + [f"{eq['regret']:.1e}"] for k, eq in enumerate(report["equilibria"], 1)]
    lines = [head, "Equilibrium path" + ("s" if len(rows) > 1 else "") + ":",
             _table(["#"] + order + [f"u({p})" for p in players] + ["max regret"], rows)]
    if report["status"] == "degenerate":
        lines.append("Note: ties. Some player is indifferent (within tol) at some history, so the SPE "
                     "listed may differ only in such moves; every selection is listed.")
    for k, eq in enumerate(report["equilibria"][:MAX_PRINTED], 1):
        lines.append("")
        lines.append(f"Full strategies of SPE {k} (a move at every history; * = on the path):")
        for t, stage in enumerate(stages):
            first = eq["strategies"][stage[0]]
            earlier = list(first[0]["history"])
            body = []
            for h in range(len(first)):
                hist = first[h]["history"]
                on_path = all(eq["path"][p] == m for p, m in hist.items())
                body.append([("*" if on_path else "")] + [hist[p] for p in earlier]
                            + [eq["strategies"][p][h]["move"] for p in stage])
            lines.append(f"  stage {t + 1}: {', '.join(stage)}"
                         + (f" after {', '.join(earlier)}" if earlier else ""))
            lines.append("    " + _table([""] + earlier + list(stage), body).replace("\n", "\n    "))
    if len(report["equilibria"]) > MAX_PRINTED:
        lines.append(f"\n({len(report['equilibria']) - MAX_PRINTED} more SPE: use --json for their strategies)")
    return "\n".join(lines)


def format_agent_qre(report: dict[str, Any], game: Game) -> str:
    lam = report["lambda"]
    lines = [f"Agent logit QRE at lambda = {lam:g}, stages {_stage_text(report['stages'])}  "
             f"(status {report['status']}, residual {report['residual']:.1e})",
             "Probabilities on the play of the game:"]
    rows = []
    for p in game.players:
        probs = report["outcome_probabilities"][p]
        rows.append([p, "  ".join(f"{s} {v:.4f}" for s, v in probs.items()),
                     f"{report['expected_payoff'][p]:.4f}"])
    lines.append(_table(["player", "probabilities", "expected payoff"], rows))
    lines.append("Behaviour at every history:")
    for t, stage in enumerate(report["stages"]):
        first = report["behaviour"][stage[0]]
        earlier = list(first[0]["history"])
        body = []
        for h in range(len(first)):
            hist = first[h]["history"]
            body.append([hist[p] for p in earlier]
                        + [" ".join(f"{v:.3f}" for v in report["behaviour"][p][h]["probabilities"].values())
                           for p in stage])
        heads = earlier + [f"{p} ({'/'.join(game.strategies[game.players.index(p)])})" for p in stage]
        lines.append(f"  stage {t + 1}: {', '.join(stage)}")
        lines.append("    " + _table(heads, body).replace("\n", "\n    "))
    return "\n".join(lines)


register_solver("spe", lambda g, o: [spe_report(g, o)], {"SPE": format_spe},
                help="pure subgame-perfect equilibria of the staged game (--stages; four-power "
                     "default US>Japan>China,NorthKorea): path and full strategies")
register_solver("agent-qre", agent_qre_reports, {"AQRE": format_agent_qre},
                help="agent logit QRE of the staged game at each --lambda (--stages as for spe)")
