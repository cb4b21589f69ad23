"""Scenarios found where users put them: ./scenarios, ALLYSIM_PATH, then the shipped ones.

Each test runs in a fresh working directory (``monkeypatch.chdir``) with
``ALLYSIM_PATH`` set or cleared, so the repository's own ``scenarios/`` folder
does not take part unless a test puts it there. The ``pip install .`` bug of
issue 13 (a scenario copied into ``scenarios/`` not found) is reproduced with a
copy of the package laid out as pip installs it (tests/installed.py).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from allysim import ScenarioError, list_scenarios, load_scenario
from allysim.scenario import (ScenarioFile, scenario_dirs, scenario_files, scenario_search_path,
                              shipped_scenarios_dir)
from tests.installed import REPO, install_copy, run_python

SHIPPED = sorted(p.stem for p in (REPO / "scenarios").glob("*.toml"))


def write_scenario(folder: Path, name: str, deal_value: float = 3, model: str = "four-power") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(f'model = "{model}"\ndescription = "from {folder.name}"\n'
                    f"[overrides]\ndeal_value = {deal_value}\n", encoding="utf-8")
    return path


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A working directory with no scenarios/ and no ALLYSIM_PATH."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("ALLYSIM_PATH", raising=False)
    return work


def test_shipped_scenarios_come_from_the_package(elsewhere):
    assert shipped_scenarios_dir() == (REPO / "scenarios").resolve()
    assert scenario_search_path()[0] == (elsewhere / "scenarios", "cwd")
    assert scenario_search_path()[-1][1] == "shipped"
    assert list_scenarios() == SHIPPED
    s = load_scenario("baseline-2018")
    assert s.origin == "shipped" and Path(s.path) == REPO.resolve() / "scenarios" / "baseline-2018.toml"
    assert all(f.origin == "shipped" for f in scenario_files())


def test_a_scenario_in_cwd_scenarios_is_found(elsewhere):
    path = write_scenario(elsewhere / "scenarios", "us-bills-japan", deal_value=4)
    s = load_scenario("us-bills-japan")
    assert (s.origin, Path(s.path), s.overrides) == ("cwd", path, {"deal_value": 4})
    assert "us-bills-japan" in list_scenarios()
    # with_overrides (--set) keeps where the scenario came from
    assert s.with_overrides({"deal_value": 1}).origin == "cwd"


def test_cwd_shadows_allysim_path_which_shadows_shipped(elsewhere, tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    write_scenario(elsewhere / "scenarios", "mine", deal_value=1)
    write_scenario(first, "mine", deal_value=2)
    write_scenario(first, "baseline-2018", deal_value=2)
    write_scenario(second, "baseline-2018", deal_value=3)
    write_scenario(second, "theirs", deal_value=3)
    monkeypatch.setenv("ALLYSIM_PATH", os.pathsep.join([str(first), "", str(second)]))
    assert [o for _, o in scenario_search_path()] == ["cwd", "ALLYSIM_PATH", "ALLYSIM_PATH", "shipped"]
    got = {name: (load_scenario(name).origin, load_scenario(name).overrides.get("deal_value"))
           for name in ("mine", "baseline-2018", "theirs", "singapore-summit")}
    assert got == {"mine": ("cwd", 1), "baseline-2018": ("ALLYSIM_PATH", 2),
                   "theirs": ("ALLYSIM_PATH", 3), "singapore-summit": ("shipped", 3)}
    assert Path(load_scenario("baseline-2018").path) == first / "baseline-2018.toml"
    files = {f.name: f for f in scenario_files()}
    assert files["mine"] == ScenarioFile("mine", elsewhere / "scenarios" / "mine.toml", "cwd")
    assert files["baseline-2018"] == ScenarioFile("baseline-2018", first / "baseline-2018.toml", "ALLYSIM_PATH")
    assert files["theirs"].path == second / "theirs.toml"
    assert [f.name for f in scenario_files()] == list_scenarios() == sorted(set(SHIPPED) | {"mine", "theirs"})


def test_relative_allysim_path_entries_are_taken_from_cwd(elsewhere, monkeypatch):
    write_scenario(elsewhere / "lib", "relative")
    monkeypatch.setenv("ALLYSIM_PATH", "lib")
    s = load_scenario("relative")
    assert s.origin == "ALLYSIM_PATH" and Path(s.path) == elsewhere / "lib" / "relative.toml"


def test_an_explicit_path_is_origin_file(elsewhere):
    path = write_scenario(elsewhere / "anywhere", "explicit")
    for given in (path, str(path), "anywhere/explicit.toml"):
        s = load_scenario(given)
        assert s.origin == "file" and s.name == "explicit"


def test_a_model_name_is_the_shipped_model(elsewhere):
    s = load_scenario("chicken")
    assert s.origin == "shipped" and s.path.endswith("chicken.toml") and s.overrides == {}


def test_working_in_the_checkout_lists_its_scenarios_as_shipped(monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("ALLYSIM_PATH", raising=False)
    # ./scenarios is the shipped folder itself: searched once, as shipped
    assert [o for _, o in scenario_search_path()] == ["shipped"]
    assert load_scenario("baseline-2018").origin == "shipped"
    assert scenario_dirs() == [REPO.resolve() / "scenarios"]


def test_unknown_name_lists_the_places_searched_and_that_a_path_works(elsewhere, tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    write_scenario(lib, "theirs")
    monkeypatch.setenv("ALLYSIM_PATH", os.pathsep.join([str(lib), str(tmp_path / "nowhere")]))
    with pytest.raises(ScenarioError) as info:
        load_scenario("us-bills-japan")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("unknown scenario 'us-bills-japan'")
    assert f"./scenarios={elsewhere / 'scenarios'} (missing)" in message
    assert f"ALLYSIM_PATH={lib}{os.pathsep}{tmp_path / 'nowhere'} (missing)" in message
    assert f"shipped={REPO.resolve() / 'scenarios'}" in message
    assert "a path to a .toml file works too" in message
    assert f"lists the {len(SHIPPED) + 1} found" in message


def test_unknown_name_without_allysim_path_says_not_set(elsewhere):
    with pytest.raises(ScenarioError, match=r"unknown scenario 'baselin-2018' \(did you mean "
                                            r"'baseline-2018'\?\); searched .*ALLYSIM_PATH=\(not set\)"):
        load_scenario("baselin-2018")


def test_a_missing_file_path_names_the_file(elsewhere):
    with pytest.raises(ScenarioError, match=r"^nope/x\.toml: no such scenario file$"):
        load_scenario("nope/x.toml")


# ---------------------------------------------------------------------------
# issue 13: after `pip install .`, a scenario copied into scenarios/ is found
# ---------------------------------------------------------------------------

PROBE = """
import json
from allysim import load_scenario
from allysim.scenario import scenario_files
s = load_scenario("us-bills-japan")
print(json.dumps({"origin": s.origin, "path": s.path, "deal": s.overrides["deal_value"],
                  "files": {f.name: [str(f.path), f.origin] for f in scenario_files()}}))
"""


def test_installed_copy_finds_a_scenario_copied_into_scenarios(tmp_path):
    site = install_copy(tmp_path / "site")
    project = tmp_path / "project"
    copied = write_scenario(project / "scenarios", "us-bills-japan", deal_value=2)
    result = run_python(PROBE, path=site, cwd=project)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["origin"], Path(out["path"]), out["deal"]) == ("cwd", copied, 2)
    # the shipped scenarios are the installed package data
    assert out["files"]["baseline-2018"] == [str(site / "allysim" / "scenarios" / "baseline-2018.toml"),
                                             "shipped"]
    assert set(out["files"]) == set(SHIPPED) | {"us-bills-japan"}


def test_installed_copy_reads_allysim_path_and_says_where_it_looked(tmp_path):
    site = install_copy(tmp_path / "site")
    lib = tmp_path / "lib"
    write_scenario(lib, "us-bills-japan", deal_value=1)
    result = run_python(PROBE, path=site, cwd=tmp_path, env={"ALLYSIM_PATH": str(lib)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["origin"] == "ALLYSIM_PATH"
    missing = run_python(PROBE, path=site, cwd=tmp_path)
    assert missing.returncode == 1
    last = missing.stderr.strip().splitlines()[-1]
    assert "unknown scenario 'us-bills-japan'" in last
    assert f"shipped={site / 'allysim' / 'scenarios'}" in last
