"""allysim: alliance politics as game theory, batched over parameter points.

Axis convention (stated once, used everywhere)
----------------------------------------------
A batch of B normal-form games with n players, player i having ``s_i``
strategies, is one array::

    payoffs : ndarray of float64, shape (B, n, s1, ..., sn)

``payoffs[b, i, a1, ..., an]`` is player i's payoff in game b when each
player j plays its strategy ``aj``. Players are in the model's absolute order
(for the four-power model: US, Japan, China, NorthKorea) and each player's
axis keeps that order too (unlike QuantEcon, which puts a player's own action
first). Every solver takes this array and returns arrays whose first axis is
the batch. Mixed profiles are ``(B, s1 + ... + sn)``, the players' blocks
concatenated in player order.
"""
from .errors import (AllysimError, DegenerateGameWarning, GameFileError, ModelError, PayoffError,
                     ScenarioError)
from .model import Model, compile_model, list_models, load_model
from .scenario import Scenario, list_scenarios, load_scenario

__version__ = "0.1.0"


def load(folder, as_: str = "pandas"):
    """A results folder as a pandas DataFrame or (``as_="xarray"``) an xarray Dataset:
    :func:`allysim.sweep.results.load`."""
    from .sweep.results import load as _load
    return _load(folder, as_)


__all__ = ["AllysimError", "DegenerateGameWarning", "GameFileError", "ModelError", "PayoffError",
           "ScenarioError", "Model", "compile_model", "list_models", "load_model", "Scenario", "list_scenarios",
           "load_scenario", "load", "__version__"]
