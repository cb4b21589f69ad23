"""Sweep designs: which parameter points a sweep visits, generated chunk by chunk.

A :class:`Design` names the varied parameters, their ranges and the number of
points ``n``; :meth:`Design.points` returns any slice ``[start, stop)`` of the
sequence, as a ``(stop - start, P)`` block of full parameter points (the
scenario's point with the varied columns filled in). The same index always
gives bitwise the same point, however the sweep is cut into chunks, which is
what makes sweeps reproducible for any ``--chunk-size``, ``--jobs`` or
executor.

Kinds
-----
``grid``
    the full grid of ``--vary name=lo:hi:n`` axes (``numpy.linspace`` values),
    in C order: the last axis varies fastest. No randomness.
``sobol``, ``halton``
    scrambled low-discrepancy sequences from :mod:`scipy.stats.qmc`, seeded;
    a chunk fast-forwards the sequence to its first index.
``lhs``
    a Latin hypercube of exactly ``n`` points: in each dimension point ``k``
    lies in stratum ``perm(k)`` of ``n``, jittered uniformly inside it
    (as ``scipy.stats.qmc.LatinHypercube(scramble=True)``), where ``perm`` is a
    keyed pseudo-random permutation of ``range(n)`` (a Feistel network with
    cycle walking) so that any slice can be generated without the others.
``random``
    independent uniform points.

Randomness
----------
One ``seed``. Random streams are keyed to fixed blocks of
:data:`SEED_BLOCK` points (not to the execution chunks, whose size is free):
block ``b`` draws from ``PCG64(SeedSequence(seed).spawn(...)[b])``, built
directly as ``SeedSequence(seed, spawn_key=(b,))``, and a chunk that starts
inside a block advances that stream to its first point. The scrambling of
Sobol' and Halton sequences and the LHS permutation keys come from
``SeedSequence(seed, spawn_key=(tag,))`` children reserved for them.
"""
from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import AllysimError, suggest

KINDS = ("grid", "sobol", "lhs", "halton", "random")
SAMPLE_KINDS = KINDS[1:]
#: Points per random-stream block (fixed: part of what a seed means).
SEED_BLOCK = 1 << 16
# spawn_key tags of the non-block streams (block keys are small non-negative ints).
_TAG_SCRAMBLE = 2**32 + 1
_TAG_LHS = 2**32 + 2


class DesignError(AllysimError):
    """A sweep design that cannot be built (bad --vary, --sample, --n, --params)."""


@dataclass(frozen=True)
class Design:
    """A sweep design over some of a model's parameters.

    Attributes
    ----------
    kind : one of :data:`KINDS`
    names : varied parameter names, length d
    columns : their column indices in the model's parameter vector
    lows, highs : ranges of the varied parameters
    counts : grid only, the number of values per axis
    n : total number of points
    seed : the seed of every random stream
    base : the full parameter point (P,) the varied columns are written into
    """

    kind: str
    names: tuple[str, ...]
    columns: tuple[int, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    n: int
    seed: int = 0
    counts: tuple[int, ...] = ()
    base: tuple[float, ...] = ()
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def d(self) -> int:
        return len(self.names)

    def to_json(self) -> dict[str, Any]:
        out = {"kind": self.kind, "names": list(self.names), "columns": list(self.columns),
               "lows": list(self.lows), "highs": list(self.highs), "n": self.n, "seed": self.seed,
               "base": list(self.base), "seed_block": SEED_BLOCK}
        if self.kind == "grid":
            out["counts"] = list(self.counts)
        return out

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Design:
        if doc.get("seed_block", SEED_BLOCK) != SEED_BLOCK:
            raise DesignError(f"design seed_block {doc['seed_block']} differs from this "
                              f"allysim's {SEED_BLOCK}; cannot regenerate the same points")
        return cls(kind=doc["kind"], names=tuple(doc["names"]), columns=tuple(doc["columns"]),
                   lows=tuple(float(v) for v in doc["lows"]),
                   highs=tuple(float(v) for v in doc["highs"]), n=int(doc["n"]),
                   seed=int(doc["seed"]), counts=tuple(doc.get("counts", ())),
                   base=tuple(float(v) for v in doc["base"]))

    def unit(self, start: int, stop: int) -> np.ndarray:
        """The design's points ``[start, stop)`` in the unit cube, shape (stop - start, d).

        Not defined for grids; use :meth:`varied` for values.
        """
        start, stop = int(start), int(stop)
        if not 0 <= start <= stop <= self.n:
            raise ValueError(f"Design.unit(): slice [{start}, {stop}) outside [0, {self.n})")
        m, d = stop - start, self.d
        if self.kind == "random":
            return _block_uniform(self.seed, start, stop, d)
        if self.kind == "lhs":
            jitter = _block_uniform(self.seed, start, stop, d)
            idx = np.arange(start, stop, dtype=np.uint64)
            strata = np.empty((m, d))
            for j, key in enumerate(self._lhs_keys()):
                strata[:, j] = _permute(idx, self.n, key)
            return (strata + jitter) / self.n
        if self.kind in ("sobol", "halton"):
            return self._qmc(start, m)
        raise ValueError(f"Design.unit(): not defined for kind {self.kind!r}")

    def varied(self, start: int, stop: int) -> np.ndarray:
        """Values of the varied parameters at points ``[start, stop)``, shape (m, d)."""
        start, stop = int(start), int(stop)
        if self.kind == "grid":
            if not 0 <= start <= stop <= self.n:
                raise ValueError(f"Design.varied(): slice [{start}, {stop}) outside [0, {self.n})")
            idx = np.unravel_index(np.arange(start, stop), self.counts)
            axes = [np.linspace(lo, hi, c) for lo, hi, c in zip(self.lows, self.highs, self.counts)]
            return np.stack([ax[i] for ax, i in zip(axes, idx)], axis=1).reshape(stop - start, self.d)
        lows, highs = np.asarray(self.lows), np.asarray(self.highs)
        values = self.unit(start, stop)
        values *= highs - lows
        values += lows
        return np.clip(values, lows, highs, out=values)

    def points(self, start: int, stop: int) -> np.ndarray:
        """Full parameter points ``[start, stop)``: shape (m, P) float64, C-contiguous."""
        start, stop, P = int(start), int(stop), len(self.base)
        if self.columns == tuple(range(P)):
            return np.ascontiguousarray(self.varied(start, stop))
        out = np.empty((stop - start, P))
        out[:] = np.asarray(self.base)
        if self.d:
            values = self.varied(start, stop)
            for j, col in enumerate(self.columns):
                out[:, col] = values[:, j]
        return out

    # -- private -------------------------------------------------------------------------
    def _lhs_keys(self) -> list[np.ndarray]:
        if "lhs" not in self._cache:
            ss = np.random.SeedSequence(self.seed, spawn_key=(_TAG_LHS,))
            self._cache["lhs"] = [k for k in ss.generate_state(4 * self.d, np.uint64).reshape(self.d, 4)]
        return self._cache["lhs"]

    def _qmc(self, start: int, m: int) -> np.ndarray:
        # One engine per design, stepped forward chunk after chunk; threads (a Dask worker
        # with several threads) take turns, or they would move each other's engine.
        with self._cache.setdefault("lock", threading.Lock()):
            return self._qmc_locked(start, m)

    def _qmc_locked(self, start: int, m: int) -> np.ndarray:
        from scipy.stats import qmc

        engine = self._cache.get("engine")
        if engine is None:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_TAG_SCRAMBLE,)))
            cls = qmc.Sobol if self.kind == "sobol" else qmc.Halton
            try:
                engine = cls(self.d, scramble=True, rng=rng)
            except TypeError:     # scipy < 1.15 calls it seed
                engine = cls(self.d, scramble=True, seed=rng)
            self._cache["engine"] = engine
        with warnings.catch_warnings():
            # The balance warning of Sobol' is given once, up front (sobol_warning).
            warnings.simplefilter("ignore", UserWarning)
            if self.kind == "halton":
                # Halton points are a pure function of their index (scipy draws them
                # from num_generated on), so jump straight there.
                engine.num_generated = start
            else:
                # Sobol' fast-forward costs O(skip): step forward from where this
                # worker's engine stands when it can (chunks arrive in increasing order).
                if start < engine.num_generated:
                    engine.reset()
                if start > engine.num_generated:    # (scipy fails on a skip of 0)
                    engine.fast_forward(start - engine.num_generated)
            return engine.random(m)


def _block_uniform(seed: int, start: int, stop: int, d: int) -> np.ndarray:
    """Uniform [0, 1) draws for points [start, stop), d per point, keyed to seed blocks."""
    out = np.empty((stop - start, d))
    pos = start
    while pos < stop:
        block = pos // SEED_BLOCK
        end = min(stop, (block + 1) * SEED_BLOCK)
        bitgen = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,)))
        # Each double consumes one 64-bit draw, so skip d draws per earlier point.
        bitgen.advance((pos - block * SEED_BLOCK) * d)
        out[pos - start:end - start] = np.random.Generator(bitgen).random((end - pos, d))
        pos = end
    return out


def _mix(x: np.ndarray, key: np.uint64) -> np.ndarray:
    """A 64-bit mixing function (splitmix64 finaliser) of x and a round key."""
    with np.errstate(over="ignore"):
        z = (x + key) * np.uint64(0x9E3779B97F4A7C15)
        z ^= z >> np.uint64(31)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(29)
    return z


def _permute(idx: np.ndarray, n: int, keys: np.ndarray) -> np.ndarray:
    """A keyed bijection of ``range(n)`` applied to ``idx`` (uint64 array).

    A balanced Feistel network on the smallest even number of bits covering n,
    with cycle walking: values that land outside ``range(n)`` are permuted again
    until they fall inside, which keeps the map a bijection of ``range(n)``.
    """
    bits = max(2, (max(n, 2) - 1).bit_length())
    bits += bits % 2
    half = np.uint64(bits // 2)
    mask = np.uint64((1 << (bits // 2)) - 1)
    out = idx.astype(np.uint64, copy=True)
    todo = np.ones(out.shape, dtype=bool)
    while todo.any():
        x = out[todo]
        left, right = x >> half, x & mask
        for key in keys:
            left, right = right, left ^ (_mix(right, key) & mask)
        out[todo] = (left << half) | right
        todo = out >= np.uint64(n)
    return out.astype(np.float64)


def nearest_power_of_two(n: int) -> int:
    """The power of two nearest to ``n`` (the lower one on a tie).

    >>> nearest_power_of_two(1_000_000)
    1048576
    """
    lo = 1 << max(0, n.bit_length() - 1)
    hi = lo << 1
    return lo if n - lo <= hi - n else hi


def sobol_warning(n: int) -> str | None:
    """A one-line warning when a Sobol' sample of ``n`` points is not 2^m, else None."""
    if n > 0 and n & (n - 1) == 0:
        return None
    p = nearest_power_of_two(n)
    return (f"sobol --n {n} is not a power of two; Sobol' points keep their balance only "
            f"for n = 2^m (nearest: {p} = 2^{p.bit_length() - 1})")


# -- building designs from user input ----------------------------------------------------
def parse_vary(item: str) -> tuple[str, float, float, int]:
    """Parse ``name=lo:hi:n`` into its parts; a :class:`DesignError` names what is wrong.

    >>> parse_vary("abandonment_fear=0:10:11")
    ('abandonment_fear', 0.0, 10.0, 11)
    """
    name, sep, spec = item.partition("=")
    parts = spec.split(":")
    if not sep or not name.strip() or len(parts) != 3:
        raise DesignError(f"--vary {item!r}: expected name=lo:hi:n, e.g. abandonment_fear=0:10:11")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise DesignError(f"--vary {item!r}: lo and hi must be numbers") from None
    try:
        count = int(parts[2])
    except ValueError:
        raise DesignError(f"--vary {item!r}: n must be a whole number, got {parts[2]!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise DesignError(f"--vary {item!r}: expected finite lo <= hi")
    if count < 1 or (count == 1 and lo != hi):
        raise DesignError(f"--vary {item!r}: n must be >= 2 (or 1 with lo == hi), got {count}")
    return name.strip(), lo, hi, count


def _check_name(model, name: str, flag: str) -> int:
    names = model.parameter_names
    if name not in names:
        raise DesignError(f"{flag}: unknown parameter '{name}' of model {model.name}"
                          f"{suggest(name, names)}")
    return names.index(name)


def grid_design(model, base: np.ndarray, vary: list[str], *, force: bool = False,
                seed: int = 0) -> Design:
    """A full grid from ``--vary name=lo:hi:n`` items (several compose)."""
    names, cols, lows, highs, counts = [], [], [], [], []
    for item in vary:
        name, lo, hi, count = parse_vary(item)
        j = _check_name(model, name, f"--vary {item!r}")
        if name in names:
            raise DesignError(f"--vary {item!r}: parameter '{name}' is varied twice")
        p = model.parameters[j]
        if not force and (lo < p.low or hi > p.high):
            raise DesignError(f"--vary {item!r}: range [{lo:g}, {hi:g}] is outside {name}'s "
                              f"declared range [{p.low:g}, {p.high:g}] (use --force to allow)")
        names.append(name), cols.append(j), lows.append(lo), highs.append(hi), counts.append(count)
    n = math.prod(counts)
    return Design("grid", tuple(names), tuple(cols), tuple(lows), tuple(highs), n, int(seed),
                  tuple(counts), tuple(float(v) for v in base))


def sample_design(model, base: np.ndarray, kind: str, n: int, *, params: list[str] | None = None,
                  seed: int = 0) -> Design:
    """A sample of ``n`` points over the declared ranges of ``params`` (default: all)."""
    if kind not in SAMPLE_KINDS:
        raise DesignError(f"--sample {kind!r}: unknown sampler{suggest(kind, SAMPLE_KINDS)}; "
                          f"expected one of {', '.join(SAMPLE_KINDS)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DesignError(f"--n {n!r}: expected a whole number of points >= 1")
    if params is None or len(params) == 0:
        params = list(model.parameter_names)
    names, cols = [], []
    for name in params:
        j = _check_name(model, name, f"--params {name!r}")
        if name in names:
            raise DesignError(f"--params: parameter '{name}' is listed twice")
        names.append(name), cols.append(j)
    if seed < 0:
        raise DesignError(f"--seed {seed}: expected a non-negative integer")
    lows = tuple(model.parameters[j].low for j in cols)
    highs = tuple(model.parameters[j].high for j in cols)
    return Design(kind, tuple(names), tuple(cols), lows, highs, n, int(seed), (),
                  tuple(float(v) for v in base))
