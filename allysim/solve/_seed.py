"""The one place a ``seed`` argument becomes a random generator (private).

Solvers take ``seed``: an int >= 0, a ``numpy.random.SeedSequence``, a
``numpy.random.Generator`` (used as is) or None (fresh entropy: not
reproducible). NumPy's global random state is never used.
"""
from __future__ import annotations

import numpy as np


def as_generator(seed, where: str) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a ``seed`` argument.

    >>> int(as_generator(0, "f").integers(10)) == int(as_generator(0, "f").integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise TypeError(f"{where}(): seed must be an int >= 0, a SeedSequence, a Generator or None, "
                    f"got {seed!r}")


def seed_record(seed):
    """How a seed is recorded in a result's ``parameters`` (a Generator cannot be)."""
    if isinstance(seed, np.random.Generator):
        return "Generator"
    if isinstance(seed, np.random.SeedSequence):
        return {"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)}
    return seed
