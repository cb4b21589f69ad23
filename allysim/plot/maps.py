"""Where each outcome holds: maps over two swept parameters (a grid) and bands over one.

* :func:`outcome_maps`: one panel per player, that player's strategy in equilibrium at
  each point (:func:`~allysim.plot.results.player_outcome`): its colour where every
  equilibrium agrees, stripes of the strategies' colours where they disagree, blank
  where there is none.
* :func:`strategy_map`: where one strategy (``China=SEIZE``) is played in every
  equilibrium, in some, or in none.
* :func:`profile_map`: each point's set of equilibrium profiles, every set listed.
* :func:`outcome_bands`: over one parameter, a band per strategy per player where it
  is played, with the switch points (where a player's outcome changes) labelled;
  :func:`profile_bands`: a band per profile.

Every function takes ``ax=None`` (a new figure outside pyplot when None) and returns
the axes it drew on.
"""
from __future__ import annotations

import numpy as np

from ..errors import AllysimError
from . import style
from ._draw import band, category_image, cell_edges, grid_image
from .results import (Categorical, SweepResults, played_counts, player_outcome, profile_sets,
                      strategy_outcome)

#: Most set entries a profile map's legend lists; the rest are counted in one last line.
MAX_LEGEND_SETS = 24


def two_axes(results: SweepResults, x: str | None, y: str | None) -> tuple[int, int]:
    """Columns of the x and y parameters (default the first two swept)."""
    if len(results.names) < 2:
        raise AllysimError(f"{results.folder}: a map needs two swept parameters; this sweep "
                           f"varies {', '.join(results.names)} (its figure is a band plot)")
    ix = results.axis(x, 0 if y is None or results.axis(y, 1, "--y") != 0 else 1)
    iy = results.axis(y, 1 if ix != 1 else 0, "--y")
    if ix == iy:
        raise AllysimError(f"--x and --y: both are {results.names[ix]}; expected two parameters")
    return ix, iy


def _grid(results: SweepResults, ix: int, iy: int):
    g = grid_image(results, ix, iy)
    if g is None:
        raise AllysimError(f"{results.folder}: a map of categories needs a two-parameter grid "
                           f"(--vary twice); this sweep is a {results.kind} design over "
                           f"{len(results.names)} parameter(s): plot it as binned shares")
    return g


def label_axes(ax, results: SweepResults, ix: int, iy: int | None = None, *, name: bool = True):
    """Axis labels from the parameters' descriptions; the scenario's point marked (on a
    map named only with ``name``, so that panels of one figure name it once)."""
    ax.set_xlabel(results.parameter_label(ix), fontsize=8.5)
    if iy is not None:
        ax.set_ylabel(results.parameter_label(iy), fontsize=8.5)
    ax.tick_params(labelsize=8)
    if results.base is None:
        return
    if iy is None:
        # Named in every panel, so that panel titles stay level.
        style.mark_x(ax, results.base[ix], f"{results.scenario} ({results.base[ix]:g})",
                     results.lows[ix], results.highs[ix])
    else:
        style.mark_xy(ax, results.base[ix], results.base[iy], results.scenario if name else None,
                      ax.get_xlim(), ax.get_ylim())


def category_map(results: SweepResults, cat: Categorical, x: str | None = None,
                 y: str | None = None, ax=None, *, title: str | None = None, legend: str = "below",
                 max_entries: int | None = None, name: bool = True):
    """Draw per-point categories over a two-parameter grid; the legend lists each category
    with its share of the points. Returns the axes."""
    ix, iy = two_axes(results, x, y)
    xs, ys, image = _grid(results, ix, iy)
    if ax is None:
        ax = style.new_figure(None, (6.4, 6.0)).add_subplot()
    category_image(ax, xs, ys, image(cat.codes), cat.categories,
                   (results.lows[ix], results.highs[ix]), (results.lows[iy], results.highs[iy]))
    label_axes(ax, results, ix, iy, name=name)
    if title is not None:
        ax.set_title(title, fontsize=10)
    if legend:
        _category_legend(ax, cat, below=(legend == "below"), max_entries=max_entries)
    return ax


def _category_legend(ax, cat: Categorical, *, below: bool, max_entries: int | None = None):
    shares = cat.shares()
    entries = list(range(len(cat.categories)))
    extra = ""
    if max_entries is not None and len(entries) > max_entries:
        keep = sorted(sorted(entries, key=lambda c: -shares[c])[:max_entries - 1])
        left = [c for c in entries if c not in keep]
        extra = (f"... and {len(left)} rarer sets ({shares[left].sum():.1f}% of points), "
                 "each drawn in its profiles' colours")
        entries = keep
    handles = [style.swatch(cat.categories[c].face, cat.categories[c].stripes,
                            patterns=cat.categories[c].patterns) for c in entries]
    labels = [f"{cat.categories[c].label}  ({style.share_text(shares[c])})" for c in entries]
    if extra:
        from matplotlib.patches import Patch
        handles.append(Patch(facecolor="none", edgecolor="none"))
        labels.append(extra)
    long = max(map(len, labels)) > 30
    style.legend(ax, handles, labels, title=cat.title, below=below,
                 ncols=1 if (long or not below) else 2)


def outcome_maps(results: SweepResults, x: str | None = None, y: str | None = None,
                 players=None, axes=None, *, size=None):
    """One map per player (default all) of its strategy in equilibrium. Returns the axes."""
    idx = [results.player_index(p) for p in (players or results.players)]
    if axes is None:
        axes = style.panels(len(idx), size, width=4.3, height=5.2 if len(idx) > 1 else 5.6,
                            ncols=min(len(idx), 2 if len(idx) == 4 else 3))
    for ax, i in zip(axes, idx):
        cat = player_outcome(results, i)
        cat = Categorical(cat.codes, cat.categories, f"{results.players[i]}'s strategy (% of points)")
        category_map(results, cat, x, y, ax, title=results.players[i], name=ax is axes[0])
    style.suptitle(axes[0].figure, f"{results.scenario}: each player's strategy in {results.title}",
                   fontsize=11)
    return axes


def strategy_map(results: SweepResults, outcome: str, x: str | None = None, y: str | None = None,
                 ax=None):
    """Where ``outcome`` (``"China=SEIZE"``) is played in every / some / no equilibrium."""
    cat = strategy_outcome(results, outcome)
    i, k = results.outcome(outcome)
    return category_map(results, cat, x, y, ax, title=f"{results.scenario}: where {results.players[i]} "
                        f"plays {results.strategies[i][k]} ({results.title})")


def profile_map(results: SweepResults, x: str | None = None, y: str | None = None, ax=None):
    """Each point's set of equilibrium profiles (every set its own category; a legend of
    at most :data:`MAX_LEGEND_SETS` entries says what it leaves out)."""
    cat = profile_sets(results)
    if ax is None:
        n = min(len(cat.categories), MAX_LEGEND_SETS + 1)
        ax = style.new_figure(None, (7.6, 6.4 + 0.2 * n)).add_subplot()
    return category_map(results, cat, x, y, ax, title=f"{results.scenario}: the set of "
                        f"{results.title} at each point", legend="below", max_entries=MAX_LEGEND_SETS)


# ----------------------------------------------------------------------------- one parameter

def _sorted_x(results: SweepResults, x: str | None):
    ix = results.axis(x, 0)
    xs = results.params[:, ix]
    order = np.argsort(xs, kind="stable")
    return ix, xs[order], order


def switch_points(xs: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive sorted ``xs`` where ``codes`` changes (each switch is
    known to within half the spacing there).

    >>> switch_points(np.array([0., 1, 2, 3]), np.array([0, 0, 1, 1])).tolist()
    [1.5]
    """
    change = np.flatnonzero(codes[1:] != codes[:-1])
    return (xs[change] + xs[change + 1]) / 2


def _label_switches(ax, switches: np.ndarray, y: float, edges: np.ndarray, levels: int = 3) -> None:
    """Value labels of switch points above height ``y``, stacked where they crowd, kept
    inside the axes at the ends."""
    span = edges[-1] - edges[0]
    last = [-np.inf] * levels
    for s in switches:
        level = next((k for k in range(levels) if s - last[k] > 0.07 * span), 0)
        last[level] = s
        where = (s - edges[0]) / span
        ha = "right" if where > 0.97 else "left" if where < 0.03 else "center"
        ax.annotate(f"{s:.3g}", xy=(s, y), xytext=(0, 1 + 8 * level), textcoords="offset points",
                    ha=ha, va="bottom", fontsize=6.5, color="0.1", zorder=7)


def _label_edges(ax, edges: np.ndarray, mask: np.ndarray, row: float) -> None:
    """Label where a band starts and ends (inside the axes), outside the band."""
    from ._draw import runs
    for a, b in runs(mask):
        if a > 0:
            ax.annotate(f"{edges[a]:.3g}", xy=(edges[a], row), xytext=(-3, 0),
                        textcoords="offset points", ha="right", va="center", fontsize=7)
        if b < len(edges) - 1:
            ax.annotate(f"{edges[b]:.3g}", xy=(edges[b], row), xytext=(3, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=7)


def outcome_bands(results: SweepResults, x: str | None = None, players=None, outcomes=None,
                  ax=None):
    """Over one parameter, a band per strategy per player where it is played (solid: in
    every equilibrium; striped: in some, not all), the switch points of each player's
    outcome labelled; ``outcomes`` (``["China=SEIZE"]``) keeps only those strategies."""
    ix, xs, order = _sorted_x(results, x)
    edges = cell_edges(xs, results.lows[ix], results.highs[ix])
    played, stored = played_counts(results)
    played, stored = played[order], stored[order]
    known = results.solutions["known"][order]
    if outcomes:
        picks = [results.outcome(o) for o in outcomes]
        groups = {i: [k for j, k in picks if j == i] for i, _ in picks}
    else:
        groups = {results.player_index(p): list(range(len(results.strategies[results.player_index(p)])))
                  for p in (players or results.players)}
    one, many = results.words()
    n_rows = sum(len(v) for v in groups.values()) + 1.3 * len(groups)
    none = (stored == 0) & known
    unknown = ~known
    n_rows += bool(none.any()) + bool(unknown.any())
    if ax is None:
        ax = style.new_figure(None, (7.6, 1.5 + 0.32 * n_rows)).add_subplot()
    ticks, names, y = [], [], 0.0
    offsets = results.offsets()
    for i, ks in groups.items():
        y += 1.3
        top = y - 0.45
        codes = (strategy_outcome(results, f"{results.players[i]}={results.strategies[i][ks[0]]}")
                 if outcomes and len(ks) == 1 else player_outcome(results, i)).codes[order]
        for s in switch_points(xs, codes):
            ax.plot([s, s], [top, y + len(ks) - 0.5], color="0.1", linewidth=0.8,
                    linestyle=":", zorder=4)
        _label_switches(ax, switch_points(xs, codes), top, edges)
        for k in ks:
            col = played[:, offsets[i] + k]
            every = (col == stored) & (stored > 0) & known
            some = (col > 0) & ~every & known
            colour = style.strategy_colour(results.strategies[i], results.strategies[i][k])
            band(ax, edges, every, y - 0.36, y + 0.36, colour)
            band(ax, edges, some, y - 0.36, y + 0.36, "white", (colour,))
            ticks.append(y)
            names.append(f"{results.players[i]}  {results.strategies[i][k]}")
            y += 1
        if i != list(groups)[-1]:
            ax.axhline(y - 0.5 + 0.05, color="0.8", linewidth=0.6, zorder=0)
    for mask, label, face, stripes in ((none, results.none_label, "0.55", ()),
                                       (unknown, f"{many} not stored (--store counts)", style.PALE,
                                        ("#777777",))):
        if mask.any():
            y += 0.4
            band(ax, edges, mask, y - 0.36, y + 0.36, face, stripes)
            ticks.append(y)
            names.append(label)
            y += 1
    ax.set_yticks(ticks, names, fontsize=8)
    ax.set_ylim(y - 0.4, -0.2)
    ax.set_xlim(edges[0], edges[-1])
    label_axes(ax, results, ix)
    style.light_grid(ax, "x")
    handles = [style.swatch("0.35"), style.swatch("white", ("0.35",))]
    labels = [f"played in every {one}", f"played in some {many}, not all"]
    from matplotlib.lines import Line2D
    handles.append(Line2D([], [], color="0.1", linestyle=":", linewidth=0.8))
    labels.append("switch point (midway between grid points)")
    # one row when it fits the axes' width (about 110 characters at this size), else two
    style.legend(ax, handles, labels, ncols=3 if sum(map(len, labels)) <= 110 else 2, below=True)
    ax.set_title(f"{results.scenario}: where each strategy is played ({results.title})",
                 fontsize=10, pad=14)
    return ax


def profile_bands(results: SweepResults, x: str | None = None, ax=None):
    """Over one parameter, a band per equilibrium profile (in its colour) where it holds,
    switch points of the set labelled. Returns the axes."""
    ix, xs, order = _sorted_x(results, x)
    edges = cell_edges(xs, results.lows[ix], results.highs[ix])
    cat = profile_sets(results)
    codes = cat.codes[order]
    names = sorted(results.members, key=lambda k: (int(np.argmax(results.members[k][order])), k))
    rows = [(n, results.members[n][order], style.profile_colour(results.strategies, n), ())
            for n in names]
    known = results.solutions["known"][order]
    many = results.words()[1]
    none = (results.count[order] == 0) & known
    if none.any():
        rows.append((results.none_label, none, "0.55", ()))
    if (~known).any():
        rows.append((f"{many} not stored (--store counts)", ~known, style.PALE, ("#777777",)))
    if ax is None:
        ax = style.new_figure(None, (8.6, 1.6 + 0.34 * len(rows))).add_subplot()
    for r, (_, mask, face, stripes) in enumerate(rows):
        band(ax, edges, mask, r - 0.36, r + 0.36, face, stripes)
        _label_edges(ax, edges, mask, r)
    for s in switch_points(xs, codes):
        ax.axvline(s, color="0.6", linewidth=0.6, linestyle=":", zorder=0)
    shares = [100 * m.mean() for _, m, _, _ in rows]
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(edges[0], edges[-1])
    label_axes(ax, results, ix)
    ax.set_yticks(range(len(rows)),
                  [f"{n}  ({style.share_text(s)})" for (n, *_), s in zip(rows, shares)], fontsize=8)
    ax.set_ylabel(f"{'/'.join(results.players)}\n(% of points where it holds)", fontsize=8)
    ax.set_title(f"{results.scenario}: where each profile is one of the {results.title}",
                 fontsize=10, pad=14)
    return ax
