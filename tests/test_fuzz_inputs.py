"""Fuzzing what allysim reads from users: expressions, model files, [sweep] tables and plans.

Hypothesis generates expression strings — grammatical ones, junk, deep nesting, unicode
look-alikes, huge and tiny numbers — and puts each into a small TOML model (as a payoff
and as an attribute). The contract checked on every one:

- compiling either succeeds, and then the payoffs at the defaults are finite or raise
  :class:`~allysim.errors.PayoffError`, or it raises :class:`~allysim.errors.ModelError`;
- nothing else escapes (no RecursionError, MemoryError, OverflowError, KeyError,
  TypeError, SyntaxError...);
- every message is one line of at most :data:`MESSAGE_CAP` characters.

The default run keeps each property to a few hundred examples; the ``slow`` marker
runs many more (``python -m pytest -m slow tests/test_fuzz_inputs.py``).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allysim import compile_model
from allysim.errors import AllysimError, ModelError, PayoffError, ScenarioError
from allysim.sweep.design import Design, DesignError

SWEEP_KEYS = ("vary", "sample", "n", "params", "seed", "chunk_size", "solver", "store", "tol",
              "residual_tol", "starts", "backend", "lambda", "stages")

MESSAGE_CAP = 500

TEMPLATE = """
name = "fuzz"
[[players]]
name = "Row"
strategies = ["UP", "DOWN"]
[players.attributes]
cost = [1, ATTR]

[[players]]
name = "Col"
strategies = ["LEFT", "RIGHT"]

[parameters]
scale_factor = { default = 2, range = [0, 5] }
reward_level = { default = 3, range = [0, 10] }

[derived]
both = "(Row == 'DOWN') * (Col == 'RIGHT')"

[payoffs]
Row = PAYOFF
Col = "reward_level * Row.cost"
"""


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (quotes, backslashes and control characters escaped)."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def model_text(payoff: str = "scale_factor", attr: str = "scale_factor") -> str:
    return TEMPLATE.replace("PAYOFF", toml_string(payoff)).replace("ATTR", toml_string(attr))


def check_contract(text: str) -> str:
    """Compile ``text`` and evaluate it at the defaults; return what happened."""
    try:
        m = compile_model(text, where="fuzz.toml")
    except ModelError as exc:
        msg = str(exc)
        assert "\n" not in msg and "\r" not in msg, msg[:300]
        assert len(msg) <= MESSAGE_CAP, (len(msg), msg[:300])
        assert msg.startswith("fuzz.toml: "), msg[:300]
        return "refused"
    try:
        u = m.payoffs(m.defaults)
    except PayoffError as exc:
        msg = str(exc)
        assert "\n" not in msg and len(msg) <= MESSAGE_CAP, msg[:300]
        return "non-finite"
    assert u.shape == (1, 2, 2, 2) and np.isfinite(u).all()
    return "ok"


# -- strategies ---------------------------------------------------------------------------
NAMES = ["scale_factor", "reward_level", "both", "Row.cost", "Row == 'UP'", "Col == 'RIGHT'",
         "(Row == 'DOWN')", "Row", "Col", "exp", "unknown_name", "__import__", "Row.__class__",
         "Row.cost.real", "'UP'", "True", "None", "x"]
OPS = ["+", "-", "*", "/", "**", "<", "<=", ">", ">=", "==", "!=", "//", "%", "@", " and ",
       " or ", " if ", ",", ")", "(", "", " ", ".", ":="]
FUNCS = ["min", "max", "clip", "where", "exp", "log", "abs", "sqrt", "eval", "getattr", ""]

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**500, 10**500).map(str),
    st.from_regex(r"[0-9]{1,420}(\.[0-9]{0,5})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(["1e400", "-1e400", "1e-400", "4.9e-324", "2.5e-324", "1.7976931348623157e308",
                     "1.8e308", "0x10", "1_000", "1j", "0e-999", "0.0", "00"]),
)
leaves = st.one_of(st.sampled_from(NAMES), numbers)


def _compose(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(OPS), children).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.sampled_from(FUNCS), st.lists(children, max_size=4)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        children.map(lambda s: f"({s})"),
        children.map(lambda s: f"-{s}"),
        children.map(lambda s: f"+{s}"),
    )


grammatical = st.recursive(leaves, _compose, max_leaves=40)

PATTERNS = [("(", ")"), ("(", ""), ("", ")"), ("-", ""), ("+", ""), ("abs(", ")"), ("not ", ""),
            ("1+", ""), ("2**", ""), ("[", "]"), ("min(1,", ")"), ("Row.cost*", ""), ("-(", ")"),
            ("((", ")"), ("", "+1"), ("", "**2"), ("", "*(Col == 'LEFT')")]
deep = st.builds(lambda pat, k, core: pat[0] * k + core + pat[1] * k,
                 st.sampled_from(PATTERNS), st.integers(0, 3000), st.sampled_from(NAMES[:5] + ["1"]))

LOOKALIKES = "ａｂｃｓｅ１２３（）＋－＊／＝Ⅰªﬁ\u00a0\u200b\u0301\u2212\u00b2é中"
unicode_junk = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.sampled_from(list(LOOKALIKES + "scale_factor()+-*/ 1.e'\"=Row")), max_size=60),
    st.builds(lambda e, c, i: e[: i % (len(e) + 1)] + c + e[i % (len(e) + 1):],
              grammatical, st.sampled_from(list(LOOKALIKES)), st.integers(0, 10**6)),
)
expressions = st.one_of(grammatical, deep, unicode_junk, numbers)


# -- properties ---------------------------------------------------------------------------
FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))


@FAST
@given(expressions)
def test_payoff_expression_compiles_or_is_refused_in_one_line(expr):
    check_contract(model_text(payoff=expr))


@FAST
@given(expressions)
def test_attribute_expression_compiles_or_is_refused_in_one_line(expr):
    check_contract(model_text(attr=expr))


toml_scalars = st.one_of(
    st.integers(-10**30, 10**30).map(str), st.floats().map(lambda x: repr(x).replace("nan", "nan")
                                                        .replace("inf", "inf")),
    st.sampled_from(["true", "inf", "-inf", "nan", "1e400", "1" + "0" * 400, '"1e400"', "[]",
                     "[1, 2]", "{}", '"Row == \'UP\'"', '"Col == \'LEFT\'"', "1979-05-27",
                     "[" * 600 + "]" * 600, "{a = " * 400 + "1" + "}" * 400]),
)


@FAST
@given(st.lists(toml_scalars, min_size=0, max_size=3), toml_scalars, toml_scalars, toml_scalars)
def test_model_file_values_compile_or_are_refused(attr_values, default, low, high):
    text = (TEMPLATE.replace("cost = [1, ATTR]", f"cost = [{', '.join(attr_values)}]")
            .replace("PAYOFF", '"scale_factor"')
            .replace("scale_factor = { default = 2, range = [0, 5] }",
                     f"scale_factor = {{ default = {default}, range = [{low}, {high}] }}"))
    check_contract(text)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**400, 10**400), st.floats(),
              st.text(max_size=30), st.sampled_from(["a=0:1:3", "0:20:201", "US>Japan", ",", "sobol"])),
    lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=5), c, max_size=3)),
    max_leaves=10)


@FAST
@given(st.dictionaries(st.one_of(st.sampled_from(list(SWEEP_KEYS)), st.text(max_size=10)),
                       json_values, max_size=5))
def test_sweep_table_is_accepted_or_refused_in_one_line(table):
    from allysim.scenario import validate_sweep_table
    try:
        out = validate_sweep_table(table, "s.toml")
    except ScenarioError as exc:
        msg = str(exc)
        assert "\n" not in msg and len(msg) <= MESSAGE_CAP, msg[:300]
        return
    assert set(out) <= set(SWEEP_KEYS)
    if "vary" in out:
        assert isinstance(out["vary"], list) and all(isinstance(v, str) for v in out["vary"])
    if "params" in out:
        assert isinstance(out["params"], list) and len(set(out["params"])) == len(out["params"])
    for key in ("n", "chunk_size", "seed"):
        if key in out:
            assert isinstance(out[key], int) and not isinstance(out[key], bool)


@FAST
@given(st.fixed_dictionaries({}, optional={
    "kind": st.one_of(st.sampled_from(["grid", "sobol", "lhs", "halton", "random"]), json_values),
    "names": json_values, "columns": json_values, "lows": json_values, "highs": json_values,
    "n": json_values, "seed": json_values, "counts": json_values, "base": json_values,
    "seed_block": json_values}))
def test_tampered_design_is_read_or_refused(doc):
    try:
        design = Design.from_json(doc)
    except DesignError as exc:
        msg = str(exc)
        assert "\n" not in msg and len(msg) <= MESSAGE_CAP, msg[:300]
        return
    assert 1 <= design.n and all(math.isfinite(h - lo) for lo, h in zip(design.lows, design.highs))
    pts = design.points(0, min(design.n, 3))
    assert np.isfinite(pts).all()


@pytest.mark.slow
@SLOW
@given(expressions)
def test_many_expressions_slow(expr):
    check_contract(model_text(payoff=expr))
    check_contract(model_text(attr=expr))


def test_the_contract_sees_every_outcome():
    """The three outcomes the properties accept all occur (the harness is not vacuous)."""
    assert check_contract(model_text(payoff="scale_factor * 2")) == "ok"
    assert check_contract(model_text(payoff="log(scale_factor - 2)")) == "non-finite"
    assert check_contract(model_text(payoff="1) + (2")) == "refused"
    assert check_contract(model_text(attr="Row == 'UP'")) == "refused"
    assert issubclass(ModelError, AllysimError)


def test_fuzzed_sweep_keys_are_the_scenario_keys():
    from allysim.scenario import SWEEP_KEYS as keys
    assert tuple(keys) == SWEEP_KEYS


MINI_LINES = [line for line in TEMPLATE.replace("ATTR", '"scale_factor"').replace(
    "PAYOFF", '"scale_factor"').splitlines()]
TOML_VALUES = st.one_of(toml_scalars, st.text(max_size=20).map(toml_string),
                        st.sampled_from(['["A", "A"]', '[["x"]]', "[[1]]", '{ default = 1 }',
                                         '{ range = [0, 1] }', '"Row"', '""', "[1, 2, 3]",
                                         '{ default = "x", range = ["a", "b"] }']))


@FAST
@given(st.lists(st.tuples(st.integers(0, len(MINI_LINES) - 1), TOML_VALUES), min_size=1, max_size=4))
def test_mutated_model_file_compiles_or_is_refused(edits):
    """Any value of the model file (names, strategies, parameter specs, derived, payoffs)
    replaced by junk: a ModelError or a working model, nothing else."""
    lines = list(MINI_LINES)
    for k, value in edits:
        key, sep, _ = lines[k].partition(" = ")
        if sep:
            lines[k] = f"{key} = {value}"
    check_contract("\n".join(lines) + "\n")
