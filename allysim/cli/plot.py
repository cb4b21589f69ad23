"""The ``plot`` command."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import AllysimError
from . import main
from ._common import write_output


@main.command()
@click.argument("folder", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Image file to write (.png, .pdf, .svg) [default: FOLDER/equilibria.png].")
@click.option("--x", "x", default=None, help="Swept parameter on the x axis [default: the first].")
@click.option("--y", "y", default=None, help="Swept parameter on the y axis [default: the second].")
def plot(folder, output, x, y):
    """Plot a sweep's results folder, for any solver.

    One swept parameter gives a band per solution (QRE concepts: each strategy's
    probability); two or more give a map of each point's solutions (an image for a
    grid, a scatter for a sample).
    """
    import matplotlib
    matplotlib.use("Agg")
    from ..plot import load_sweep, plot_sweep

    target = Path(output) if output else Path(folder) / "equilibria.png"
    suffix = target.suffix.lower().lstrip(".")
    if suffix not in ("png", "pdf", "svg"):
        raise AllysimError(f"-o {target}: expected a .png, .pdf or .svg file name")
    results = load_sweep(folder)
    fig = plot_sweep(results, x, y)
    write_output(target, lambda fh: fig.savefig(fh, format=suffix, dpi=150))
    click.echo(f"wrote {target}", err=True)
