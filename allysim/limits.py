"""Limits on what one command may ask of the host, and estimators to check them up front.

Every check runs before anything is allocated or compiled, and a refusal is a
one-line :class:`~allysim.errors.AllysimError` that says what was asked, the
estimate, the limit and how to raise it.

Limits (read from the environment at each call, so a test or a shell can change them):

``ALLYSIM_MAX_MEMORY``
    bytes one payoff table (of one point, or of a chunk of points) may take;
    a whole number of bytes or a number with a suffix ``KB MB GB TB`` (powers of
    1000) or ``KiB MiB GiB TiB`` (powers of 1024). Default 4 GiB.
``ALLYSIM_MAX_POINTS``
    points a sweep design may have without ``--yes``; a whole number, ``1e9``
    or ``1_000_000_000`` style. Default 1,000,000,000.
``ALLYSIM_KERNEL_MAX_ENTRIES``
    payoff entries per point (``n × s1 × … × sn``) up to which the numba sweep
    kernel is generated; larger models use the NumPy path. Default 4,096.

The kernel threshold is measured (this 2-core machine, numba 0.68): generating and
compiling the kernel took 1.8 s for 4 × 3^4 = 324 entries (four-power), 3.1 s
for 1,215, 11 s for 4,374, 15 s for 5,120 and 38 s (0.8 GB) for 9,800 entries,
growing faster than linearly; a 7 × 4^7 = 114,688-entry model ran past 600 s at
4.5 GB, where the NumPy path takes 0.36 s.

>>> payoff_bytes((3, 3, 3, 3))          # four-power: 4 players x 81 profiles x 8 bytes
2592
>>> parse_bytes("4GiB", "ALLYSIM_MAX_MEMORY")
4294967296
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence

from .errors import AllysimError, ModelError, quote

#: Defaults of the limits when their environment variable is not set.
DEFAULT_MAX_MEMORY = 4 * 1024**3
DEFAULT_MAX_POINTS = 1_000_000_000
DEFAULT_KERNEL_MAX_ENTRIES = 4096
#: Assumed sweep speed and result size per point for :func:`check_points` estimates
#: when the caller does not pass its own (a conservative mix of DESIGN.md's figures:
#: about 16,000 points/s for the full store, 1,000,000 for counts).
DEFAULT_RATE = 10_000.0
DEFAULT_BYTES_PER_POINT = 100

_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
          "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}
_BYTES = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


class LimitError(AllysimError):
    """A request past one of allysim's resource limits, or a bad limit setting."""


def parse_bytes(text: str, name: str) -> int:
    """A byte count from ``"4294967296"``, ``"8GB"``, ``"512 MiB"`` or ``"1.5e9"``.

    name: the setting to name in errors (e.g. ``"ALLYSIM_MAX_MEMORY"``).

    >>> parse_bytes("512MB", "ALLYSIM_MAX_MEMORY")
    512000000
    """
    m = _BYTES.match(text) if isinstance(text, str) else None
    unit = m.group(2).upper() if m else ""
    if m is None or unit not in _UNITS:
        raise LimitError(f"{name}={quote(text, 40)}: expected a number of bytes, e.g. 8GB, "
                         "512MiB or 4294967296")
    value = float(m.group(1).replace("_", "")) * _UNITS[unit]
    if not (1 <= value < 2**63):
        raise LimitError(f"{name}={quote(text, 40)}: expected at least 1 byte and less than 2^63")
    return int(value)


def _count(text: str, name: str) -> int:
    try:
        value = float(text.replace("_", "")) if isinstance(text, str) else math.nan
    except ValueError:
        value = math.nan
    if not (1 <= value < 2**63) or value != int(value):
        raise LimitError(f"{name}={quote(text, 40)}: expected a whole number >= 1, e.g. 1000000000 "
                         "or 1e9")
    return int(value)


def max_memory() -> int:
    """Bytes one payoff table may take: ``ALLYSIM_MAX_MEMORY`` or 4 GiB."""
    text = os.environ.get("ALLYSIM_MAX_MEMORY", "").strip()
    return parse_bytes(text, "ALLYSIM_MAX_MEMORY") if text else DEFAULT_MAX_MEMORY


def max_points() -> int:
    """Points a design may have without ``--yes``: ``ALLYSIM_MAX_POINTS`` or 1e9."""
    text = os.environ.get("ALLYSIM_MAX_POINTS", "").strip()
    return _count(text, "ALLYSIM_MAX_POINTS") if text else DEFAULT_MAX_POINTS


def kernel_max_entries() -> int:
    """Entries per point up to which the numba kernel is generated (``ALLYSIM_KERNEL_MAX_ENTRIES``)."""
    text = os.environ.get("ALLYSIM_KERNEL_MAX_ENTRIES", "").strip()
    return _count(text, "ALLYSIM_KERNEL_MAX_ENTRIES") if text else DEFAULT_KERNEL_MAX_ENTRIES


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units with three significant digits.

    >>> format_bytes(6**12 * 12 * 8)
    '195 GiB'
    >>> format_bytes(2592)
    '2.53 KiB'
    """
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def format_shape(shape: Sequence[int]) -> str:
    """``(6,) * 12`` as ``'6^12'``, ``(3, 3, 2)`` as ``'3x3x2'`` (cut past 12 players).

    >>> format_shape((6,) * 12), format_shape((3, 3, 2))
    ('6^12', '3x3x2')
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) > 1 and len(set(shape)) == 1:
        return f"{shape[0]}^{len(shape)}"
    text = "x".join(map(str, shape[:12]))
    return text + f"x… ({len(shape)} players)" if len(shape) > 12 else text


def format_seconds(s: float) -> str:
    """A duration for estimates: ``'45 s'``, ``'12 min'``, ``'3.2 h'``, ``'41 days'``, ``'3e+04 years'``."""
    if s < 90:
        return f"{s:.2g} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.2g} h"
    if s < 365 * 86400:
        return f"{s / 86400:.0f} days"
    return f"{s / (365 * 86400):.2g} years"


def payoff_bytes(shape: Sequence[int], batch: int = 1, itemsize: int = 8) -> int:
    """Bytes of a payoff array ``(batch, n, s1, ..., sn)`` of ``itemsize``-byte floats.

    Exact (Python integers), however large.

    >>> payoff_bytes((6,) * 12)
    208971104256
    """
    return int(batch) * len(shape) * math.prod(int(s) for s in shape) * int(itemsize)


def _model_label(model, where: str | None) -> str:
    label = where or (os.path.basename(model.path) if getattr(model, "path", None) else "")
    return f"{label}: model {model.name}" if label else f"model {model.name}"


def check_model_size(model, *, where: str | None = None) -> None:
    """Refuse a model whose payoff table at one point is larger than ``ALLYSIM_MAX_MEMORY``.

    Raises :class:`~allysim.errors.ModelError` naming the model, its shape, the
    size and the limit, and how to raise it. ``where`` names the file.
    """
    nbytes = payoff_bytes(model.shape, 1)
    limit = max_memory()
    if nbytes > limit:
        profiles = math.prod(model.shape)
        raise ModelError(
            f"{_model_label(model, where)}: {model.n_players} players with "
            f"{format_shape(model.shape)} = {profiles:,} strategy profiles need "
            f"{format_bytes(nbytes)} for the payoffs of one point, more than the limit of "
            f"{format_bytes(limit)}; set ALLYSIM_MAX_MEMORY (e.g. ALLYSIM_MAX_MEMORY="
            f"{_suggest_limit(nbytes)}) to allow it")


def _suggest_limit(nbytes: int) -> str:
    gib = math.ceil(nbytes * 1.5 / 1024**3)
    return f"{gib}GiB"


def max_batch(shape: Sequence[int]) -> int:
    """The most points whose payoff tables fit in ``ALLYSIM_MAX_MEMORY`` together (at least 1).

    The sweep engine caps its chunk size with this.

    >>> max_batch((3, 3, 3, 3)) >= 16384
    True
    """
    return max(1, max_memory() // payoff_bytes(shape, 1))


def check_bytes(nbytes: int, what: str) -> None:
    """Refuse an allocation of ``nbytes`` larger than ``ALLYSIM_MAX_MEMORY``.

    what: what would be allocated, named in the message (e.g. ``"run --solver
    mixed: support enumeration of 20x20"``).
    """
    limit = max_memory()
    if nbytes > limit:
        raise LimitError(f"{what}: needs about {format_bytes(nbytes)}, more than the limit of "
                         f"{format_bytes(limit)}; set ALLYSIM_MAX_MEMORY (e.g. ALLYSIM_MAX_MEMORY="
                         f"{_suggest_limit(nbytes)}) to allow it")


def estimate(n: int, *, rate: float = DEFAULT_RATE,
             bytes_per_point: float = DEFAULT_BYTES_PER_POINT) -> str:
    """A one-line estimate of the time and result size of ``n`` points.

    >>> estimate(2_000_000, rate=1e6, bytes_per_point=24)
    '2,000,000 points: about 2 s at 1,000,000 points/s and 45.8 MiB of results'
    """
    return (f"{n:,} points: about {format_seconds(n / rate)} at {rate:,.0f} points/s and "
            f"{format_bytes(n * bytes_per_point)} of results")


def check_points(n: int, flag: str, *, yes: bool = False, rate: float = DEFAULT_RATE,
                 bytes_per_point: float = DEFAULT_BYTES_PER_POINT) -> str:
    """Check a design of ``n`` points against ``ALLYSIM_MAX_POINTS``; return its estimate.

    A design larger than the limit is refused unless ``yes`` (the CLI's ``--yes``).
    ``flag`` names the input that set ``n`` (e.g. ``"--n 10000000000000"`` or
    ``"--vary a=0:10:100000000000"``); ``rate`` (points/s) and
    ``bytes_per_point`` should be the solver's and store's own figures.

    >>> check_points(1000, "--n 1000", rate=1e6, bytes_per_point=24)
    '1,000 points: about 0.001 s at 1,000,000 points/s and 23.4 KiB of results'
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise LimitError(f"{flag}: {quote(n)} points; expected a whole number >= 1")
    if not (rate > 0 and math.isfinite(rate)) or not (bytes_per_point >= 0 and math.isfinite(bytes_per_point)):
        raise ValueError("check_points(): rate must be > 0 and bytes_per_point >= 0, both finite")
    text = estimate(n, rate=rate, bytes_per_point=bytes_per_point)
    limit = max_points()
    if n > limit and not yes:
        raise LimitError(f"{flag}: {text}, more than the limit of {limit:,} points; pass --yes "
                         "to run it anyway (or set ALLYSIM_MAX_POINTS)")
    return text


def kernel_entries(model) -> int:
    """Payoff entries per point, ``n × s1 × … × sn``: what the generated kernel's size grows with."""
    return model.n_players * math.prod(model.shape)


def kernel_too_large(model) -> bool:
    """Whether generating the numba kernel for ``model`` would take too long or too much memory.

    True past ``ALLYSIM_KERNEL_MAX_ENTRIES`` entries per point (default 4,096):
    callers then use the NumPy path.

    >>> from allysim.model import load_model
    >>> kernel_too_large(load_model("four-power"))     # 4 x 3^4 = 324 entries
    False
    """
    return kernel_entries(model) > kernel_max_entries()


def check_kernel(model, flag: str = "--backend numba") -> None:
    """Refuse an explicit request for the numba kernel when :func:`kernel_too_large`.

    (With ``--backend auto`` callers take the NumPy path instead, and say so.)
    """
    if kernel_too_large(model):
        raise LimitError(f"{flag}: model {model.name} has {kernel_entries(model):,} payoff entries "
                         f"per point ({model.n_players} players x {format_shape(model.shape)} "
                         f"profiles), past the {kernel_max_entries():,} up to which the numba "
                         "kernel is generated (it would take minutes and gigabytes to compile); "
                         "use --backend numpy, or set ALLYSIM_KERNEL_MAX_ENTRIES")
