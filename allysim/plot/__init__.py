"""Figures of sweep results: where each equilibrium holds.

Plot functions take ``ax=None`` (a new figure when None) and return the axes;
:func:`load_sweep` reads a finished results folder into plain arrays.
"""
from .regions import SweepResults, equilibrium_bands, equilibrium_map, load_sweep, plot_sweep

__all__ = ["SweepResults", "equilibrium_bands", "equilibrium_map", "load_sweep", "plot_sweep"]
