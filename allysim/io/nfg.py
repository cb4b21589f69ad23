"""Gambit .nfg (normal form game) files, payoff version.

Format: Gambit's documentation, "The strategic game (.nfg) file format".
Payoffs are listed profile by profile with the first player's strategy
changing fastest, each profile giving every player's payoff in order.
"""
from __future__ import annotations

import numpy as np


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_nfg(payoffs: np.ndarray, players, strategies, title: str = "", comment: str = "") -> str:
    """Write one game as .nfg text.

    Parameters
    ----------
    payoffs : ndarray of float, shape (n, s1, ..., sn) — one game, no batch axis
    players : n names; strategies : per player, its strategy names
    """
    payoffs = np.asarray(payoffs, dtype=float)
    n = payoffs.shape[0]
    if payoffs.ndim != n + 1 or len(players) != n:
        raise ValueError(f"to_nfg(): payoffs must have shape (n, s1, ..., sn), got {payoffs.shape}")
    head = f"NFG 1 R {_quote(title)} {{ {' '.join(_quote(p) for p in players)} }}"
    strat = "{ " + " ".join("{ " + " ".join(_quote(s) for s in ss) + " }" for ss in strategies) + " }"
    # Gambit orders profiles with player 1 fastest: Fortran order over (s1, ..., sn).
    flat = payoffs.reshape(n, -1, order="F").T
    body = "\n".join(" ".join(repr(float(v)) for v in row) for row in flat)
    return f"{head}\n\n{strat}\n{_quote(comment)}\n\n{body}\n"
