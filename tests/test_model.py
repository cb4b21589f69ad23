"""The model compiler and the shipped models.

- four-power payoffs against an independent hand-written implementation of
  MODEL.md (tests/reference_four_power.py) at random in-range points;
- the textbook models against hand-written payoff matrices;
- the expression whitelist and model-file validation: every error is a
  ModelError (a ValueError) whose one-line message names the file and key.
"""
from __future__ import annotations

import builtins
import re

import numpy as np
import pytest

from allysim import ModelError, compile_model, list_models, load_model
from allysim.errors import PayoffError, ScenarioError
from tests import reference_four_power as ref
from tests.strategies import random_points

SEED = 20180612  # the Singapore summit


# ---------------------------------------------------------------------------
# four-power against the independent reference
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def four_power():
    return load_model("four-power")


def reference_payoffs(model, X):
    return np.array([ref.payoff_array(dict(zip(model.parameter_names, x))) for x in X])


def test_four_power_declares_what_model_md_declares(four_power):
    assert four_power.players == ref.PLAYERS
    assert four_power.strategies == tuple(ref.STRATEGIES[p] for p in ref.PLAYERS)
    assert four_power.parameter_names == tuple(ref.PARAMETERS)
    np.testing.assert_array_equal(four_power.defaults, [v[0] for v in ref.PARAMETERS.values()])
    np.testing.assert_array_equal(four_power.bounds, [[v[1], v[2]] for v in ref.PARAMETERS.values()])
    assert four_power.shape == (3, 3, 3, 3)


def test_four_power_matches_reference_at_random_points(four_power):
    X = random_points(four_power, np.random.default_rng(SEED), 250)
    got = four_power.payoffs(X)
    assert got.shape == (250, 4, 3, 3, 3, 3) and got.dtype == np.float64
    want = reference_payoffs(four_power, X)
    assert np.abs(got - want).max() <= 1e-12


def test_four_power_matches_reference_at_defaults_and_corners(four_power):
    lo, hi = four_power.bounds.T
    rng = np.random.default_rng(SEED + 1)
    corners = np.where(rng.random((30, len(lo))) < 0.5, lo, hi)
    X = np.vstack([four_power.defaults, lo, hi, corners])
    assert np.abs(four_power.payoffs(X) - reference_payoffs(four_power, X)).max() <= 1e-12


def test_four_power_kappa_clip_is_exercised(four_power):
    # kappa = us_credibility * commitment * (1 + response * tracking * (burden - 0.5)) exceeds 1
    # for FIRM/TRANS with SUPPORT at high credibility and response: the clip must bite.
    p = dict(ref.DEFAULTS, us_credibility=0.95, burden_sharing_response=2.0)
    X = four_power.point(p)[None]
    assert np.abs(four_power.payoffs(X) - reference_payoffs(four_power, X)).max() <= 1e-12
    raw = 0.95 * 0.8 * (1 + 2.0 * 1.0 * 0.5)   # TRANS with SUPPORT
    assert raw > 1


def test_one_point_equals_a_batch_of_one(four_power):
    x = random_points(four_power, np.random.default_rng(3), 1)
    np.testing.assert_array_equal(four_power.payoffs(x[0]), four_power.payoffs(x))


def test_batch_rows_are_independent(four_power):
    X = random_points(four_power, np.random.default_rng(4), 7)
    whole = four_power.payoffs(X)
    for b in range(len(X)):
        np.testing.assert_array_equal(whole[b], four_power.payoffs(X[b])[0])


def test_payoffs_rejects_wrong_parameter_shape(four_power):
    with pytest.raises(ValueError, match=r"params must have shape \(B, 33\)"):
        four_power.payoffs(np.zeros((2, 5)))


def test_defaults_do_not_alias_the_model(four_power):
    x = four_power.defaults
    x[0] = 123.0
    assert four_power.defaults[0] == ref.DEFAULTS["us_credibility"]


# ---------------------------------------------------------------------------
# textbook models against hand-written matrices
# ---------------------------------------------------------------------------

def _pd(p):
    R, T, P, S = p["reward"], p["temptation"], p["punishment"], p["sucker"]
    row = [[R, S], [T, P]]
    return [row, np.transpose(row)]


def _chicken(p):
    w, c = p["win"], p["crash_cost"]
    row = [[0, -w], [w, -c]]
    return [row, np.transpose(row)]


def _pennies(p):
    s = p["stake"]
    row = np.array([[s, -s], [-s, s]])
    return [row, -row]


def _bos(p):
    f, o = p["favourite"], p["other"]
    return [[[f, 0], [0, o]], [[o, 0], [0, f]]]


def _snyder(p):
    row = [[p["security"] - p["entrapment_risk"], -p["abandonment_cost"]], [p["free_ride_gain"], 0]]
    return [row, np.transpose(row)]


TEXTBOOK = {
    "prisoners-dilemma": (_pd, (("C", "D"), ("C", "D")), [[[3, 0], [5, 1]], [[3, 5], [0, 1]]]),
    "chicken": (_chicken, (("SWERVE", "STRAIGHT"),) * 2, [[[0, -1], [1, -10]], [[0, 1], [-1, -10]]]),
    "matching-pennies": (_pennies, (("HEADS", "TAILS"),) * 2, [[[1, -1], [-1, 1]], [[-1, 1], [1, -1]]]),
    "battle-of-sexes": (_bos, (("OPERA", "FIGHT"),) * 2, [[[2, 0], [0, 1]], [[1, 0], [0, 2]]]),
    "snyder-dilemma": (_snyder, (("COMMIT", "DEFECT"),) * 2, [[[1, -2], [1.5, 0]], [[1, 1.5], [-2, 0]]]),
}


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_textbook_model_at_defaults(name):
    _, strategies, matrix = TEXTBOOK[name]
    m = load_model(name)
    assert m.strategies == strategies
    np.testing.assert_array_equal(m.payoffs(m.defaults)[0], np.array(matrix, dtype=float))


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_textbook_model_at_random_points(name):
    hand = TEXTBOOK[name][0]
    m = load_model(name)
    X = random_points(m, np.random.default_rng(SEED), 20)
    want = np.array([hand(dict(zip(m.parameter_names, x))) for x in X], dtype=float)
    np.testing.assert_allclose(m.payoffs(X), want, rtol=0, atol=1e-12)


def test_every_shipped_model_is_listed_and_loads():
    names = list_models()
    assert {"four-power", *TEXTBOOK} <= set(names)
    for name in names:
        m = load_model(name)
        assert m.name == name
        assert m.payoffs(m.defaults).shape == (1, m.n_players, *m.shape)


def test_unknown_model_name_suggests():
    with pytest.raises(ModelError, match=r"unknown model 'four-powr'.*did you mean 'four-power'"):
        load_model("four-powr")


# ---------------------------------------------------------------------------
# the expression language: everything allowed evaluates as documented
# ---------------------------------------------------------------------------

MINI = """
name = "mini"
[[players]]
name = "Row"
strategies = ["UP", "DOWN"]
[players.attributes]
cost = [1, "scale_factor"]

[[players]]
name = "Col"
strategies = ["LEFT", "RIGHT"]

[parameters]
scale_factor = { default = 2, range = [0, 5], description = "a scale" }
reward_level = { default = 3, range = [0, 10] }

[derived]
both = "(Row == 'DOWN') * (Col == 'RIGHT')"
twice = "2 * both"

[payoffs]
Row = "ROW_EXPR"
Col = "reward_level * Row.cost"
"""


def mini(row_expr: str, where: str = "mini.toml"):
    return compile_model(MINI.replace("ROW_EXPR", row_expr), where=where)


def test_every_allowed_construct_evaluates():
    expr = ("min(scale_factor, 1) + max(scale_factor, 1) + clip(reward_level, 0, 2.5)"
            " + where(Row == 'DOWN', 10, 20) + exp(0) + log(1) + abs(-scale_factor)"
            " + scale_factor ** 2 / 4 - -1 + +1 + (reward_level > 2) + (reward_level <= 2)"
            " + (scale_factor != 2) + (scale_factor >= 2) + (scale_factor < 2) + (scale_factor == 2)"
            " + twice + Row.cost")
    m = mini(expr)
    u = m.payoffs(m.defaults)[0, 0]
    s, r = 2.0, 3.0
    for a, row in enumerate(("UP", "DOWN")):
        for c, col in enumerate(("LEFT", "RIGHT")):
            want = (min(s, 1) + max(s, 1) + min(max(r, 0), 2.5) + (10 if row == "DOWN" else 20)
                    + 1 + 0 + s + s ** 2 / 4 + 1 + 1 + 1 + 0 + 0 + 1 + 0 + 1
                    + 2 * (row == "DOWN") * (col == "RIGHT") + (1 if row == "UP" else s))
            assert u[a, c] == pytest.approx(want, abs=1e-12)


def test_multiline_expression():
    m = compile_model(MINI.replace('Row = "ROW_EXPR"', 'Row = """\n  scale_factor\n  + 1\n"""'),
                      where="mini.toml")
    np.testing.assert_array_equal(m.payoffs(m.defaults)[0, 0], np.full((2, 2), 3.0))


def test_compiler_never_calls_eval_or_exec(monkeypatch):
    text = load_model("four-power").source

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    m = compile_model(text, where="four-power.toml")
    assert np.isfinite(m.payoffs(m.defaults)).all()


# ---------------------------------------------------------------------------
# disallowed expressions and bad model files
# ---------------------------------------------------------------------------

BAD_EXPRESSIONS = [
    # (id, expression, regex the message must match after "mini.toml: payoffs.Row: ")
    ("import", "__import__('os')", r"call of '__import__' is not allowed"),
    ("import-system", "__import__('os').system('true')", r"not allowed"),
    ("dunder-class", "().__class__", r"attribute access '\(\)\.__class__' is not allowed"),
    ("attr-beyond-player", "Row.cost.real", r"attribute access 'Row\.cost\.real' is not allowed"),
    ("dunder-attr", "Row.__class__", r"attribute access 'Row\.__class__' is not allowed"),
    ("lambda", "lambda: 1", r"Lambda .* is not allowed"),
    ("lambda-call", "(lambda x: x)(1)", r"call of .* is not allowed"),
    ("subscript", "scale_factor[0]", r"Subscript .* is not allowed"),
    ("builtins-subscript", "__builtins__['eval']", r"not allowed"),
    ("dunder-name", "__builtins__", r"name '__builtins__' is not allowed"),
    ("eval-call", "eval('1')", r"call of 'eval' is not allowed"),
    ("getattr-call", "getattr(Row, 'cost')", r"call of 'getattr' is not allowed"),
    ("method-call", "Row.cost.conjugate()", r"not allowed"),
    ("string", "'abc'", r"constant 'abc' is not allowed"),
    ("bool", "True", r"constant True is not allowed"),
    ("list", "[1, 2]", r"List .* is not allowed"),
    ("comprehension", "[x for x in (1, 2)]", r"ListComp .* is not allowed"),
    ("ifexp", "1 if scale_factor else 2", r"IfExp .* is not allowed"),
    ("boolop", "scale_factor and reward_level", r"BoolOp .* is not allowed"),
    ("not", "not scale_factor", r"unary operator Not is not allowed"),
    ("floordiv", "scale_factor // 2", r"operator FloorDiv is not allowed"),
    ("matmul", "scale_factor @ 2", r"operator MatMult is not allowed"),
    ("walrus", "(y := 1)", r"NamedExpr .* is not allowed"),
    ("fstring", "f'{scale_factor}'", r"JoinedStr .* is not allowed"),
    ("chained", "0 < scale_factor < 1", r"chained comparison .* is not allowed"),
    ("is", "scale_factor is 1", r"comparison Is is not allowed"),
    ("keyword-arg", "clip(scale_factor, 0, hi=1)", r"clip\(\) takes exactly 3 positional"),
    ("arity", "exp(1, 2)", r"exp\(\) takes exactly 1 positional"),
    ("starred", "max(*scale_factor)", r"max\(\) takes exactly 2 positional"),
    ("bare-function", "exp", r"function 'exp' used without calling it"),
    ("player-as-number", "Row + 1", r"player 'Row' used as a number"),
    ("strategy-compare-lt", "Row < 'UP'", r"a strategy name can only be compared"),
    ("syntax", "1 +", r"cannot parse"),
    ("statement", "import os", r"cannot parse"),
    ("unknown-name", "scale_facter * 2", r"unknown name 'scale_facter' \(did you mean 'scale_factor'\?\)"),
    ("unknown-function", "sqrt(4)", r"call of 'sqrt' is not allowed"),
    ("unknown-function-suggest", "clp(1, 0, 2)", r"call of 'clp' is not allowed \(did you mean 'clip'\?\)"),
    ("unknown-attribute", "Row.cots", r"unknown attribute 'Row\.cots' \(did you mean 'cost'\?\)"),
    ("unknown-player", "Rwo.cost", r"unknown player 'Rwo' \(did you mean 'Row'\?\)"),
    ("unknown-strategy", "Row == 'DOWM'", r"unknown strategy Row == \"DOWM\" \(did you mean 'DOWN'\?\)"),
    ("attribute-of-other-player", "Col.cost", r"unknown attribute 'Col\.cost'"),
]


@pytest.mark.parametrize("expr,pattern", [c[1:] for c in BAD_EXPRESSIONS],
                         ids=[c[0] for c in BAD_EXPRESSIONS])
def test_disallowed_expression(expr, pattern):
    with pytest.raises(ModelError) as info:
        mini(expr)
    msg = str(info.value)
    assert msg.startswith("mini.toml: payoffs.Row: "), msg
    assert re.search(pattern, msg), msg
    assert "\n" not in msg


def test_error_is_a_value_error():
    assert issubclass(ModelError, ValueError) and issubclass(ScenarioError, ValueError)
    assert issubclass(PayoffError, ValueError)


def _four_power_with(china_payoff: str) -> str:
    text = load_model("four-power").source
    old = next(line for line in text.splitlines() if line.startswith("China = "))
    return text.replace(old, f"China = {china_payoff!r}")


@pytest.mark.parametrize("expr,pattern", [
    ("US == \"FRM\"", r"unknown strategy US == \"FRM\" \(did you mean 'FIRM'\?\); expected one of FIRM, TRANS, ACCOM"),
    ("US.comitment", r"unknown attribute 'US\.comitment' \(did you mean 'commitment'\?\)"),
    ("USA.commitment", r"unknown player 'USA' \(did you mean 'US'\?\)"),
    ("kapa * 2", r"unknown name 'kapa' \(did you mean 'kappa'\?\)"),
    ("slice_gian", r"unknown name 'slice_gian' \(did you mean 'slice_gain'\?\)"),
    ("US.commitment.real", r"attribute access 'US\.commitment\.real' is not allowed"),
])
def test_bad_expression_in_four_power(expr, pattern):
    with pytest.raises(ModelError) as info:
        compile_model(_four_power_with(expr), where="four-power.toml")
    msg = str(info.value)
    assert msg.startswith("four-power.toml: payoffs.China: "), msg
    assert re.search(pattern, msg), msg


def test_derived_may_not_use_later_derived():
    text = MINI.replace('twice = "2 * both"', 'twice = "2 * both + later"\nlater = "1"')
    with pytest.raises(ModelError, match=r"^m\.toml: derived\.twice: unknown name 'later'"):
        compile_model(text, where="m.toml")


def test_attribute_may_not_use_attributes():
    text = MINI.replace('cost = [1, "scale_factor"]', 'cost = [1, "Row.cost"]')
    with pytest.raises(ModelError, match=r"^m\.toml: players\[0\]\.attributes\.cost: unknown attribute"):
        compile_model(text, where="m.toml")


BAD_FILES = [
    ("malformed-toml", lambda t: t.replace('name = "mini"', 'name = "mini'), r"^bad\.toml: malformed TOML: "),
    ("malformed-toml-table", lambda t: t + "\n[payoffs\n", r"^bad\.toml: malformed TOML: "),
    ("missing-payoff", lambda t: t.replace('Col = "reward_level * Row.cost"', ""),
     r"^bad\.toml: payoffs: missing payoff for Col$"),
    ("payoff-for-unknown-player", lambda t: t + 'Colm = "1"\n',
     r"^bad\.toml: payoffs\.Colm: unknown player \(did you mean 'Col'\?\)"),
    ("default-outside-range", lambda t: t.replace("default = 2, range = [0, 5]", "default = 7, range = [0, 5]"),
     r"^bad\.toml: parameters\.scale_factor: default 7 is outside range \[0, 5\]"),
    ("range-not-pair", lambda t: t.replace("range = [0, 5]", "range = [0]"),
     r"^bad\.toml: parameters\.scale_factor\.range: expected \[low, high\]"),
    ("default-not-number", lambda t: t.replace("default = 2,", 'default = "two",'),
     r"^bad\.toml: parameters\.scale_factor\.default: expected a finite number"),
    ("missing-default", lambda t: t.replace("default = 3, ", ""),
     r"^bad\.toml: parameters\.reward_level: expected keys default and range"),
    ("parameter-key-typo", lambda t: t.replace('description = "a scale"', 'descripton = "a scale"'),
     r"^bad\.toml: parameters\.scale_factor: unknown key 'descripton' \(did you mean 'description'\?\)"),
    ("attribute-too-short", lambda t: t.replace('cost = [1, "scale_factor"]', "cost = [1]"),
     r"^bad\.toml: players\[0\]\.attributes\.cost: expected an array of 2 values, one per strategy of Row"),
    ("attribute-too-long", lambda t: t.replace('cost = [1, "scale_factor"]', "cost = [1, 2, 3]"),
     r"^bad\.toml: players\[0\]\.attributes\.cost: expected an array of 2 values"),
    ("attribute-not-array", lambda t: t.replace('cost = [1, "scale_factor"]', "cost = 1"),
     r"^bad\.toml: players\[0\]\.attributes\.cost: expected an array of 2 values"),
    ("attribute-bool", lambda t: t.replace('cost = [1, "scale_factor"]', "cost = [1, true]"),
     r"^bad\.toml: players\[0\]\.attributes\.cost: True is not an expression"),
    ("duplicate-strategy", lambda t: t.replace('["UP", "DOWN"]', '["UP", "UP"]'),
     r"^bad\.toml: players\[0\]\.strategies: names must be distinct"),
    ("bad-strategy-name", lambda t: t.replace('["UP", "DOWN"]', '["UP", "DOWN NOW"]'),
     r"^bad\.toml: players\[0\]\.strategies: 'DOWN NOW' is not a valid name"),
    ("no-strategies", lambda t: t.replace('strategies = ["LEFT", "RIGHT"]', "strategies = []"),
     r"^bad\.toml: players\[1\]\.strategies: expected a non-empty array"),
    ("duplicate-player", lambda t: t.replace('name = "Col"', 'name = "Row"'),
     r"^bad\.toml: players\[1\]\.name: player 'Row' is declared twice"),
    ("player-key-typo", lambda t: t.replace('strategies = ["LEFT", "RIGHT"]', 'strategy = ["LEFT", "RIGHT"]'),
     r"^bad\.toml: players\[1\]: unknown key 'strategy' \(did you mean 'strategies'\?\)"),
    ("unknown-top-key", lambda t: "payofs = 1\n" + t,
     r"^bad\.toml: unknown key 'payofs' \(did you mean 'payoffs'\?\)"),
    ("unknown-table", lambda t: t.replace("[parameters]", "[unused]"),
     r"^bad\.toml: unknown key 'unused'"),
    ("missing-payoffs", lambda t: t[:t.index("[payoffs]")], r"^bad\.toml: missing key 'payoffs'$"),
    ("derived-shadows-parameter", lambda t: t.replace('twice = "2 * both"', 'reward_level = "2"'),
     r"^bad\.toml: derived\.reward_level: name 'reward_level' is taken"),
    ("parameter-named-like-function", lambda t: t.replace("reward_level = {", "exp = {"),
     r"^bad\.toml: parameters\.exp: name 'exp' is taken"),
]


@pytest.mark.parametrize("edit,pattern", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_model_file(tmp_path, edit, pattern):
    path = tmp_path / "bad.toml"
    path.write_text(edit(MINI.replace("ROW_EXPR", "scale_factor")), encoding="utf-8")
    with pytest.raises(ModelError) as info:
        load_model(path)
    msg = str(info.value)
    assert re.search(pattern, msg), msg
    assert "\n" not in msg


def test_unreadable_model_file(tmp_path):
    with pytest.raises(ModelError, match=r"missing\.toml: cannot read model file"):
        load_model(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(ModelError, match=r"binary\.toml: not a UTF-8 text file"):
        load_model(binary)


def test_nan_payoff_is_reported_with_profile_and_point():
    text = MINI.replace("ROW_EXPR", "log(scale_factor)")
    m = compile_model(text, where="log.toml")
    with pytest.raises(PayoffError, match=r"^model mini: payoff of Row at \(UP, LEFT\) is -inf at point 0 "
                                          r"\(scale_factor=0, reward_level=3\); expected a finite number$"):
        m.payoffs(m.point({"scale_factor": 0}))
    assert np.isneginf(m.payoffs(m.point({"scale_factor": 0}), check=False)[0, 0]).all()
    # 0/0 = NaN at one batch row: the error names that row.
    m2 = compile_model(MINI.replace("ROW_EXPR", "scale_factor / scale_factor"), where="nan.toml")
    X = np.array([[1.0, 3.0], [0.0, 3.0]])
    with pytest.raises(PayoffError, match=r"is nan at point 1 "):
        m2.payoffs(X)


def test_point_validation(four_power):
    with pytest.raises(ScenarioError, match=r"unknown parameter 'abandon_fear'.*did you mean 'abandonment_fear'"):
        four_power.point({"abandon_fear": 1})
    with pytest.raises(ScenarioError, match=r"hawk_weight = 2 is outside its range \[0, 1\] \(use --force"):
        four_power.point({"hawk_weight": 2})
    assert four_power.point({"hawk_weight": 2}, force=True)[four_power.parameter_index("hawk_weight")] == 2
    with pytest.raises(ScenarioError, match=r"expected a finite number"):
        four_power.point({"hawk_weight": float("nan")}, force=True)
    with pytest.raises(ScenarioError, match=r"expected a number"):
        four_power.point({"hawk_weight": "high"})
    with pytest.raises(ScenarioError, match=r"expected a number"):
        four_power.point({"hawk_weight": True})
