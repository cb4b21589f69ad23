"""The command line, through click's CliRunner (stderr kept apart from stdout).

Good input: scenarios, show, validate, run (text, --json, --set, --fix,
--solver dominance, model names and model files), export --format nfg read back
with pygambit. Bad input of every kind: exit code 2, exactly one line on
stderr starting with ``error:``, nothing on stdout, no traceback, and for
export no file (not even a temporary one) left behind.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pygambit
import pytest
from click.testing import CliRunner

from allysim import list_scenarios, load_model, load_scenario
from allysim.cli import main
from allysim.solve import iterated_dominance, pure_nash
from tests.oracles import allysim_profiles, gambit_pure

REPO = Path(__file__).resolve().parent.parent


def invoke(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], **kw)


def assert_ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def assert_bad(result, pattern: str):
    """Exit 2, one 'error:' line on stderr matching ``pattern``, empty stdout, no traceback."""
    import re
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def run_json(*args):
    return json.loads(assert_ok(invoke("run", *args, "--json")))


def profiles_of(report):
    return [tuple(eq["profile"].values()) for eq in report["equilibria"]]


def names(model, profiles):
    return sorted(tuple(model.strategies[i][a] for i, a in enumerate(p)) for p in profiles)


# ---------------------------------------------------------------------------
# model files used below
# ---------------------------------------------------------------------------

LOG_MODEL = """
name = "logs"
[[players]]
name = "A"
strategies = ["X", "Y"]
[players.attributes]
cost = [1, 2]
[[players]]
name = "B"
strategies = ["X", "Y"]
[parameters]
x = { default = 1, range = [0, 2], description = "log(x) is -inf at x = 0" }
[payoffs]
A = "log(x) * (A == 'X')"
B = "(B == 'Y')"
"""


@pytest.fixture
def log_model(tmp_path):
    path = tmp_path / "logs.toml"
    path.write_text(LOG_MODEL, encoding="utf-8")
    return path


@pytest.fixture
def evil_model(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.toml"
    path.write_text(LOG_MODEL.replace("log(x) * (A == 'X')", f"__import__('os').system('touch {marker}')"),
                    encoding="utf-8")
    return path, marker


# ---------------------------------------------------------------------------
# good input
# ---------------------------------------------------------------------------

def test_scenarios_lists_all_ten():
    out = assert_ok(invoke("scenarios"))
    for name in list_scenarios():
        assert name in out
    doc = json.loads(assert_ok(invoke("scenarios", "--json")))
    assert doc["schema_version"] == 1 and doc["command"] == "scenarios"
    rows = doc["scenarios"]
    assert [r["name"] for r in rows] == list_scenarios()
    assert all(r["model"] == "four-power" and r["description"] and r["origin"] == "shipped"
               for r in rows)


def test_show_marks_overrides():
    out = assert_ok(invoke("show", "singapore-summit"))
    assert "FIRM, TRANS, ACCOM" in out
    deal = next(line for line in out.splitlines() if line.startswith("deal_value"))
    assert "3*" in deal and "0.5" in deal
    data = json.loads(assert_ok(invoke("show", "singapore-summit", "--set", "hawk_weight=0.9", "--json")))
    assert data["parameters"]["deal_value"]["value"] == 3 and data["parameters"]["deal_value"]["default"] == 0.5
    assert data["parameters"]["hawk_weight"]["value"] == 0.9
    assert data["players"]["NorthKorea"] == ["DENUC", "FREEZE", "PROVOKE"]


def test_validate_shipped_models_and_scenarios():
    files = sorted((REPO / "allysim" / "model" / "models").glob("*.toml")) + \
        sorted((REPO / "scenarios").glob("*.toml"))
    out = assert_ok(invoke("validate", *files))
    lines = out.splitlines()
    assert len(lines) == len(files) and all(": ok (" in line for line in lines)
    assert any("model four-power: 4 players, 3x3x3x3 profiles" in line for line in lines)


def test_run_baseline_text():
    out = assert_ok(invoke("run", "baseline-2018"))
    assert "Pure Nash equilibria: 1  (status ok" in out
    row = next(line for line in out.splitlines() if line.startswith("1 "))
    assert row.split()[1:5] == ["TRANS", "SUPPORT", "SLICE", "FREEZE"]
    assert "Iterated strict dominance" in out


def test_run_baseline_json_payoffs_and_regret():
    data = run_json("baseline-2018")
    pure = data["results"][0]
    assert pure["solution_concept"] == "NE (pure)" and pure["status"] == "ok" and pure["count"] == 1
    eq = pure["equilibria"][0]
    assert eq["profile"] == {"US": "TRANS", "Japan": "SUPPORT", "China": "SLICE", "NorthKorea": "FREEZE"}
    m = load_model("four-power")
    U = m.payoffs(m.defaults)[0]
    for i, p in enumerate(m.players):
        assert eq["payoff"][p] == U[(i, 1, 0, 1, 1)]
        assert eq["regret"][p] == 0.0


def test_run_set_matches_library():
    data = run_json("baseline-2018", "--set", "us_credibility=0.4", "--set", "hawk_weight=0.6")
    assert data["overrides"] == {"us_credibility": 0.4, "hawk_weight": 0.6}
    m = load_model("four-power")
    res = pure_nash(m.payoffs(m.point({"us_credibility": 0.4, "hawk_weight": 0.6})))
    assert sorted(profiles_of(data["results"][0])) == names(m, res.pure_profiles(0))
    assert len(profiles_of(data["results"][0])) >= 2


def test_run_force_allows_out_of_range():
    data = run_json("baseline-2018", "--set", "hawk_weight=1.5", "--force")
    m = load_model("four-power")
    res = pure_nash(m.payoffs(m.point({"hawk_weight": 1.5}, force=True)))
    assert sorted(profiles_of(data["results"][0])) == names(m, res.pure_profiles(0))


def test_run_fix_solves_the_subgame():
    data = run_json("baseline-2018", "--fix", "US=FIRM", "--fix", "China=SEIZE")
    assert data["fix"] == {"US": "FIRM", "China": "SEIZE"}
    m = load_model("four-power")
    U = m.payoffs(m.defaults)[:, :, 0:1, :, 2:3, :]          # US FIRM, China SEIZE
    res = pure_nash(U)
    want = sorted(("FIRM", m.strategies[1][b], "SEIZE", m.strategies[3][d]) for _, b, _, d in res.pure_profiles(0))
    assert sorted(profiles_of(data["results"][0])) == want and want


def test_run_solver_dominance():
    data = run_json("salami-surge", "--solver", "dominance")
    assert len(data["results"]) == 1
    rep = data["results"][0]
    s = load_scenario("salami-surge")
    dom = iterated_dominance(s.model.payoffs(s.point))
    want = {p: [st for st, alive in zip(s.model.strategies[i], dom.surviving[i][0]) if alive]
            for i, p in enumerate(s.model.players)}
    assert rep["surviving"] == want and rep["rounds"] == int(dom.rounds[0])
    assert rep["solved"] == bool(dom.solved[0])


def test_run_textbook_model_by_name():
    data = run_json("chicken")
    assert sorted(profiles_of(data["results"][0])) == [("STRAIGHT", "SWERVE"), ("SWERVE", "STRAIGHT")]
    pennies = run_json("matching-pennies")["results"][0]
    assert pennies["status"] == "no_pure" and pennies["count"] == 0
    assert "none" in assert_ok(invoke("run", "matching-pennies"))


def test_run_and_validate_a_model_file(log_model):
    assert ": ok (model logs" in assert_ok(invoke("validate", log_model))
    data = run_json(log_model, "--set", "x=2")
    # A: log 2 > 0 for X; B: Y pays 1.
    assert profiles_of(data["results"][0]) == [("X", "Y")]


def test_run_a_scenario_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('model = "four-power"\ndescription = "mine"\n[overrides]\nsanctions_cost = 6.5\n'
                    'sanctions_erosion = 0.2\n', encoding="utf-8")
    assert_ok(invoke("validate", path))
    mine = run_json(path)["results"][0]
    assert mine == run_json("maximum-pressure")["results"][0]


@pytest.mark.parametrize("scenario,sets", [("baseline-2018", []), ("us-retrenchment", ["--set", "slice_gain=3"]),
                                           ("chicken", [])])
def test_export_nfg_reads_back_in_pygambit(tmp_path, scenario, sets):
    out = tmp_path / "game.nfg"
    result = invoke("export", scenario, *sets, "--format", "nfg", "-o", out)
    assert_ok(result)
    assert result.stderr.strip() == f"wrote {out}"
    game = pygambit.read_nfg(out)
    s = load_scenario(scenario)
    if sets:
        s = s.with_overrides({sets[1].split("=")[0]: float(sets[1].split("=")[1])})
    U = s.model.payoffs(s.point)
    assert [p.label for p in game.players] == list(s.model.players)
    assert [[st.label for st in p.strategies] for p in game.players] == [list(x) for x in s.model.strategies]
    back = np.array(game.to_arrays(dtype=float), dtype=float)
    np.testing.assert_array_equal(back, U[0])
    assert gambit_pure(back) == allysim_profiles(pure_nash(U).mask[0])
    eqs = pygambit.nash.enumpure_solve(game).equilibria
    assert len(eqs) == pure_nash(U).count[0]
    assert os.listdir(tmp_path) == ["game.nfg"]


def test_python_m_allysim_cli_has_no_traceback_path():
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    ok = subprocess.run([sys.executable, "-m", "allysim.cli", "run", "baseline-2018"], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    assert any(line.split()[1:5] == ["TRANS", "SUPPORT", "SLICE", "FREEZE"]
               for line in ok.stdout.splitlines() if line.startswith("1 "))
    bad = subprocess.run([sys.executable, "-m", "allysim.cli", "run", "baseline-2018", "--set", "hawk_weight=7"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


# ---------------------------------------------------------------------------
# bad input: one line, exit 2
# ---------------------------------------------------------------------------

BAD_RUN = [
    ("unknown-scenario", ["run", "baselin-2018"], r"unknown scenario 'baselin-2018' \(did you mean 'baseline-2018'\?\)"),
    ("show-unknown-scenario", ["show", "singapore-sumit"], r"did you mean 'singapore-summit'"),
    ("unknown-parameter", ["run", "baseline-2018", "--set", "hawk_weigt=1"],
     r"unknown parameter 'hawk_weigt' of model four-power \(did you mean 'hawk_weight'\?\)"),
    ("unknown-player", ["run", "baseline-2018", "--fix", "USA=FIRM"],
     r"--fix USA=FIRM: unknown player \(did you mean 'US'\?\)"),
    ("unknown-strategy", ["run", "baseline-2018", "--fix", "US=FRM"],
     r"--fix US=FRM: unknown strategy \(did you mean 'FIRM'\?\); expected one of FIRM, TRANS, ACCOM"),
    ("fix-syntax", ["run", "baseline-2018", "--fix", "US"], r"--fix 'US': expected Player=STRATEGY"),
    ("out-of-range", ["run", "baseline-2018", "--set", "hawk_weight=2"],
     r"hawk_weight = 2 is outside its range \[0, 1\] \(use --force to allow\)"),
    ("out-of-range-show", ["show", "baseline-2018", "--set", "escalation_cost=1"], r"outside its range \[5, 30\]"),
    ("nan-even-with-force", ["run", "baseline-2018", "--set", "hawk_weight=nan", "--force"],
     r"hawk_weight = nan: expected a finite number"),
    ("set-no-equals", ["run", "baseline-2018", "--set", "hawk_weight"], r"--set 'hawk_weight': expected name=value"),
    ("set-no-name", ["run", "baseline-2018", "--set", "=1"], r"--set '=1': expected name=value"),
    ("set-not-number", ["run", "baseline-2018", "--set", "hawk_weight=high"],
     r"--set 'hawk_weight=high': value 'high' is not a number"),
    ("lambda-not-number", ["run", "baseline-2018", "--solver", "qre", "--lambda", "x"],
     r"--lambda 'x': expected comma-separated numbers or ranges LO:HI:N"),
    ("lambda-negative", ["run", "baseline-2018", "--solver", "qre", "--lambda", "1,-1"],
     r"--lambda '1,-1': expected finite numbers >= 0; lambda -1 is negative"),
    ("lambda-inf", ["run", "baseline-2018", "--solver", "qre", "--lambda", "inf"],
     r"--lambda 'inf': expected finite numbers >= 0; lambda inf is not finite"),
    ("lambda-empty", ["run", "baseline-2018", "--solver", "qre", "--lambda", ","],
     r"--lambda ',': expected finite numbers >= 0, separated by commas"),
    ("lambda-range", ["run", "baseline-2018", "--solver", "qre", "--lambda", "0:20:0"],
     r"--lambda '0:20:0'"),
    ("lambda-not-for-pure", ["run", "baseline-2018", "--lambda", "1.5"],
     r"--lambda: does not apply to --solver pure; it applies to --solver agent-qre, qre"),
    ("tol-negative", ["run", "baseline-2018", "--tol", "-1"], r"--tol -1.0: expected a finite number >= 0"),
    ("tol-nan", ["run", "baseline-2018", "--tol", "nan"], r"--tol nan: expected a finite number >= 0"),
    ("tol-not-number", ["run", "baseline-2018", "--tol", "tiny"], r"--tol 'tiny': expected a number"),
    ("tol-not-for-qre", ["run", "baseline-2018", "--solver", "qre", "--tol", "1e-6"],
     r"--tol: does not apply to --solver qre; it applies to --solver dominance, dynamics, mixed, pure, qre-limit, spe"),
    ("unknown-solver", ["run", "baseline-2018", "--solver", "magic"],
     r"--solver 'magic': no solution concept of that name; expected one of agent-qre, dominance"),
    ("unknown-command", ["frobnicate"], r"No such command 'frobnicate'"),
    ("missing-argument", ["run"], r"run: expected a scenario NAME, a model or scenario file, or a Gambit"),
    ("validate-missing-file", ["validate", "no/such/file.toml"], r"no/such/file\.toml: no such file"),
    ("scenario-path-missing", ["run", "no/such/scenario.toml"], r"no/such/scenario\.toml: no such scenario file"),
]


@pytest.mark.parametrize("args,pattern", [c[1:] for c in BAD_RUN], ids=[c[0] for c in BAD_RUN])
def test_bad_input(args, pattern):
    assert_bad(invoke(*args), pattern)


@pytest.mark.parametrize("command", ["validate", "run"])
def test_malformed_toml_scenario(tmp_path, command):
    path = tmp_path / "broken.toml"
    path.write_text('model = "four-power"\n[overrides\nhawk_weight = 1\n', encoding="utf-8")
    assert_bad(invoke(command, path), r"broken\.toml: malformed TOML")


@pytest.mark.parametrize("command", ["validate", "run"])
def test_malformed_toml_model(tmp_path, command):
    path = tmp_path / "broken-model.toml"
    path.write_text(LOG_MODEL.replace('name = "logs"', 'name = "logs'), encoding="utf-8")
    assert_bad(invoke(command, path), r"broken-model\.toml: malformed TOML")


@pytest.mark.parametrize("command", ["validate", "run", "show"])
def test_disallowed_expression_in_model_file(evil_model, command):
    path, marker = evil_model
    assert_bad(invoke(command, path), r"evil\.toml: payoffs\.A: call of '__import__.*' is not allowed")
    assert not marker.exists()


def test_disallowed_expression_through_a_scenario(tmp_path, evil_model):
    path, marker = evil_model
    scenario = tmp_path / "uses-evil.toml"
    scenario.write_text('model = "evil.toml"\n', encoding="utf-8")
    assert_bad(invoke("run", scenario), r"evil\.toml: payoffs\.A: call of '__import__.*' is not allowed")
    assert_bad(invoke("validate", scenario), r"evil\.toml: payoffs\.A")
    assert not marker.exists()


@pytest.mark.parametrize("expr,pattern", [
    ("A.cost.real", r"attribute access 'A\.cost\.real' is not allowed; expected Player\.attribute"),
    ("A.cst", r"unknown attribute 'A\.cst' \(did you mean 'cost'\?\)"),
    ("B.cost", r"unknown attribute 'B\.cost'"),
    ("lambda: 1", r"Lambda .* is not allowed"),
    ("__builtins__['eval']", r"not allowed"),
    ("x[0]", r"Subscript .* is not allowed"),
    ("().__class__", r"attribute access .* is not allowed"),
    ("xx * 2", r"unknown name 'xx' \(did you mean 'x'\?\)"),
    ("A == 'Z'", r"unknown strategy A == \"Z\"; expected one of X, Y"),
])
def test_other_disallowed_expressions_via_validate(tmp_path, expr, pattern):
    path = tmp_path / "bad-expr.toml"
    path.write_text(LOG_MODEL.replace("log(x) * (A == 'X')", expr.replace('"', "'")), encoding="utf-8")
    assert_bad(invoke("validate", path), r"^error: bad-expr\.toml: payoffs\.A: .*(" + pattern + ")")


def test_nan_inf_payoffs_run(log_model):
    assert_bad(invoke("run", log_model, "--set", "x=0"),
               r"model logs: payoff of A at \(X, X\) is -inf at point 0 \(x=0\); expected a finite number")


def test_nan_inf_payoffs_validate(tmp_path):
    path = tmp_path / "inf-default.toml"
    path.write_text(LOG_MODEL.replace("default = 1, range = [0, 2]", "default = 0, range = [0, 2]"), encoding="utf-8")
    assert_bad(invoke("validate", path), r"payoff of A at \(X, X\) is -inf")
    nan = tmp_path / "nan.toml"
    nan.write_text(LOG_MODEL.replace("log(x) * (A == 'X')", "x / x").replace("default = 1,", "default = 0,"),
                   encoding="utf-8")
    assert_bad(invoke("validate", nan), r"payoff of A at \(X, X\) is nan")


EXPORT_BAD = [
    ("unknown-scenario", ["export", "baselin-2018"], r"did you mean 'baseline-2018'"),
    ("out-of-range", ["export", "baseline-2018", "--set", "hawk_weight=2"], r"outside its range"),
    ("bad-set", ["export", "baseline-2018", "--set", "hawk_weight"], r"expected name=value"),
    ("inf-payoffs", ["export", "LOG_MODEL", "--set", "x=0"], r"is -inf"),
    ("bad-format", ["export", "baseline-2018", "--format", "efg"], r"Invalid value for '--format'"),
    ("disallowed-expression", ["export", "EVIL_MODEL"], r"call of '__import__.*' is not allowed"),
]


@pytest.mark.parametrize("args,pattern", [c[1:] for c in EXPORT_BAD], ids=[c[0] for c in EXPORT_BAD])
def test_export_bad_input_leaves_no_file(tmp_path, log_model, evil_model, args, pattern):
    outdir = tmp_path / "out"
    outdir.mkdir()
    target = outdir / "game.nfg"
    args = [str(log_model) if a == "LOG_MODEL" else str(evil_model[0]) if a == "EVIL_MODEL" else a for a in args]
    assert_bad(invoke(*args, "-o", target), pattern)
    assert os.listdir(outdir) == []
    assert not evil_model[1].exists()


def test_export_to_missing_folder_or_a_folder(tmp_path):
    assert_bad(invoke("export", "baseline-2018", "-o", tmp_path / "nope" / "g.nfg"), r"folder .*nope does not exist")
    assert not (tmp_path / "nope").exists()
    assert_bad(invoke("export", "baseline-2018", "-o", tmp_path), r"is a folder; expected a file name")
    assert os.listdir(tmp_path) == []


def test_export_requires_output():
    assert_bad(invoke("export", "baseline-2018"), r"Missing option '-o'")


def test_export_does_not_clobber_on_failure(tmp_path, log_model):
    target = tmp_path / "keep.nfg"
    target.write_text("precious", encoding="utf-8")
    assert_bad(invoke("export", log_model, "--set", "x=0", "-o", target), r"is -inf")
    assert target.read_text(encoding="utf-8") == "precious"
    assert sorted(os.listdir(tmp_path)) == ["keep.nfg", "logs.toml"]
