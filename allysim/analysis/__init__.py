"""Numbers a researcher can cite: regime thresholds, paths with hysteresis, sensitivity
indices and the tables of all three.

Every analysis reads solution concepts through the registry (:mod:`allysim.concepts`),
so each works with any ``--solver`` it makes sense for:

* :func:`find_thresholds` — where along one parameter the solution set, or whether a
  strategy is played, changes (scan, then bisection), for each value of a second one;
* :func:`follow_path` — the solution the game is in as a parameter moves and back
  (best-response or logit dynamics where it vanishes): hysteresis;
* :mod:`.sensitivity` — Sobol' first-order and total indices (Saltelli design through
  the sweep engine) and Morris elementary effects of an outcome, with bootstrap intervals;
* :mod:`.tables` — their tables, and a sweep's equilibrium shares, for papers.
"""
from ._outcome import Outcome, parse_outcome
from .path import PathResult, best_response_dynamics, follow_path
from .sensitivity import (SensitivityResult, morris_records, morris_split, saltelli_split,
                          sobol_bootstrap, sobol_first_total, sobol_records)
from .thresholds import DEFAULT_SCAN, DEFAULT_XTOL, Switch, ThresholdResult, find_thresholds

__all__ = ["Outcome", "parse_outcome", "PathResult", "best_response_dynamics", "follow_path",
           "SensitivityResult", "morris_records", "morris_split", "saltelli_split",
           "sobol_bootstrap", "sobol_first_total", "sobol_records", "DEFAULT_SCAN",
           "DEFAULT_XTOL", "Switch", "ThresholdResult", "find_thresholds"]
