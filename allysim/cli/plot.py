"""The ``plot`` command."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import AllysimError
from . import main


@main.command()
@click.argument("folder", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Image file to write (.png, .pdf, .svg) [default: FOLDER/equilibria.png].")
@click.option("--x", "x", default=None, help="Swept parameter on the x axis [default: the first].")
@click.option("--y", "y", default=None,
              help="Swept parameter on the y axis [default: the second, for a two-parameter grid].")
@click.option("--outcome", "outcomes", multiple=True, metavar="PLAYER=STRATEGY",
              help="Draw where this strategy is played, e.g. China=SEIZE: in every / some / no "
                   "equilibrium, or its QRE probability (repeatable).")
@click.option("--profiles", is_flag=True,
              help="Draw each point's set of equilibrium profiles instead of each player's strategy.")
@click.option("--player", "players", multiple=True, metavar="PLAYER",
              help="Draw only this player's panel (repeatable) [default: every player].")
@click.option("--lambda", "lambdas", default=None, metavar="L",
              help="QRE sweeps: which of the sweep's lambdas to draw (L or L1,L2,...) "
                   "[default: all as a family of curves; the last in a heat map].")
@click.option("--bins", type=int, default=None,
              help="Bins along a parameter for sampled sweeps [default: 20, fewer for small "
                   "samples: about 40 points a bin].")
@click.option("--title", default=None, help="Figure title [default: scenario and concept].")
@click.option("--size", default=None, metavar="WxH", help="Figure size in inches, e.g. 8x5.")
@click.option("--dpi", type=float, default=None, help="Resolution of a PNG [default: 200].")
def plot(folder, output, x, y, outcomes, profiles, players, lambdas, bins, title, size, dpi):
    """Draw a sweep's results folder, for any solver.

    Sets of equilibria (pure, mixed, SPE, QRE limit, dynamics): one panel per player
    showing its strategy in equilibrium over two grid parameters (striped where the
    equilibria disagree, blank where there is none), bands with labelled switch points
    over one, binned shares with 95% intervals for a sample. QRE: probability curves
    (a family for several lambdas) or heat maps. See docs/examples.md.
    """
    from ..inputs import parse_lambdas
    from ..plot import load_sweep, plot_sweep
    from ..plot.style import FORMATS, check_dpi, parse_size, save_figure

    target = Path(output) if output else Path(folder) / "equilibria.png"
    if target.suffix.lower().lstrip(".") not in FORMATS:
        raise AllysimError(f"-o {target}: expected a .png, .pdf or .svg file name")
    size, dpi = parse_size(size), check_dpi(dpi)
    lams = list(parse_lambdas(lambdas, "--lambda")) if lambdas else []
    results = load_sweep(folder)
    fig = plot_sweep(results, x, y, outcomes=outcomes, profiles=profiles, players=players,
                     lambdas=lams, bins=bins, title=title, size=size)
    try:
        save_figure(fig, target, dpi=dpi)
    except AllysimError as exc:
        raise AllysimError(f"-o {exc}") from None
    click.echo(f"wrote {target}", err=True)
