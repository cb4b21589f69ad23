"""GameTracer .gam files (the normal-form format QuantEcon reads and writes).

Format (Blum, Shelton & Koller's GameTracer; QuantEcon's ``game_converters``):
whitespace-separated numbers: the number of players n, then each player's number
of strategies, then n blocks of ``s1 * ... * sn`` payoffs, player 1's block
first; within a block the profiles run with player 1's strategy fastest
(Fortran order over ``(s1, ..., sn)``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def parse_gam(text: str) -> np.ndarray:
    """Payoffs ``(n, s1, ..., sn)`` (allysim's layout, one game) of .gam text.

    >>> parse_gam("2  2 2  1 2 3 4  5 6 7 8")[0].tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    tokens = text.split()
    try:
        n = int(tokens[0])
        shape = tuple(int(t) for t in tokens[1:1 + n])
        values = np.array([float(t) for t in tokens[1 + n:]])
    except (IndexError, ValueError) as exc:
        raise ValueError(f"parse_gam(): not a .gam game ({exc})") from None
    if n < 1 or len(shape) != n or min(shape) < 1:
        raise ValueError(f"parse_gam(): bad header: {n} players, strategies {shape}")
    size = int(np.prod(shape))
    if values.size != n * size:
        raise ValueError(f"parse_gam(): expected {n * size} payoffs for strategies {shape}, "
                         f"got {values.size}")
    return np.stack([values[i * size:(i + 1) * size].reshape(shape, order="F") for i in range(n)])


def read_gam(path) -> np.ndarray:
    """Payoffs ``(n, s1, ..., sn)`` of a .gam file (see :func:`parse_gam`)."""
    return parse_gam(Path(path).read_text())
