"""Exceptions and warnings raised by allysim.

Every error that bad input can cause is an :class:`AllysimError` (a
``ValueError``), whose message is one line naming the file, key and value at
fault and what was expected. The CLI prints that line and exits with code 2.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class AllysimError(ValueError):
    """Bad input: a one-line message naming what is wrong and what was expected."""


class ModelError(AllysimError):
    """A model file that cannot be read or compiled."""


class ScenarioError(AllysimError):
    """A scenario file, or an override, that cannot be used."""


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


class GameFileError(AllysimError):
    """A game file (Gambit .nfg or .efg) that cannot be read."""
