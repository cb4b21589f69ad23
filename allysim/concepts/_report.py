"""Results as JSON-ready records and text tables, generic over concepts (private).

A *report* is one solution concept's answer for one game (``run`` solves B = 1):
``{"solution_concept", "method", "parameters", "status", "count", "equilibria": [...]}``
plus the concept's extras. Each entry of ``equilibria`` is a *record*: for pure
solutions ``profile`` ({player: strategy}), for mixed ones ``probabilities``
({player: {strategy: p}}), and always ``payoff`` ({player: expected payoff}),
``regret`` ({player: gain from the best deviation}) and ``max_regret``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..solve import split_profile, status_names, strategy_values

#: Probabilities below this are left out of text tables (they are in --json).
SHOWN = 5e-5
#: Pure profiles listed under "most likely outcomes" (all with probability >= MIN_OUTCOME).
TOP_OUTCOMES = 5
MIN_OUTCOME = 0.01


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with a dashed rule under the header."""
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h)
              for k, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def status_name(code) -> str:
    return str(status_names(np.asarray([code]))[0])


def mixed_values(game, sigma: np.ndarray):
    """Per player: strategy values ``(s_i,)``, expected payoff and regret at ``sigma: (S,)``."""
    values = [v[0] for v in strategy_values(game.payoffs, sigma[None])]
    mixes = [m[0] for m in split_profile(sigma[None], game.shape)]
    expected = [float(v @ m) for v, m in zip(values, mixes)]
    regrets = [float(v.max() - e) for v, e in zip(values, expected)]
    return mixes, expected, regrets


def solution_record(game, sigma: np.ndarray, pure: bool) -> dict[str, Any]:
    """The record of one solution ``sigma: (S,)`` of ``game`` (B = 1)."""
    mixes, expected, regrets = mixed_values(game, sigma)
    players = game.players
    rec: dict[str, Any] = {}
    if pure:
        rec["profile"] = {p: game.strategies[i][int(np.argmax(mixes[i]))] for i, p in enumerate(players)}
    else:
        rec["probabilities"] = {p: {s: float(x) for s, x in zip(game.strategies[i], mixes[i])}
                                for i, p in enumerate(players)}
    rec["payoff"] = {p: expected[i] for i, p in enumerate(players)}
    rec["regret"] = {p: regrets[i] for i, p in enumerate(players)}
    rec["max_regret"] = max(regrets, default=0.0)
    return rec


def outcome_probabilities(game, sigma: np.ndarray) -> dict[str, Any]:
    """The likeliest pure profiles and every marginal ``P(Player=STRATEGY)`` of ``sigma``."""
    mixes = [m[0] for m in split_profile(sigma[None], game.shape)]
    joint = mixes[0]
    for m in mixes[1:]:
        joint = np.multiply.outer(joint, m)
    flat = joint.ravel()
    order = np.argsort(-flat, kind="stable")[:TOP_OUTCOMES]
    top = [{"profile": {p: game.strategies[i][a] for i, (p, a) in
                        enumerate(zip(game.players, np.unravel_index(k, joint.shape)))},
            "probability": float(flat[k])}
           for k in order if flat[k] >= MIN_OUTCOME or k == order[0]]
    return {"top_profiles": top,
            "marginals": {f"P({p}={s})": float(x) for i, p in enumerate(game.players)
                          for s, x in zip(game.strategies[i], mixes[i])}}


def base_report(concept, label: str, result, options: dict, b: int = 0) -> dict[str, Any]:
    """The fields every report starts with."""
    return {"solution_concept": label, "solver": concept.name, "method": result.method,
            "parameters": dict(options), "status": status_name(result.status[b]),
            "count": int(result.count[b])}


def solutions_report(concept, result, game, options: dict, label: str | None = None,
                     slots=None) -> dict[str, Any]:
    """A report whose ``equilibria`` are the result's solutions for game 0 (``slots``:
    which ones, default all)."""
    rep = base_report(concept, label or concept.label(options, 0), result, options)
    slots = range(int(result.count[0])) if slots is None else slots
    rep["equilibria"] = [solution_record(game, result.profiles[0, m], concept.pure) for m in slots]
    return rep


def mix_text(probs: dict[str, float]) -> str:
    """``SUPPORT 0.5200  ARM 0.4800`` (a pure strategy by its name alone)."""
    shown = [(s, p) for s, p in probs.items() if p > SHOWN]
    if len(shown) == 1 and shown[0][1] > 1 - SHOWN:
        return shown[0][0]
    return "  ".join(f"{s} {p:.4f}" for s, p in shown)


def solutions_table(report: dict[str, Any], game, extra: list[tuple[str, str]] = ()) -> str:
    """The text table of a report's solutions: strategies (pure) or probabilities (mixed),
    payoffs and max regret, then ``extra`` columns ``(header, record key)``."""
    players = game.players
    rows = []
    for k, eq in enumerate(report["equilibria"], 1):
        if "profile" in eq:
            cells = [eq["profile"][p] for p in players]
        else:
            cells = [mix_text(eq["probabilities"][p]) for p in players]
        cells += [f"{round(eq['payoff'][p], 4) + 0.0:.4f}" for p in players]
        cells.append(f"{eq['max_regret']:.1e}")
        cells += [str(eq.get(key, "")) for _, key in extra]
        rows.append([str(k)] + cells)
    headers = (["#"] + list(players) + [f"u({p})" for p in players] + ["max regret"]
               + [h for h, _ in extra])
    return table(headers, rows)


def default_text(report: dict[str, Any], game) -> str:
    """A report as a header line and its solutions table."""
    head = (f"{report['solution_concept']}: {report['count']}  (status {report['status']}; "
            + ", ".join(f"{k} {v}" for k, v in report["parameters"].items()) + ")")
    if not report["equilibria"]:
        return head + "\n  none"
    return head + "\n" + solutions_table(report, game)
