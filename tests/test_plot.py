"""`allysim plot`: the regions it draws are the pure equilibria solved directly."""
import numpy as np
import pytest
from click.testing import CliRunner

from allysim.cli import main
from allysim.plot import load_sweep
from allysim.scenario import load_scenario
from allysim.solve import pure_nash


def _sweep(tmp_path, name, *args):
    out = tmp_path / name
    result = CliRunner().invoke(main, ["sweep", "baseline-2018", *args, "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("store", ["full", "counts"])
def test_regions_match_direct_solution(tmp_path, store):
    out = _sweep(tmp_path, store, "--vary", "us_credibility=0.3:0.95:9",
                 "--vary", "entrapment_fear=0:10:7", "--store", store)
    res = load_sweep(out)
    s = load_scenario("baseline-2018")
    model = s.model
    points = np.repeat(s.point[None], len(res.params), axis=0)
    for j, name in enumerate(res.names):
        points[:, model.parameter_index(name)] = res.params[:, j]
    mask = pure_nash(model.payoffs(points)).mask
    for b in range(len(points)):
        names = sorted("/".join(model.strategies[i][a] for i, a in enumerate(p))
                       for p in np.argwhere(mask[b]))
        if store == "full":
            assert res.labels[b] == (" + ".join(names) or "no pure equilibrium")
            for profile, hit in res.members.items():
                assert hit[b] == (profile in names)
        elif len(names) == 1:
            assert res.labels[b] == names[0]
        else:
            assert res.labels[b] == ("several" if names else "no pure equilibrium")


def test_plot_writes_images(tmp_path):
    grid = _sweep(tmp_path, "grid", "--vary", "us_credibility=0.3:0.95:5", "--vary", "abandonment_fear=0:10:4")
    line = _sweep(tmp_path, "line", "--vary", "us_credibility=0.3:0.95:12")
    sample = _sweep(tmp_path, "sample", "--sample", "lhs", "--n", "64", "--params",
                    "us_credibility,abandonment_fear,entrapment_fear")
    runner = CliRunner()
    for folder, extra in [(grid, []), (line, []), (sample, ["--x", "entrapment_fear", "--y", "us_credibility"])]:
        result = runner.invoke(main, ["plot", str(folder), *extra])
        assert result.exit_code == 0, result.output
        assert (folder / "equilibria.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "map.svg"
    assert runner.invoke(main, ["plot", str(grid), "-o", str(svg)]).exit_code == 0
    assert svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("args, message", [
    (["--x", "us_cred"], "did you mean 'us_credibility'"),
    (["-o", "x.jpg"], "expected a .png, .pdf or .svg"),
    (["--x", "us_credibility", "--y", "us_credibility"], "expected two parameters"),
])
def test_plot_bad_input(tmp_path, args, message):
    grid = _sweep(tmp_path, "grid", "--vary", "us_credibility=0.3:0.95:3", "--vary", "abandonment_fear=0:10:3")
    result = CliRunner().invoke(main, ["plot", str(grid), *args])
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "x.jpg").exists()


def test_plot_needs_finished_folder(tmp_path):
    result = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert result.exit_code == 2 and "no manifest.json" in result.stderr


def test_every_subpackage_is_shipped():
    """pyproject lists packages explicitly (scenarios/ is mapped in); none may be forgotten."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "allysim").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject packages: {sorted(found - listed)}"


def test_dominance_maps_show_the_surviving_strategies(tmp_path):
    """Where the game is not dominance solvable, each player's map shows what survives:
    its only survivor, or 'X or Y (several surviving profiles)', never a blank."""
    from allysim.plot.results import player_outcome, strategy_outcome
    from allysim.solve import iterated_dominance
    out = _sweep(tmp_path, "dom", "--solver", "dominance", "--vary", "abandonment_fear=0:10:6",
                 "--vary", "entrapment_fear=0:10:5")
    res = load_sweep(out)
    s = load_scenario("baseline-2018")
    points = np.repeat(s.point[None], len(res.params), axis=0)
    for j, name in enumerate(res.names):
        points[:, s.model.parameter_index(name)] = res.params[:, j]
    direct = iterated_dominance(s.model.payoffs(points))
    assert not direct.solved.all()          # the test needs points that are not solvable
    for i, player in enumerate(s.model.players):
        cat = player_outcome(res, player)
        strategies = s.model.strategies[i]
        for b in range(len(points)):
            alive = [strategies[k] for k in np.flatnonzero(direct.surviving[i][b])]
            label = cat.categories[cat.codes[b]].label
            expected = alive[0] if len(alive) == 1 else f"{' or '.join(alive)} (several surviving profiles)"
            assert label == expected, (player, b)
    hold = strategy_outcome(res, "China=HOLD")
    kinds = np.array([hold.categories[c].key[0] for c in hold.codes])
    alive = direct.surviving[2][:, 0]
    only = alive & (direct.surviving[2].sum(axis=1) == 1)
    assert (kinds == np.where(only, "every", np.where(alive, "some", "no"))).all()
    assert alive.any() and (~alive).any()
    runner = CliRunner()
    assert runner.invoke(main, ["plot", str(out), "-o", str(tmp_path / "dom.png")]).exit_code == 0
