"""Concept ``mixed``: mixed Nash equilibria, every one for two players with a choice
(support enumeration), a certified search otherwise (:func:`allysim.solve.mixed_nash`)."""
from __future__ import annotations

import numpy as np

from ..solve import MIXED_TOL, STATUS, mixed_nash, split_profile, strategy_values
from ..solve.mixed_nash import START_KINDS
from ._base import Concept, register
from ._report import mix_text, solutions_report
from ._sweep import FAILED, Field, SweepLayout, count_lines

#: Count histogram bins: 0, 1, ..., 14, and "15 or more".
_BINS = 16


def _solve(payoffs, options, game):
    return mixed_nash(payoffs, tol=options["tol"], seed=options["seed"], backend=options["backend"])


def _run(concept, result, game, options):
    rep = solutions_report(concept, result, game, options)
    for k, eq in enumerate(rep["equilibria"]):
        sigma = result.profiles[0, k]
        eq["pure"] = bool(((sigma == 0) | (sigma == 1)).all())
        eq["regular"] = bool(result.regular[0, k])
        eq["component"] = int(result.component[0, k])
    rep["method"] = {"support_enumeration": "support enumeration (two players with a choice)",
                     "search": "search from many starts, each refined by Newton on its support"
                     }[result.method]
    rep.update(complete=bool(result.complete[0]), continuum=bool(result.continuum[0]),
               searched={kind: int(n[0]) for kind, n in result.searched.items()},
               converged={kind: int(n[0]) for kind, n in result.converged.items()},
               notes=list(result.notes))
    if result.n_components is not None:
        n_comp = int(result.n_components[0])
        rep["components"] = [{"label": c, "dimension": int(result.component_dimension[0, c]),
                              "traced": bool(result.component_traced[0, c])}
                             for c in range(n_comp)]
        rep["components_capped"] = bool(result.components_capped[0])
    return [rep]


def _format(report, game) -> str:
    n = report["count"]
    lines = [f"Mixed Nash equilibria: {n}  (status {report['status']}; {report['method']}; "
             f"each certified to max regret <= {report['parameters']['tol']:g} x payoff scale)"]
    s, c = report["searched"], report["converged"]
    if "support_pairs" in s:
        lines.append(f"  {s['support_pairs']} support pairs solved; the list is every "
                     + ("equilibrium" if report["status"] == "ok" else "extreme equilibrium"))
    else:
        tried = ", ".join(f"{s.get(k, 0)} {k}" for k in START_KINDS)
        found = ", ".join(f"{c.get(k, 0)} {k}" for k in START_KINDS)
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
    dims = {c["label"]: c["dimension"] for c in report.get("components", [])}
    comps: dict[int, int] = {}
    for eq in report["equilibria"]:
        comps[eq["component"]] = comps.get(eq["component"], 0) + 1
    for k, eq in enumerate(report["equilibria"], 1):
        tags = ["pure" if eq["pure"] else "mixed"] + ([] if eq["regular"] else ["not regular"])
        if dims.get(eq["component"], 0) > 0 or comps[eq["component"]] > 1:
            tags.append(f"on set {eq['component']} of dimension {dims.get(eq['component'], '?')}")
        lines.append(f"#{k}  ({', '.join(tags)}; max regret {eq['max_regret']:.1e})")
        for p in game.players:
            lines.append(f"  {p.ljust(width)}  u = {round(eq['payoff'][p], 4) + 0.0:9.4f}   "
                         f"{mix_text(eq['probabilities'][p])}")
    if report["continuum"]:
        lines.append("Note: a continuum of equilibria: equilibria marked with the same set number "
                     "lie in one connected set of equilibria, listed once by its extreme points"
                     + ("." if report["complete"] else
                        " that the search reached (a set it never landed on is missing)."))
    elif report["status"] == "degenerate":
        lines.append("Note: the game is degenerate (ties): "
                     + ("the extreme equilibria are listed." if report["complete"] else
                        "some equilibrium has an unused best reply or a singular Jacobian."))
    return "\n".join(lines)


class MixedLayout(SweepLayout):
    """Per point: the number of equilibria found, the status, whether the list is
    complete (two players with a choice: support enumeration) and whether a continuum
    was found; with ``--store full`` one row per equilibrium with every
    ``P(Player=STRATEGY)``, expected payoffs and max regret. The search's random starts
    come from ``seed`` alone and are the same for every point, so the answers do not
    depend on chunking, workers or executor."""

    points_per_second = 25.0

    row_prob = "eq_prob"
    chunk_points = 1024


    def note(self) -> str:
        active = sum(s > 1 for s in self.model.shape)
        return ("support enumeration, batched (every equilibrium)" if active <= 2 else
                f"certified search from pure, QRE-limit, random and support starts "
                f"(seed {self.options['seed']})")

    def point_fields(self):
        return [Field("count", "int32"), Field("status", "int8", (), FAILED),
                Field("complete", "bool"), Field("continuum", "bool")]

    def row_fields(self):
        if self.store != "full":
            return []
        n = self.model.n_players
        return [Field("eq_point", "int64"), Field("eq_prob", "float64", (self.size,)),
                Field("eq_payoff", "float64", (n,)), Field("eq_regret", "float64")]

    def total_fields(self):
        return [Field("count_histogram", "int64", (_BINS,)), Field("pure_only", "int64"),
                Field("mixed_points", "int64")]

    def fill(self, out, res, idx, payoffs, start):
        out["count"][idx], out["status"][idx] = res.count, res.status
        out["complete"][idx], out["continuum"][idx] = res.complete, res.continuum
        local, k = np.nonzero(np.arange(res.profiles.shape[1]) < res.count[:, None])
        sigma = res.profiles[local, k]
        is_pure = ((sigma == 0) | (sigma == 1)).all(axis=1)
        has_mixed = np.zeros(len(idx), bool)
        has_mixed[local[~is_pure]] = True
        out["mixed_points"] = np.int64(has_mixed.sum())
        out["pure_only"] = np.int64(((res.count > 0) & ~has_mixed).sum())
        if self.store == "full" and len(local):
            values = strategy_values(payoffs[local], sigma)
            mixes = split_profile(sigma, self.model.shape)
            payoff = np.stack([(v * m).sum(axis=1) for v, m in zip(values, mixes)], axis=1)
            out.update(eq_point=(idx[local] + start).astype(np.int64), eq_prob=sigma,
                       eq_payoff=payoff, eq_regret=res.regret[local, k])

    def totals(self, out):
        count = out["count"]
        return {"count_histogram": np.bincount(np.minimum(count, _BINS - 1),
                                               minlength=_BINS).astype(np.int64),
                "pure_only": np.int64(out.get("pure_only", 0)),
                "mixed_points": np.int64(out.get("mixed_points", 0))}

    def summary(self, totals, n_points):
        if n_points == 0:
            return []
        sc = totals["status_counts"]
        lines = [f"{self.label}, certified to max regret <= {self.options['tol']:g} x payoff "
                 f"scale; {self.note()}:"]
        width = 34
        lines += count_lines(totals, n_points, width, _BINS)
        lines.append(f"  {'some mixed equilibrium':<{width}} "
                     f"{100 * int(totals['mixed_points']) / n_points:6.2f}%")
        lines.append(f"  {'pure equilibria only':<{width}} "
                     f"{100 * int(totals['pure_only']) / n_points:6.2f}%")
        for name in ("degenerate", "not_converged", "failed"):
            if sc[STATUS[name]]:
                lines.append(f"  {'status ' + name:<{width}} {100 * sc[STATUS[name]] / n_points:6.2f}%")
        return lines


MIXED = register(Concept(
    name="mixed", title="mixed Nash equilibria",
    help="mixed Nash equilibria: all of them for two players with a choice (support "
         "enumeration), else a certified search (pure, QRE-limit, random and support starts; --seed)",
    options=("tol", "seed", "backend"), defaults={"tol": MIXED_TOL}, solve=_solve,
    label=lambda o, m: "NE (mixed)", pure=False, sweep=MixedLayout, run=_run, format=_format))
