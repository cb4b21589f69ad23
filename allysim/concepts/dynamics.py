"""Concept ``dynamics``: where the replicator dynamics lead from the barycentre and
seeded random starts: the rest points reached, their stability and basins
(:func:`allysim.solve.rest_point_search`)."""
from __future__ import annotations

import numpy as np

from ..solve import STATUS, rest_point_search
from ..solve.dynamics import STABILITY_NAMES
from ._base import Concept, register
from ._report import base_report, solution_record, table
from ._sweep import FAILED, Column, Field, SweepLayout, count_lines

#: Count histogram bins: 0, 1, ..., 9, and "10 or more" rest points.
_BINS = 11


def _solve(payoffs, options, game):
    return rest_point_search(payoffs, n_starts=options["starts"], seed=options["seed"],
                             tol=options["tol"])


def _profile(game, x) -> dict[str, dict[str, float]]:
    out, o = {}, 0
    for p, strategies in zip(game.players, game.strategies):
        out[p] = {s: float(x[o + k]) for k, s in enumerate(strategies)}
        o += len(strategies)
    return out


def _run(concept, res, game, options):
    rep = base_report(concept, "Dynamics: replicator", res, options)
    records = []
    for m in range(int(res.count[0])):
        rec = solution_record(game, res.profiles[0, m], pure=False)
        rec.update(stability=STABILITY_NAMES[int(res.stability[0, m])],
                   max_real_eigenvalue=float(res.max_eigenvalue[0, m]),
                   basin=int(res.basin[0, m]), nash=bool(res.nash[0, m]))
        records.append(rec)
    arrived = {tuple(np.round(res.profiles[0, m], 6)) for m in range(int(res.count[0]))}
    moving = []
    for k in range(len(res.starts)):
        end = res.end[0, k]
        if not any(np.abs(np.array(a) - end).max() <= 1e-6 for a in arrived):
            moving.append({"start": k, "end": _profile(game, end),
                           "average": _profile(game, res.average[0, k])})
    rep.update(equilibria=records, starts=[_profile(game, s) for s in res.starts],
               moving=moving[:int(res.moving[0])])
    return [rep]


def _compact(profile, player) -> str:
    probs = profile[player]
    top = max(probs.values())
    if top >= 1 - 5e-7:
        return max(probs, key=probs.get)
    return " ".join(f"{s} {v:.3f}" for s, v in probs.items() if v >= 5e-4)


def _format(report, game) -> str:
    players = game.players
    prm = report["parameters"]
    lines = [f"Replicator dynamics from {prm['starts']} starts (the barycentre and "
             f"{prm['starts'] - 1} drawn with seed {prm['seed']}); status {report['status']}"]
    rows = []
    for k, r in enumerate(report["equilibria"], 1):
        rows.append([str(k)] + [_compact(r["probabilities"], p) for p in players]
                    + [r["stability"], f"{r['max_real_eigenvalue']:.3g}",
                       "yes" if r["nash"] else f"no ({r['max_regret']:.2g})", str(r["basin"])])
    if rows:
        lines.append("Rest points reached:")
        lines.append(table(["#"] + list(players) + ["stability", "max Re(eig)", "Nash", "starts"], rows))
    else:
        lines.append("No trajectory reached a rest point.")
    if report["moving"]:
        lines.append(f"{len(report['moving'])} trajectory(ies) still moving at the end (cycling, "
                     "or slowly passing a rest point that is not Nash): state at the end and time "
                     "average")
        body = []
        for c in report["moving"]:
            body.append([str(c["start"]), "end"] + [_compact(c["end"], p) for p in players])
            body.append(["", "average"] + [_compact(c["average"], p) for p in players])
        lines.append(table(["start", ""] + list(players), body))
    return "\n".join(lines)


class DynamicsLayout(SweepLayout):
    """Per point: the number of distinct rest points reached, how many trajectories were
    still moving, and the status; with ``--store full`` one row per rest point with its
    probabilities, regret, stability and basin (starts that reached it)."""

    points_per_second = 6.0

    row_prob = "eq_prob"
    row_payoff = False
    row_extra_names = ("stability", "basin")
    certificate = "rest"        # rest points of the replicator, Nash or not
    chunk_points = 512


    def note(self) -> str:
        return (f"replicator dynamics from {self.options['starts']} starts (seed "
                f"{self.options['seed']}), rest points polished and classified")

    def point_fields(self):
        return [Field("count", "int32"), Field("status", "int8", (), FAILED), Field("moving", "int32")]

    def row_fields(self):
        if self.store != "full":
            return []
        return [Field("eq_point", "int64"), Field("eq_prob", "float64", (self.size,)),
                Field("eq_regret", "float64"), Field("eq_stability", "int8"),
                Field("eq_basin", "int32")]

    def total_fields(self):
        return [Field("count_histogram", "int64", (_BINS,)),
                Field("stable_sum", "float64", (self.size,)), Field("stable_points", "int64")]

    def fill(self, out, res, idx, payoffs, start):
        out["count"][idx], out["status"][idx], out["moving"][idx] = res.count, res.status, res.moving
        local, k = np.nonzero(np.arange(res.profiles.shape[1]) < res.count[:, None])
        stable = res.stability[local, k] == 0
        out["stable_sum"] = res.profiles[local[stable], k[stable]].sum(axis=0)
        out["stable_points"] = np.int64(len(np.unique(local[stable])))
        if self.store == "full":
            out.update(eq_point=(idx[local] + start).astype(np.int64), eq_prob=res.profiles[local, k],
                       eq_regret=res.regret[local, k], eq_stability=res.stability[local, k],
                       eq_basin=res.basin[local, k].astype(np.int32))

    def totals(self, out):
        return {"count_histogram": np.bincount(np.minimum(out["count"], _BINS - 1),
                                               minlength=_BINS).astype(np.int64),
                "stable_sum": np.asarray(out.get("stable_sum", np.zeros(self.size)), dtype=float),
                "stable_points": np.int64(out.get("stable_points", 0))}

    def row_extra(self, arrays):
        return [Column("", arrays["eq_stability"], tuple(STABILITY_NAMES)),
                Column("", arrays["eq_basin"].astype(np.int64))]

    def summary(self, totals, n_points):
        if n_points == 0:
            return []
        sc = totals["status_counts"]
        lines = [f"{self.label}: {self.note()}; share of points by rest points reached:"]
        lines += count_lines(totals, n_points, 34, _BINS)
        lines.append(f"  {'some trajectory still moving':<34} "
                     f"{100 * sc[STATUS['not_converged']] / n_points:6.2f}%")
        return lines


DYNAMICS = register(Concept(
    name="dynamics", title="replicator dynamics",
    help="learning dynamics: the replicator from the barycentre and seeded starts (--seed, "
         "--starts), the rest points reached, their stability and basins",
    options=("tol", "seed", "starts"), solve=_solve, label=lambda o, m: "Dynamics: replicator",
    pure=False, sweep=DynamicsLayout, run=_run, format=_format))
