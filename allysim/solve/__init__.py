"""Solution concepts, one module each, all batched over games (axis 0)."""
from ._status import STATUS, STATUS_NAMES, status_names
from .best_response import best_response_mask
from .dominance import DominanceResult, iterated_dominance
from .pure_nash import PureNashResult, pure_nash
from .regret import (DEFAULT_TOL, payoff_scale, pure_regret, pure_to_mixed, regret,
                     split_profile, strategy_values, verify)

__all__ = ["STATUS", "STATUS_NAMES", "status_names", "best_response_mask",
           "DominanceResult", "iterated_dominance", "PureNashResult", "pure_nash", "DEFAULT_TOL",
           "payoff_scale", "pure_regret", "pure_to_mixed", "regret", "split_profile", "strategy_values", "verify"]

# Sequential play and learning dynamics.
from .dynamics import (DynamicsResult, RestPointResult, fictitious_play,  # noqa: E402
                       logit_dynamics, replicator, rest_points)
from .sequential import (AgentQREResult, SubgamePerfectResult, agent_logit_qre,  # noqa: E402
                         subgame_perfect)

__all__ += ["DynamicsResult", "RestPointResult", "fictitious_play", "logit_dynamics", "replicator",
            "rest_points", "AgentQREResult", "SubgamePerfectResult", "agent_logit_qre",
            "subgame_perfect"]

# Logit quantal response equilibria.
from .logit_qre import DEFAULT_QRE_TOL, LogitQREResult, logit_qre  # noqa: E402
from .logit_trace import LogitTraceResult, logit_trace  # noqa: E402

__all__ += ["DEFAULT_QRE_TOL", "LogitQREResult", "LogitTraceResult", "logit_qre", "logit_trace"]

# Mixed Nash equilibria.
from .mixed_nash import MixedNashResult, mixed_nash  # noqa: E402
from .support_enumeration import SupportEnumerationResult, support_enumeration  # noqa: E402

__all__ += ["MixedNashResult", "mixed_nash", "SupportEnumerationResult", "support_enumeration"]
