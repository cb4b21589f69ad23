"""Solution concepts as declarations, read by ``run``, ``sweep`` and ``plot`` alike.

Each concept is declared once (:class:`Concept`): its name, its options (with one
meaning, validation and default everywhere: :data:`OPTIONS`), the solver call, how
a result becomes reports, rows and sweep arrays, and its summary. Adding a concept
is one solver module in :mod:`allysim.solve` and one declaration module in this package
(every public module here is imported, and each registers its concepts).

>>> sorted(CONCEPTS)
['agent-qre', 'dominance', 'dynamics', 'mixed', 'pure', 'qre', 'qre-limit', 'spe']
>>> CONCEPTS["mixed"].resolve({}, ["A", "B"])
{'tol': 1e-08, 'seed': 0, 'backend': 'auto'}
"""
from ._base import (CONCEPTS, OPTIONS, Concept, Option, OptionError, default_stages, get_concept,
                    register)
from ._sweep import STORES, Field, SweepLayout


def _register_all() -> None:
    """Import every public module of this package: each declares (registers) its concepts,
    so a new concept is one new module here and nothing else to edit."""
    import importlib
    import pkgutil
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if not module.startswith("_"):
            importlib.import_module(f"{__name__}.{module}")


_register_all()

__all__ = ["CONCEPTS", "OPTIONS", "Concept", "Option", "OptionError", "default_stages",
           "get_concept", "register", "STORES", "Field", "SweepLayout"]
