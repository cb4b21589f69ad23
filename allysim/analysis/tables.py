"""The tables of the analysis commands, built once from their JSON records and shown as
text by the commands and as Markdown, LaTeX or CSV by ``allysim table DIR``.

``table_of_folder(DIR)`` reads any results folder: a sweep (equilibrium shares, or mean
probabilities for the QRE concepts), a ``thresholds`` folder, a ``sensitivity`` folder
(its indices) or a ``path`` folder (its regime changes).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import AllysimError
from ..io.tables import Table
from .path import JUMP


def _fmt(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.{digits}f}"


def _ci(pair, digits: int = 3) -> str:
    return f"[{_fmt(pair[0], digits)}, {_fmt(pair[1], digits)}]"


def decimals(xtol: float) -> int:
    """Decimals that show a value located to ``xtol``.

    >>> decimals(6.5e-08)
    8
    """
    return max(1, math.ceil(-math.log10(xtol)))


def class_cell(value, outcome) -> str:
    if outcome is not None and isinstance(value, bool):
        return "played" if value else "not played"
    return str(value)


def thresholds_table(doc: dict, scenario: str = "") -> Table:
    """``by | threshold | below | above`` from a thresholds record
    (:meth:`~allysim.analysis.ThresholdResult.to_json`); a ``by`` value without a switch
    gets one row saying ``none`` and its class throughout."""
    along, outcome = doc["along"], doc["outcome"]
    dec = decimals(doc["xtol"])
    by = doc["by"]
    label = doc.get("solution_concept") or doc["solver"]
    what = (f"where {outcome} starts or stops being played in some solution" if outcome else
            "where the solution set changes")
    caption = (f"{scenario + ': ' if scenario else ''}thresholds of {along['parameter']} in "
               f"[{along['lo']:g}, {along['hi']:g}] {what} ({label})")
    headers = ([by["parameter"]] if by else []) + [f"{along['parameter']} threshold", "below",
                                                   "above"]
    rows = []
    switches = doc["thresholds"]
    for reg in doc["regimes"]:
        key = reg["by"]
        mine = [s for s in switches if s["by"] == key]
        lead = [f"{v:g}" for v in key.values()]
        if not mine:
            rows.append(lead + ["none", class_cell(reg["at_lo"], outcome),
                                class_cell(reg["at_hi"], outcome)])
        for s in mine:
            rows.append(lead + [f"{s['at']:.{dec}f}", class_cell(s["below"], outcome),
                                class_cell(s["above"], outcome)])
    scan = doc["scan"]
    per = f" per {by['parameter']} value" if by else ""
    notes = [f"Scan of {scan['points']} points{per}, step {scan['step']:.3g}: {scan['misses']} "
             f"can be missed. Each threshold is located by bisection to {doc['xtol']:.2g} "
             f"(so within {doc['xtol'] / 2:.2g}); {doc['evaluations']:,} games solved."]
    if outcome:
        notes.append(f"played: {outcome} is in the support of at least one solution "
                     f"({label}) just below/above the threshold.")
    return Table(caption, headers, rows, notes, align="r" * (len(headers) - 2) + "ll")


def sensitivity_table(doc: dict, scenario: str = "") -> Table:
    """Ranked indices with their intervals from a sensitivity record."""
    conf = int(round(100 * doc["confidence"]))
    if doc["method"] == "sobol":
        headers = ["rank", "parameter", "first-order", f"{conf}% interval", "total",
                   f"{conf}% interval"]
        rows = [[str(k), r["parameter"], _fmt(r["first"]), _ci(r["first_ci"]), _fmt(r["total"]),
                 _ci(r["total_ci"])] for k, r in enumerate(doc["indices"], 1)]
        how = (f"Sobol' indices from a Saltelli design of {doc['groups'] + doc['dropped']:,} "
               f"base rows ({doc['points']:,} points); first-order: Saltelli et al. (2010), "
               "total: Jansen (1999); percentile bootstrap intervals over base rows, "
               f"{doc['resamples']} resamples.")
    else:
        headers = ["rank", "parameter", "mu*", f"{conf}% interval", "mu", "sigma"]
        rows = [[str(k), r["parameter"], _fmt(r["mu_star"]), _ci(r["mu_star_ci"]), _fmt(r["mu"]),
                 _fmt(r["sigma"])] for k, r in enumerate(doc["indices"], 1)]
        how = (f"Morris elementary effects from {doc['groups'] + doc['dropped']:,} trajectories "
               f"({doc['points']:,} points, {doc['design'].get('levels')} levels, step "
               f"{doc.get('delta', 0):.3g} of each range); percentile bootstrap interval of mu* "
               f"over trajectories, {doc['resamples']} resamples.")
    caption = (f"{scenario + ': ' if scenario else ''}sensitivity of {doc['outcome']} "
               f"({doc['measure']}; {doc['solution_concept']})")
    notes = [how, f"Outcome mean {_fmt(doc['mean'])}, variance {_fmt(doc['variance'])}; "
             "parameters uniform over their declared ranges."] + list(doc["notes"])
    return Table(caption, headers, rows, notes, align="rl" + "r" * (len(headers) - 2))


def path_table(doc: dict, scenario: str = "") -> Table:
    """The regime changes of a path, then its hysteresis intervals in the notes."""
    headers = ["direction", "between", "at", "from", "to", "how"]
    rows = [[c["direction"], f"{c['between'][0]:.6g} .. {c['between'][1]:.6g}",
             "" if c["at"] is None else f"{c['at']:.8f}", c["from"], c["to"], c["how"]]
            for c in doc["changes"]]
    via = [f"{c['direction']} {c['between'][0]:.6g} .. {c['between'][1]:.6g}: "
           + " -> ".join(c["via"]) for c in doc["changes"] if c.get("via")]
    caption = (f"{scenario + ': ' if scenario else ''}regime changes as {doc['parameter']} moves "
               f"from {doc['from']:g} to {doc['to']:g} ({doc['solver']})")
    notes = [f"Start: {doc['start']}."]
    if doc["solver"] == "qre":
        notes.append("A QRE regime is named by each player's likeliest strategy; a jump is a "
                     f"step where some probability moved by more than {JUMP:g}.")
    for h in doc["hysteresis"]:
        notes.append(f"Hysteresis on {doc['parameter']} in [{h['between'][0]:.6g}, "
                     f"{h['between'][1]:.6g}]: forward {h['forward']}, back {h['back']}.")
    if not doc["hysteresis"] and any(s["direction"] == "back" for s in doc["steps"]):
        notes.append("No hysteresis: the way back holds the same solutions.")
    if via:
        notes.append("Best-response dynamics where an equilibrium vanished (the player with "
                     "the most to gain moves first):")
        notes += ["  " + v for v in via]
    return Table(caption, headers, rows, notes, align="llrlll")


def sweep_table(folder) -> Table:
    """Equilibrium shares of a sweep (or mean probabilities, for the QRE concepts)."""
    from ..plot import load_sweep
    res = load_sweep(folder)
    n = len(res.count)
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    kind = manifest.get("design", {}).get("kind", "")
    over = (f"a {' x '.join(str(c) for c in res.grid_counts)} grid" if res.grid_counts
            else f"a {kind} sample")
    varied = ", ".join(res.names)
    if res.prob is not None:
        headers = ["player", "strategy"] + [f"mean P (lambda {lam:g})" for lam in res.lambdas]
        rows, o = [], 0
        for player, ss in zip(res.players, res.strategies):
            for k, s in enumerate(ss):
                rows.append([player, s] + [_fmt(float(np.nanmean(res.prob[:, li, o + k])), 4)
                                           for li in range(len(res.lambdas))])
            o += len(ss)
        notes = [f"Mean of each strategy's probability over the {n:,} points of {over} of "
                 f"{varied} (points without a certified QRE left out)."]
        return Table(f"{res.scenario}: {res.label}", headers, rows, notes, align="ll"
                     + "r" * len(res.lambdas))
    names = sorted(res.members, key=lambda k: (-res.members[k].sum(), k))
    rows = []
    for name in names:
        hit = res.members[name]
        alone = hit & (res.count == 1)
        rows.append([name, f"{100 * hit.mean():.2f}%", f"{100 * alone.mean():.2f}%",
                     f"{int(hit.sum()):,}"])
    none = res.count == 0
    rows.append([res.none_label, f"{100 * none.mean():.2f}%", "", f"{int(none.sum()):,}"])
    several = (res.count > 1) | (res.labels == "several")
    rows.append([f"several {res.words()[1]}", f"{100 * several.mean():.2f}%", "",
                 f"{int(several.sum()):,}"])
    headers = ["/".join(res.players), "share", "share as the only one", "points"]
    notes = [f"Share: the fraction of the {n:,} points of {over} of {varied} at which the "
             f"profile is a solution ({res.label}). A point with several solutions counts "
             "for each, so the shares can add up to more than 100%; 'as the only one' counts "
             "the points where it is the unique solution."]
    if kind and kind != "grid":
        notes.append("Over a sample, a share estimates the fraction of the sampled parameter "
                     "box in which the profile is a solution.")
    if (res.labels == "several").any():
        notes.append("This sweep kept counts only (--store counts): at points with several "
                     "solutions it does not say which; re-run with --store full for their shares.")
    return Table(f"{res.scenario}: where each solution holds", headers, rows, notes,
                 align="lrrr")


def table_of_folder(folder) -> Table:
    """The paper table of a results folder of any kind (module docstring)."""
    folder = Path(folder)
    mpath = folder / "manifest.json"
    if not mpath.is_file():
        raise AllysimError(f"{folder}: no manifest.json; expected a finished results folder of "
                           "sweep, thresholds, sensitivity or path")
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, ValueError) as exc:
        raise AllysimError(f"{folder}/manifest.json: unreadable ({exc})") from None
    scenario = manifest.get("scenario", {}).get("name", "")
    for name, build in (("sensitivity.json", sensitivity_table), ("thresholds.json", thresholds_table),
                        ("path.json", path_table)):
        if (folder / name).is_file():
            try:
                return build(json.loads((folder / name).read_text()), scenario)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise AllysimError(f"{folder}/{name}: unreadable ({type(exc).__name__}: {exc})") from None
    if manifest.get("kind") == "sweep":
        return sweep_table(folder)
    raise AllysimError(f"{folder}: a {manifest.get('kind', 'unknown')} folder without its data "
                       "file; expected sweep, thresholds, sensitivity or path results")
