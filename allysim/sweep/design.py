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
``saltelli``
    the design of Sobol' sensitivity indices (Saltelli et al. 2010, as SALib's
    ``sobol.sample`` without second-order terms and ``scipy.stats.sobol_indices``):
    ``N = n / (d + 2)`` base rows of a scrambled Sobol' sequence in ``2d``
    dimensions, row ``j`` split into ``A_j`` (its first d columns) and ``B_j`` (its
    last d), each giving ``d + 2`` consecutive points ``A_j, AB_j^(1), ...,
    AB_j^(d), B_j`` where ``AB_j^(i)`` is ``A_j`` with column i taken from ``B_j``
    (SALib's order, so its ``analyze`` reads the outputs directly).
``morris``
    ``r = n / (d + 1)`` Morris (1991) trajectories on a grid of ``levels`` (even)
    values per unit axis, step ``delta = levels / (2 (levels - 1))``: trajectory t
    starts at a random grid point ``x*`` (each coordinate in ``0, 1/(levels-1), ...,
    1 - delta``, shifted up by delta where that coordinate will step down) and moves
    one coordinate at a time, in a random order, by ``+delta`` or ``-delta``; its
    randomness comes from ``SeedSequence(seed, spawn_key=(tag, t))``, so any slice
    of trajectories is generated alone.

Limits
------
A design has at most :data:`MAX_POINTS` = 2^53 points (at a million points a second,
285 years; :func:`allysim.limits.check_points` asks for ``--yes`` far below that), a
Sobol' design at most 2^30 (scipy's sequence ends there). Every range has finite
bounds, ``lo <= hi`` and a finite width ``hi - lo`` (``[-1e308, 1.7e308]`` is refused:
its width overflows, which put every sampled point at ``hi``). Nothing is allocated
per point up front: :meth:`Design.points` computes any slice from its indices alone,
grid values included (:func:`linspace_at`, bitwise equal to ``numpy.linspace``).

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
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DesignError, quote, suggest
from ..inputs import parse_params
from ..inputs import parse_vary as _parse_vary

KINDS = ("grid", "sobol", "lhs", "halton", "random", "saltelli", "morris")
#: The kinds ``allysim sweep --sample`` takes (saltelli and morris belong to ``sensitivity``).
SAMPLE_KINDS = ("sobol", "lhs", "halton", "random")
#: Points per base row (saltelli) or trajectory (morris), given d varied parameters.
GROUP = {"saltelli": lambda d: d + 2, "morris": lambda d: d + 1}
#: Points per random-stream block (fixed: part of what a seed means).
SEED_BLOCK = 1 << 16
# spawn_key tags of the non-block streams (block keys are small non-negative ints).
_TAG_SCRAMBLE = 2**32 + 1
_TAG_LHS = 2**32 + 2
_TAG_MORRIS = 2**32 + 3
#: Most points of any design; of a Sobol' design (scipy.stats.qmc.Sobol, 30 bits).
MAX_POINTS = 2**53
MAX_SOBOL_POINTS = 2**30


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
    levels : morris only, the grid levels per axis (even)
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
    levels: int = 0
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        _check_design(self)

    @property
    def d(self) -> int:
        return len(self.names)

    def to_json(self) -> dict[str, Any]:
        out = {"kind": self.kind, "names": list(self.names), "columns": list(self.columns),
               "lows": list(self.lows), "highs": list(self.highs), "n": self.n, "seed": self.seed,
               "base": list(self.base), "seed_block": SEED_BLOCK}
        if self.kind == "grid":
            out["counts"] = list(self.counts)
        if self.kind == "morris":
            out["levels"] = self.levels
        return out

    @property
    def group(self) -> int:
        """Points per Saltelli base row or Morris trajectory (1 for other kinds)."""
        return GROUP[self.kind](self.d) if self.kind in GROUP else 1

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Design:
        """The design written by :meth:`to_json`; anything else is a :class:`DesignError`
        (a plan or manifest edited by hand gets a message, not a traceback)."""
        if not isinstance(doc, dict):
            raise DesignError(f"design {quote(doc)}: expected a table")
        if doc.get("seed_block", SEED_BLOCK) != SEED_BLOCK:
            raise DesignError(f"design seed_block {quote(doc['seed_block'])} differs from this "
                              f"allysim's {SEED_BLOCK}; cannot regenerate the same points")
        try:
            return cls(kind=doc["kind"], names=tuple(doc["names"]),
                       columns=tuple(_whole(v) for v in doc["columns"]),
                       lows=tuple(_real(v) for v in doc["lows"]),
                       highs=tuple(_real(v) for v in doc["highs"]), n=_whole(doc["n"]),
                       seed=_whole(doc["seed"]), counts=tuple(_whole(v) for v in doc.get("counts", ())),
                       base=tuple(_real(v) for v in doc["base"]),
                       levels=_whole(doc.get("levels", 0)))
        except KeyError as exc:
            raise DesignError(f"design: missing key {exc}") from None
        except (TypeError, ValueError, OverflowError) as exc:
            if isinstance(exc, DesignError):
                raise
            raise DesignError(f"design: {type(exc).__name__}: {exc}") from None

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
        if self.kind in GROUP:
            g = self.group
            first, last = start // g, -(-stop // g)
            rows = (self._saltelli_rows if self.kind == "saltelli" else self._morris_rows)(first, last)
            return rows[start - first * g:stop - first * g]
        raise ValueError(f"Design.unit(): not defined for kind {self.kind!r}")

    def varied(self, start: int, stop: int) -> np.ndarray:
        """Values of the varied parameters at points ``[start, stop)``, shape (m, d)."""
        start, stop = int(start), int(stop)
        if self.kind == "grid":
            if not 0 <= start <= stop <= self.n:
                raise ValueError(f"Design.varied(): slice [{start}, {stop}) outside [0, {self.n})")
            # Only the values of these points: an axis of 10^11 values is never built.
            idx = np.unravel_index(np.arange(start, stop, dtype=np.int64), self.counts)
            cols = [linspace_at(lo, hi, c, i)
                    for lo, hi, c, i in zip(self.lows, self.highs, self.counts, idx)]
            return np.stack(cols, axis=1).reshape(stop - start, self.d) if cols else np.empty((stop - start, 0))
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
    def _saltelli_rows(self, first: int, last: int) -> np.ndarray:
        """Points of base rows ``[first, last)``: ``(last - first) * (d + 2)`` rows."""
        d = self.d
        base = self._qmc(first, last - first)              # (m, 2d)
        a, b = base[:, :d], base[:, d:]
        out = np.repeat(a[:, None, :], d + 2, axis=1)      # (m, d + 2, d)
        i = np.arange(d)
        out[:, 1 + i, i] = b[:, i]
        out[:, d + 1] = b
        return out.reshape(-1, d)

    def _morris_rows(self, first: int, last: int) -> np.ndarray:
        """Points of trajectories ``[first, last)``: ``(last - first) * (d + 1)`` rows."""
        d, p = self.d, self.levels
        delta = p / (2 * (p - 1))
        out = np.empty((last - first, d + 1, d))
        for t in range(first, last):
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_TAG_MORRIS, t)))
            start = rng.integers(0, p // 2, size=d) / (p - 1)     # 0, 1/(p-1), ..., 1 - delta
            up = rng.random(d) < 0.5
            order = rng.permutation(d)
            x = np.where(up, start, start + delta)
            traj = out[t - first]
            traj[0] = x
            for m, i in enumerate(order):
                x = x.copy()
                x[i] += delta if up[i] else -delta
                traj[m + 1] = x
        return out.reshape(-1, d)

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
        engine = self._cache.get("engine")
        if engine is None:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_TAG_SCRAMBLE,)))
            dims = 2 * self.d if self.kind == "saltelli" else self.d
            engine = sobol_engine(dims, rng) if self.kind != "halton" else None
            if engine is None:
                from scipy.stats import qmc
                cls = qmc.Halton if self.kind == "halton" else qmc.Sobol
                try:
                    engine = cls(dims, scramble=True, rng=rng)
                except TypeError:     # scipy < 1.15 calls it seed
                    engine = cls(dims, scramble=True, seed=rng)
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


def _sobol_routines():
    """scipy's compiled Sobol' routines (``scipy.stats._sobol``), loaded without running
    ``scipy/stats/__init__.py``, which imports all of scipy.stats (about a second of
    every sweep's start-up); None if that fails (then scipy.stats.qmc is used)."""
    import importlib.machinery
    import importlib.util
    import sys

    name = "scipy.stats._sobol"
    if name in sys.modules:
        return sys.modules[name]
    try:
        spec = importlib.util.find_spec("scipy")
        folder = Path(spec.submodule_search_locations[0]) / "stats"
        path = next(p for p in folder.iterdir()
                    if p.name.startswith("_sobol.") and p.suffix in (".so", ".pyd"))
        loader = importlib.machinery.ExtensionFileLoader(name, str(path))
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
        loader.exec_module(module)
        # The direction numbers, which the routines would fetch through scipy.stats.
        with np.load(folder / "_sobol_direction_numbers.npz") as z:
            module._poly_dict.setdefault(np.uint32, np.ascontiguousarray(z["poly"], np.uint32))
            module._vinit_dict.setdefault(np.uint32, np.ascontiguousarray(z["vinit"], np.uint32))
    except Exception:      # any layout other than the one this was written against
        return None
    sys.modules[name] = module
    return module


class _ScrambledSobol:
    """``scipy.stats.qmc.Sobol(d, scramble=True, rng=rng)`` — the same compiled routines
    (direction numbers, LMS scrambling, Gray-code draws) driven by the same calls and the
    same random draws, so the points are bitwise scipy's (``tests/test_sweep_design.py``
    checks it) — without importing scipy.stats. Only what :class:`Design` uses:
    ``random``, ``reset``, ``fast_forward``, ``num_generated``."""

    bits = 30

    def __init__(self, d: int, rng: np.random.Generator, routines):
        self.d, self._r = d, routines
        bits, dtype = self.bits, np.uint32
        # scipy's engine owns a child of the Generator it is given (scipy._lib._util._rng_spawn)
        bg = rng.bit_generator
        seed_seq = getattr(bg, "seed_seq", None) or bg._seed_seq
        rng = np.random.Generator(type(bg)(seed_seq.spawn(1)[0]))
        self._sv = np.zeros((d, bits), dtype=dtype)
        routines._initialize_v(self._sv, dim=d, bits=bits)
        self._shift = np.dot(rng.integers(2, size=(d, bits), dtype=dtype),
                             2 ** np.arange(bits, dtype=dtype))
        ltm = np.tril(rng.integers(2, size=(d, bits, bits), dtype=dtype))
        routines._cscramble(dim=d, bits=bits, ltm=ltm, sv=self._sv)
        self._scale = 1.0 / 2 ** bits
        self._first = (self._shift * self._scale).reshape(1, -1).astype(np.float64)
        self.reset()

    def reset(self) -> None:
        self._quasi = self._shift.copy()
        self.num_generated = 0

    def random(self, n: int) -> np.ndarray:
        if self.num_generated + n > 2 ** self.bits:
            raise ValueError(f"Sobol': at most 2**{self.bits} points")
        sample = np.empty((n, self.d), dtype=np.float64)
        if n == 0:
            return sample
        if self.num_generated == 0:
            if n == 1:
                sample = self._first
            else:
                self._r._draw(n=n - 1, num_gen=0, dim=self.d, scale=self._scale, sv=self._sv,
                              quasi=self._quasi, sample=sample)
                sample = np.concatenate([self._first, sample])[:n]
        else:
            self._r._draw(n=n, num_gen=self.num_generated - 1, dim=self.d, scale=self._scale,
                          sv=self._sv, quasi=self._quasi, sample=sample)
        self.num_generated += n
        return sample

    def fast_forward(self, n: int) -> None:
        if self.num_generated == 0:
            self._r._fast_forward(n=n - 1, num_gen=0, dim=self.d, sv=self._sv, quasi=self._quasi)
        else:
            self._r._fast_forward(n=n, num_gen=self.num_generated - 1, dim=self.d, sv=self._sv,
                                  quasi=self._quasi)
        self.num_generated += n


def sobol_engine(d: int, rng: np.random.Generator):
    """A scrambled Sobol' engine bitwise equal to scipy's, without importing
    scipy.stats; None when scipy's routines cannot be loaded that way."""
    routines = _sobol_routines()
    if routines is None or d > getattr(routines, "_MAXDIM", 0):
        return None
    return _ScrambledSobol(d, rng, routines)


def linspace_at(lo: float, hi: float, count: int, idx: np.ndarray) -> np.ndarray:
    """``numpy.linspace(lo, hi, count)[idx]``, bitwise, without building the whole axis.

    The same float64 operations as NumPy's ``linspace`` (step = (hi - lo) / (count - 1);
    ``i * step + lo``, or ``i / div * delta + lo`` when the step underflows to 0; the
    last value exactly ``hi``), applied to the requested indices only.

    >>> import numpy as np
    >>> idx = np.array([0, 3, 10])
    >>> bool((linspace_at(0.1, 0.7, 11, idx) == np.linspace(0.1, 0.7, 11)[idx]).all())
    True
    """
    idx = np.asarray(idx, dtype=np.int64)
    start, stop = np.float64(lo), np.float64(hi)
    div = count - 1
    delta = stop - start
    y = idx.astype(np.float64)
    if div > 0:
        step = delta / div
        y = y / div * delta if step == 0 else y * step
    else:
        y = y * delta
    y += start
    if count > 1:
        y[idx == count - 1] = stop
    return y


def _whole(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (math.inf, -math.inf) \
            or int(v) != v:
        raise DesignError(f"design: {quote(v, 40)} is not a whole number")
    return int(v)


def _real(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DesignError(f"design: {quote(v, 40)} is not a number")
    return float(v)


def _check_design(d: Design) -> None:
    """Refuse a design that cannot be generated (also one read back from a hand-edited plan)."""
    if d.kind not in KINDS:
        raise DesignError(f"design kind {quote(d.kind)}: expected one of {', '.join(KINDS)}")
    if isinstance(d.n, bool) or not isinstance(d.n, int) or not 1 <= d.n <= MAX_POINTS:
        raise DesignError(f"design of {quote(d.n, 40)} points: expected a whole number from 1 to "
                          f"2^53 = {MAX_POINTS:,}")
    if d.kind == "sobol" and d.n > MAX_SOBOL_POINTS:
        raise DesignError(f"--sample sobol --n {d.n}: scipy's Sobol' sequence has at most "
                          f"2^30 = {MAX_SOBOL_POINTS:,} points; use --sample halton or random "
                          "for more")
    if isinstance(d.seed, bool) or not isinstance(d.seed, int) or d.seed < 0:
        raise DesignError(f"--seed {quote(d.seed, 40)}: expected a whole number >= 0")
    k = len(d.names)
    if not all(isinstance(name, str) for name in d.names) or len(set(d.names)) != k:
        raise DesignError(f"design names {quote(list(d.names))}: expected distinct parameter names")
    if not (len(d.columns) == len(d.lows) == len(d.highs) == k):
        raise DesignError(f"design: {k} names but {len(d.columns)} columns, {len(d.lows)} lows "
                          f"and {len(d.highs)} highs")
    if not all(isinstance(c, int) and 0 <= c < len(d.base) for c in d.columns) \
            or len(set(d.columns)) != k:
        raise DesignError(f"design columns {quote(list(d.columns))}: expected distinct columns "
                          f"of the {len(d.base)} parameters")
    if not all(math.isfinite(v) for v in d.base):
        raise DesignError("design base point: expected finite parameter values")
    for name, lo, hi in zip(d.names, d.lows, d.highs):
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise DesignError(f"{name}: range [{lo:g}, {hi:g}]: expected finite bounds, "
                              "low <= high")
        if not math.isfinite(hi - lo):
            raise DesignError(f"{name}: range [{lo:g}, {hi:g}] is {hi - lo:g} wide (float64 "
                              "overflows); expected a range whose width high - low is finite")
    if d.kind in GROUP:
        g = GROUP[d.kind](k)
        if k < 1 or d.n % g:
            raise DesignError(f"{d.kind} design of {d.n:,} points over {k} parameter(s): expected "
                              f"a multiple of {g} points (d + {g - k})")
        if d.kind == "saltelli" and d.n // g > MAX_SOBOL_POINTS:
            raise DesignError(f"--n {d.n // g}: scipy's Sobol' sequence has at most 2^30 rows")
        if d.kind == "morris" and (isinstance(d.levels, bool) or not isinstance(d.levels, int)
                                   or d.levels < 2 or d.levels % 2):
            raise DesignError(f"--levels {quote(d.levels, 40)}: expected an even whole number >= 2")
    if d.kind == "grid":
        if len(d.counts) != k or any(isinstance(c, bool) or not isinstance(c, int) or c < 1
                                     for c in d.counts):
            raise DesignError(f"grid counts {quote(list(d.counts))}: expected one whole "
                              f"number >= 1 per varied parameter ({k})")
        if math.prod(d.counts) != d.n:
            raise DesignError(f"grid of {d.n:,} points but its axes have "
                              f"{math.prod(d.counts):,}")


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

    Bounds must be finite with ``lo <= hi`` and a finite width (see
    :func:`allysim.inputs.parse_range`).

    >>> parse_vary("abandonment_fear=0:10:11")
    ('abandonment_fear', 0.0, 10.0, 11)
    """
    return tuple(_parse_vary(item))


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
        j = _check_name(model, name, f"--vary {quote(item)}")
        if name in names:
            raise DesignError(f"--vary {quote(item)}: parameter '{name}' is varied twice")
        p = model.parameters[j]
        if not force and (lo < p.low or hi > p.high):
            raise DesignError(f"--vary {quote(item)}: range [{lo:g}, {hi:g}] is outside {name}'s "
                              f"declared range [{p.low:g}, {p.high:g}] (use --force to allow)")
        names.append(name), cols.append(j), lows.append(lo), highs.append(hi), counts.append(count)
    n = math.prod(counts)
    if n > MAX_POINTS:
        raise DesignError(f"--vary {' --vary '.join(vary)}: {n:.3g} points; expected at most "
                          f"2^53 = {MAX_POINTS:,}")
    return Design("grid", tuple(names), tuple(cols), tuple(lows), tuple(highs), n, int(seed),
                  tuple(counts), tuple(float(v) for v in base))


def sample_design(model, base: np.ndarray, kind: str, n: int, *, params: list[str] | None = None,
                  seed: int = 0) -> Design:
    """A sample of ``n`` points over the declared ranges of ``params`` (default: all)."""
    if kind not in SAMPLE_KINDS:
        raise DesignError(f"--sample {kind!r}: unknown sampler{suggest(kind, SAMPLE_KINDS)}; "
                          f"expected one of {', '.join(SAMPLE_KINDS)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DesignError(f"--n {quote(n, 40)}: expected a whole number of points >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DesignError(f"--seed {quote(seed, 40)}: expected a non-negative integer")
    if params is None or (isinstance(params, (list, tuple)) and len(params) == 0):
        params = list(model.parameter_names)
    names, cols = [], []
    for name in parse_params(params):
        j = _check_name(model, name, f"--params {quote(name, 40)}")
        names.append(name), cols.append(j)
    lows = tuple(model.parameters[j].low for j in cols)
    highs = tuple(model.parameters[j].high for j in cols)
    for name, lo, hi in zip(names, lows, highs):
        if not math.isfinite(hi - lo):
            raise DesignError(f"--sample {kind}: {name}'s declared range [{lo:g}, {hi:g}] is "
                              f"{hi - lo:g} wide (float64 overflows); expected a finite width")
    if n > MAX_POINTS or (kind == "sobol" and n > MAX_SOBOL_POINTS):
        limit = "2^30 = 1,073,741,824 (scipy's Sobol' sequence ends there; use halton or random for more)" \
            if kind == "sobol" else f"2^53 = {MAX_POINTS:,}"
        raise DesignError(f"--sample {kind} --n {n}: expected at most {limit}")
    return Design(kind, tuple(names), tuple(cols), lows, highs, n, int(seed), (),
                  tuple(float(v) for v in base))


def _sensitivity_columns(model, params, flag: str = "--params") -> tuple[list[str], list[int]]:
    names = list(model.parameter_names) if params is None else parse_params(params, flag)
    if not names:
        names = list(model.parameter_names)
    cols = [_check_name(model, name, f"{flag} {quote(name, 40)}") for name in names]
    for name, j in zip(names, cols):
        p = model.parameters[j]
        if not p.high > p.low:
            raise DesignError(f"{flag}: {name}'s declared range [{p.low:g}, {p.high:g}] is a "
                              "single value; it cannot vary")
    return names, cols


def _sensitivity(kind: str, model, base, groups: int, what: str, params, seed: int,
                 levels: int = 0) -> Design:
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 2:
        raise DesignError(f"--n {quote(groups, 40)}: expected a whole number of {what} >= 2")
    names, cols = _sensitivity_columns(model, params)
    return Design(kind, tuple(names), tuple(cols), tuple(model.parameters[j].low for j in cols),
                  tuple(model.parameters[j].high for j in cols),
                  groups * GROUP[kind](len(names)), int(seed), (),
                  tuple(float(v) for v in base), levels)


def saltelli_design(model, base: np.ndarray, n_base: int, *, params=None, seed: int = 0) -> Design:
    """The Saltelli design (kind ``saltelli``) of ``n_base`` base rows over the declared
    ranges of ``params`` (default: every parameter): ``n_base * (d + 2)`` points."""
    return _sensitivity("saltelli", model, base, n_base, "base rows", params, seed)


def morris_design(model, base: np.ndarray, trajectories: int, *, params=None, seed: int = 0,
                  levels: int = 4) -> Design:
    """Morris trajectories (kind ``morris``) over the declared ranges of ``params``:
    ``trajectories * (d + 1)`` points."""
    return _sensitivity("morris", model, base, trajectories, "trajectories", params, seed, levels)
