"""Reference answers from pygambit and QuantEcon for one game at a time.

Every function takes one game ``u: (n, s1, ..., sn)`` (allysim's layout
without the batch axis) and builds the reference library's own game object
from it, so the conversion itself is part of what the tests check.

pygambit stores a float payoff as the decimal of its ``repr`` and compares
exactly; that decimal orders exactly like the float, so pygambit's answers
match allysim's at ``tol=0`` on the same array.
"""
from __future__ import annotations

import numpy as np
import pygambit as gbt
import quantecon.game_theory as qe
from pygambit.supports import undominated_strategies_solve


def gambit_game(u: np.ndarray) -> gbt.Game:
    """A pygambit strategic game whose player i has payoff ``u[i][a1, ..., an]``."""
    u = np.asarray(u, dtype=float)
    return gbt.Game.from_arrays(*[u[i] for i in range(u.shape[0])])


def _strategies(game: gbt.Game) -> list[list]:
    return [list(p.strategies) for p in game.players]


def gambit_pure(u: np.ndarray) -> set[tuple[int, ...]]:
    """Every pure Nash equilibrium (weak ones included) by ``pygambit.nash.enumpure_solve``."""
    game = gambit_game(u)
    strategies = _strategies(game)
    found = set()
    for eq in gbt.nash.enumpure_solve(game).equilibria:
        prof = []
        for ss in strategies:
            probs = [eq[s] for s in ss]
            assert sorted(probs) == [0] * (len(ss) - 1) + [1], probs
            prof.append(probs.index(1))
        found.add(tuple(prof))
    return found


def gambit_iesds(u: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Iterated strict pure-strategy dominance with pygambit's dominance test.

    Each round asks ``StrategySupportProfile.is_dominated(s, strict=True)``
    (exact comparisons against the current support) for every strategy of
    every player, then removes all dominated ones at once; rounds repeat until
    nothing is removed. Returns the survivors, one bool array ``(s_i,)`` per
    player, and the number of rounds that removed something.

    ``pygambit.supports.undominated_strategies_solve(strict=True)`` is not used:
    in pygambit 16.7.0 it can remove an undominated strategy and keep a
    dominated one (see ``gambit_undominated_once`` and test_dominance.py).
    """
    game = gambit_game(u)
    strategies = _strategies(game)
    support = game.strategy_support_profile()
    rounds = 0
    while True:
        dominated = [s for ss in strategies for s in ss
                     if s in support and support.is_dominated(s, True)]
        if not dominated:
            break
        for s in dominated:
            support = support.remove(s)
        rounds += 1
    return [np.array([s in support for s in ss]) for ss in strategies], rounds


def gambit_undominated_once(u: np.ndarray) -> list[np.ndarray]:
    """One round of ``pygambit.supports.undominated_strategies_solve(strict=True)``
    on the full game: the strategies it keeps, one bool array per player."""
    game = gambit_game(u)
    support = undominated_strategies_solve(game, strict=True)
    return [np.array([s in support for s in ss]) for ss in _strategies(game)]


def gambit_mixed(u: np.ndarray, sigma: np.ndarray):
    """pygambit's view of a mixed profile ``sigma: (s1 + ... + sn,)``.

    Returns ``(payoff, values, regrets, max_regret)``: each player's expected
    payoff ``(n,)``, each pure strategy's value ``list of (s_i,)``, each
    player's ``player_regret`` ``(n,)`` and ``max_regret()``.
    """
    game = gambit_game(u)
    shape = u.shape[1:]
    blocks = np.split(np.asarray(sigma, dtype=float), np.cumsum(shape)[:-1])
    profile = game.mixed_strategy_profile([b.tolist() for b in blocks])
    players = list(game.players)
    payoff = np.array([profile.payoff(p) for p in players], dtype=float)
    values = [np.array([profile.strategy_value(s) for s in ss], dtype=float)
              for ss in _strategies(game)]
    regrets = np.array([profile.player_regret(p) for p in players], dtype=float)
    return payoff, values, regrets, float(profile.max_regret())


def quantecon_game(u: np.ndarray) -> qe.NormalFormGame:
    """A QuantEcon game from allysim's layout.

    QuantEcon's player i holds an array with its own action first and the
    others following cyclically: axes ``(a_i, a_{i+1}, ..., a_n, a_1, ..., a_{i-1})``.
    """
    u = np.asarray(u, dtype=float)
    n = u.shape[0]
    players = [qe.Player(np.transpose(u[i], [(i + k) % n for k in range(n)]).copy())
               for i in range(n)]
    return qe.NormalFormGame(players)


def quantecon_pure(u: np.ndarray, tol: float) -> set[tuple[int, ...]]:
    """Pure Nash equilibria by ``quantecon.game_theory.pure_nash_brute``."""
    return {tuple(int(a) for a in prof) for prof in qe.pure_nash_brute(quantecon_game(u), tol=tol)}


def allysim_profiles(mask: np.ndarray) -> set[tuple[int, ...]]:
    """The profiles marked True in one game's equilibrium mask ``(s1, ..., sn)``."""
    return {tuple(int(a) for a in p) for p in np.argwhere(mask)}
