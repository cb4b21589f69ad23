"""Report of the ``dynamics`` solver: replicator dynamics from several seeded
starts, their rest points and stability, and the logit dynamics' rest point
(a logit QRE) at each ``--lambda``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..game import Game
from ..solve import status_names
from ..solve.dynamics import logit_dynamics, random_starts, replicator, rest_points, stability_names
from ._registry import SolveOptions, register_solver, table as _table

#: Random starts besides the barycentre, drawn from SolveOptions.seed.
N_STARTS = 8
T_MAX = 100.0
DT = 0.02
SAME = 1e-6        # rest points closer than this (max abs) are one


def _profile(game: Game, x: np.ndarray) -> dict[str, dict[str, float]]:
    out, o = {}, 0
    for p, strategies in zip(game.players, game.strategies):
        out[p] = {s: float(x[o + k]) for k, s in enumerate(strategies)}
        o += len(strategies)
    return out


def _rest_record(game, rp, k, starts):
    eig = rp.eigenvalues[k]
    return {"profile": _profile(game, rp.points[k]),
            "stability": str(stability_names(rp.stability[k:k + 1])[0]),
            "max_real_eigenvalue": float(eig.real.max()) if eig.size else None,
            "eigenvalues": [[float(e.real), float(e.imag)] for e in eig],
            "flow": float(rp.flow[k]), "regret": float(rp.regret[k]),
            "nash": bool(rp.regret[k] <= rp.tol), "starts": starts}


def dynamics_reports(game: Game, opts: SolveOptions) -> list[dict[str, Any]]:
    """Replicator from the barycentre and N_STARTS seeded starts; logit dynamics per lambda."""
    u = game.payoffs
    shape = game.shape
    bary = np.concatenate([np.full(s, 1.0 / s) for s in shape])[None, :]
    starts = np.concatenate([bary, random_starts(shape, N_STARTS, opts.seed)])
    K = len(starts)
    uu = np.repeat(u, K, axis=0)
    rep = replicator(uu, starts, t_max=T_MAX, dt=DT)
    rp = rest_points(uu, rep.end)
    groups: list[tuple[int, list[int]]] = []
    cycling = []
    for k in range(K):
        if rep.status[k] != 0 or rp.status[k] != 0:
            cycling.append({"start": k, "average": _profile(game, rep.average[k]),
                            "end": _profile(game, rep.end[k]), "flow": float(rep.flow[k])})
            continue
        for rep_k, members in groups:
            if np.abs(rp.points[rep_k] - rp.points[k]).max() <= SAME:
                members.append(k)
                break
        else:
            groups.append((k, [k]))
    # Canonical order: by the rounded profile, so output does not depend on start order.
    groups.sort(key=lambda g: tuple(-np.round(rp.points[g[0]], 9)))
    reports = [{
        "solution_concept": "Dynamics: replicator",
        "starts": K, "seed": opts.seed, "t_max": T_MAX, "dt": DT, "tol": rp.tol,
        "eig_tol": rp.eig_tol, "start_points": [_profile(game, s) for s in starts],
        "rest_points": [_rest_record(game, rp, k, members) for k, members in groups],
        "not_converged": cycling,
    }]
    for lam in opts.lambdas:
        ld = logit_dynamics(u, lam, bary)
        lr = rest_points(u, ld.end, "logit", lam)
        rec = _rest_record(game, lr, 0, [0])
        rec.pop("nash")
        reports.append({"solution_concept": f"Dynamics: logit(lambda={lam:g})", "lambda": float(lam),
                        "t_max": ld.t_max, "dt": ld.dt, "tol": lr.tol,
                        "status": str(status_names(lr.status)[0]), "rest_point": rec})
    return reports


def _compact(profile: dict[str, dict[str, float]], player: str) -> str:
    probs = profile[player]
    top = max(probs.values())
    if top >= 1 - 5e-7:
        return max(probs, key=probs.get)
    return " ".join(f"{s} {v:.3f}" for s, v in probs.items() if v >= 5e-4)


def format_dynamics(report: dict[str, Any], game: Game) -> str:
    players = game.players
    if report["solution_concept"] == "Dynamics: replicator":
        lines = [f"Replicator dynamics from {report['starts']} starts (the barycentre and "
                 f"{report['starts'] - 1} drawn with seed {report['seed']}), t = {report['t_max']:g}, "
                 f"dt = {report['dt']:g}"]
        rows = []
        for k, r in enumerate(report["rest_points"], 1):
            rows.append([str(k)] + [_compact(r["profile"], p) for p in players]
                        + [r["stability"], f"{r['max_real_eigenvalue']:.3g}",
                           "yes" if r["nash"] else f"no ({r['regret']:.2g})", str(len(r["starts"]))])
        if rows:
            lines.append("Rest points reached:")
            lines.append(_table(["#"] + list(players) + ["stability", "max Re(eig)", "Nash", "starts"], rows))
        else:
            lines.append("No trajectory reached a rest point.")
        if report["not_converged"]:
            lines.append(f"{len(report['not_converged'])} trajectory(ies) still moving at t = "
                         f"{report['t_max']:g} (cycling, or slowly passing a rest point that is not "
                         "Nash): state at the end and time average")
            body = []
            for c in report["not_converged"]:
                body.append([str(c["start"]), "end"] + [_compact(c["end"], p) for p in players])
                body.append(["", "average"] + [_compact(c["average"], p) for p in players])
            lines.append(_table(["start", ""] + list(players), body))
        return "\n".join(lines)
    r = report["rest_point"]
    lines = [f"Logit dynamics at lambda = {report['lambda']:g} from the barycentre: rest point "
             f"(a logit QRE), {r['stability']}, max Re(eig) {r['max_real_eigenvalue']:.3g}, "
             f"|flow| {r['flow']:.1e} (status {report['status']})"]
    lines.append(_table(["player", "probabilities"],
                        [[p, "  ".join(f"{s} {v:.4f}" for s, v in r["profile"][p].items())] for p in players]))
    return "\n".join(lines)


register_solver("dynamics", dynamics_reports, {"Dynamics:": format_dynamics},
                help="learning dynamics: replicator from seeded starts (--seed) with rest points and "
                     "their stability; logit dynamics' rest point at each --lambda")
