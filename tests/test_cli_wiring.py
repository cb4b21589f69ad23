"""Command-line cases whose fix is a library function in allysim.inputs, allysim.limits or
allysim.model that the CLI calls: each failed on 0.1.0's command line."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner

from allysim.cli import main


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_error_line(res, pattern):
    assert res.exit_code == 2, (res.exit_code, res.output[-300:], repr(res.exception)[:200])
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr[:300]
    assert re.search(pattern, lines[0]), lines[0]



def test_fix_given_twice_is_refused():
    assert_one_error_line(cli("run", "baseline-2018", "--fix", "China=SLICE", "--fix", "China=HOLD"),
                          r"--fix China=SLICE --fix China=HOLD: China is fixed twice")



def test_set_given_twice_with_different_values_is_refused():
    assert_one_error_line(cli("run", "baseline-2018", "--set", "deal_value=1", "--set", "deal_value=2"),
                          r"deal_value is set twice with different values")



def test_set_of_a_swept_parameter_is_refused(tmp_path):
    assert_one_error_line(cli("sweep", "baseline-2018", "--vary", "deal_value=0:5:3",
                              "--set", "deal_value=0.5", "-o", tmp_path / "out"),
                          r"--set deal_value=0\.5: deal_value is also swept by --vary; drop one")



def test_params_comma_is_refused(tmp_path):
    assert_one_error_line(cli("sweep", "baseline-2018", "--sample", "random", "--n", "8",
                              "--params", ",", "-o", tmp_path / "out"),
                          r"--params ',': empty parameter name")



def test_design_past_the_point_limit_needs_yes(tmp_path, monkeypatch):
    # A small limit, so that today's code (which runs the sweep) finishes quickly.
    monkeypatch.setenv("ALLYSIM_MAX_POINTS", "10")
    assert_one_error_line(cli("sweep", "baseline-2018", "--vary", "deal_value=0:5:11",
                              "-o", tmp_path / "out"),
                          r"11 points.*more than the limit of 10 points; pass --yes")



def test_validate_deeply_nested_toml(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text('model = "chicken"\nx = ' + "[" * 5000 + "]" * 5000 + "\n")
    assert_one_error_line(cli("validate", path), r"deep\.toml: malformed TOML: arrays or tables "
                                                 r"nested too deeply")



def test_lambda_range_form():
    res = cli("run", "chicken", "--solver", "qre", "--lambda", "0:2:3", "--json")
    assert res.exit_code == 0, (res.stderr, repr(res.exception))
    results = json.loads(res.stdout)["results"]
    assert [r["lambda"] for r in results] == [0.0, 1.0, 2.0]



def test_stages_with_an_empty_name_is_refused():
    assert_one_error_line(cli("run", "baseline-2018", "--solver", "spe", "--stages",
                              "US>Japan>China,NorthKorea,"), r"empty stage or player name")
