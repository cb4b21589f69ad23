"""docs/model.md describes the model that allysim actually ships.

The page is parsed, not trusted: its tables of players, attributes, parameters and
scenarios and its two formula blocks must match the compiled four-power model and the
shipped scenario files exactly -- every parameter with the same default and range and
no extra ones, every scenario with the same overrides, every formula the model file's
own expression (up to whitespace).
"""
from __future__ import annotations

import re
import tomllib

import pytest

from allysim import load_model, load_scenario
from allysim.model.compiler import MODELS_DIR
from allysim.scenario import shipped_scenarios_dir
from tests.installed import REPO

DOC = REPO / "docs" / "model.md"
MODEL = load_model("four-power")
SOURCE = tomllib.loads((MODELS_DIR / "four-power.toml").read_text(encoding="utf-8"))


def section(title: str) -> str:
    """The text under ``## title`` (or ``### title``) up to the next heading of that level or higher."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(rf"^(#+) {re.escape(title)}\n", text, re.M)
    assert m, f"docs/model.md has no section '{title}'"
    level = len(m.group(1))
    rest = text[m.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[:end.start()] if end else rest


def table(title: str) -> list[list[str]]:
    """The rows of the first Markdown table in a section, header and rule left out."""
    rows = [line for line in section(title).splitlines() if line.startswith("|")]
    assert len(rows) >= 3, f"no table in '{title}'"
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows[2:]]


def code_block(title: str) -> dict[str, str]:
    """``name = expression`` lines of the first code block in a section."""
    text = section(title)
    body = text[text.index("```") + 3:]
    body = body[body.index("\n") + 1:body.index("```")]
    out = {}
    for line in body.splitlines():
        if line.strip():
            name, expr = line.split("=", 1)
            assert name.strip() not in out, f"{name} twice"
            out[name.strip()] = expr
    return out


def squash(expr: str) -> str:
    return re.sub(r"\s+", "", expr)


def number(text: str) -> float:
    return float(text)


def test_every_parameter_with_its_default_and_range_and_no_other():
    rows = table("Parameters")
    documented = {}
    for name, default, bounds, meaning in rows:
        m = re.fullmatch(r"\[(\S+), (\S+)\]", bounds)
        assert m, f"{name}: range {bounds!r} is not written as [low, high]"
        assert meaning, f"{name}: no meaning given"
        assert name not in documented, f"{name} listed twice"
        documented[name] = (number(default), number(m.group(1)), number(m.group(2)))
    compiled = {p.name: (p.default, p.low, p.high) for p in MODEL.parameters}
    assert set(documented) - set(compiled) == set(), "documented but not in the model"
    assert set(compiled) - set(documented) == set(), "in the model but not documented"
    for name, values in compiled.items():
        assert documented[name] == values, name
    assert [r[0] for r in rows] == list(MODEL.parameter_names)   # in the file's order


def test_players_and_strategies_in_axis_order():
    rows = table("Players and strategies")
    assert [r[0] for r in rows] == list(MODEL.players)
    assert [tuple(s.strip() for s in r[1].split(",")) for r in rows] == list(MODEL.strategies)


def test_every_strategy_attribute_with_its_values():
    documented = {}
    for name, values, meaning in table("Strategy attributes"):
        assert meaning
        documented[name] = [v.strip() for v in values.split(",")]
    declared = {}
    for player in SOURCE["players"]:
        for attr, values in player.get("attributes", {}).items():
            declared[f"{player['name']}.{attr}"] = [v if isinstance(v, str) else f"{v:g}" for v in values]
    assert documented == declared


@pytest.mark.parametrize("title,key", [("Derived quantities", "derived"), ("Payoffs", "payoffs")])
def test_formulas_are_the_model_files_expressions(title, key):
    documented = code_block(title)
    declared = SOURCE[key]
    assert list(documented) == list(declared)       # same names, same (evaluation) order
    for name, expr in declared.items():
        assert squash(documented[name]) == squash(expr), name


def test_every_shipped_scenario_with_its_overrides():
    rows = table("Scenarios")
    shipped = sorted(p.stem for p in shipped_scenarios_dir().glob("*.toml"))
    assert sorted(r[0] for r in rows) == shipped
    for name, overrides, question in rows:
        assert question, name
        documented = {} if overrides == "none" else {
            k.strip(): number(v) for k, v in (item.split("=") for item in overrides.split(","))}
        s = load_scenario(shipped_scenarios_dir() / f"{name}.toml")
        assert s.model.name == "four-power"
        assert documented == {k: float(v) for k, v in s.overrides.items()}, name


def test_the_documented_equilibrium_at_the_defaults():
    from allysim.solve import pure_nash
    text = " ".join(section("Payoffs").split())
    assert "exactly one pure Nash equilibrium" in text and "(TRANS, SUPPORT, SLICE, FREEZE)" in text
    res = pure_nash(MODEL.payoffs(MODEL.defaults))
    assert [[MODEL.strategies[i][a] for i, a in enumerate(p)] for p in res.pure_profiles(0)] == \
        [["TRANS", "SUPPORT", "SLICE", "FREEZE"]]


def test_the_model_file_and_scenarios_point_to_the_page():
    assert "docs/model.md" in (MODELS_DIR / "four-power.toml").read_text(encoding="utf-8")
    for path in shipped_scenarios_dir().glob("*.toml"):
        assert "docs/model.md" in path.read_text(encoding="utf-8").splitlines()[0], path.name
