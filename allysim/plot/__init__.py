"""Figures a researcher can put in a paper, from a sweep's results folder or one game.

Read a finished sweep with :func:`load_sweep` (any solution concept), then draw:

* outcome maps and bands (:mod:`.maps`): :func:`outcome_maps` (one panel per player:
  its strategy in equilibrium, disagreement striped, blank where there is none),
  :func:`strategy_map` (``China=SEIZE`` in every / some / no equilibrium),
  :func:`profile_map` (each point's set of equilibria), and over one parameter
  :func:`outcome_bands` / :func:`profile_bands` with the switch points labelled;
* probabilities and shares (:mod:`.curves`): :func:`probability_curves` (QRE, a family
  of curves for several lambdas), :func:`probability_maps` (heat maps over two
  parameters), :func:`binned_shares` and :func:`profile_shares` (samples: shares in
  bins with 95% intervals, not a scatter);
* one game (:mod:`.games`): :func:`qre_correspondence`, :func:`dynamics_figure`
  (:func:`simplex_trajectories`, :func:`phase_plane`, :func:`time_series`).

:func:`plot_sweep` picks the default figure for a sweep (what ``allysim plot`` draws).
Drawing functions take ``ax=None`` (or ``axes=None``) and return the axes; a new figure
is a :class:`matplotlib.figure.Figure` made outside pyplot, so nothing global changes.
Colours are keyed by name (:mod:`.style`): a strategy or a profile has the same colour
in every figure; palettes are Okabe–Ito (strategies) and Paul Tol's muted (profiles).
"""
from .curves import binned_shares, probability_curves, probability_maps, profile_shares
from .figure import plot_sweep
from .games import (dynamics_figure, phase_plane, plot_game, qre_correspondence,
                    simplex_trajectories, time_series)
from .maps import (category_map, outcome_bands, outcome_maps, profile_bands, profile_map,
                   strategy_map)
from .results import (SweepResults, load_sweep, player_outcome, probabilities, profile_sets,
                      solution_name, strategy_outcome)
from .style import parameter_label, profile_colour, save_figure, strategy_colour

__all__ = ["SweepResults", "load_sweep", "player_outcome", "strategy_outcome", "profile_sets",
           "probabilities", "solution_name", "category_map", "outcome_maps", "strategy_map",
           "profile_map", "outcome_bands", "profile_bands", "probability_curves",
           "probability_maps", "binned_shares", "profile_shares", "qre_correspondence",
           "dynamics_figure", "simplex_trajectories", "phase_plane", "time_series", "plot_game",
           "plot_sweep", "profile_colour", "strategy_colour", "parameter_label", "save_figure"]
