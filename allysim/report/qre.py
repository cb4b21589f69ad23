"""Reports of the logit QRE solvers: ``qre`` (at each ``--lambda``) and ``qre-limit``
(the limit of the principal branch, a Nash equilibrium selected by the logit trace).

Every report names its concept (``QRE(lambda=1.5)``, ``NE (logit QRE limit)``) and
carries each player's probabilities, expected payoff and regret, and the outcome
probabilities: the likeliest pure profiles and every ``P(Player STRATEGY)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..game import Game
from ..solve import logit_qre, logit_trace, split_profile, status_names, strategy_values
from ._registry import SolveOptions, register_solver, table as _table

#: Pure profiles listed under "most likely outcomes" (all with probability >= MIN_OUTCOME).
TOP_OUTCOMES = 5
MIN_OUTCOME = 0.01


def profile_summary(game: Game, sigma: np.ndarray) -> dict[str, Any]:
    """Probabilities, expected payoffs, regrets and outcome probabilities of one mixed
    profile ``sigma: (s1 + ... + sn,)`` of ``game`` (B = 1)."""
    players, strategies = game.players, game.strategies
    mixes = [m[0] for m in split_profile(sigma[None], game.shape)]
    values = [v[0] for v in strategy_values(game.payoffs, sigma[None])]
    expected = [float(v @ m) for v, m in zip(values, mixes)]
    joint = mixes[0]
    for m in mixes[1:]:
        joint = np.multiply.outer(joint, m)
    flat = joint.ravel()
    order = np.argsort(-flat, kind="stable")[:TOP_OUTCOMES]
    top = [{"profile": {p: strategies[i][a] for i, (p, a) in
                        enumerate(zip(players, np.unravel_index(k, joint.shape)))},
            "probability": float(flat[k])}
           for k in order if flat[k] >= MIN_OUTCOME or k == order[0]]
    return {
        "probabilities": {p: {s: float(x) for s, x in zip(strategies[i], mixes[i])}
                          for i, p in enumerate(players)},
        "expected_payoff": {p: expected[i] for i, p in enumerate(players)},
        "regret": {p: float(values[i].max() - expected[i]) for i, p in enumerate(players)},
        "outcome_probabilities": {
            "top_profiles": top,
            "marginals": {f"P({p} {s})": float(x) for i, p in enumerate(players)
                          for s, x in zip(strategies[i], mixes[i])},
        },
    }


def qre_reports(game: Game, opts: SolveOptions) -> list[dict[str, Any]]:
    """Logit QRE of one game (``game.payoffs: (1, n, s1, ..., sn)``) at each of opts.lambdas."""
    res = logit_qre(game.payoffs, opts.lambdas)
    reports = []
    for li, lam in enumerate(res.lambdas):
        status = str(status_names(res.status[0:1, li])[0])
        report: dict[str, Any] = {
            "solution_concept": f"QRE(lambda={lam:g})", "status": status, "lambda": float(lam),
            "branch": "principal", "tol": res.tol,
        }
        sigma = res.profiles[0, li]
        if np.isfinite(sigma).all():
            report["residual"] = float(res.residual[0, li])
            report["max_regret"] = float(res.regret[0, li])
            report.update(profile_summary(game, sigma))
        reports.append(report)
    return reports


def qre_limit_report(game: Game, opts: SolveOptions) -> dict[str, Any]:
    """The limit of one game's principal logit branch, traced until regret <= opts.tol."""
    res = logit_trace(game.payoffs, regret_tol=opts.tol)
    report = {"solution_concept": "NE (logit QRE limit)", "status": str(status_names(res.status)[0]),
              "lambda_reached": float(res.lambdas[0]), "regret_tol": res.regret_tol,
              "refined": bool(res.refined[0]), "max_regret": float(res.regret[0]),
              "branch": "principal"}
    report.update(profile_summary(game, res.profiles[0]))
    return report


def _player_table(report: dict[str, Any], game: Game) -> str:
    rows = []
    for p in game.players:
        probs = report["probabilities"][p]
        rows.append([p, "  ".join(f"{s} {v:.4f}" for s, v in probs.items()),
                     f"{report['expected_payoff'][p]:.4f}", f"{report['regret'][p]:.2e}"])
    return _table(["player", "probabilities", "expected payoff", "regret"], rows)


def _outcome_table(report: dict[str, Any], game: Game) -> str:
    rows = [[str(k)] + [o["profile"][p] for p in game.players] + [f"{o['probability']:.4f}"]
            for k, o in enumerate(report["outcome_probabilities"]["top_profiles"], 1)]
    return _table(["#"] + list(game.players) + ["probability"], rows)


def format_qre(report: dict[str, Any], game: Game) -> str:
    head = f"Logit QRE at lambda = {report['lambda']:g} (principal branch; status {report['status']}"
    if "probabilities" not in report:
        return head + ")\n  no certified QRE at this lambda (see the status)"
    lines = [head + f", residual {report['residual']:.1e}, max regret {report['max_regret']:.3g})",
             _player_table(report, game), "Most likely outcomes:", _outcome_table(report, game)]
    if report["status"] == "bifurcation":
        lines.append("Note: the branch passed a branch point before this lambda; the QRE is "
                     "certified but may not be on the principal branch.")
    return "\n".join(lines)


def format_qre_limit(report: dict[str, Any], game: Game) -> str:
    how = "exact on its support" if report["refined"] else "last QRE of the trace"
    lines = [f"Logit QRE limit (Nash equilibrium selected by the principal branch; status "
             f"{report['status']}, max regret {report['max_regret']:.1e}, lambda reached "
             f"{report['lambda_reached']:.3g}, {how})",
             _player_table(report, game), "Most likely outcomes:", _outcome_table(report, game)]
    if report["status"] == "bifurcation":
        lines.append("Note: the branch passed a branch point (e.g. a symmetric game's pitchfork) and "
                     "was followed straight through it; the equilibrium is certified, but other "
                     "branches from that point lead elsewhere.")
    if report["status"] == "not_converged":
        lines.append(f"Note: the regret stayed above {report['regret_tol']:g}; this is an "
                     "approximate equilibrium.")
    return "\n".join(lines)


register_solver("qre", qre_reports, {"QRE(": format_qre},
                help="logit quantal response equilibrium at each --lambda (principal branch)")
register_solver("qre-limit", lambda g, o: [qre_limit_report(g, o)],
                {"NE (logit QRE limit)": format_qre_limit},
                help="the Nash equilibrium the principal logit QRE branch converges to (certified "
                     "to --tol)")
