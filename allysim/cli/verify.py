"""The ``verify`` command: recheck a sample of a sweep's stored solutions from its manifest."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import AllysimError
from ..sweep.verify import export_nfg, verify_folder
from . import EXIT_DIFFERENT, main


@main.command()
@click.argument("folder", type=click.Path())
@click.option("--sample", "sample", type=int, default=1000, show_default=True, metavar="K",
              help="Stored solutions to recheck, drawn at random (all of them if fewer).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option("--export-nfg", "export", type=int, default=None, metavar="K",
              help="Also write K sampled points as Gambit .nfg files into -o DIR.")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="New folder for the --export-nfg files.")
def verify(folder, sample, seed, export, output):
    """Recompute payoffs and regrets of a sample of a sweep's stored solutions from its
    manifest alone (model text, design, solver options); exit 1 on any mismatch.

    Each sampled point is rebuilt from the design, its payoffs computed again, and every
    sampled solution's expected payoffs and regret recomputed and compared with what is
    stored, and checked against its concept's certificate (a Nash equilibrium within
    --tol, a logit QRE within --residual-tol, a replicator rest point; staged games are
    solved again). Reports the worst regret relative to the payoff scale.
    """
    if isinstance(sample, bool) or sample < 1:
        raise AllysimError(f"--sample {sample}: expected a whole number >= 1")
    if seed < 0:
        raise AllysimError(f"--seed {seed}: expected a whole number >= 0")
    if export is not None and export < 1:
        raise AllysimError(f"--export-nfg {export}: expected a whole number >= 1")
    if (export is None) != (output is None):
        raise AllysimError("--export-nfg K and -o DIR: give both (the .nfg files go into DIR)")
    rep = verify_folder(folder, sample=sample, seed=seed)
    click.echo(f"verify {folder}: {rep.label}; rechecked {rep.checked:,} of {rep.rows:,} stored "
               f"solutions at {rep.points:,} points (seed {seed}) from the manifest alone")
    if rep.checked:
        where = f" (point {rep.worst_point})" if rep.worst_point >= 0 else ""
        click.echo(f"worst regret: {rep.worst:.3g} x payoff scale{where}; certificate: "
                   f"{rep.certificate}")
    for note in rep.notes:
        click.echo(f"note: {note}")
    if export is not None and not rep.mismatches:
        files = export_nfg(folder, export, Path(output), seed=seed)
        click.echo(f"wrote {len(files)} .nfg file(s) to {output}/", err=True)
    if rep.mismatches:
        click.echo(f"MISMATCH: {len(rep.mismatches)} problem(s):")
        for m in rep.mismatches:
            click.echo(f"  {m}")
        sys.exit(EXIT_DIFFERENT)
    click.echo("no mismatch")
