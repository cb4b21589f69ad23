"""Thresholds and paths against boundaries solved by hand.

The games are small model files written here whose payoffs are linear in the scanned
parameter, so every boundary has a closed form:

``two-switch``: Row plays A iff ``t > a`` (a dominant choice); Column plays X iff
``2t - 1 + k [Row=A] > s``. With ``a = pi / 10``, ``k = 0.2`` and ``s`` in [0, 0.5]
the equilibrium is B/Y below ``t = a``, A/Y up to ``t = (1 - k + s) / 2``, then A/X.

``flip-coordination`` (``tests/fixtures/flip-coordination.toml``): both players get ``t`` for coordinating on X, ``1 - t`` on Y and
``m = 0.3`` when they miscoordinate, so (X, X) is an equilibrium iff ``t >= m`` and
(Y, Y) iff ``t <= 1 - m``: a path from t = 0 to 1 leaves (Y, Y) at 0.7, the way back
leaves (X, X) at 0.3, and [0.3, 0.7] is the hysteresis loop.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from allysim import compile_model, load_scenario
from allysim.analysis import best_response_dynamics, find_thresholds, follow_path, parse_outcome
from allysim.concepts import get_concept
from allysim.errors import InputError

TWO_SWITCH = """
name = "two-switch"
[[players]]
name = "Row"
strategies = ["A", "B"]
[[players]]
name = "Col"
strategies = ["X", "Y"]
[parameters]
t = { default = 0.5, range = [0, 1] }
a = { default = 0.3141592653589793, range = [0, 1] }
k = { default = 0.2, range = [0, 1] }
s = { default = 0, range = [0, 1] }
[payoffs]
Row = "(Row == 'A') * t + (Row == 'B') * a"
Col = "(Col == 'X') * (2 * t - 1 + k * (Row == 'A')) + (Col == 'Y') * s"
"""

FLIP_FILE = Path(__file__).parent / "fixtures" / "flip-coordination.toml"
FLIP = FLIP_FILE.read_text()


@pytest.fixture(scope="module")
def two():
    return compile_model(TWO_SWITCH, where="two-switch.toml")


@pytest.fixture(scope="module")
def flip():
    return compile_model(FLIP, where="flip.toml")


def _pure(model):
    c = get_concept("pure")
    return c, c.resolve({}, model.players)


def test_thresholds_match_the_closed_form(two):
    concept, options = _pure(two)
    s_values = np.linspace(0, 0.5, 6)
    res = find_thresholds(two, two.defaults, ("t", 0.0, 1.0), concept=concept, options=options,
                          by=("s", s_values))
    xtol = res.xtol
    assert xtol == pytest.approx(1e-7)
    got = {}
    for sw in res.switches:
        got.setdefault(sw.by["s"], []).append(sw)
    for s in s_values:
        first, second = got[s]
        assert abs(first.at - math.pi / 10) <= xtol / 2 + 1e-15
        assert (first.below, first.above) == ("B/Y", "A/Y")
        assert abs(second.at - (0.8 + s) / 2) <= xtol / 2 + 1e-15
        assert (second.below, second.above) == ("A/Y", "A/X")
        assert first.lo <= math.pi / 10 <= first.hi and first.hi - first.lo <= xtol
        # s = 0 puts the boundary on a scan point: two brackets meeting there, merged.
        assert second.lo <= (0.8 + s) / 2 <= second.hi and second.hi - second.lo <= 2 * xtol


def test_outcome_threshold_and_a_boundary_on_a_scan_point(two):
    # At s = 0 the boundary t = 0.4 is a scan point (401 points on [0, 1]); there Col is
    # indifferent and both A/X and A/Y are equilibria: the two switches merge into one.
    concept, options = _pure(two)
    res = find_thresholds(two, two.defaults, ("t", 0.0, 1.0), concept=concept, options=options,
                          outcome=parse_outcome("Col=X", two))
    (sw,) = res.switches
    assert abs(sw.at - 0.4) <= res.xtol / 2 + 1e-15
    assert (sw.below, sw.above) == (False, True)
    whole = find_thresholds(two, two.defaults, ("t", 0.0, 1.0), concept=concept, options=options)
    assert [round(s.at, 6) for s in whole.switches] == [round(math.pi / 10, 6), 0.4]
    assert [(s.below, s.above) for s in whole.switches] == [("B/Y", "A/Y"), ("A/Y", "A/X")]


def test_a_region_narrower_than_the_scan_step_can_be_missed(two):
    # Row plays A only for |t - 0.5012| < 0.0005: a region 0.001 wide, narrower than the
    # default step 0.0025 and between two scan points. A finer scan finds both ends.
    text = TWO_SWITCH.replace('"(Row == \'A\') * t + (Row == \'B\') * a"',
                              '"(Row == \'A\') * (0.0005 - abs(t - 0.5012))"')
    m = compile_model(text, where="narrow.toml")
    concept, options = _pure(m)
    oc = parse_outcome("Row=A", m)
    coarse = find_thresholds(m, m.defaults, ("t", 0.0, 1.0), concept=concept, options=options,
                             outcome=oc)
    assert coarse.switches == () and coarse.step == pytest.approx(0.0025)
    fine = find_thresholds(m, m.defaults, ("t", 0.0, 1.0), concept=concept, options=options,
                           outcome=oc, scan=4001)
    assert [round(s.at, 6) for s in fine.switches] == [0.5007, 0.5017]


def test_a_third_regime_met_during_bisection_is_kept(two):
    # Scan points 0 and 1 only: the one bracket holds two switches, found by splitting.
    concept, options = _pure(two)
    res = find_thresholds(two, two.defaults, ("t", 0.0, 1.0), concept=concept, options=options,
                          scan=2)
    assert [round(s.at, 6) for s in res.switches] == [round(math.pi / 10, 6), 0.4]


def test_thresholds_agree_with_a_brute_force_grid_on_the_baseline():
    s = load_scenario("baseline-2018")
    m = s.model
    concept, options = _pure(m)
    oc = parse_outcome("China=SEIZE", m)
    res = find_thresholds(m, s.point, ("us_credibility", 0.3, 0.95), concept=concept,
                          options=options, by=("abandonment_fear", [0.0, 7.0, 9.0]), outcome=oc,
                          scan=101)
    grid = np.linspace(0.3, 0.95, 1301)
    col, by = m.parameter_index("us_credibility"), m.parameter_index("abandonment_fear")
    for fear in (0.0, 7.0, 9.0):
        pts = np.repeat(s.point[None], len(grid), axis=0)
        pts[:, col], pts[:, by] = grid, fear
        eq = concept.solve(m.payoffs(pts), options, m)
        seize = np.array([(eq.pure_profiles(b)[:, 2] == 2).any() for b in range(len(grid))])
        brute = [(grid[j], grid[j + 1]) for j in np.flatnonzero(seize[1:] != seize[:-1])]
        found = [sw.at for sw in res.switches if sw.by["abandonment_fear"] == fear]
        assert len(found) == len(brute)
        for at, (lo, hi) in zip(found, brute):
            assert lo <= at <= hi


def test_thresholds_work_for_qre_limit_and_spe(two):
    for name in ("qre-limit", "spe"):
        c = get_concept(name)
        res = find_thresholds(two, two.defaults, ("t", 0.0, 1.0), concept=c,
                              options=c.resolve({}, two.players), outcome=parse_outcome("Col=X", two))
        # spe with Row first: Col still answers A with X iff t > 0.4, so the path has Col=X
        # from 0.4 on (Row's choice does not depend on Col's answer).
        assert [round(sw.at, 6) for sw in res.switches] == [0.4]


def test_threshold_inputs_are_checked(two):
    concept, options = _pure(two)
    with pytest.raises(InputError, match="--scan"):
        find_thresholds(two, two.defaults, ("t", 0, 1), concept=concept, options=options, scan=1)
    with pytest.raises(InputError, match="--by s"):
        find_thresholds(two, two.defaults, ("s", 0, 1), concept=concept, options=options,
                        by=("s", [0.0]))
    with pytest.raises(InputError, match="--outcome"):
        parse_outcome("Col=Z", two)


# ----------------------------------------------------------------------------- paths

def test_best_response_dynamics_cycle():
    pennies = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
    visited, ok = best_response_dynamics(pennies, (0, 0), 1e-9)
    assert not ok and visited[-1] == visited[0] and len(visited) == 5


def test_pure_path_hysteresis_matches_the_closed_form(flip):
    c = get_concept("pure")
    res = follow_path(flip, flip.defaults, "t", 0.0, 1.0, steps=100, back=True, solver="pure",
                      options=c.resolve({}, flip.players))
    fwd, back = res.changes
    assert (fwd.direction, fwd.before, fwd.after) == ("forward", "Y/Y", "X/X")
    assert (back.direction, back.before, back.after) == ("back", "X/X", "Y/Y")
    assert abs(fwd.at - 0.7) <= 1e-7 and abs(back.at - 0.3) <= 1e-7
    assert fwd.via == ("Y/Y", "X/Y", "X/X")
    ((lo, hi, f, b),) = res.hysteresis
    assert (f, b) == ("Y/Y", "X/X")
    assert lo == pytest.approx(0.3) and hi == pytest.approx(0.7)


def test_pure_path_without_back_and_from_a_given_start(flip):
    c = get_concept("pure")
    res = follow_path(flip, flip.defaults, "t", 0.5, 0.0, steps=10, solver="pure",
                      options=c.resolve({}, flip.players), start_profile=(0, 0))
    assert res.start_note == "given: X/X"
    (ch,) = res.changes
    assert (ch.before, ch.after) == ("X/X", "Y/Y") and abs(ch.at - 0.3) <= 1e-7
    assert res.hysteresis == ()


def _symmetric_fold(lam: float, m: float = 0.3) -> float:
    """The t at which the symmetric logit QRE branch near (Y, Y) folds: p = sigma(lam D(p, t))
    and d/dp sigma(lam D) = 1, with D = p (t - m) - (1 - p)(1 - t - m), p = P(X)."""
    from scipy.optimize import fsolve

    def eqs(z):
        p, t = z
        d = p * (t - m) - (1 - p) * (1 - t - m)
        sig = 1 / (1 + math.exp(-lam * d))
        dd = (t - m) + (1 - t - m)
        return [sig - p, lam * sig * (1 - sig) * dd - 1]

    _, t = fsolve(eqs, [0.05, 0.55], xtol=1e-13)
    return float(t)


def test_qre_path_jumps_at_the_fold_and_back_at_its_mirror(flip):
    lam = 20.0
    fold = _symmetric_fold(lam)
    assert 0.5 < fold < 0.7
    c = get_concept("qre")
    res = follow_path(flip, flip.defaults, "t", 0.0, 1.0, steps=200, back=True, solver="qre",
                      options=c.resolve({"lambda": lam}, flip.players))
    jumps = [ch for ch in res.changes if "jumped" in ch.how]
    fwd, back = jumps
    assert fwd.x_from <= fold <= fwd.x_to
    assert back.x_to <= 1 - fold <= back.x_from
    assert all(s.detail["residual"] <= 1e-10 for s in res.steps)
    assert {s.detail["stability"] for s in res.steps} == {"stable"}
    ((lo, hi, f, b),) = res.hysteresis
    assert (f, b) == ("Y/Y", "X/X")
    assert lo == pytest.approx(1 - fold, abs=0.01) and hi == pytest.approx(fold, abs=0.01)


def test_qre_path_without_a_fold_has_no_hysteresis(flip):
    c = get_concept("qre")
    res = follow_path(flip, flip.defaults, "t", 0.0, 1.0, steps=40, back=True, solver="qre",
                      options=c.resolve({"lambda": 2.0}, flip.players))
    assert res.hysteresis == () and not any("jumped" in ch.how for ch in res.changes)
