"""Per-point status codes shared by every solver.

A solver never leaves a silent NaN: each point carries one of these codes
(stored as ``int8`` in arrays, written by name in output files).
"""
from __future__ import annotations

import numpy as np

STATUS_NAMES: tuple[str, ...] = (
    "ok",             # answer found and verified
    "no_pure",        # no pure equilibrium exists at this point
    "degenerate",     # ties: weak equilibria or a continuum; the answer is reported but not unique
    "not_converged",  # an iterative method stopped before its tolerance
    "bifurcation",    # a path-following method passed a branch point: the answer is
                      # reported (one of several continuations, by a documented rule)
    "timeout",        # the work for this point ran out of time
    "failed",         # the solver or a worker raised; no answer
)
STATUS = {name: np.int8(code) for code, name in enumerate(STATUS_NAMES)}


def status_names(codes: np.ndarray) -> np.ndarray:
    """Map an array of status codes to an array of names.

    >>> status_names(np.array([0, 1], dtype=np.int8)).tolist()
    ['ok', 'no_pure']
    """
    return np.asarray(STATUS_NAMES, dtype=object)[np.asarray(codes, dtype=np.intp)]
