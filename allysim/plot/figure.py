"""The figure ``allysim plot DIR`` draws for a sweep, chosen from its concept and design.

=====================  ===============================  ==================================
sweep                  default                          with ``--outcome`` / ``--profiles``
=====================  ===============================  ==================================
QRE, one parameter     probability curves per player    only those strategies / refused
QRE, 2-d grid          a heat map per strategy          only those strategies
QRE, sample            binned mean curves (``--y``:     only those strategies
                       binned heat maps)
other, one parameter   bands per strategy per player    those strategies / a band per profile
other, 2-d grid        a map per player                 where it is played / the set map
other, sample          binned shares per player         where it is played / stacked sets
                       (``--y``: binned heat maps)
=====================  ===============================  ==================================
"""
from __future__ import annotations

from ..errors import AllysimError
from . import curves, maps, style
from ._draw import grid_image


def plot_sweep(results, x: str | None = None, y: str | None = None, *, outcomes=(),
               profiles: bool = False, players=(), lambdas=(), bins: int | None = None,
               title: str | None = None, size=None):
    """The default figure of a sweep (module docstring). Returns the figure."""
    outcomes, players, lambdas = list(outcomes), list(players), list(lambdas)
    for o in outcomes:
        results.outcome(o)
    for p in players:
        results.player_index(p)
    if outcomes and (players or profiles):
        raise AllysimError("--outcome: draws the strategies it names; leave out --player and "
                           "--profiles")
    if lambdas and not results.is_qre:
        raise AllysimError(f"--lambda: {results.folder} is a {results.concept} sweep, not a QRE one")
    for v in lambdas:
        results.lambda_slot(v)
    if bins is not None and not (2 <= bins <= 500):
        raise AllysimError(f"--bins {bins}: expected a whole number from 2 to 500")
    d = len(results.names)
    if y is not None and d < 2:
        raise AllysimError(f"--y {y}: this sweep varies one parameter ({results.names[0]})")
    two_d_grid = d >= 2 and grid_image(results, *maps.two_axes(results, x, y)) is not None
    if results.is_qre:
        if profiles:
            raise AllysimError("--profiles: a QRE sweep has one solution per point and lambda; "
                               "its probabilities are drawn (use --outcome to pick strategies)")
        if d >= 2 and (two_d_grid or y is not None):
            if len(lambdas) > 1:
                raise AllysimError("--lambda: a heat map shows one lambda; give one value")
            axes = curves.probability_maps(results, x, y, outcomes=outcomes, players=players,
                                           lam=lambdas[0] if lambdas else None, bins=bins, size=size)
        else:
            axes = curves.probability_curves(results, x, outcomes=outcomes, players=players,
                                             lambdas=lambdas, bins=bins, size=size)
    elif d == 1:
        ax = (maps.profile_bands(results, x) if profiles else
              maps.outcome_bands(results, x, players=players, outcomes=outcomes))
        axes = [ax]
    elif two_d_grid:
        if profiles:
            axes = [maps.profile_map(results, x, y)]
        elif outcomes:
            axes = style.panels(len(outcomes), size, width=5.4, height=5.6)
            for ax, o in zip(axes, outcomes):
                maps.strategy_map(results, o, x, y, ax)
        else:
            axes = maps.outcome_maps(results, x, y, players=players, size=size)
    elif profiles:
        axes = [curves.profile_shares(results, x, bins=bins)]
    elif y is not None:
        axes = curves.probability_maps(results, x, y, outcomes=outcomes, players=players, bins=bins,
                                       size=size)
    else:
        axes = curves.binned_shares(results, x, outcomes=outcomes, players=players, bins=bins,
                                    size=size)
    fig = axes[0].figure
    if size is not None:
        fig.set_size_inches(*size)
    if title is not None:
        if fig.get_suptitle():
            style.suptitle(fig, title)
        else:
            axes[0].set_title(title, fontsize=10)
    return fig
