"""Hostile and broken model files (issue 12, items 4, 12, 14, 15): every case is refused
with one short line naming the file and key, never a RecursionError, MemoryError,
OverflowError, KeyError or TypeError, and never silently read as something else.

Each test here failed on main before the fix (a traceback, or the input accepted).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from allysim import ModelError, compile_model, load_model, load_scenario
from allysim.errors import AllysimError, ScenarioError
from allysim.model.expr import Namespace, parse
from tests.test_model import MINI

# The limits (new in this change; imported inside the tests that need them, so that the
# other tests here run, and fail, against code that predates them):
# allysim.model.expr.MAX_DEPTH = 200, MAX_LENGTH = 10_000, MAX_NODES = 2_000, and
# allysim.model.compiler.MAX_FILE_BYTES = 1_000_000.

#: No refusal message in these tests may be longer (the file name, key, 80 quoted
#: characters and what was expected fit easily).
MESSAGE_CAP = 400


def mini(row_expr: str, extra_derived: str = "") -> object:
    text = MINI.replace("ROW_EXPR", row_expr)
    if extra_derived:
        text = text.replace('twice = "2 * both"', 'twice = "2 * both"\n' + extra_derived)
    return compile_model(text, where="mini.toml")


def refused(fn, *args, cls=ModelError, **kwargs) -> str:
    """Call fn, expect ``cls``; return its message after checking it is one short line."""
    with pytest.raises(cls) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg and "\r" not in msg, msg
    assert len(msg) <= MESSAGE_CAP, (len(msg), msg[:200])
    return msg


# ---------------------------------------------------------------------------
# item 14: expressions that crashed the parser or the compiler
# ---------------------------------------------------------------------------

HOSTILE = [
    # (id, expression, what the message must say)
    ("plus-chain-5000", "+".join(["1"] * 5000), r"nested too deeply|nested more than 200"),
    ("pow-chain-2000", "**".join(["1"] * 2000), r"nested more than 200 levels"),
    ("unary-minus-1000", "-" * 1000 + "1", r"nested more than 200 levels"),
    ("unary-minus-100000", "-" * 100_000 + "1", r"100,001 characters long; expected at most 10,000"),
    ("not-chain-2400", "not " * 2400 + "1", r"nested more than 200 levels"),
    ("parens-100000-open", "(" * 100_000 + "1", r"100,001 characters long"),
    ("parens-100000", "(" * 100_000 + "1" + ")" * 100_000, r"200,001 characters long"),
    ("parens-300", "(" * 300 + "1" + ")" * 300, r"too many nested parentheses"),
    ("calls-250-deep", "abs(" * 250 + "1" + ")" * 250, r"too many nested parentheses"),
    ("int-10^400", "1" + "0" * 400, r"number '1000.*…' is not a finite float64"),
    ("int-4400-digits", "1" * 4400, r"cannot parse .*4300 digits"),
    ("float-1e400", "1e400", r"number '1e400' is not a finite float64"),
    ("float-minus-1e400", "-1e400 + scale_factor", r"number '1e400' is not a finite float64"),
    ("float-1e-400", "1e-400 * scale_factor", r"number '1e-400' rounds to 0 in float64"),
    ("float-0.0e-400-style", "0.00000001e-320", r"rounds to 0"),
]


@pytest.mark.parametrize("expr,pattern", [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_expression_is_one_line(expr, pattern):
    msg = refused(mini, expr)
    assert msg.startswith("mini.toml: payoffs.Row: "), msg[:120]
    assert re.search(pattern, msg), msg


@pytest.mark.parametrize("text", ["scale_factor\x00", "scale_factor\x00 + 1", "\x00"])
def test_nul_character_is_refused(text):
    ns = Namespace(("Row",), (("UP", "DOWN"),), ((),), ("scale_factor",))
    msg = refused(parse, text, ns, "m.toml: payoffs.Row")
    assert msg.startswith("m.toml: payoffs.Row: cannot parse '"), msg


def test_error_quotes_at_most_80_characters_of_the_expression():
    msg = refused(mini, "(" * 100_000 + "1")
    quoted = re.search(r"'(\(+)…'", msg)
    assert quoted and len(quoted.group(1)) == 80, msg


def test_limits_are_boundaries_not_guesses():
    from allysim.model.expr import MAX_DEPTH, MAX_LENGTH
    # MAX_DEPTH levels are accepted and evaluate; one more is refused.
    deepest = " + ".join(["scale_factor"] * MAX_DEPTH)      # MAX_DEPTH - 1 operators + a leaf
    m = mini(deepest)
    assert m.payoffs(m.defaults)[0, 0, 0, 0] == 2.0 * MAX_DEPTH
    refused(mini, deepest + " + scale_factor")
    negs = "-" * (MAX_DEPTH - 1) + "scale_factor"
    m = mini(negs)
    assert m.payoffs(m.defaults)[0, 0, 0, 0] == (-2.0 if (MAX_DEPTH - 1) % 2 else 2.0)
    refused(mini, "-" + negs)
    # MAX_LENGTH characters are accepted (whitespace padding is stripped, so pad inside).
    text = "scale_factor" + " " * (MAX_LENGTH - len("scale_factor + 1")) + " + 1"
    assert len(text) == MAX_LENGTH
    m = mini(text)
    assert m.payoffs(m.defaults)[0, 0, 0, 0] == 3.0
    msg = refused(mini, text + "0")
    assert f"{MAX_LENGTH + 1:,} characters long" in msg


def test_too_many_nodes_at_a_shallow_depth():
    from allysim.model.expr import MAX_NODES
    group = "(" + "+".join(["1"] * 100) + ")"           # 199 nodes, 100 levels
    expr = "+".join([group] * 12)                        # ~2,400 nodes, ~112 levels
    msg = refused(mini, expr)
    assert f"more than {MAX_NODES:,} nodes" in msg
    m = mini("+".join([group] * 8))                       # ~1,600 nodes: fine
    assert m.payoffs(m.defaults)[0, 0, 0, 0] == 800.0


def test_depth_counts_through_derived_quantities():
    # Ten derived quantities of 22 levels each, each using the one before: 211 levels
    # when inlined, as the evaluator and the numba kernel generator walk them.
    chain = "\n".join(f'd{j} = "{f"d{j - 1}" if j else "scale_factor"}' + " + 1" * 21 + '"'
                      for j in range(10))
    msg = refused(mini, "d9", chain)
    assert re.search(r"^mini\.toml: derived\.d\d: nested 2\d\d levels deep counting the derived "
                     r"quantities and attributes it uses; expected at most 200$", msg), msg
    short = "\n".join(f'd{j} = "{f"d{j - 1}" if j else "scale_factor"}' + " + 1" * 18 + '"'
                      for j in range(10))
    m = mini("d9", short)
    assert m.payoffs(m.defaults)[0, 0, 0, 0] == 2 + 180


def test_deepest_allowed_model_builds_the_numba_kernel():
    """The depth limit keeps the kernel generator (which recurses through derived
    quantities) inside Python's recursion limit."""
    pytest.importorskip("numba")
    from allysim.model import _numba as _kernel

    chain = "\n".join(f'd{j} = "{f"d{j - 1}" if j else "scale_factor"}' + " + 1" * 18 + '"'
                      for j in range(10))
    m = mini(" + ".join(["d9 * (Col == 'LEFT')"] + ["scale_factor"] * 10), chain)
    kernel = _kernel.build_kernel(m)
    np.testing.assert_array_equal(kernel.payoffs(m.defaults[None]), m.payoffs(m.defaults))


# ---------------------------------------------------------------------------
# item 15: input that was silently read as something else
# ---------------------------------------------------------------------------

def test_text_closing_the_wrapping_parenthesis_is_refused():
    # Parsed as "(1) + (2)" by the parentheses that let an expression span lines.
    msg = refused(mini, "1) + (2")
    assert msg == ("mini.toml: payoffs.Row: cannot parse '1) + (2': ')' at line 1, column 2 "
                   "closes a bracket that was never opened")
    refused(mini, "scale_factor)(")
    text = MINI.replace('Row = "ROW_EXPR"', 'Row = """\nscale_factor\n  + 1) * (2\n"""')
    msg = refused(compile_model, text, where="mini.toml")
    assert msg.endswith("')' at line 2, column 6 closes a bracket that was never opened"), msg


def test_balanced_and_multiline_expressions_still_parse():
    m = mini("(1) + (2)")
    assert m.payoffs(m.defaults)[0, 0, 0, 0] == 3.0
    text = MINI.replace('Row = "ROW_EXPR"', 'Row = """\n  (scale_factor   # a comment with ) and ünïcode\n  + 1)\n"""')
    m = compile_model(text, where="mini.toml")
    assert m.payoffs(m.defaults)[0, 0, 0, 0] == 3.0


@pytest.mark.parametrize("expr,char", [
    ("ｓcale_factor", "U+FF53 FULLWIDTH LATIN SMALL LETTER S"),      # NFKC -> scale_factor
    ("scale_factor + ｒeward_level", "U+FF52"),
    ("scale\u2160", "U+2160 ROMAN NUMERAL ONE"),                     # NFKC -> scaleI
    ("scale_factorª", "U+00AA"),                                   # NFKC -> ...a
    ("Row.ｃost", "U+FF43"),                                       # attribute name
    ("café", "U+00E9"),
])
def test_non_ascii_names_are_refused(expr, char):
    msg = refused(mini, expr)
    assert "non-ASCII character" in msg and char in msg, msg
    assert "names must be ASCII" in msg


def test_fullwidth_name_says_what_python_would_read():
    msg = refused(mini, "ｓcale_factor * 2")
    assert "(Python would read it as 'scale_factor')" in msg, msg


def test_non_ascii_strategy_name_is_not_normalised():
    msg = refused(mini, "Row == 'ＤＯＷＮ'")
    assert "unknown strategy Row == \"ＤＯＷＮ\"" in msg, msg


# ---------------------------------------------------------------------------
# model files: numbers, attributes, TOML nesting, ranges, sizes
# ---------------------------------------------------------------------------

def _file(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BAD_FILES = [
    ("attribute-uses-other-players-strategy",
     lambda t: t.replace('cost = [1, "scale_factor"]', 'cost = ["Col == \'LEFT\'", 2]'),
     r"^bad\.toml: players\[0\]\.attributes\.cost: 'Col == 'LEFT'': a strategy indicator is not allowed here"),
    ("attribute-uses-own-strategy",
     lambda t: t.replace('cost = [1, "scale_factor"]', 'cost = ["Row == \'UP\'", 2]'),
     r"a strategy indicator is not allowed here; an attribute is one value per strategy"),
    ("attribute-toml-inf", lambda t: t.replace('cost = [1, "scale_factor"]', "cost = [inf, 2]"),
     r"^bad\.toml: players\[0\]\.attributes\.cost: inf is not a finite float64 number"),
    ("attribute-toml-nan", lambda t: t.replace('cost = [1, "scale_factor"]', "cost = [nan, 2]"),
     r"nan is not a finite float64 number"),
    ("attribute-toml-1e400", lambda t: t.replace('cost = [1, "scale_factor"]', "cost = [1e400, 2]"),
     r"inf is not a finite float64 number"),
    ("default-huge-int", lambda t: t.replace("default = 2, range = [0, 5]",
                                             "default = 2, range = [0, 1" + "0" * 400 + "]"),
     r"^bad\.toml: parameters\.scale_factor\.range: expected a finite number, got 1000.*…$"),
    ("toml-int-past-digit-limit", lambda t: t.replace("default = 3,", "default = " + "1" * 4400 + ","),
     r"^bad\.toml: malformed TOML: .*4300 digits"),
    ("range-width-overflows", lambda t: t.replace("default = 2, range = [0, 5]",
                                                  "default = 2, range = [-1e308, 1.7e308]"),
     r"^bad\.toml: parameters\.scale_factor\.range: \[-1e\+308, 1\.7e\+308\] is inf wide"),
    ("range-reversed", lambda t: t.replace("default = 2, range = [0, 5]", "default = 2, range = [5, 0]"),
     r"^bad\.toml: parameters\.scale_factor\.range: \[5, 0\]: expected low <= high$"),
    ("nested-toml-arrays", lambda t: t + "\n[unused]\nx = " + "[" * 5000 + "]" * 5000 + "\n",
     r"^bad\.toml: malformed TOML: arrays or tables nested too deeply$"),
    ("nested-toml-tables", lambda t: "x = " + "{a=" * 3000 + "1" + "}" * 3000 + "\n" + t,
     r"^bad\.toml: malformed TOML: arrays or tables nested too deeply$"),
    ("name-too-long", lambda t: t.replace('name = "mini"', 'name = "' + "m" * 5000 + '"'),
     r"^bad\.toml: name 'mmmm.*…': expected a printable name of at most 200 characters$"),
    ("strategy-name-long", lambda t: t.replace('["UP", "DOWN"]', '["UP", "' + "D" * 5000 + '"]'),
     r"^bad\.toml: players\[0\]\.strategies: 'DDDD.*…' is not a valid name"),
]


@pytest.mark.parametrize("edit,pattern", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_model_file(tmp_path, edit, pattern):
    path = _file(tmp_path, edit(MINI.replace("ROW_EXPR", "scale_factor")))
    msg = refused(load_model, path)
    assert re.search(pattern, msg), msg


def test_model_file_over_a_megabyte_is_not_read(tmp_path):
    from allysim.model.compiler import MAX_FILE_BYTES
    text = MINI.replace("ROW_EXPR", "scale_factor") + "#" * MAX_FILE_BYTES
    msg = refused(load_model, _file(tmp_path, text))
    assert re.search(r"bad\.toml: [\d,]+ bytes; expected a model file of at most 1,000,000$", msg), msg
    msg = refused(compile_model, text, where="big.toml")
    assert msg.startswith("big.toml: ") and "expected a file of at most 1,000,000" in msg


def test_scenario_with_deep_toml_or_huge_override(tmp_path):
    deep = _file(tmp_path, 'model = "prisoners-dilemma"\nx = ' + "[" * 5000 + "]" * 5000 + "\n", "deep.toml")
    msg = refused(load_scenario, deep, cls=ScenarioError)
    assert msg == "deep.toml: malformed TOML: arrays or tables nested too deeply"
    huge = _file(tmp_path, 'model = "prisoners-dilemma"\n[overrides]\ntemptation = 1' + "0" * 400 + "\n",
                 "huge.toml")
    msg = refused(load_scenario, huge, cls=ScenarioError)
    assert msg == "huge.toml: overrides: parameter temptation = inf: expected a finite number"


def test_is_model_file_survives_deep_toml(tmp_path):
    from allysim.model import is_model_file
    # 'allysim validate' tells models from scenarios with this (the CLI's own copy recursed).
    deep = _file(tmp_path, "[[players]]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    assert is_model_file(deep) is True
    msg = refused(load_model, deep)
    assert msg == "bad.toml: malformed TOML: arrays or tables nested too deeply"
    assert is_model_file(_file(tmp_path, 'model = "chicken"\n', "s.toml")) is False
    assert is_model_file(tmp_path / "missing.toml") is False


def _big_model(n: int, s: int) -> str:
    lines = [f'name = "big{n}x{s}"']
    for i in range(n):
        lines += ["[[players]]", f'name = "P{i}"',
                  "strategies = [" + ", ".join(f'"S{k}"' for k in range(s)) + "]"]
    lines += ["[parameters]", "a = { default = 1, range = [0, 2] }", "[payoffs]"]
    lines += [f'P{i} = "a * (P{i} == \'S0\')"' for i in range(n)]
    return "\n".join(lines) + "\n"


def test_model_too_large_for_memory_is_refused_before_allocating(monkeypatch):
    monkeypatch.delenv("ALLYSIM_MAX_MEMORY", raising=False)
    msg = refused(compile_model, _big_model(12, 6), where="twelve.toml")
    assert msg == ("twelve.toml: model big12x6: 12 players with 6^12 = 2,176,782,336 strategy "
                   "profiles need 195 GiB for the payoffs of one point, more than the limit of "
                   "4 GiB; set ALLYSIM_MAX_MEMORY (e.g. ALLYSIM_MAX_MEMORY=292GiB) to allow it")
    # The 10 x 6 model (4.5 GiB a point) was accepted with no warning; now refused at the
    # default limit and accepted when the limit is raised.
    refused(compile_model, _big_model(10, 6), where="ten.toml")
    monkeypatch.setenv("ALLYSIM_MAX_MEMORY", "8GB")
    assert compile_model(_big_model(10, 6), where="ten.toml").shape == (6,) * 10


def test_bad_memory_limit_setting_is_one_line(monkeypatch):
    monkeypatch.setenv("ALLYSIM_MAX_MEMORY", "lots")
    msg = refused(compile_model, _big_model(2, 2), cls=AllysimError, where="m.toml")
    assert msg.startswith("ALLYSIM_MAX_MEMORY='lots': expected a number of bytes"), msg


# ---------------------------------------------------------------------------
# the message guard
# ---------------------------------------------------------------------------

def test_allysim_error_is_always_one_bounded_line():
    from allysim.errors import quote
    msg = str(AllysimError("head\n" + "x" * 10_000 + "\nexpected a number"))
    assert "\n" not in msg and len(msg) <= 1000
    assert msg.startswith("head x") and msg.endswith("expected a number")
    assert quote(10 ** 5000) == "<int>"       # str() of such an int raises ValueError


# ---------------------------------------------------------------------------
# counts: what NumPy or a quadratic cost would choke on
# ---------------------------------------------------------------------------

def test_too_many_players_is_refused_not_a_numpy_error():
    # 70 one-strategy players compiled on main, then payoffs() raised NumPy's ValueError
    # "maximum supported dimension for an ndarray is currently 64".
    msg = refused(compile_model, _big_model(70, 1), where="many.toml")
    assert msg == "many.toml: players: 70 players; expected at most 32"
    m = compile_model(_big_model(32, 1), where="ok.toml")
    assert m.payoffs(m.defaults).shape == (1, 32) + (1,) * 32


def test_too_many_strategies_is_refused():
    # One player with 100,000 strategies took 29 s to evaluate (indicators cost s^2).
    text = _big_model(1, 10_001).replace("P0 = \"a * (P0 == 'S0')\"", 'P0 = "a"')
    msg = refused(compile_model, text, where="wide.toml")
    assert msg == "wide.toml: players[0].strategies: 10,001 strategies; expected at most 10,000"


def test_too_many_parameters_or_derived_quantities_are_refused():
    params = "\n".join(f"p{j} = {{ default = 0, range = [0, 1] }}" for j in range(1001))
    text = MINI.replace("ROW_EXPR", "scale_factor").replace("[parameters]", "[parameters]\n" + params)
    assert refused(compile_model, text, where="p.toml") == \
        "p.toml: parameters: 1,003 parameters; expected at most 1,000"
    derived = "\n".join(f'd{j} = "1"' for j in range(1000))
    msg = refused(mini, "scale_factor", derived)
    assert msg == "mini.toml: derived: 1,002 derived quantities; expected at most 1,000"


def test_a_folder_named_like_a_model_is_not_read(tmp_path):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    msg = refused(load_model, folder)
    assert msg.endswith("folder.toml: not a regular file; expected a model file")
