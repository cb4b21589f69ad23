"""Exceptions and warnings raised by allysim.

Every error that bad input can cause is an :class:`AllysimError` (a
``ValueError``), whose message is one line naming the file, key and value at
fault and what was expected. The CLI prints that line and exits with code 2.

Offending text is quoted with :func:`quote`, which cuts it to
:data:`QUOTE_LIMIT` characters; as a last guard, :class:`AllysimError` itself
folds line breaks into spaces and cuts any message longer than
:data:`MESSAGE_LIMIT` characters in the middle (keeping its start, which names
the file and key, and its end, which says what was expected).
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


#: Characters of offending input quoted in a message (see :func:`quote`).
QUOTE_LIMIT = 80
#: Longest message an :class:`AllysimError` keeps; longer ones are cut in the middle.
MESSAGE_LIMIT = 1000


class AllysimError(ValueError):
    """Bad input: a one-line message naming what is wrong and what was expected.

    A message with line breaks is folded onto one line, and one longer than
    :data:`MESSAGE_LIMIT` characters keeps its start and end around a "…".

    >>> str(AllysimError("a\\nb"))
    'a b'
    >>> len(str(AllysimError("x" * 5000))) <= MESSAGE_LIMIT
    True
    """

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], str):
            args = (_one_line(args[0]),)
        super().__init__(*args)


class ModelError(AllysimError):
    """A model file that cannot be read or compiled."""


class ScenarioError(AllysimError):
    """A scenario file, or an override, that cannot be used."""


class DesignError(AllysimError):
    """A sweep design that cannot be built (bad --vary, --sample, --n, --params)."""


class InputError(AllysimError):
    """A command-line flag value that cannot be used (--set, --fix, --lambda, --stages, ...)."""


class PayoffError(AllysimError):
    """Payoffs that are not finite numbers (NaN or inf)."""


class DegenerateGameWarning(RuntimeWarning):
    """A game with ties where a solver assumes none (e.g. weak equilibria)."""


def suggest(name: str, valid: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the nearest valid name, or ``""``.

    >>> suggest("abandonment_fer", ["abandonment_fear", "entrapment_fear"])
    " (did you mean 'abandonment_fear'?)"
    """
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _one_line(message: str) -> str:
    message = " ".join(message.splitlines()) if ("\n" in message or "\r" in message) else message
    if len(message) > MESSAGE_LIMIT:
        tail = MESSAGE_LIMIT // 4
        message = message[:MESSAGE_LIMIT - tail - 3] + " … " + message[-tail:]
    return message


def cut(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with "…" (no quotes added).

    >>> cut("abcdef", 3)
    'abc…'
    """
    return text if len(text) <= limit else text[:limit] + "…"


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters with "…".

    >>> quote("1 + 2")
    "'1 + 2'"
    >>> quote("(" * 100, limit=5)
    "'(((((…'"
    >>> quote("\\x1f" * 100, limit=12)
    "'\\\\x1f\\\\x1f\\\\x1f…'"
    >>> quote(list(range(100)), limit=10)
    '[0, 1, 2, …'
    """
    if isinstance(value, str):
        shown = repr(value)
        if len(shown) <= limit + 2:
            return shown
        # cut the text, not its repr, so the quotes and escapes stay whole; an escape
        # such as '\U000118f3' is ten characters, so the cut counts the repr's length
        keep = min(len(value), limit)
        while keep and len(repr(value[:keep])) > limit + 2:
            keep -= 1
        shown = repr(value[:keep])
        return shown[:-1] + "…" + shown[-1]
    try:
        shown = repr(value)
    except ValueError:      # e.g. an int past Python's digit limit for str()
        return f"<{type(value).__name__}>"
    return shown if len(shown) <= limit else shown[:limit] + "…"


class GameFileError(AllysimError):
    """A game file (Gambit .nfg or .efg) that cannot be read."""
