"""A scenario's [sweep] table (validate_sweep_table), and hostile model and scenario files
through the CLI as it stands: exit 2 with one line, never a traceback (issue 12, item 14)."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from allysim import load_scenario
from allysim.cli import main
from allysim.errors import ScenarioError
from tests.test_model_limits import _big_model

try:        # new in this change; the CLI tests below also run against code without it
    from allysim.scenario import SWEEP_KEYS, validate_sweep_table
except ImportError:     # pragma: no cover
    SWEEP_KEYS, validate_sweep_table = {}, None


def test_good_sweep_tables_are_normalised():
    assert validate_sweep_table({}, "s.toml") == {}
    table = {"vary": "a=0:1:3", "sample": "sobol", "n": 8, "params": "a, b", "seed": 0,
             "chunk_size": 100, "solver": "qre", "store": "counts", "tol": 1e-9, "lambda": 1.5,
             "stages": "US>Japan"}
    out = validate_sweep_table(table, "s.toml")
    assert out == {**table, "vary": ["a=0:1:3"], "params": ["a", "b"]}
    assert validate_sweep_table({"lambda": "0:20:201"}, "s")["lambda"] == "0:20:201"
    assert validate_sweep_table({"lambda": [0.5, 2]}, "s")["lambda"] == [0.5, 2]
    assert validate_sweep_table({"tol": 0}, "s")["tol"] == 0
    assert validate_sweep_table({"stages": [["US"], "Japan,China"]}, "s")["stages"] == \
        [["US"], ["Japan", "China"]]
    assert validate_sweep_table({"params": ["a", "b"]}, "s")["params"] == ["a", "b"]


BAD = [
    ({"params": 5}, r"^s\.toml: \[sweep\] params = 5: expected a list of parameter names"),
    ({"params": ","}, r"^s\.toml: \[sweep\] params = ',': --params ',': empty parameter name"),
    ({"params": ["a", "a"]}, r"listed twice"),
    ({"solver": ["pure"]}, r"^s\.toml: \[sweep\] solver = \['pure'\]: expected a solver name"),
    ({"solver": ""}, r"expected a solver name"),
    ({"store": 3}, r"store = 3: expected a store name"),
    ({"sample": True}, r"sample = True: expected a sampler name"),
    ({"vary": 5}, r"vary = 5: expected a \"name=lo:hi:n\" string or a list of them"),
    ({"vary": []}, r"vary = \[\]: expected"),
    ({"vary": ["a=0:1"]}, r"vary = \['a=0:1'\]: --vary 'a=0:1': expected name=lo:hi:n"),
    ({"vary": "a=-1e308:1.7e308:5"}, r"is inf wide"),
    ({"n": "8"}, r"n = '8': expected a whole number of points >= 1"),
    ({"n": 0}, r"expected a whole number of points"),
    ({"n": True}, r"expected a whole number of points"),
    ({"n": 8.0}, r"expected a whole number of points"),
    ({"seed": -1}, r"seed = -1: expected a whole number >= 0"),
    ({"seed": 1.5}, r"expected a whole number >= 0"),
    ({"chunk_size": 0}, r"chunk_size = 0: expected a whole number >= 1"),
    ({"tol": "small"}, r"tol = 'small': expected a finite number >= 0"),
    ({"tol": -1}, r"expected a finite number >= 0"),
    ({"tol": float("inf")}, r"expected a finite number >= 0"),
    ({"tol": 10**400}, r"expected a finite number >= 0"),
    ({"lambda": -1}, r"lambda = -1: expected a number >= 0"),
    ({"lambda": [1, "x"]}, r"expected a number >= 0, a list of them"),
    ({"lambda": []}, r"expected a number >= 0"),
    ({"lambda": "0:20"}, r"lambda = '0:20': --lambda '0:20': expected comma-separated numbers .*'0:20' is neither"),
    ({"lambda": {"a": 1}}, r"expected a number >= 0"),
    ({"stages": 3}, r"stages = 3: expected a string such as"),
    ({"stages": "US>>Japan"}, r"empty stage"),
    ({"stages": [["US"], [1]]}, r"expected a string such as"),
    ({"stages": [["US"], ["US"]]}, r"'US' appears twice"),
    ({"vry": "a=0:1:2"}, r"^s\.toml: \[sweep\] unknown key 'vry' \(did you mean 'vary'\?\)"),
]


@pytest.mark.parametrize("table,pattern", [b for b in BAD], ids=[str(b[0])[:40] for b in BAD])
def test_bad_sweep_table(table, pattern):
    with pytest.raises(ScenarioError) as info:
        validate_sweep_table(table, "s.toml")
    msg = str(info.value)
    assert "\n" not in msg and len(msg) <= 400, msg
    assert re.search(pattern, msg), msg


def test_every_sweep_key_is_checked():
    from allysim.concepts import OPTIONS
    # the design keys, and every solver option but seed (a sweep's one seed is a design key)
    assert set(SWEEP_KEYS) == {"vary", "sample", "n", "params", "seed", "chunk_size", "solver",
                               "store"} | set(OPTIONS)
    # a list is of the wrong type for every key but vary, params, lambda and stages,
    # and a list of numbers is wrong for those too (lambda aside)
    for key in SWEEP_KEYS:
        bad = {"x": 1} if key == "lambda" else [1]
        with pytest.raises(ScenarioError, match=rf"\[sweep\] {key} = "):
            validate_sweep_table({key: bad}, "s.toml")


def test_load_scenario_checks_its_sweep_table(tmp_path):
    path = tmp_path / "scen.toml"
    path.write_text('model = "prisoners-dilemma"\n[sweep]\nparams = 5\n')
    with pytest.raises(ScenarioError, match=r"^scen\.toml: \[sweep\] params = 5: expected"):
        load_scenario(path)
    path.write_text('model = "prisoners-dilemma"\n[sweep]\nvary = "temptation=0:10:3"\n')
    assert load_scenario(path).sweep == {"vary": ["temptation=0:10:3"]}


# -- through the CLI ----------------------------------------------------------------------
def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_error_line(res, pattern):
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr[:300]
    assert len(lines[0]) <= 420, lines[0][:200]
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in res.output + res.stderr


@pytest.mark.parametrize("sweep,pattern", [
    ("params = 5", r"\[sweep\] params = 5: expected"),               # was a TypeError
    ('solver = ["pure"]', r"\[sweep\] solver = \['pure'\]: expected"),  # was a TypeError
    ('sample = "sobol"\nn = 8\nparams = ","', r"empty parameter name"),  # ',' meant all
])
def test_sweep_with_bad_table_exits_2(tmp_path, sweep, pattern):
    path = tmp_path / "scen.toml"
    path.write_text(f'model = "prisoners-dilemma"\n[sweep]\n{sweep}\n')
    assert_one_error_line(cli("sweep", path), pattern)


@pytest.mark.parametrize("expr,pattern", [
    ("+".join(["1"] * 5000), r"nested too deeply"),
    ("-" * 1000 + "1", r"nested more than 200 levels"),
    ("-" * 100_000 + "1", r"characters long"),
    ("1" + "0" * 400, r"not a finite float64"),
    ("1) + (2", r"closes a bracket that was never opened"),
    ("ａ", r"non-ASCII character"),
])
def test_validate_and_run_hostile_model_files(tmp_path, expr, pattern):
    path = tmp_path / "evil.toml"
    path.write_text(f'name = "evil"\n[[players]]\nname = "A"\nstrategies = ["X", "Y"]\n'
                    f'[parameters]\na = {{ default = 1, range = [0, 2] }}\n'
                    f'[payoffs]\nA = "{expr}"\n', encoding="utf-8")
    for command in ("validate", "run"):
        assert_one_error_line(cli(command, path), r"evil\.toml: payoffs\.A: .*" + pattern)


def test_run_a_model_too_large_for_memory(tmp_path, monkeypatch):
    monkeypatch.delenv("ALLYSIM_MAX_MEMORY", raising=False)
    path = tmp_path / "twelve.toml"
    path.write_text(_big_model(12, 6))
    assert_one_error_line(cli("run", path), r"^error: twelve\.toml: model big12x6: .* 195 GiB .*"
                                            r"ALLYSIM_MAX_MEMORY")


def test_attribute_with_an_indicator_is_refused_not_a_key_error(tmp_path):
    path = tmp_path / "attr.toml"
    path.write_text('name = "attr"\n[[players]]\nname = "A"\nstrategies = ["X", "Y"]\n'
                    '[players.attributes]\nc = ["B == \'X\'", 2]\n'
                    '[[players]]\nname = "B"\nstrategies = ["X", "Y"]\n'
                    '[parameters]\na = { default = 1, range = [0, 2] }\n'
                    '[payoffs]\nA = "A.c"\nB = "a"\n')
    assert_one_error_line(cli("run", path), r"attr\.toml: players\[0\]\.attributes\.c: 'B == 'X'': "
                                            r"a strategy indicator is not allowed here")
