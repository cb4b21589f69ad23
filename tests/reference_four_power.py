"""An independent, deliberately plain implementation of the four-power model.

Written by hand from MODEL.md (the tables "Strategy attributes", "Parameters",
"Derived quantities" and "Payoffs"), with scalar math, dicts of strategy
attributes and a Python loop over the 81 pure profiles. It shares no code with
allysim's model compiler, so comparing the two checks the compiler and the
model file at once. Slow on purpose: use it on a few hundred points only.

>>> u = payoffs_at(DEFAULTS)
>>> len(u), sorted(u[("TRANS", "SUPPORT", "SLICE", "FREEZE")])
(81, ['China', 'Japan', 'NorthKorea', 'US'])
"""
from __future__ import annotations

import itertools

PLAYERS = ("US", "Japan", "China", "NorthKorea")
STRATEGIES = {
    "US": ("FIRM", "TRANS", "ACCOM"),
    "Japan": ("SUPPORT", "ARM", "DISTANCE"),
    "China": ("HOLD", "SLICE", "SEIZE"),
    "NorthKorea": ("DENUC", "FREEZE", "PROVOKE"),
}

#: name: (default, low, high), copied from MODEL.md's parameter table.
PARAMETERS = {
    "us_credibility": (0.75, 0.3, 0.95),
    "halt_credibility_loss": (0.3, 0.0, 0.8),
    "burden_sharing_response": (0.8, 0.0, 2.0),
    "abandonment_fear": (5.0, 0.0, 10.0),
    "entrapment_fear": (3.0, 0.0, 10.0),
    "hawk_weight": (0.5, 0.0, 1.0),
    "capability_hedge": (0.4, 0.0, 1.0),
    "autonomy_value": (0.25, 0.0, 2.0),
    "arming_cost": (1.5, 0.5, 4.0),
    "fiscal_strain": (0.3, 0.0, 1.5),
    "japan_force_effectiveness": (0.5, 0.0, 1.0),
    "grayzone_cover": (0.3, 0.0, 1.0),
    "slice_gain": (2.0, 0.0, 6.0),
    "slice_cost": (1.5, 0.0, 4.0),
    "seize_gain": (6.0, 0.0, 15.0),
    "escalation_cost": (10.0, 5.0, 30.0),
    "nk_nuclear_value": (8.0, 2.0, 12.0),
    "sanctions_cost": (4.0, 1.0, 8.0),
    "sanctions_erosion": (0.5, 0.0, 1.0),
    "halt_concession": (1.0, 0.0, 4.0),
    "provocation_gain": (1.0, 0.0, 4.0),
    "denuclearisation_reward": (1.0, 0.0, 5.0),
    "missile_defence": (0.5, 0.0, 1.0),
    "deal_value": (0.5, 0.0, 5.0),
    "reputation_cost": (3.0, 0.0, 8.0),
    "presence_cost": (2.0, 0.5, 4.0),
    "host_nation_support": (1.0, 0.0, 3.0),
    "free_rider_resentment": (1.5, 0.0, 4.0),
    "moral_hazard_cost": (1.0, 0.0, 4.0),
    "freeze_value_share": (0.7, 0.0, 1.0),
    "sanctions_snapback": (1.3, 1.0, 2.0),
    "strike_support_multiplier": (1.5, 1.0, 3.0),
    "burden_cost": (0.0, 0.0, 3.0),
}
DEFAULTS = {name: spec[0] for name, spec in PARAMETERS.items()}

#: The scenarios table of MODEL.md: overrides of the defaults.
SCENARIOS = {
    "baseline-2018": {},
    "singapore-summit": {"deal_value": 3, "halt_concession": 2, "sanctions_erosion": 0.6,
                         "halt_credibility_loss": 0.35},
    "free-rider-pressure": {"free_rider_resentment": 3, "burden_sharing_response": 1.2,
                            "presence_cost": 2.8},
    "japan-active-realism": {"hawk_weight": 0.75, "autonomy_value": 1, "arming_cost": 1,
                             "japan_force_effectiveness": 0.7},
    "japan-isolationism": {"hawk_weight": 0.25, "entrapment_fear": 6},
    "demographic-squeeze": {"fiscal_strain": 1.2, "japan_force_effectiveness": 0.4},
    "salami-surge": {"slice_gain": 4, "grayzone_cover": 0.15, "slice_cost": 1},
    "us-retrenchment": {"us_credibility": 0.5, "halt_credibility_loss": 0.5},
    "nk-breakout": {"nk_nuclear_value": 11, "provocation_gain": 2},
    "maximum-pressure": {"sanctions_cost": 6.5, "sanctions_erosion": 0.2},
}


def attributes(p: dict) -> dict:
    """Strategy attributes of MODEL.md: {player: {strategy: {attribute: value}}}."""
    return {
        "US": {
            "FIRM": dict(commitment=1.0, burden_tracking=0.5, presence=p["presence_cost"],
                         exposure=1.0, enforcement=1.0, strike=0.25, accommodates=0.0),
            "TRANS": dict(commitment=0.8, burden_tracking=1.0, presence=1.5,
                          exposure=0.8, enforcement=0.9, strike=0.15, accommodates=0.0),
            "ACCOM": dict(commitment=1.0 - p["halt_credibility_loss"], burden_tracking=0.3,
                          presence=0.8, exposure=0.3, enforcement=1.0 - p["sanctions_erosion"],
                          strike=0.03, accommodates=1.0),
        },
        "Japan": {
            "SUPPORT": dict(burden=1.0, capability=0.4, autonomy=0.0, exposure=1.0),
            "ARM": dict(burden=0.6, capability=1.0, autonomy=1.0, exposure=0.5),
            "DISTANCE": dict(burden=0.0, capability=0.1, autonomy=0.5, exposure=0.1),
        },
        "China": {
            "HOLD": dict(escalation=0.0),
            "SLICE": dict(escalation=0.3),
            "SEIZE": dict(escalation=1.0),
        },
        "NorthKorea": {
            "DENUC": dict(threat_to_japan=0.0, threat_to_us=0.0, escalation=0.0),
            "FREEZE": dict(threat_to_japan=3.0, threat_to_us=1.0, escalation=0.2),
            "PROVOKE": dict(threat_to_japan=5.0, threat_to_us=5.0, escalation=1.0),
        },
    }


def profile_payoffs(p: dict, us: str, japan: str, china: str, nk: str) -> dict:
    """Every player's payoff at one pure profile, as {player: float}."""
    att = attributes(p)
    U, J, C, N = att["US"][us], att["Japan"][japan], att["China"][china], att["NorthKorea"][nk]
    is_slice = 1.0 if china == "SLICE" else 0.0
    is_seize = 1.0 if china == "SEIZE" else 0.0
    is_hold = 1.0 if china == "HOLD" else 0.0

    kappa = p["us_credibility"] * U["commitment"] * (
        1 + p["burden_sharing_response"] * U["burden_tracking"] * (J["burden"] - 0.5))
    kappa = min(max(kappa, 0.0), 1.0)
    p_slice = 1 - (1 - p["grayzone_cover"] * kappa) * (1 - p["japan_force_effectiveness"] * J["capability"])
    p_seize = 1 - (1 - kappa) * (1 - 0.5 * p["japan_force_effectiveness"] * J["capability"])
    gain = p["slice_gain"] * (1 - p_slice) * is_slice + p["seize_gain"] * (1 - p_seize) * is_seize
    risk = U["exposure"] * J["exposure"] * (N["escalation"] + C["escalation"])
    A = 2 * p["hawk_weight"] * p["abandonment_fear"]
    E = 2 * (1 - p["hawk_weight"]) * p["entrapment_fear"]
    strike = U["strike"] * (1 + (p["strike_support_multiplier"] - 1) * (1.0 if japan == "SUPPORT" else 0.0))

    china_u = gain - p["slice_cost"] * p_slice * is_slice - p["escalation_cost"] * p_seize * is_seize

    if nk == "DENUC":
        nk_u = p["denuclearisation_reward"] + p["halt_concession"] * U["accommodates"]
    elif nk == "FREEZE":
        nk_u = (p["freeze_value_share"] * p["nk_nuclear_value"] - p["sanctions_cost"] * U["enforcement"]
                + p["halt_concession"] * U["accommodates"])
    else:
        nk_u = (p["nk_nuclear_value"] + p["provocation_gain"]
                - p["sanctions_snapback"] * p["sanctions_cost"] - p["escalation_cost"] * strike)

    japan_u = (-gain
               - N["threat_to_japan"] * (1 - p["missile_defence"] * kappa)
               - A * (1 - kappa) * (1 - p["capability_hedge"] * J["capability"])
               - E * risk
               - p["arming_cost"] * (1 + p["fiscal_strain"]) * J["capability"]
               + 2 * p["hawk_weight"] * p["autonomy_value"] * J["autonomy"]
               - p["burden_cost"] * J["burden"]
               - 0.5 * p["escalation_cost"] * p_seize * is_seize)

    crisis = (p["escalation_cost"] * is_seize + p["grayzone_cover"] * p["slice_cost"] * is_slice
              + p["moral_hazard_cost"] * (1.0 if japan == "ARM" else 0.0) * (1 - is_hold))
    us_u = (-gain - N["threat_to_us"]
            - (U["presence"] - p["host_nation_support"] * J["burden"] * (1 - U["accommodates"]))
            - p["free_rider_resentment"] * (1 - J["burden"]) * (1 - U["burden_tracking"])
            + p["deal_value"] * U["accommodates"] * (1 - (1.0 if nk == "PROVOKE" else 0.0))
            - kappa * crisis
            - p["reputation_cost"] * (1 - kappa))
    return {"US": us_u, "Japan": japan_u, "China": china_u, "NorthKorea": nk_u}


def payoffs_at(p: dict) -> dict:
    """{(us, japan, china, nk): {player: payoff}} over all 81 profiles."""
    return {prof: profile_payoffs(p, *prof)
            for prof in itertools.product(*(STRATEGIES[q] for q in PLAYERS))}


def payoff_array(p: dict) -> list:
    """Nested lists ``[player][us][japan][china][nk]`` (allysim's axis order, no batch axis)."""
    table = payoffs_at(p)
    out = []
    for q in PLAYERS:
        out.append([[[[table[(a, b, c, d)][q] for d in STRATEGIES["NorthKorea"]]
                      for c in STRATEGIES["China"]]
                     for b in STRATEGIES["Japan"]]
                    for a in STRATEGIES["US"]])
    return out


def pure_equilibria(p: dict) -> list:
    """Pure Nash equilibria by brute force over the 81 profiles (exact comparisons),
    as tuples of strategy names in player order."""
    table = payoffs_at(p)
    found = []
    for prof, u in table.items():
        stable = True
        for k, q in enumerate(PLAYERS):
            for alt in STRATEGIES[q]:
                dev = prof[:k] + (alt,) + prof[k + 1:]
                if table[dev][q] > u[q]:
                    stable = False
        if stable:
            found.append(prof)
    return found
