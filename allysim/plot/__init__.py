"""Figures of sweep results: where each solution holds, and QRE probabilities.

Plot functions take ``ax=None`` (a new figure when None) and return the axes;
:func:`load_sweep` reads a finished results folder of any solver into plain arrays.
"""
from .regions import (SweepResults, equilibrium_bands, equilibrium_map, load_sweep, plot_sweep,
                      probability_curves)

__all__ = ["SweepResults", "equilibrium_bands", "equilibrium_map", "load_sweep", "plot_sweep",
           "probability_curves"]
