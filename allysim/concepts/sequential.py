"""Concepts ``spe`` (pure subgame-perfect equilibria of a staged game) and ``agent-qre``
(its agent logit QRE). Stage order: ``--stages``, else the model's own (four-power:
``US > Japan > China, NorthKorea``, the sequential variant in docs/model.md), else one
player per stage in player order."""
from __future__ import annotations

import math

import numpy as np

from ..solve import STATUS, agent_logit_qre, resolve_stages, subgame_perfect
from ..solve.sequential import history_profile
from ._base import Concept, register
from ._report import base_report, status_name, table
from ._sweep import FAILED, Field, LambdaLayout, SweepLayout, profile_shares

#: Equilibria whose full strategies are printed (all are in --json).
MAX_PRINTED = 4
#: SPE count histogram bins: 0, 1, ..., 9, and "10 or more".
_BINS = 11


def stage_text(stages) -> str:
    return " > ".join(", ".join(s) for s in stages)


def _compact(stages) -> str:
    return ">".join(",".join(s) for s in stages)


def _histories(game, idx, t: int) -> list[dict[str, str]]:
    """Names of the earlier moves at every history of stage t."""
    H = int(np.prod([game.shape[p] for st in idx[:t] for p in st])) if t else 1
    out = []
    for h in range(H):
        moves = history_profile(game.shape, idx, t, h)
        out.append({game.players[p]: game.strategies[p][a] for p, a in moves.items()})
    return out


def _index(options, players):
    return resolve_stages(options["stages"], players)


# ----------------------------------------------------------------------------- spe

def _spe_label(options, slot) -> str:
    return f"SPE (pure; stages {_compact(options['stages'])})"


def _solve_spe(payoffs, options, game):
    return subgame_perfect(payoffs, _index(options, game.players), tol=options["tol"])


def _spe_run(concept, res, game, options):
    idx = _index(options, game.players)
    players, strategies = game.players, game.strategies
    rep = base_report(concept, _spe_label(options, 0), res, options)
    equilibria = []
    for k in range(int(res.count[0])):
        strat = {}
        for t, stage in enumerate(idx):
            hist = _histories(game, idx, t)
            for p in stage:
                strat[players[p]] = [{"history": hist[h],
                                      "move": strategies[p][int(res.choices[p][0, k, h])]}
                                     for h in range(len(hist))]
        equilibria.append({
            "profile": {players[p]: strategies[p][int(a)] for p, a in enumerate(res.pure[0, k])},
            "payoff": {players[p]: float(res.payoff[0, k, p]) for p in range(len(players))},
            "max_regret": float(res.regret[0, k]),
            "strategies": strat,
        })
    rep.update(stages=[list(s) for s in options["stages"]], truncated=bool(res.truncated[0]),
               equilibria=equilibria)
    return [rep]


def _format_spe(report, game) -> str:
    stages = report["stages"]
    head = (f"Subgame-perfect equilibria (pure), stages {stage_text(stages)}: {report['count']}"
            f"{' or more (enumeration stopped)' if report['truncated'] else ''}"
            f"  (status {report['status']}, tol {report['parameters']['tol']:g})")
    if not report["equilibria"]:
        return (head + "\n  none: some stage game has no pure equilibrium on every branch;"
                " try --solver agent-qre")
    players = game.players
    order = [p for st in stages for p in st]
    rows = [[str(k)] + [eq["profile"][p] for p in order] + [f"{eq['payoff'][p]:.4f}" for p in players]
            + [f"{eq['max_regret']:.1e}"] for k, eq in enumerate(report["equilibria"], 1)]
    lines = [head, "Equilibrium path" + ("s" if len(rows) > 1 else "") + ":",
             table(["#"] + order + [f"u({p})" for p in players] + ["max regret"], rows)]
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
                on_path = all(eq["profile"][p] == m for p, m in hist.items())
                body.append([("*" if on_path else "")] + [hist[p] for p in earlier]
                            + [eq["strategies"][p][h]["move"] for p in stage])
            lines.append(f"  stage {t + 1}: {', '.join(stage)}"
                         + (f" after {', '.join(earlier)}" if earlier else ""))
            lines.append("    " + table([""] + earlier + list(stage), body).replace("\n", "\n    "))
    if len(report["equilibria"]) > MAX_PRINTED:
        lines.append(f"\n({len(report['equilibria']) - MAX_PRINTED} more SPE: use --json for their "
                     "strategies)")
    return "\n".join(lines)


class SPELayout(SweepLayout):
    """Per point: the number of pure SPE, status, whether enumeration stopped, the path
    (flat profile; -1 none, -2 several paths) and its payoffs; with ``--store full``
    one row per SPE with its path, payoffs, certificate and moves at every history."""

    points_per_second = 20_000.0

    row_pure = "eq_path"
    certificate = "resolve"     # an SPE's certificate needs the whole tree
    chunk_points = 4096


    def __init__(self, concept, model, options, store):
        super().__init__(concept, model, options, store)
        self.index = _index(options, model.players)
        self.n_profiles = math.prod(model.shape)
        self.order = [p for st in self.index for p in st]
        self.n_choices = 0
        for t, st in enumerate(self.index):
            h = math.prod(model.shape[p] for s in self.index[:t] for p in s)
            self.n_choices += h * len(st)

    def note(self) -> str:
        return f"backward induction, stages {stage_text(self.options['stages'])} (NumPy)"

    def point_fields(self):
        n = self.model.n_players
        return [Field("count", "int32"), Field("status", "int8", (), FAILED),
                Field("truncated", "bool"), Field("outcome", "int32", (), -1),
                Field("payoff", "float64", (n,), np.nan)]

    def row_fields(self):
        if self.store != "full":
            return []
        n = self.model.n_players
        return [Field("eq_point", "int64"), Field("eq_path", "int16", (n,)),
                Field("eq_payoff", "float64", (n,)), Field("eq_regret", "float64"),
                Field("eq_choices", "int16", (self.n_choices,))]

    def total_fields(self):
        return [Field("path_points", "int64", (self.n_profiles,)),
                Field("several_paths", "int64"), Field("count_histogram", "int64", (_BINS,))]

    def fill(self, out, res, idx, payoffs, start):
        out["count"][idx], out["status"][idx], out["truncated"][idx] = res.count, res.status, res.truncated
        flat = np.ravel_multi_index(tuple(np.maximum(res.pure[:, 0].T, 0)), self.model.shape)
        same = (res.pure == res.pure[:, :1]).all(axis=2) | ~res.valid
        out["outcome"][idx] = np.where(res.count == 0, -1, np.where(same.all(axis=1), flat, -2))
        out["payoff"][idx] = np.where(res.count[:, None] > 0, res.payoff[:, 0], np.nan)
        if self.store == "full":
            local, k = np.nonzero(res.valid)
            choices = np.concatenate([res.choices[p][local, k] for p in self.order], axis=1)
            out.update(eq_point=(idx[local] + start).astype(np.int64),
                       eq_path=res.pure[local, k].astype(np.int16), eq_payoff=res.payoff[local, k],
                       eq_regret=res.regret[local, k], eq_choices=choices.astype(np.int16))

    def totals(self, out):
        outcome, count = out["outcome"], out["count"]
        return {"path_points": np.bincount(outcome[outcome >= 0],
                                           minlength=self.n_profiles).astype(np.int64),
                "several_paths": np.int64((outcome == -2).sum()),
                "count_histogram": np.bincount(np.minimum(count, _BINS - 1),
                                               minlength=_BINS).astype(np.int64)}

    def summary(self, totals, n_points):
        if n_points == 0:
            return []
        hist = totals["count_histogram"]
        lines = [f"{self.label}, tol {self.options['tol']:g}; share of points by equilibrium path "
                 f"({'/'.join(self.model.players)}):"]
        shares, width = profile_shares(self.model, totals["path_points"], n_points, "paths")
        lines += shares
        none = int(totals["status_counts"][STATUS["no_pure"]] + totals["status_counts"][STATUS["timeout"]])
        lines.append(f"  {'several SPE, different paths':<{width}} "
                     f"{100 * int(totals['several_paths']) / n_points:6.2f}%")
        lines.append(f"  {'no pure SPE':<{width}} {100 * none / n_points:6.2f}%")
        lines.append(f"  {'several SPE (any paths)':<{width}} {100 * int(hist[2:].sum()) / n_points:6.2f}%")
        return lines


SPE = register(Concept(
    name="spe", title="subgame-perfect equilibria",
    help="pure subgame-perfect equilibria of the staged game (--stages; four-power default "
         "US>Japan>China,NorthKorea): path and full strategies",
    options=("tol", "stages"), solve=_solve_spe, label=_spe_label, pure=True, sweep=SPELayout,
    run=_spe_run, format=_format_spe))


# ----------------------------------------------------------------------------- agent-qre

def _aqre_label(options, slot) -> str:
    return f"AQRE(lambda={options['lambda'][slot]:g}; stages {_compact(options['stages'])})"


def _solve_aqre(payoffs, options, game):
    return agent_logit_qre(payoffs, _index(options, game.players), options["lambda"],
                           residual_tol=options["residual_tol"])


def _aqre_run(concept, res, game, options):
    idx = _index(options, game.players)
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
                     "probabilities": {s: float(res.behaviour[p][0, li, h, k])
                                       for k, s in enumerate(strategies[p])}}
                    for h in range(len(hist))]
        probs = {players[p]: {s: float(res.profiles[0, li, offsets[p] + k])
                              for k, s in enumerate(strategies[p])} for p in range(len(players))}
        payoff = {players[p]: float(res.payoff[0, li, p]) for p in range(len(players))}
        rec = {"probabilities": probs, "payoff": payoff, "max_regret": float(res.regret[0, li])}
        rep = base_report(concept, _aqre_label(options, li), res, options)
        rep.update(**{"lambda": float(lam)}, stages=[list(s) for s in options["stages"]],
                   status=status_name(res.lambda_status[0, li]), count=1,
                   residual=float(res.residual[0, li]), probabilities=probs, payoff=payoff,
                   max_regret=float(res.regret[0, li]), behaviour=behaviour, equilibria=[rec])
        reports.append(rep)
    return reports


def _format_aqre(report, game) -> str:
    lines = [f"Agent logit QRE at lambda = {report['lambda']:g}, stages {stage_text(report['stages'])}  "
             f"(status {report['status']}, residual {report['residual']:.1e})",
             "Probabilities on the play of the game:"]
    rows = []
    for p in game.players:
        probs = report["probabilities"][p]
        rows.append([p, "  ".join(f"{s} {v:.4f}" for s, v in probs.items()),
                     f"{report['payoff'][p]:.4f}"])
    lines.append(table(["player", "probabilities", "expected payoff"], rows))
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
        lines.append("    " + table(heads, body).replace("\n", "\n    "))
    return "\n".join(lines)


class AQRELayout(LambdaLayout):
    """Per point and lambda (:class:`~allysim.concepts.LambdaLayout`): each player's move
    probabilities on the play of the game, expected payoffs, the residual and the agent
    regret."""

    points_per_second = 2_500.0

    payoff = True
    certificate = "resolve"     # stored: marginals on the play; the behaviour is not kept

    def note(self) -> str:
        return (f"agent logit QRE by backward induction, stages {stage_text(self.options['stages'])}, "
                f"lambda {', '.join(f'{x:g}' for x in self.lams)}")


AGENT_QRE = register(Concept(
    name="agent-qre", title="agent logit QRE",
    help="agent logit QRE of the staged game at each --lambda (--stages as for spe)",
    options=("lambda", "residual_tol", "stages"), solve=_solve_aqre, label=_aqre_label,
    pure=False, sweep=AQRELayout, run=_aqre_run, format=_format_aqre))

__all__ = ["SPE", "AGENT_QRE"]
