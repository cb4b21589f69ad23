"""Figures of the analysis commands: sensitivity bars with intervals, and paths.

Each function takes ``ax=None`` (a new figure when None) and returns the axes.
Colours: the Okabe-Ito colour-blind-safe palette, one colour per strategy or
profile, keyed by its name.
"""
from __future__ import annotations

import numpy as np

#: Okabe & Ito (2008), colour-blind safe; black last.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000")


def sensitivity_bars(result, ax=None, top: int | None = None):
    """Horizontal bars of a :class:`~allysim.analysis.SensitivityResult`, ranked, with
    their bootstrap intervals: Sobol' first-order and total indices side by side, or
    Morris mu* (with sigma as a second bar). The first ``top`` parameters (default all)."""
    import matplotlib.pyplot as plt

    recs = list(result.records)[:top]
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 1.0 + 0.32 * len(recs)), layout="constrained")
    y = np.arange(len(recs))
    if result.method == "sobol":
        bars = (("total", "total_ci", "total index", OKABE_ITO[4]),
                ("first", "first_ci", "first-order index", OKABE_ITO[0]))
    else:
        bars = (("mu_star", "mu_star_ci", "mu* (mean |effect|)", OKABE_ITO[4]),
                ("sigma", None, "sigma (std of effects)", OKABE_ITO[0]))
    h = 0.38
    for k, (key, ci, label, colour) in enumerate(bars):
        vals = np.array([np.nan if r[key] is None else r[key] for r in recs], dtype=float)
        pos = y - h / 2 + k * h
        err = None
        if ci is not None:
            lo = np.array([np.nan if r[ci][0] is None else r[ci][0] for r in recs], dtype=float)
            hi = np.array([np.nan if r[ci][1] is None else r[ci][1] for r in recs], dtype=float)
            err = np.vstack([np.clip(vals - lo, 0, None), np.clip(hi - vals, 0, None)])
            err = np.nan_to_num(err)
        ax.barh(pos, np.nan_to_num(vals), height=h, color=colour, label=label,
                xerr=err, error_kw={"elinewidth": 0.9, "capsize": 2, "ecolor": "0.25"})
    ax.set_yticks(y, [r["parameter"] for r in recs], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="0.5", lw=0.6)
    what = (f"Sobol' indices, {int(round(100 * result.confidence))}% bootstrap intervals"
            if result.method == "sobol" else
            f"Morris elementary effects (per {result.extra.get('delta', 0):.3g} of each range), "
            f"{int(round(100 * result.confidence))}% interval on mu*")
    ax.set_xlabel(what, fontsize=8)
    ax.set_title(f"{result.outcome}: {result.measure}\n{result.label}, {result.n_points:,} points",
                 fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return ax


def path_figure(result, model, axes=None):
    """A path with hysteresis. Pure: one row per equilibrium profile met, light bands
    where it is an equilibrium, the forward path (solid, arrows) and the way back
    (dashed). QRE: one panel per player, each strategy's probability forward (solid)
    and back (dashed). Returns the axes (an array for QRE)."""
    import matplotlib.pyplot as plt

    steps = list(result.steps)
    fwd = [s for s in steps if s.direction == "forward"]
    back = [s for s in steps if s.direction == "back"]
    if result.solver == "pure":
        names = []
        for s in steps:
            for n in s.detail.get("equilibria", []) + [s.name]:
                if n != "none" and n not in names:
                    names.append(n)
        if any(s.name == "none" for s in steps):
            names.append("none")
        if axes is None:
            _, axes = plt.subplots(figsize=(8, 1.4 + 0.45 * len(names)), layout="constrained")
        ax = axes
        colour = {n: OKABE_ITO[k % 7] for k, n in enumerate(names)}
        xs = np.array([s.x for s in fwd])
        order = np.argsort(xs)
        for row, n in enumerate(names):
            hold = np.array([n in s.detail.get("equilibria", []) for s in fwd])[order]
            ax.fill_between(xs[order], row - 0.3, row + 0.3, where=hold, step="mid",
                            color=colour[n], alpha=0.25, lw=0)
        jumps = {(c.direction, c.x_from, c.x_to): c for c in result.changes}
        for leg, style, off, colour_, label in ((fwd, "-", -0.1, OKABE_ITO[4], "forward"),
                                                (back, "--", 0.1, OKABE_ITO[5], "back")):
            if not leg:
                continue
            # The turning point: the way back starts where the forward path ended.
            pts = ([fwd[-1]] if leg is back else []) + leg
            xs_, ys_ = [pts[0].x], [names.index(pts[0].name) + off]
            for a, b in zip(pts, pts[1:]):
                ya, yb = names.index(a.name) + off, names.index(b.name) + off
                if ya != yb:
                    c = jumps.get((b.direction, a.x, b.x))
                    xj = c.at if c is not None and c.at is not None else 0.5 * (a.x + b.x)
                    xs_.append(xj), ys_.append(ya)
                    ax.annotate("", xy=(xj, yb), xytext=(xj, ya),
                                arrowprops={"arrowstyle": "-|>", "color": colour_, "lw": 1.3,
                                            "linestyle": style, "shrinkA": 0, "shrinkB": 0})
                    xs_.append(xj), ys_.append(yb)
                xs_.append(b.x), ys_.append(yb)
            segs_x, segs_y = [], []
            k = 0
            while k < len(xs_) - 1:            # horizontal stretches, merged (jumps are arrows)
                if ys_[k] != ys_[k + 1]:
                    k += 1
                    continue
                j = k
                while j < len(xs_) - 1 and ys_[j + 1] == ys_[k]:
                    j += 1
                segs_x += [xs_[k], xs_[j], np.nan]
                segs_y += [ys_[k], ys_[k], np.nan]
                k = j
            ends = (pts[0].x, pts[-1].x)
            ax.plot(segs_x, segs_y, style, color=colour_, lw=1.6,
                    label=f"{label} ({ends[0]:g} to {ends[1]:g})")
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_xlabel(result.parameter)
        ax.legend(fontsize=7, frameon=False, loc="best")
        ax.set_title(f"path of {result.parameter} from {result.start:g} to {result.stop:g}"
                     + (" and back" if back else "") + "; bands: where each profile is a pure "
                     "equilibrium", fontsize=9)
        return ax
    n = model.n_players
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(3.0 * n, 3.0), layout="constrained", sharey=True)
    axes = np.atleast_1d(axes)
    o = 0
    for i, (player, ss) in enumerate(zip(model.players, model.strategies)):
        ax = axes[i]
        for k, s in enumerate(ss):
            for leg, style in ((fwd, "-"), (back, "--")):
                if leg:
                    ax.plot([t.x for t in leg], [t.state[o + k] for t in leg], style,
                            color=OKABE_ITO[k % 7], lw=1.3,
                            label=f"{s} ({'forward' if leg is fwd else 'back'})")
        ax.set_title(player, fontsize=9)
        ax.set_xlabel(result.parameter, fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=6, frameon=False)
        o += len(ss)
    axes[0].set_ylabel("probability")
    axes[0].figure.suptitle(f"logit QRE path at lambda {result.options['lambda'][0]:g}: "
                            f"{result.parameter} from {result.start:g} to {result.stop:g}"
                            + (" and back" if back else ""), fontsize=10)
    return axes
