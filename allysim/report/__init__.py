"""Solver results as plain records (for ``--json``) and as text tables.

Importing this package registers every solver module's reports; add a new
solution concept by writing ``report/<concept>.py`` that calls
:func:`register_solver`, and importing it below.
"""
from . import pure  # noqa: F401  (registers "pure" and "dominance")
from . import sequential  # noqa: F401  (registers "spe" and "agent-qre")
from . import dynamics  # noqa: F401  (registers "dynamics")
from . import qre  # noqa: F401  (registers "qre" and "qre-limit")
from . import mixed  # noqa: F401  (registers "mixed")
from ._registry import SOLVERS, SolveOptions, format_report, register_solver, table
from .pure import format_listing, format_parameters, format_strategies

__all__ = ["SOLVERS", "SolveOptions", "format_report", "register_solver", "table",
           "format_listing", "format_parameters", "format_strategies"]
