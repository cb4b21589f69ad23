"""Solution concepts as declarations, read by ``run``, ``sweep`` and ``plot`` alike.

Each concept is declared once (:class:`Concept`): its name, its options (with one
meaning, validation and default everywhere: :data:`OPTIONS`), the solver call, how
a result becomes reports, rows and sweep arrays, and its summary. Adding a concept
is one solver module in :mod:`allysim.solve` and one declaration here.

>>> sorted(CONCEPTS)
['agent-qre', 'dominance', 'dynamics', 'mixed', 'pure', 'qre', 'qre-limit', 'spe']
>>> CONCEPTS["mixed"].resolve({}, ["A", "B"])
{'tol': 1e-08, 'seed': 0, 'backend': 'auto'}
"""
from ._base import (CONCEPTS, OPTIONS, Concept, Option, OptionError, default_stages, get_concept,
                    register)
from ._sweep import STORES, Field, SweepLayout
from . import pure, mixed, qre, sequential, dynamics  # noqa: F401,E402  (register the concepts)

__all__ = ["CONCEPTS", "OPTIONS", "Concept", "Option", "OptionError", "default_stages",
           "get_concept", "register", "STORES", "Field", "SweepLayout"]
