"""Probabilities and shares against swept parameters: curves, binned shares, heat maps.

* :func:`probability_curves`: for the QRE concepts, ``P(Player=STRATEGY)`` against one
  swept parameter, a panel per player and a curve per strategy (a family of curves,
  one line style per lambda, when the sweep has several); over a sample, or a grid of
  more parameters, the mean in bins with its 95% interval (a partial-dependence view).
* :func:`binned_shares`: for a sample of any other concept, the share of the points in
  each bin where a player plays each strategy in every equilibrium (or where
  ``--outcome`` is played in some / every equilibrium), with 95% Wilson intervals.
* :func:`profile_shares`: for a sample, the share of each set of equilibria per bin.
* :func:`probability_maps`: over two parameters, a heat map per strategy (QRE:
  the probability; other concepts: the share of points where it is played), exact on
  a grid, binned means on a sample.

Every function takes ``ax=None``/``axes=None`` and returns the axes it drew on.
"""
from __future__ import annotations

import numpy as np

from . import style
from ._draw import auto_bins, binned_2d, bins_of, grid_image, wilson
from .maps import label_axes, two_axes
from .results import SweepResults, played_share, player_outcome, probabilities, profile_sets



def _selection(results: SweepResults, outcomes, players) -> dict[int, list[int]]:
    """{player index: [strategy indices]}: the ``outcomes`` given, else every strategy of
    ``players`` (default all)."""
    if outcomes:
        out: dict[int, list[int]] = {}
        for o in outcomes:
            i, k = results.outcome(o)
            out.setdefault(i, []).append(k)
        return out
    return {results.player_index(p): list(range(len(results.strategies[results.player_index(p)])))
            for p in (players or results.players)}


def _slots(results: SweepResults, lambdas) -> list[int]:
    if not lambdas:
        return list(range(len(results.lambdas)))
    return [results.lambda_slot(float(v)) for v in lambdas]


def _exact(results: SweepResults, ix: int) -> bool:
    """Whether values along ``ix`` can be drawn point by point (one swept parameter)."""
    return len(results.names) == 1


def _qre_name(results: SweepResults) -> str:
    return "agent logit QRE (on the play)" if results.concept == "agent-qre" else "logit QRE"


def _others(results: SweepResults) -> str:
    """``5 sampled parameters``: the swept parameters a binned view averages over."""
    n = len(results.names) - 1
    return f"{n} {'sampled' if results.kind != 'grid' else 'swept'} parameter{'s' * (n != 1)}"


def _binned(ax, x, values, valid, lo, hi, bins, *, share: bool, **line):
    """Mean of ``values`` over the ``valid`` points in bins of ``x``, with a 95% band
    (Wilson for 0/1 shares, normal for means); returns the bin counts."""
    edges, b = bins_of(x, lo, hi, auto_bins(len(x), bins))
    nb = len(edges) - 1
    n = np.bincount(b[valid], minlength=nb)
    total = np.bincount(b[valid], weights=values[valid].astype(float), minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        if share:
            lo_, hi_ = wilson(total, n)
        else:
            sq = np.bincount(b[valid], weights=values[valid].astype(float) ** 2, minlength=nb)
            sd = np.sqrt(np.maximum(sq / n - mean ** 2, 0) * n / np.maximum(n - 1, 1))
            lo_, hi_ = mean - 1.96 * sd / np.sqrt(n), mean + 1.96 * sd / np.sqrt(n)
    centres = (edges[1:] + edges[:-1]) / 2
    ax.fill_between(centres, lo_, hi_, color=line.get("color"), alpha=0.18, linewidth=0)
    ax.plot(centres, mean, marker="o", markersize=2.5, **line)
    return n


def _lambda_legend(fig, results: SweepResults, slots: list[int]) -> None:
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color="0.2", linestyle=style.LINESTYLES[k % len(style.LINESTYLES)])
               for k in range(len(slots))]
    fig.legend(handles, [f"lambda = {results.lambdas[s]:g}" for s in slots], loc="outside lower center",
               ncols=len(slots), fontsize=8, frameon=False,
               title=f"precision of the {_qre_name(results)} (one line style per lambda)",
               title_fontsize=8)


def probability_curves(results: SweepResults, x: str | None = None, *, outcomes=None, players=None,
                       lambdas=None, bins: int | None = None, axes=None, size=None):
    """QRE probabilities against one swept parameter (module docstring). Returns the axes."""
    ix = results.axis(x, 0)
    sel = _selection(results, outcomes, players)
    slots = _slots(results, lambdas)
    if axes is None:
        axes = style.panels(len(sel), size, width=3.9, height=3.6, sharey=True)
    xs = results.params[:, ix]
    exact = _exact(results, ix)
    order = np.argsort(xs, kind="stable")
    gaps = False
    for ax, (i, ks) in zip(axes, sel.items()):
        ss = results.strategies[i]
        for li, slot in enumerate(slots):
            prob = probabilities(results, slot)
            for k in ks:
                col = prob[:, results.offsets()[i] + k]
                line = dict(color=style.strategy_colour(ss, ss[k]), linewidth=1.6,
                            linestyle=style.LINESTYLES[li % len(style.LINESTYLES)],
                            label=ss[k] if li == 0 else None)
                ok = np.isfinite(col)
                gaps |= not ok.all()
                if exact:
                    ax.plot(xs[order], col[order], **line)
                else:
                    _binned(ax, xs, col, ok, results.lows[ix], results.highs[ix], bins, share=False,
                            **line)
        ax.set_title(results.players[i], fontsize=10)
        ax.set_ylim(-0.02, 1.02)
        style.light_grid(ax)
        label_axes(ax, results, ix, name=ax is axes[0])
        style.legend(ax, *ax.get_legend_handles_labels(), ncols=min(3, len(ks)),
                     title=f"{results.players[i]}'s strategy")
    what = (f"probability in the {_qre_name(results)}" if exact
            else "mean probability in bins (95% interval)")
    axes[0].set_ylabel(what, fontsize=8.5)
    fig = axes[0].figure
    title = f"{results.scenario}: {results.title}"
    if len(slots) == 1:
        title += f" at lambda = {results.lambdas[slots[0]]:g}"
    if gaps:
        title += " (gaps: no certified QRE)"
    if not exact:
        title += f"\naveraged over the other {_others(results)}, {results.n_points:,} points"
    style.suptitle(fig, title)
    if len(slots) > 1:
        _lambda_legend(fig, results, slots)
    return axes


def binned_shares(results: SweepResults, x: str | None = None, *, outcomes=None, players=None,
                  bins: int | None = None, axes=None, size=None):
    """For a sample of a concept with sets of solutions: against one parameter, the share of
    points in each bin where each player plays each strategy in every solution, where the
    solutions disagree and where there is none (with ``outcomes``: where each is played in
    some / every solution), with 95% Wilson intervals. Returns the axes."""
    ix = results.axis(x, 0)
    one, many = results.words()
    xs = results.params[:, ix]
    lo, hi = results.lows[ix], results.highs[ix]
    if outcomes:
        panels = [(o, None) for o in outcomes]
    else:
        panels = [(None, results.player_index(p)) for p in (players or results.players)]
    if axes is None:
        axes = style.panels(len(panels), size, width=3.9, height=3.7, sharey=True)
    valid_all = results.solutions["known"]
    for ax, (outcome, i) in zip(axes, panels):
        if outcome is not None:
            some, every, valid = played_share(results, outcome)
            pi, k = results.outcome(outcome)
            colour = style.strategy_colour(results.strategies[pi], results.strategies[pi][k])
            _binned(ax, xs, every, valid, lo, hi, bins, share=True, color=colour, linewidth=1.6,
                    label=f"in every {one}")
            _binned(ax, xs, some, valid, lo, hi, bins, share=True, color=colour, linewidth=1.6,
                    linestyle="--", label=f"in some {one}")
            ax.set_title(outcome.strip(), fontsize=10)
            title = f"where {outcome.strip()} is played"
        else:
            cat = player_outcome(results, i)
            for c, category in enumerate(cat.categories):
                kind = category.key[0]
                if kind in ("mixes", "several", "unknown"):
                    continue
                hit = cat.codes == c
                if kind == "none":
                    line = dict(color="0.45", linestyle=":", label=results.none_label)
                elif kind == "failed":
                    line = dict(color="black", linestyle="-.", label=category.label)
                else:
                    line = dict(color=category.face, label=category.label)
                _binned(ax, xs, hit, valid_all, lo, hi, bins, share=True, linewidth=1.6, **line)
            several = np.isin(cat.codes, [c for c, g in enumerate(cat.categories)
                                          if g.key[0] in ("several", "mixes")])
            if several.any():
                _binned(ax, xs, several, valid_all, lo, hi, bins, share=True, color="0.3",
                        linestyle="--", linewidth=1.3,
                        label=f"{many} disagree" + (", or it mixes" if any(
                            g.key[0] == "mixes" for g in cat.categories) else ""))
            ax.set_title(results.players[i], fontsize=10)
            title = f"{results.players[i]} plays (in every {one})"
        ax.set_ylim(-0.02, 1.02)
        style.light_grid(ax)
        label_axes(ax, results, ix, name=ax is axes[0])
        style.legend(ax, *ax.get_legend_handles_labels(), ncols=1, title=title)
    axes[0].set_ylabel("share of points in the bin (95% interval)", fontsize=8.5)
    unknown = int((~valid_all).sum())
    note = (f"; {unknown:,} points whose {many} were not stored (--store counts) are left out"
            if unknown else "")
    style.suptitle(axes[0].figure, f"{results.scenario}: {results.title}, {results.n_points:,} sampled "
                   f"points ({results.kind}){note}\nshares in bins, averaged over the other "
                   f"{_others(results)}")
    return axes


def profile_shares(results: SweepResults, x: str | None = None, *, bins: int | None = None, ax=None,
                   max_entries: int = 24):
    """For a sample: stacked bars of the share of each set of solutions in bins of one
    parameter, every set in its profiles' colours. Returns the axes."""
    ix = results.axis(x, 0)
    cat = profile_sets(results)
    xs = results.params[:, ix]
    edges, b = bins_of(xs, results.lows[ix], results.highs[ix], auto_bins(len(xs), bins))
    nb = len(edges) - 1
    n = np.bincount(b, minlength=nb)
    if ax is None:
        ax = style.new_figure(None, (12, 5.6)).add_subplot()
    bottom = np.zeros(nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        for c, category in enumerate(cat.categories):
            share = np.bincount(b[cat.codes == c], minlength=nb) / n
            ax.bar(edges[:-1], share, width=np.diff(edges), bottom=bottom, align="edge",
                   color=category.face, edgecolor="none", linewidth=0)
            for s, colour in enumerate(category.stripes):
                ax.bar(edges[:-1], share, width=np.diff(edges), bottom=bottom, align="edge",
                       color="none", edgecolor="none", linewidth=0,
                       hatch=category.patterns[s % len(category.patterns)], hatchcolor=colour,
                       hatch_linewidth=style.HATCH_WIDTH)
            bottom += np.nan_to_num(share)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of the points in the bin", fontsize=8.5)
    label_axes(ax, results, ix)
    from .maps import _category_legend
    _category_legend(ax, cat, below=False, max_entries=max_entries)
    ax.set_title(f"{results.scenario}: the set of {results.title}\n({results.n_points:,} sampled "
                 f"points, {results.kind}; shares in bins)", fontsize=10)
    return ax


def _heat(ax, results, ix, iy, values, valid, bins, *, cmap="cividis", contours=(0.1, 0.5, 0.9)):
    """One heat map of per-point ``values`` in [0, 1] over (x, y): exact on a 2-d grid,
    binned means otherwise. Returns the image."""
    g = grid_image(results, ix, iy)
    if g is not None:
        from ._draw import cell_edges
        xs, ys, image = g
        z = image(np.where(valid, values, np.nan))
        mesh = ax.pcolormesh(cell_edges(xs, results.lows[ix], results.highs[ix]),
                             cell_edges(ys, results.lows[iy], results.highs[iy]), z, cmap=cmap,
                             vmin=0, vmax=1,
                             shading="flat", rasterized=True)
        levels = [c for c in contours if np.nanmin(z) < c < np.nanmax(z)]
        if levels and min(z.shape) > 2:
            cs = ax.contour(xs, ys, z, levels=levels, colors="white", linewidths=0.8)
            ax.clabel(cs, fontsize=6.5, fmt=lambda v: f"{v:g}")
    else:
        ex, ey, mean, count = binned_2d(results.params[:, ix], results.params[:, iy], values, valid,
                                        (results.lows[ix], results.highs[ix]),
                                        (results.lows[iy], results.highs[iy]),
                                        bins or int(np.clip(np.sqrt(valid.sum() / 25), 4, 40)))
        mesh = ax.pcolormesh(ex, ey, mean, cmap=cmap, vmin=0, vmax=1, shading="flat",
                             rasterized=True)
    return mesh


def _outer_labels(axes) -> None:
    """Keep x labels on the bottom panel of each column and y labels on the first column."""
    for ax in axes:
        ss = ax.get_subplotspec()
        if ss is None:
            continue
        below = [a for a in axes if a.get_subplotspec() is not None
                 and a.get_subplotspec().colspan.start == ss.colspan.start
                 and a.get_subplotspec().rowspan.start > ss.rowspan.start]
        if below:
            ax.set_xlabel("")
        if ss.colspan.start > 0:
            ax.set_ylabel("")


def probability_maps(results: SweepResults, x: str | None = None, y: str | None = None, *,
                     outcomes=None, players=None, lam: float | None = None, bins: int | None = None,
                     axes=None, size=None):
    """Heat maps over two parameters, one per strategy (``outcomes``, or every strategy of
    ``players``): the QRE probability (at ``lam``, default the sweep's last lambda) or, for
    other concepts, the share of points where the strategy is played in some solution.
    Returns the axes."""
    ix, iy = two_axes(results, x, y)
    sel = _selection(results, outcomes, players)
    cells = [(i, k) for i, ks in sel.items() for k in ks]
    ncols = max(len(ks) for ks in sel.values()) if not outcomes else min(len(cells), 3)
    if axes is None:
        axes = style.panels(len(cells), size, width=3.7, height=3.5, ncols=ncols)
    if results.is_qre:
        slot = results.lambda_slot(lam) if lam is not None else len(results.lambdas) - 1
        prob = probabilities(results, slot)
        what = f"probability in the {_qre_name(results)} at lambda = {results.lambdas[slot]:g}"
    else:
        slot, prob = None, None
        one, many = results.words()
        what = f"share of points where it is played in some {one}"
    binned = grid_image(results, ix, iy) is None
    if binned:
        what = ("mean " if results.is_qre else "") + what + " (in bins)"
    mesh = None
    for ax, (i, k) in zip(axes, cells):
        name = f"{results.players[i]}={results.strategies[i][k]}"
        if prob is not None:
            values = prob[:, results.offsets()[i] + k]
            valid = np.isfinite(values)
        else:
            some, _, valid = played_share(results, name)
            values = some.astype(float)
        mesh = _heat(ax, results, ix, iy, values, valid, bins)
        ax.set_title(f"P({name})" if prob is not None else name, fontsize=9.5)
        label_axes(ax, results, ix, iy, name=ax is axes[0])
    _outer_labels(axes)
    cbar = axes[0].figure.colorbar(mesh, ax=axes, shrink=0.8, aspect=30)
    cbar.set_label(what, fontsize=8.5)
    cbar.ax.tick_params(labelsize=8)
    style.suptitle(axes[0].figure, f"{results.scenario}: {results.title}" +
                   (f", {results.n_points:,} sampled points ({results.kind})" if binned else ""))
    return axes
