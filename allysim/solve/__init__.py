"""Solution concepts, one module each, all batched over games (axis 0).

Every solver follows one result contract (:mod:`allysim.solve.result`): ``method``,
``parameters``, ``status (B,)``, ``count (B,)``, ``profiles (B, M, S)``, ``regret (B, M)``
and ``equilibria(b)``; options are keyword-only after the payoffs, and ``tol`` is
always relative to the game's :func:`payoff_scale`.
"""
from ._status import STATUS, STATUS_NAMES, status_names
from .best_response import best_response_mask
from .dominance import DominanceResult, iterated_dominance
from .dynamics import (DynamicsResult, RestPointResult, RestPointSearchResult, fictitious_play,
                       logit_dynamics, replicator, rest_point_search, rest_points)
from .logit_qre import DEFAULT_QRE_TOL, LogitQREResult, logit_qre
from .logit_trace import LogitTraceResult, logit_trace
from .mixed_nash import MIXED_TOL, MixedNashResult, mixed_nash
from .pure_nash import PureNashResult, pure_nash
from .regret import (DEFAULT_TOL, payoff_scale, pure_regret, pure_to_mixed, regret, split_profile,
                     strategy_values, verify)
from .result import Result
from .sequential import (AgentQREResult, SubgamePerfectResult, agent_logit_qre, resolve_stages,
                         subgame_perfect)
from .support_enumeration import SupportEnumerationResult, support_enumeration

__all__ = ["STATUS", "STATUS_NAMES", "status_names", "best_response_mask", "DominanceResult",
           "iterated_dominance", "DynamicsResult", "RestPointResult", "RestPointSearchResult",
           "fictitious_play", "logit_dynamics", "replicator", "rest_point_search", "rest_points",
           "DEFAULT_QRE_TOL", "LogitQREResult", "logit_qre", "LogitTraceResult", "logit_trace",
           "MIXED_TOL", "MixedNashResult", "mixed_nash", "PureNashResult", "pure_nash",
           "DEFAULT_TOL", "payoff_scale", "pure_regret", "pure_to_mixed", "regret", "split_profile",
           "strategy_values", "verify", "Result", "AgentQREResult", "SubgamePerfectResult",
           "agent_logit_qre", "resolve_stages", "subgame_perfect", "SupportEnumerationResult",
           "support_enumeration"]
