"""The analysis commands end to end: thresholds, path, sensitivity, table, show --payoffs
and --expressions; their results folders re-checked by ``allysim reproduce``; bad input
gets one line and exit 2."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from allysim import load_model
from allysim.model.expr import Namespace, evaluate, parse
from allysim.model.render import render
from tests.test_cli import assert_bad, assert_ok, invoke
from tests.test_thresholds_path import FLIP_FILE

BASE = ("baseline-2018", "--along", "us_credibility=0.3:0.95", "--outcome", "China=SEIZE")


@pytest.fixture(scope="module")
def flip_file():
    return FLIP_FILE


def test_thresholds_text_json_and_folder(tmp_path):
    text = assert_ok(invoke("thresholds", *BASE, "--by", "abandonment_fear=0:10:3"))
    lines = text.splitlines()
    assert lines[1].split() == ["abandonment_fear", "us_credibility", "threshold", "below", "above"]
    assert lines[3].split() == ["0", "0.53857788", "played", "not", "played"]
    assert lines[5].split()[:2] == ["10", "none"]
    assert "step 0.00162" in text and "bisection to 6.5e-08" in text
    doc = json.loads(assert_ok(invoke("thresholds", *BASE, "--json")))
    (sw,) = doc["thresholds"]
    assert sw["by"] == {} and sw["below"] is True and sw["above"] is False
    assert abs(sw["at"] - 0.5385779) < 1e-6 and doc["scan"]["points"] == 401
    out = tmp_path / "t"
    assert_ok(invoke("thresholds", *BASE, "--scan", "66", "--xtol", "1e-6", "-o", out))
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "thresholds.json"]
    assert "reproduced" in assert_ok(invoke("reproduce", out))
    data = json.loads((out / "thresholds.json").read_text())
    assert data["xtol"] == 1e-6 and data["scan"]["points"] == 66
    (out / "thresholds.json").write_text((out / "thresholds.json").read_text().replace("0.538", "0.539"))
    res = invoke("reproduce", out)
    assert res.exit_code == 1 and "differs" in res.stdout


def test_thresholds_bad_input():
    assert_bad(invoke("thresholds", "baseline-2018", "--along", "nope=0:1"), "--along nope=0:1.*unknown parameter")
    assert_bad(invoke("thresholds", "baseline-2018", "--along", "us_credibility=0:1"),
               "outside us_credibility's declared range")
    assert_bad(invoke("thresholds", *BASE, "--by", "abandonment_fear=0:10"), "--by.*name=lo:hi:n")
    assert_bad(invoke("thresholds", *BASE, "--solver", "qre"), "qre-limit")
    assert_bad(invoke("thresholds", *BASE, "--solver", "dominance"), "surviving strategies")
    assert_bad(invoke("thresholds", *BASE[:3], "--outcome", "China=GRAB"), "--outcome.*GRAB.*SEIZE")
    assert_bad(invoke("thresholds", *BASE, "--set", "us_credibility=0.5"), "also swept")
    assert_bad(invoke("thresholds", *BASE, "--lambda", "2"), "--lambda: does not apply")


def test_path_folder_figure_and_reproduce(tmp_path, flip_file):
    out = tmp_path / "p"
    text = assert_ok(invoke("path", flip_file, "--from", "t=0", "--to", "t=1", "--back",
                            "--steps", "20", "-o", out))
    assert "forward" in text and "Hysteresis on t in [0.3, 0.7]: forward Y/Y, back X/X." in text
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "path.csv", "path.json",
                                                     "path.png"]
    assert (out / "path.png").read_bytes()[:4] == b"\x89PNG"
    assert "reproduced" in assert_ok(invoke("reproduce", out))
    doc = json.loads(assert_ok(invoke("path", flip_file, "--from", "t=0", "--to", "t=1",
                                      "--solver", "qre", "--lambda", "20", "--steps", "20",
                                      "--back", "--json")))
    assert doc["hysteresis"] and doc["solver"] == "qre"
    assert_bad(invoke("path", flip_file, "--from", "t=0", "--to", "m=1"), "same parameter")
    assert_bad(invoke("path", flip_file, "--from", "t=0", "--to", "t=1", "--solver", "mixed"),
               "path follows")
    assert_bad(invoke("path", flip_file, "--from", "t=0", "--to", "t=1", "--start", "A=X"),
               "every player")
    assert_bad(invoke("path", flip_file, "--from", "t=0", "--to", "t=1", "--start", "C=X"),
               "--start C=X: unknown player")
    text = assert_ok(invoke("path", flip_file, "--from", "t=0.5", "--to", "t=0", "--steps", "10",
                            "--start", "A=X", "--start", "B=X"))
    assert "Start: given: X/X." in text


def test_sensitivity_cli_folder_table_and_reproduce(tmp_path):
    out = tmp_path / "s"
    args = ("sensitivity", "baseline-2018", "--outcome", "China=SEIZE", "--n", "32",
            "--params", "us_credibility,seize_gain,strike_support_multiplier",
            "--resamples", "100")
    text = assert_ok(invoke(*args, "-o", out))
    assert text.splitlines()[1].split()[:3] == ["rank", "parameter", "first-order"]
    doc = json.loads(assert_ok(invoke(*args, "--json")))
    assert doc["schema_version"] == 1 and doc["command"] == "sensitivity" and doc["method"] == "sobol"
    recs = doc["indices"]
    assert [set(r) for r in recs] == [{"parameter", "first", "total", "first_ci", "total_ci"}] * 3
    assert {r["parameter"] for r in recs} == {"us_credibility", "seize_gain",
                                              "strike_support_multiplier"}
    names = {p.name for p in out.iterdir()}
    assert {"manifest.json", "results.npz", "equilibria.parquet", "sensitivity.json",
            "sensitivity.png", "sensitivity-request.json"} <= names
    assert "reproduced" in assert_ok(invoke("reproduce", out))
    latex = assert_ok(invoke("table", out, "--format", "latex"))
    assert "\\toprule" in latex and "\\midrule" in latex and "\\bottomrule" in latex
    assert "seize\\_gain" in latex
    morris = json.loads(assert_ok(invoke("sensitivity", "baseline-2018", "--outcome",
                                         "China=SEIZE", "--method", "morris", "--n", "10",
                                         "--params", "us_credibility,seize_gain", "--json",
                                         "--resamples", "50")))["indices"]
    assert set(morris[0]) == {"parameter", "mu_star", "mu_star_ci", "mu", "sigma"}
    assert_bad(invoke("sensitivity", "baseline-2018", "--n", "8"), "--outcome")
    assert_bad(invoke("sensitivity", "baseline-2018", "--outcome", "China=SEIZE", "--n", "8",
                      "--solver", "qre", "--lambda", "1,2"), "one lambda")
    assert_bad(invoke("sensitivity", "baseline-2018", "--outcome", "China=SEIZE", "--n", "8",
                      "--params", "nope"), "nope")


def test_sensitivity_resume_finishes_the_indices(tmp_path):
    out = tmp_path / "r"
    assert_ok(invoke("sensitivity", "baseline-2018", "--outcome", "Japan=ARM", "--n", "16",
                     "--params", "us_credibility,fiscal_strain", "--resamples", "50",
                     "--chunk-size", "16", "-o", out))
    (out / "sensitivity.json").unlink()
    text = assert_ok(invoke("sensitivity", "--resume", out))
    assert "already complete" in text and (out / "sensitivity.json").exists()


def test_table_of_a_sweep_says_what_a_share_means(tmp_path):
    out = tmp_path / "g"
    assert_ok(invoke("sweep", "baseline-2018", "--vary", "us_credibility=0.3:0.95:14",
                     "--vary", "abandonment_fear=0:10:5", "-o", out))
    md = assert_ok(invoke("table", out))
    assert md.startswith("**baseline-2018: where each solution holds**")
    assert "| TRANS/SUPPORT/SLICE/FREEZE |" in md and "can add up to more than 100%" in md
    csv = assert_ok(invoke("table", out, "--format", "csv"))
    assert csv.splitlines()[0] == "US/Japan/China/NorthKorea,share,share as the only one,points"
    assert_bad(invoke("table", tmp_path), "no manifest.json")


def test_show_payoffs_and_expressions():
    text = assert_ok(invoke("show", "battle-of-sexes", "--payoffs"))
    assert "OPERA         2.000, 1.000  0.000, 0.000" in text
    text = assert_ok(invoke("show", "baseline-2018", "--payoffs", "--fix", "US=TRANS"))
    assert text.count("Japan \\ China") == 3 and "NorthKorea=PROVOKE" in text
    long = assert_ok(invoke("show", "baseline-2018", "--payoffs", "--long"))
    assert len(long.splitlines()) == 2 + 2 + 81
    doc = json.loads(assert_ok(invoke("show", "chicken", "--payoffs", "--json")))
    assert len(doc["payoffs"]) == 4
    text = assert_ok(invoke("show", "baseline-2018", "--expressions", "--set", "hawk_weight=0.75"))
    assert "  A = 2 * hawk_weight * abandonment_fear\n    = 7.5" in text
    assert "US.commitment: FIRM 1, TRANS 0.8, ACCOM 0.7" in text
    assert_bad(invoke("show", "baseline-2018", "--fix", "US=TRANS"), "--fix: only with --payoffs")
    assert_bad(invoke("show", "baseline-2018", "--payoffs", "--fix", "US=NONE"), "NONE")


@pytest.mark.parametrize("name", ["four-power", "chicken", "snyder-dilemma", "prisoners-dilemma"])
def test_rendered_formulas_evaluate_like_the_model(name):
    """Every formula written back (and with values substituted) parses to the same numbers."""
    m = load_model(name)
    rng = np.random.default_rng(1)
    point = m.bounds[:, 0] + rng.random(len(m.parameters)) * (m.bounds[:, 1] - m.bounds[:, 0])
    values = dict(zip(m.parameter_names, point))
    env = m._environment(point[None])
    ns = Namespace(m.players, m.strategies, tuple(tuple(a) for a in m.attributes),
                   m.parameter_names, tuple(n for n, _ in m.derived))

    def back(text):
        return re.sub(r"\[(\w+)=(\w+)\]", r'(\1 == "\2")', text)

    for expr in [e for _, e in m.derived] + list(m.payoff_exprs):
        want = np.broadcast_to(evaluate(expr, env), (1, *m.shape))
        for text in (render(expr, m, digits=17), render(expr, m, values, digits=17)):
            got = np.broadcast_to(evaluate(parse(back(text), ns, "test"), env), (1, *m.shape))
            assert np.allclose(got, want, rtol=1e-12, atol=1e-12), text


def test_sensitivity_resume_after_an_interruption(tmp_path):
    """A folder with its plan, request and only the first chunk stored (as an interrupted
    run leaves it) is finished by --resume and then equals an uninterrupted run."""
    from allysim import load_scenario
    from allysim.analysis.sensitivity import REQUEST, sensitivity_design
    from allysim.concepts import get_concept
    from allysim.sweep import store as st
    from allysim.sweep.engine import SweepSpec, run_chunk, write_plan

    s = load_scenario("baseline-2018")
    c = get_concept("pure")
    design = sensitivity_design(s.model, s.point, "sobol", 16, params=["us_credibility",
                                                                       "seize_gain"])
    spec = SweepSpec.of_scenario(s, design, "pure", c.resolve({}, s.model.players),
                                 chunk_size=20)
    out = tmp_path / "cut"
    st.prepare(out, overwrite=False)
    write_plan(out, spec, [])
    st.write_json(out / REQUEST, {"method": "sobol", "outcome": "China=SEIZE", "resamples": 50,
                                  "confidence": 0.95, "seed": 0})
    k, start, stop = next(iter(spec.chunks()))
    from allysim.sweep.resume import with_meta   # a chunk as the engine stores it
    st.write_chunk(out, k, with_meta(run_chunk(spec.to_json(), k, start, stop), spec.sha256(),
                                     k, start, stop))
    text = assert_ok(invoke("sensitivity", "--resume", out))
    assert "finished 44 points" in text                    # 64 points, 20 already stored
    whole = tmp_path / "whole"
    assert_ok(invoke("sensitivity", "baseline-2018", "--outcome", "China=SEIZE", "--n", "16",
                     "--params", "us_credibility,seize_gain", "--resamples", "50",
                     "--chunk-size", "20", "-o", whole))
    assert (out / "results.npz").read_bytes() == (whole / "results.npz").read_bytes()
    assert json.loads((out / "sensitivity.json").read_text())["indices"] == \
        json.loads((whole / "sensitivity.json").read_text())["indices"]
