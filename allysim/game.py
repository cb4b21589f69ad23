"""A thin object facade over a batch of normal-form games.

``Game`` holds a payoff array with its players' and strategies' names; the
solvers themselves are plain functions of the array (``allysim.solve``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import ScenarioError, suggest


@dataclass(frozen=True, eq=False)
class Game:
    """Named payoffs of B games.

    payoffs : ndarray of float64, shape (B, n, s1, ..., sn)
    players : n names; strategies : per player, its ``s_i`` strategy names

    >>> g = Game(np.zeros((1, 2, 2, 3)), ("A", "B"), (("x", "y"), ("p", "q", "r")))
    >>> g.restrict({"B": "q"}).payoffs.shape
    (1, 2, 2, 1)
    """

    payoffs: np.ndarray
    players: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]

    def __post_init__(self):
        shape = tuple(len(s) for s in self.strategies)
        if self.payoffs.shape[1:] != (len(self.players),) + shape:
            raise ValueError(f"Game(): payoffs of shape {self.payoffs.shape} do not match "
                             f"{len(self.players)} players with strategies {shape}")

    @classmethod
    def from_model(cls, model, params) -> Game:
        """The games of ``model`` at parameter points ``params: (B, P)`` or ``(P,)``."""
        return cls(model.payoffs(params), model.players, model.strategies)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(s) for s in self.strategies)

    def restrict(self, fix: Mapping[str, str], *, where: str = "Game.restrict()") -> Game:
        """The subgame in which each player in ``fix`` plays its given strategy.

        Fixed players keep an axis of length 1, so profiles keep their layout. Errors
        name ``where`` (the CLI passes its flag).
        """
        payoffs, strategies = self.payoffs, list(self.strategies)
        for player, strategy in fix.items():
            if player not in self.players:
                raise ScenarioError(f"{where} {player}={strategy}: unknown player"
                                    f"{suggest(player, self.players)}; expected one of "
                                    f"{', '.join(self.players)}")
            i = self.players.index(player)
            if strategy not in self.strategies[i]:
                raise ScenarioError(f"{where} {player}={strategy}: unknown strategy"
                                    f"{suggest(strategy, self.strategies[i])}; expected one of "
                                    f"{', '.join(self.strategies[i])}")
            k = self.strategies[i].index(strategy)
            payoffs = payoffs.take([k], axis=i + 2)
            strategies[i] = (strategy,)
        return Game(np.ascontiguousarray(payoffs), self.players, tuple(strategies))
