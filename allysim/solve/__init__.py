"""Solution concepts, one module each, all batched over games (axis 0)."""
from ._status import STATUS, STATUS_NAMES, status_names
from .best_response import best_response_mask
from .dominance import DominanceResult, iterated_dominance
from .pure_nash import PureNashResult, pure_nash
from .regret import (DEFAULT_TOL, pure_regret, pure_to_mixed, regret, split_profile,
                     strategy_values, verify)

__all__ = ["STATUS", "STATUS_NAMES", "status_names", "best_response_mask",
           "DominanceResult", "iterated_dominance", "PureNashResult", "pure_nash", "DEFAULT_TOL",
           "pure_regret", "pure_to_mixed", "regret", "split_profile", "strategy_values", "verify"]
