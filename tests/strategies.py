"""Random test data in one place: hypothesis strategies and seeded NumPy generators.

Payoff arrays follow allysim's axis convention ``(B, n, s1, ..., sn)``.
Shapes are kept small (2-4 players, 2-4 strategies) so that brute-force
references stay cheap. Integer payoffs from a small range create ties (weak
equilibria, weakly dominated strategies) often enough to exercise them.

>>> import numpy as np
>>> u = random_games(np.random.default_rng(0), 3, shape=(2, 3))
>>> u.shape
(3, 2, 2, 3)
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: Integer payoffs are drawn from [-INT_RANGE, INT_RANGE].
INT_RANGE = 3


@st.composite
def game_shapes(draw, min_players=2, max_players=4, min_strategies=2, max_strategies=4,
                max_profiles=64):
    """Numbers of strategies per player, ``(s1, ..., sn)``, with at most ``max_profiles`` profiles."""
    n = draw(st.integers(min_players, max_players))
    shape: list[int] = []
    for k in range(n):
        # Leave room for the players still to come, each with at least min_strategies.
        room = max_profiles // (int(np.prod(shape, dtype=np.int64)) * min_strategies ** (n - k - 1))
        shape.append(draw(st.integers(min_strategies, max(min_strategies, min(max_strategies, room)))))
    return tuple(shape)


@st.composite
def payoff_arrays(draw, shape=None, min_batch=1, max_batch=4, integer=None, **shape_kw):
    """A batch of games: float64 array ``(B, n, s1, ..., sn)``.

    integer: True for small integer payoffs (ties likely), False for floats in
    [-10, 10] (ties unlikely), None to let hypothesis choose.
    """
    if shape is None:
        shape = draw(game_shapes(**shape_kw))
    batch = draw(st.integers(min_batch, max_batch))
    if integer is None:
        integer = draw(st.booleans())
    full = (batch, len(shape), *shape)
    if integer:
        arr = draw(hnp.arrays(np.int64, full, elements=st.integers(-INT_RANGE, INT_RANGE)))
        return arr.astype(np.float64)
    return draw(hnp.arrays(np.float64, full,
                           elements=st.floats(-10, 10, allow_nan=False, allow_subnormal=False)))


@st.composite
def mixed_profiles(draw, shape, batch):
    """Mixed profiles ``(B, s1 + ... + sn)``, each player's block summing to 1.

    Some blocks are pure (one-hot) so that supports of every size appear.
    """
    blocks = []
    for s in shape:
        raw = draw(hnp.arrays(np.float64, (batch, s), elements=st.floats(0, 1, allow_subnormal=False)))
        pure = draw(hnp.arrays(np.int64, (batch,), elements=st.integers(-1, s - 1)))
        for b in range(batch):
            if pure[b] >= 0 or raw[b].sum() == 0:
                raw[b] = 0.0
                raw[b, max(pure[b], 0)] = 1.0
        blocks.append(raw / raw.sum(axis=1, keepdims=True))
    return np.concatenate(blocks, axis=1)


@st.composite
def model_points(draw, model, min_batch=1, max_batch=4):
    """In-range parameter points of ``model``: float64 ``(B, P)``, some at range ends."""
    batch = draw(st.integers(min_batch, max_batch))
    lo, hi = model.bounds.T
    rows = []
    for _ in range(batch):
        rows.append([draw(st.one_of(st.sampled_from([a, b]),
                                    st.floats(a, b, allow_nan=False, allow_subnormal=False)))
                     for a, b in zip(lo, hi)])
    return np.array(rows, dtype=np.float64).reshape(batch, len(lo))


def random_points(model, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` parameter points drawn uniformly in the model's declared ranges: ``(count, P)``."""
    lo, hi = model.bounds.T
    return rng.uniform(lo, hi, size=(count, len(lo)))


def random_shape(rng: np.random.Generator, min_players=2, max_players=4, min_strategies=2,
                 max_strategies=4) -> tuple[int, ...]:
    """A random game shape ``(s1, ..., sn)``."""
    n = int(rng.integers(min_players, max_players + 1))
    return tuple(int(s) for s in rng.integers(min_strategies, max_strategies + 1, size=n))


def random_games(rng: np.random.Generator, batch: int, shape: tuple[int, ...], integer=True,
                 low=-INT_RANGE, high=INT_RANGE) -> np.ndarray:
    """``batch`` games of ``shape``: float64 ``(batch, n, *shape)``; integer payoffs in
    [low, high] when ``integer`` (ties likely), else uniform floats in [low, high)."""
    full = (batch, len(shape), *shape)
    if integer:
        return rng.integers(low, high + 1, size=full).astype(np.float64)
    return rng.uniform(low, high, size=full)


def random_mixed(rng: np.random.Generator, batch: int, shape: tuple[int, ...]) -> np.ndarray:
    """Random interior mixed profiles ``(batch, sum(shape))`` (Dirichlet blocks)."""
    return np.concatenate([rng.dirichlet(np.ones(s), size=batch) for s in shape], axis=1)
