"""The ten scenarios of MODEL.md: files, lookup, and their pure equilibria pinned.

Each pin carries the one-line reason it fits the scenario's story. The pins
were computed with allysim and are checked here twice: with allysim's batched
solver and with the hand-written reference implementation of MODEL.md
(tests/reference_four_power.py), which shares no code with allysim.
"""
from __future__ import annotations

import numpy as np
import pytest

from allysim import ScenarioError, list_models, list_scenarios, load_model, load_scenario
from allysim.errors import ModelError
from allysim.solve import iterated_dominance, pure_nash, pure_regret, pure_to_mixed, status_names, verify
from tests import reference_four_power as ref

# scenario: (pure equilibria as (US, Japan, China, NorthKorea), why this fits the story)
PINS = {
    "baseline-2018": (
        [("TRANS", "SUPPORT", "SLICE", "FREEZE")],
        "MODEL.md: the transactional alliance holds, China slices anyway, North Korea keeps its arsenal"),
    "singapore-summit": (
        [],
        "a deal worth 3 pulls the US to ACCOM with a North Korean FREEZE, but Japan and China then "
        "cycle: Japan arms against slicing, China holds, Japan goes back to cheaper support, China slices"),
    "free-rider-pressure": (
        [("TRANS", "SUPPORT", "SLICE", "FREEZE")],
        "billing for protection keeps the US transactional and Japan paying (MODEL.md fact 6)"),
    "japan-active-realism": (
        [("TRANS", "ARM", "HOLD", "PROVOKE")],
        "a cheap, effective Japanese force deters slicing (China holds); without Japanese support a "
        "US strike is less likely, so North Korea provokes"),
    "japan-isolationism": (
        [("TRANS", "DISTANCE", "SLICE", "PROVOKE"), ("ACCOM", "DISTANCE", "SLICE", "FREEZE")],
        "entrapment fear dominates: Japan keeps its distance in every equilibrium and China slices"),
    "demographic-squeeze": (
        [("TRANS", "SUPPORT", "SLICE", "FREEZE"), ("ACCOM", "DISTANCE", "SLICE", "FREEZE")],
        "arming is too dear for an ageing, indebted Japan: ARM is in no equilibrium (MODEL.md fact 5)"),
    "salami-surge": (
        [("TRANS", "SUPPORT", "SLICE", "FREEZE"), ("TRANS", "ARM", "SLICE", "PROVOKE")],
        "slicing pays more, is covered less and costs less: China slices in every equilibrium"),
    "us-retrenchment": (
        [("TRANS", "ARM", "SLICE", "PROVOKE"), ("TRANS", "DISTANCE", "SEIZE", "PROVOKE"),
         ("ACCOM", "DISTANCE", "SEIZE", "FREEZE")],
        "low US credibility invites a fait accompli: SEIZE appears in pure equilibria (MODEL.md fact 4)"),
    "nk-breakout": (
        [],
        "PROVOKE strictly dominates for North Korea; Japan and China then cycle as in singapore-summit"),
    "maximum-pressure": (
        [("TRANS", "SUPPORT", "SLICE", "DENUC")],
        "sanctions that bite make a freeze worse than disarming: North Korea denuclearises"),
}


def _names(model, profiles):
    return [tuple(model.strategies[i][a] for i, a in enumerate(p)) for p in profiles]


def test_the_ten_scenarios_are_listed():
    assert set(PINS) <= set(list_scenarios())
    assert set(PINS) == set(ref.SCENARIOS)


@pytest.mark.parametrize("name", sorted(PINS), ids=[f"{n}: {PINS[n][1][:60]}" for n in sorted(PINS)])
def test_scenario_pure_equilibria(name):
    expected, _reason = PINS[name]
    s = load_scenario(name)
    assert s.name == name and s.model.name == "four-power"
    U = s.model.payoffs(s.point)
    res = pure_nash(U)
    assert _names(s.model, res.pure_profiles(0)) == expected       # canonical (lexicographic) order
    assert status_names(res.status)[0] == ("ok" if expected else "no_pure")
    # The same answer from the independent implementation of MODEL.md.
    params = dict(zip(s.model.parameter_names, s.point))
    assert sorted(ref.pure_equilibria(params)) == sorted(expected)
    # Every pinned equilibrium passes the shared certificate.
    if expected:
        profiles = res.pure_profiles(0)
        reps = np.repeat(U, len(profiles), axis=0)
        assert verify(reps, pure_to_mixed(profiles, s.model.shape)).all()
        assert pure_regret(reps, profiles).max() == 0.0


def test_baseline_is_the_model_md_equilibrium_exactly():
    s = load_scenario("baseline-2018")
    res = pure_nash(s.model.payoffs(s.point))
    assert res.count[0] == 1
    assert _names(s.model, res.pure_profiles(0)) == [("TRANS", "SUPPORT", "SLICE", "FREEZE")]
    np.testing.assert_array_equal(s.point, s.model.defaults)


def test_no_pure_scenarios():
    for name in ("singapore-summit", "nk-breakout"):
        s = load_scenario(name)
        res = pure_nash(s.model.payoffs(s.point))
        assert res.count[0] == 0 and status_names(res.status)[0] == "no_pure"


def test_us_retrenchment_has_seize():
    s = load_scenario("us-retrenchment")
    res = pure_nash(s.model.payoffs(s.point))
    assert any(prof[2] == "SEIZE" for prof in _names(s.model, res.pure_profiles(0)))


def test_nk_breakout_provoke_is_dominant():
    s = load_scenario("nk-breakout")
    dom = iterated_dominance(s.model.payoffs(s.point))
    assert dom.surviving[3][0].tolist() == [False, False, True]


def test_fact_4_seize_appears_as_credibility_falls():
    # MODEL.md fact 4, pure-equilibrium half: at us_credibility 0.4 SEIZE is in a pure
    # equilibrium, at 0.9 it is in none (the QRE half is tested with the QRE solver).
    m = load_model("four-power")
    for value, seize in ((0.4, True), (0.9, False)):
        res = pure_nash(m.payoffs(m.point({"us_credibility": value})))
        assert any(p[2] == "SEIZE" for p in _names(m, res.pure_profiles(0))) == seize


@pytest.mark.parametrize("name", sorted(PINS))
def test_scenario_files_match_model_md(name):
    s = load_scenario(name)
    assert {k: float(v) for k, v in s.overrides.items()} == {k: float(v) for k, v in ref.SCENARIOS[name].items()}
    want = dict(ref.DEFAULTS, **ref.SCENARIOS[name])
    np.testing.assert_array_equal(s.point, [want[p] for p in s.model.parameter_names])
    assert s.description and s.sha256 and s.path and s.path.endswith(f"{name}.toml")


def test_every_shipped_model_compiles_and_solves():
    for name in list_models():
        m = load_model(name)
        U = m.payoffs(m.defaults)
        res = pure_nash(U)
        dom = iterated_dominance(U)
        assert res.mask.shape == (1, *m.shape) and len(dom.surviving) == m.n_players
        profiles = res.pure_profiles(0)
        if len(profiles):
            reps = np.repeat(U, len(profiles), axis=0)
            assert verify(reps, pure_to_mixed(profiles, m.shape)).all()
        # A model name also works as a scenario (the model at its defaults).
        if name not in list_scenarios():
            s = load_scenario(name)
            assert s.model.name == name and s.overrides == {}
            np.testing.assert_array_equal(s.point, m.defaults)


# ---------------------------------------------------------------------------
# lookup and bad scenario files
# ---------------------------------------------------------------------------

def test_unknown_scenario_suggests_nearest():
    with pytest.raises(ScenarioError, match=r"unknown scenario 'baseline-2019' \(did you mean 'baseline-2018'\?\)"):
        load_scenario("baseline-2019")


def test_scenario_by_path_with_relative_model(tmp_path):
    (tmp_path / "tiny.toml").write_text(load_model("prisoners-dilemma").source, encoding="utf-8")
    (tmp_path / "mine.toml").write_text('model = "tiny.toml"\ndescription = "d"\n[overrides]\ntemptation = 7\n',
                                        encoding="utf-8")
    s = load_scenario(tmp_path / "mine.toml")
    assert s.name == "mine" and s.model.name == "prisoners-dilemma"
    assert s.point[s.model.parameter_index("temptation")] == 7


def test_with_overrides_merges_and_checks_ranges():
    s = load_scenario("singapore-summit").with_overrides({"hawk_weight": 0.9})
    assert s.overrides["deal_value"] == 3 and s.overrides["hawk_weight"] == 0.9
    with pytest.raises(ScenarioError, match=r"hawk_weight = 1.5 is outside its range"):
        load_scenario("baseline-2018").with_overrides({"hawk_weight": 1.5})
    forced = load_scenario("baseline-2018").with_overrides({"hawk_weight": 1.5}, force=True)
    assert forced.point[forced.model.parameter_index("hawk_weight")] == 1.5


BAD_SCENARIOS = [
    ("malformed", 'model = "four-power"\n[overrides\n', ScenarioError, r"^bad\.toml: malformed TOML: "),
    ("unknown-key", 'model = "four-power"\noverides = 1\n', ScenarioError,
     r"^bad\.toml: unknown key 'overides' \(did you mean 'overrides'\?\)"),
    ("no-model", 'description = "x"\n', ScenarioError, r"^bad\.toml: model: expected a model name or path"),
    ("unknown-model", 'model = "four-powr"\n', ModelError, r"unknown model 'four-powr' \(did you mean 'four-power'\?\)"),
    ("unknown-parameter", 'model = "four-power"\n[overrides]\nabandonment_fer = 1\n', ScenarioError,
     r"^bad\.toml: overrides: unknown parameter 'abandonment_fer' of model four-power "
     r"\(did you mean 'abandonment_fear'\?\)"),
    ("out-of-range", 'model = "four-power"\n[overrides]\nhawk_weight = 3\n', ScenarioError,
     r"^bad\.toml: overrides: parameter hawk_weight = 3 is outside its range \[0, 1\]"),
    ("not-a-number", 'model = "four-power"\n[overrides]\nhawk_weight = "high"\n', ScenarioError,
     r"^bad\.toml: overrides: parameter hawk_weight = 'high': expected a number"),
    ("overrides-not-table", 'model = "four-power"\noverrides = 3\n', ScenarioError,
     r"^bad\.toml: overrides: expected a table"),
    ("missing-model-file", 'model = "nowhere.toml"\n', ModelError, r"nowhere\.toml: cannot read model file"),
]


@pytest.mark.parametrize("text,exc,pattern", [c[1:] for c in BAD_SCENARIOS], ids=[c[0] for c in BAD_SCENARIOS])
def test_bad_scenario_file(tmp_path, text, exc, pattern):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(exc) as info:
        load_scenario(path)
    assert info.match(pattern)
    assert "\n" not in str(info.value)


def test_out_of_range_override_allowed_with_force(tmp_path):
    path = tmp_path / "forced.toml"
    path.write_text('model = "four-power"\n[overrides]\nhawk_weight = 3\n', encoding="utf-8")
    s = load_scenario(path, force=True)
    assert s.point[s.model.parameter_index("hawk_weight")] == 3
