"""Command-line flag values parsed and checked as pure functions.

The CLI calls these and prints their one-line error; they never touch a model
or a file, so every command reads a flag the same way. Each refusal is an
:class:`~allysim.errors.InputError` (or a :class:`~allysim.errors.DesignError`
for the design flags ``--vary``, ``--params`` and ranges) naming the flag and the
value, cut to 80 characters.

=================  ==========================  =====================================
flag               parser                      gives
=================  ==========================  =====================================
``--set K=V``      :func:`parse_sets`          ``{name: float}``
``--fix P=S``      :func:`parse_fix`           ``{player: strategy}``
``--params A,B``   :func:`parse_params`        ``[name, ...]`` or None (all)
``--lambda``       :func:`parse_lambdas`       ``(float, ...)``: ``0.5,1.5`` or ``LO:HI:N``
``--stages``       :func:`parse_stages`        ``(("US",), ("China", "NorthKorea"))``
``--vary``         :func:`parse_vary`          ``Range(name, lo, hi, n)``
``PARAM=LO:HI[:N]`` :func:`parse_range`        ``Range(name, lo, hi, n or None)``
=================  ==========================  =====================================

Numbers must be finite (``nan``, ``inf`` and ``1e400``, which float64 reads as
``inf``, are refused); a range ``LO:HI`` needs ``LO <= HI`` and a finite width
``HI - LO``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np

from .errors import DesignError, InputError, cut, quote

#: Most lambda values one ``--lambda`` may give (``0:20:201`` is 201).
MAX_LAMBDAS = 10_000


class Range(NamedTuple):
    """``PARAM=LO:HI[:N]``: a parameter name, finite ``lo <= hi`` and a count (or None)."""

    name: str
    lo: float
    hi: float
    n: int | None


def _text(value: Any, flag: str, error=InputError) -> str:
    if not isinstance(value, str):
        raise error(f"{flag} {quote(value)}: expected text")
    return value


def parse_number(text: str, flag: str, what: str = "value", error=InputError, *,
                 name: str | None = None) -> float:
    """A finite float from text; ``flag`` and ``what`` (or ``name``, for a value that is
    not finite) name it in errors.

    >>> parse_number(" 2.5 ", "--set a=2.5")
    2.5
    >>> parse_number("1e400", "--set 'a=1e400'", name="a")
    Traceback (most recent call last):
    allysim.errors.InputError: --set 'a=1e400': a = 1e400: expected a finite number (float64 reads 1e400 as inf)
    """
    try:
        if not text.isascii():      # float() would read fullwidth or Arabic-Indic digits
            raise ValueError
        value = float(text)
    except (AttributeError, TypeError, ValueError):
        raise error(f"{flag}: {what} {quote(text, 40)} is not a number") from None
    if not math.isfinite(value):
        shown = cut(text.strip(), 40)
        reads = f" (float64 reads {shown} as {value})" if shown.lower().lstrip("+-") not in (
            "inf", "infinity", "nan") else ""
        raise error(f"{flag}: {name or what} = {shown}: expected a finite number{reads}")
    return value + 0.0       # -0.0 becomes 0.0


def _count(text: str, flag: str, error=InputError) -> int:
    t = text.strip()
    try:
        if not (t.isascii() and t.replace("_", "").isdigit() and len(t) <= 30):
            raise ValueError
        return int(t)
    except ValueError:
        raise error(f"{flag}: N must be a whole number, got {quote(text, 40)}") from None


def parse_sets(values: Iterable[str], flag: str = "--set") -> dict[str, float]:
    """``--set NAME=VALUE`` (repeatable) as ``{name: value}``.

    A name given twice with the same value is kept once; with different values
    it is refused, as is a value that is not a finite number.

    >>> parse_sets(["a=1", "b = -2.5", "a=1.0"])
    {'a': 1.0, 'b': -2.5}
    >>> parse_sets(["a=1", "a=2"])
    Traceback (most recent call last):
    allysim.errors.InputError: --set a=1 --set a=2: a is set twice with different values; give one
    """
    out: dict[str, float] = {}
    given: dict[str, str] = {}
    for item in values:
        item = _text(item, flag)
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"{flag} {quote(item)}: expected name=value, e.g. us_credibility=0.4")
        value = parse_number(raw, f"{flag} {quote(item)}", "value", name=name)
        if name in out and out[name] != value:
            raise InputError(f"{flag} {given[name]} {flag} {item.strip()}: {name} is set twice "
                             "with different values; give one")
        out[name], given[name] = value, item.strip()
    return out


def parse_fix(values: Iterable[str], flag: str = "--fix") -> dict[str, str]:
    """``--fix PLAYER=STRATEGY`` (repeatable) as ``{player: strategy}``.

    >>> parse_fix(["China=SLICE", "US = TRANS"])
    {'China': 'SLICE', 'US': 'TRANS'}
    >>> parse_fix(["China=SLICE", "China=HOLD"])
    Traceback (most recent call last):
    allysim.errors.InputError: --fix China=SLICE --fix China=HOLD: China is fixed twice, at SLICE and at HOLD; give one
    """
    out: dict[str, str] = {}
    for item in values:
        item = _text(item, flag)
        player, sep, strategy = item.partition("=")
        player, strategy = player.strip(), strategy.strip()
        if not sep or not player or not strategy:
            raise InputError(f"{flag} {quote(item)}: expected Player=STRATEGY, e.g. China=SLICE")
        if player in out and out[player] != strategy:
            raise InputError(f"{flag} {player}={out[player]} {flag} {player}={strategy}: {player} "
                             f"is fixed twice, at {out[player]} and at {strategy}; give one")
        out[player] = strategy
    return out


def parse_params(text: str | Iterable[str] | None, flag: str = "--params") -> list[str] | None:
    """``--params A,B,...`` as a list of names; None (not given) means all parameters.

    Empty items (``","``, ``"a,,b"``, ``"a,"``) and repeated names are refused;
    a list of names (a scenario's ``[sweep] params``) is checked the same way.

    >>> parse_params(" a, b ")
    ['a', 'b']
    >>> parse_params(None) is None
    True
    >>> parse_params(",")
    Traceback (most recent call last):
    allysim.errors.DesignError: --params ',': empty parameter name; expected names separated by commas, e.g. a,b (leave --params out to sample every parameter)
    """
    if text is None:
        return None
    if isinstance(text, str):
        items = text.split(",")
    elif isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        items = list(text)
    else:
        raise DesignError(f"{flag} {quote(text)}: expected parameter names separated by commas")
    names = [t.strip() for t in items]
    if not names or any(not t for t in names):
        raise DesignError(f"{flag} {quote(text)}: empty parameter name; expected names "
                          "separated by commas, e.g. a,b (leave --params out to sample every "
                          "parameter)")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DesignError(f"{flag} {quote(text)}: parameter {quote(name, 40)} is listed twice")
        seen.add(name)
    return names


def _linspace_count(lo: float, hi: float, n: int, where: str, error) -> None:
    if n < 1 or (n == 1 and lo != hi):
        raise error(f"{where}: N must be >= 2 (or 1 with LO == HI), got {n}")


def parse_range(text: str, flag: str, *, require_n: bool = False, error=DesignError) -> Range:
    """``PARAM=LO:HI`` or ``PARAM=LO:HI:N`` as a :class:`Range` (``n`` None when absent).

    ``LO`` and ``HI`` are finite with ``LO <= HI`` and a finite width ``HI - LO``;
    ``N`` is a whole number, at least 2 (or 1 with ``LO == HI``). ``require_n``
    makes ``N`` compulsory (``--vary``). Used by ``--vary`` and by commands that
    scan a parameter (thresholds, path).

    >>> parse_range("deal_value=0:5", "--along")
    Range(name='deal_value', lo=0.0, hi=5.0, n=None)
    >>> parse_range("a=-1e308:1.7e308:5", "--vary")
    Traceback (most recent call last):
    allysim.errors.DesignError: --vary 'a=-1e308:1.7e308:5': range [-1e+308, 1.7e+308] is inf wide (float64 overflows); expected a finite width HI - LO
    """
    text = _text(text, flag, error)
    where = f"{flag} {quote(text)}"
    name, sep, spec = text.partition("=")
    name = name.strip()
    parts = spec.split(":")
    form = "name=lo:hi:n" if require_n else "name=lo:hi[:n]"
    if not sep or not name or not (len(parts) == 3 or (len(parts) == 2 and not require_n)):
        raise error(f"{where}: expected {form}, e.g. abandonment_fear=0:10:11")
    lo = parse_number(parts[0], where, "LO", error)
    hi = parse_number(parts[1], where, "HI", error)
    if lo > hi:
        raise error(f"{where}: LO {lo:g} is above HI {hi:g}; expected LO <= HI")
    if not math.isfinite(hi - lo):
        raise error(f"{where}: range [{lo:g}, {hi:g}] is {hi - lo:g} wide (float64 overflows); "
                    "expected a finite width HI - LO")
    n = None
    if len(parts) == 3:
        n = _count(parts[2], where, error)
        _linspace_count(lo, hi, n, where, error)
    return Range(name, lo, hi, n)


def parse_vary(item: str) -> Range:
    """``--vary NAME=LO:HI:N``: :func:`parse_range` with ``N`` required.

    >>> tuple(parse_vary("abandonment_fear=0:10:11"))
    ('abandonment_fear', 0.0, 10.0, 11)
    """
    return parse_range(item, "--vary", require_n=True)


def parse_lambdas(text: str, flag: str = "--lambda") -> tuple[float, ...]:
    """Logit precisions: a comma list (``0.5,1.5,4``), ranges ``LO:HI:N`` meaning
    ``numpy.linspace(LO, HI, N)`` (``0:20:201``), or both (``0:1:11,5``).

    Every value finite and >= 0, ``LO <= HI``, at most :data:`MAX_LAMBDAS` values.

    >>> parse_lambdas("0.5, 1.5,4")
    (0.5, 1.5, 4.0)
    >>> parse_lambdas("0:1:5")
    (0.0, 0.25, 0.5, 0.75, 1.0)
    """
    text = _text(text, flag)
    where = f"{flag} {quote(text)}"
    out: list[float] = []
    for item in text.split(","):
        if not item.strip():
            raise InputError(f"{where}: expected finite numbers >= 0, separated by commas, e.g. "
                             "0.5,1.5, or a range LO:HI:N, e.g. 0:20:201; got an empty value")
        parts = item.split(":")
        if len(parts) == 1:
            values = [_lambda_value(item, where, "lambda")]
        elif len(parts) == 3:
            lo, hi = _lambda_value(parts[0], where, "LO"), _lambda_value(parts[1], where, "HI")
            n = _count(parts[2], where)
            if lo > hi:
                raise InputError(f"{where}: LO {lo:g} is above HI {hi:g}; expected LO <= HI")
            _linspace_count(lo, hi, n, where, InputError)
            if len(out) + n > MAX_LAMBDAS:
                raise InputError(f"{where}: {len(out) + n:,} values; expected at most "
                                 f"{MAX_LAMBDAS:,}")
            values = [float(v) for v in np.linspace(lo, hi, n)]     # hi - lo <= hi: finite
        else:
            raise InputError(f"{where}: expected comma-separated numbers or ranges LO:HI:N, "
                             f"e.g. 0.5,1.5 or 0:20:201; {quote(item, 40)} is neither")
        out += values
        if len(out) > MAX_LAMBDAS:
            raise InputError(f"{where}: more than {MAX_LAMBDAS:,} values; expected at most "
                             f"{MAX_LAMBDAS:,}")
    return tuple(out)


def _lambda_value(text: str, where: str, label: str) -> float:
    try:
        if not text.isascii():
            raise ValueError
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: expected comma-separated numbers or ranges LO:HI:N, e.g. "
                         f"0.5,1.5 or 0:20:201; {label} {quote(text.strip(), 40)} is not a "
                         "number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: expected finite numbers >= 0; {label} {cut(text.strip(), 40)} "
                         f"is not finite{' (float64 reads it as inf)' if value == math.inf and 'inf' not in text.lower() else ''}")
    if value < 0:
        raise InputError(f"{where}: expected finite numbers >= 0; {label} {value:g} is negative")
    return value + 0.0


def parse_stages(text: str | None, flag: str = "--stages") -> tuple[tuple[str, ...], ...] | None:
    """A stage order ``US>Japan>China,NorthKorea`` (``->`` also separates stages;
    players in one stage move together). None (not given) gives None.

    Empty stages or names and a player named twice are refused; whether the
    names are the game's players is checked by the solver.

    >>> parse_stages("US > Japan -> China, NorthKorea")
    (('US',), ('Japan',), ('China', 'NorthKorea'))
    """
    if text is None:
        return None
    text = _text(text, flag)
    where = f"{flag} {quote(text)}"
    stages = tuple(tuple(p.strip() for p in stage.split(","))
                   for stage in text.replace("->", ">").split(">"))
    if any(not name for stage in stages for name in stage):
        raise InputError(f"{where}: empty stage or player name; expected e.g. "
                         "US>Japan>China,NorthKorea")
    seen: set[str] = set()
    for stage in stages:
        for name in stage:
            if name in seen:
                raise InputError(f"{where}: {quote(name, 40)} appears twice; expected each "
                                 "player in one stage")
            seen.add(name)
    return stages


def check_set_vs_design(sets: Mapping[str, float], varied_names: Iterable[str],
                        design_flag: str = "--vary") -> None:
    """Refuse ``--set x=...`` for a parameter the design also sweeps (the value would be
    overwritten at every point). ``design_flag`` names the design (``--vary``, ``--sample``).

    >>> check_set_vs_design({"x": 0.5}, ["x", "y"])
    Traceback (most recent call last):
    allysim.errors.InputError: --set x=0.5: x is also swept by --vary; drop one
    """
    varied = set(varied_names)
    for name, value in sets.items():
        if name in varied:
            raise InputError(f"--set {name}={value:g}: {name} is also swept by {design_flag}; "
                             "drop one")
