"""Report of the mixed Nash solver (``allysim run --solver mixed``).

Two players with a choice (e.g. the four-power game with ``--fix China=SLICE
--fix NorthKorea=FREEZE``): every equilibrium, by support enumeration. More: a
certified search from many starts (:func:`allysim.solve.mixed_nash`), whose
report says what was searched.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import DegenerateGameWarning
from ..game import Game
from ..solve import mixed_nash, split_profile, status_names, strategy_values
from ._registry import SolveOptions, register_solver

#: Probabilities below this are left out of the text table (they are in --json).
SHOWN = 5e-5


def mixed_report(game: Game, opts: SolveOptions) -> dict[str, Any]:
    """Mixed Nash equilibria of one game (``game.payoffs: (1, n, s1, ..., sn)``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)  # the status says it
        res = mixed_nash(game.payoffs, tol=opts.tol, seed=opts.seed)
    sigma = res.equilibria_of(0)
    k = len(sigma)
    values = strategy_values(np.repeat(game.payoffs, k, axis=0), sigma) if k else []
    mixes = split_profile(sigma, game.shape) if k else []
    rows = []
    for e in range(k):
        expected = [float(values[i][e] @ mixes[i][e]) for i in range(len(game.players))]
        rows.append({
            "probabilities": {p: {s: float(x) for s, x in zip(game.strategies[i], mixes[i][e])}
                              for i, p in enumerate(game.players)},
            "expected_payoff": {p: expected[i] for i, p in enumerate(game.players)},
            "regret": {p: float(values[i][e].max() - expected[i]) for i, p in enumerate(game.players)},
            "max_regret": float(res.regret[0, e]),
            "pure": bool(((sigma[e] == 0) | (sigma[e] == 1)).all()),
            "regular": bool(res.regular[0, e]),
            "component": int(res.component[0, e]),
        })
    method = {"support_enumeration": "support enumeration (two players with a choice)",
              "search": "search from many starts, each refined by Newton on its support"}[res.method]
    return {
        "solution_concept": "NE (mixed)",
        "status": str(status_names(res.status)[0]),
        "method": method,
        "complete": bool(res.complete[0]),
        "continuum": bool(res.continuum[0]),
        "tol": res.tol,
        "seed": opts.seed,
        "count": int(res.count[0]),
        "searched": {kind: int(n[0]) for kind, n in res.searched.items()},
        "converged": {kind: int(n[0]) for kind, n in res.converged.items()},
        "notes": list(res.notes),
        "equilibria": rows,
    }


def _mix_text(probs: dict[str, float]) -> str:
    shown = [(s, p) for s, p in probs.items() if p > SHOWN]
    if len(shown) == 1 and shown[0][1] > 1 - SHOWN:
        return shown[0][0]
    return "  ".join(f"{s} {p:.4f}" for s, p in shown)


def format_mixed(report: dict[str, Any], game: Game) -> str:
    n = report["count"]
    lines = [f"Mixed Nash equilibria: {n}  (status {report['status']}; {report['method']}; "
             f"each certified to max regret <= {report['tol']:g})"]
    s, c = report["searched"], report["converged"]
    if "support_pairs" in s:
        lines.append(f"  {s['support_pairs']} support pairs solved; the list is every "
                     + ("equilibrium" if report["status"] == "ok" else "extreme equilibrium"))
    else:
        tried = ", ".join(f"{s.get(k, 0)} {k}" for k in ("pure", "qre", "random", "supports"))
        found = ", ".join(f"{c.get(k, 0)} {k}" for k in ("pure", "qre", "random", "supports"))
        lines.append(f"  starts tried: {tried}"
                     + (f" ({s['supports_pruned']} support profiles skipped: dominated)"
                        if "supports_pruned" in s else ""))
        lines.append(f"  reached a certified equilibrium: {found}; a search can miss equilibria")
    for note in report["notes"]:
        lines.append(f"  note: {note}")
    if not n:
        lines.append("  none found")
        return "\n".join(lines)
    width = max(len(p) for p in game.players)
    comps: dict[int, int] = {}
    for eq in report["equilibria"]:
        comps[eq["component"]] = comps.get(eq["component"], 0) + 1
    for k, eq in enumerate(report["equilibria"], 1):
        kind = "pure" if eq["pure"] else "mixed"
        tags = [kind] + ([] if eq["regular"] else ["not regular"])
        if comps[eq["component"]] > 1:
            tags.append(f"on continuum {eq['component']}")
        lines.append(f"#{k}  ({', '.join(tags)}; max regret {eq['max_regret']:.1e})")
        for p in game.players:
            lines.append(f"  {p.ljust(width)}  u = {round(eq['expected_payoff'][p], 4) + 0.0:9.4f}   "
                         f"{_mix_text(eq['probabilities'][p])}")
    if report["continuum"]:
        lines.append("Note: a continuum of equilibria: equilibria marked with the same continuum "
                     "number lie in one connected set"
                     + (" (its extreme points are listed)." if report["complete"] else
                        " (points the search landed on; the set is not traced)."))
    elif report["status"] == "degenerate":
        lines.append("Note: the game is degenerate (ties): "
                     + ("the extreme equilibria are listed." if report["complete"] else
                        "some equilibrium has an unused best reply or a singular Jacobian."))
    return "\n".join(lines)


register_solver("mixed", lambda g, o: [mixed_report(g, o)], {"NE (mixed)": format_mixed},
                help="mixed Nash equilibria: all of them for two players with a choice (support "
                     "enumeration), else a certified search (pure, QRE-limit, random and support "
                     "starts; --seed)")
