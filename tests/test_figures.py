"""Figures: what they draw is what the solvers say, they carry the titles, legends and
axis labels a reader needs, colours are keyed by name, and they render headless.

Every figure here is a :class:`matplotlib.figure.Figure` made outside pyplot and
rendered with the Agg canvas (no display). One reference image is compared with
``matplotlib.testing.compare.compare_images``; rewrite it with
``ALLYSIM_UPDATE_BASELINE=1 python -m pytest tests/test_figures.py -k reference``.
"""
from __future__ import annotations

import io
import itertools
import os
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from allysim import load_model, load_scenario
from allysim.cli import main
from allysim.plot import (binned_shares, dynamics_figure, load_sweep, outcome_bands, outcome_maps,
                          player_outcome, plot_sweep, probability_curves, profile_colour, profile_map,
                          profile_sets, qre_correspondence, strategy_colour, strategy_map)
from allysim.plot import style
from allysim.solve import logit_qre, pure_nash

BASELINE = Path(__file__).parent / "baseline"
REPO = Path(__file__).resolve().parent.parent
FOUR = load_model("four-power").strategies


def _sweep(folder, scenario, *args):
    res = CliRunner().invoke(main, ["sweep", scenario, *args, "-o", str(folder), "--quiet"])
    assert res.exit_code == 0, (res.stderr, res.exception)
    return folder


def _render(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    return buf.getvalue()


def _legend_texts(ax) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 2-d grid of pure equilibria over the entrapment-abandonment plane."""
    return load_sweep(_sweep(tmp_path_factory.mktemp("fig") / "grid", "baseline-2018", "--vary",
                             "abandonment_fear=0:10:21", "--vary", "entrapment_fear=0:10:21",
                             "--backend", "numpy"))


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    return load_sweep(_sweep(tmp_path_factory.mktemp("fig") / "line", "us-retrenchment", "--vary",
                             "us_credibility=0.3:0.95:27", "--backend", "numpy"))


def _direct(results):
    """Pure equilibria of each swept point, solved directly: (N, profiles) bool mask."""
    s = load_scenario(results.scenario)
    pts = np.repeat(s.point[None], results.n_points, axis=0)
    for j, name in enumerate(results.names):
        pts[:, s.model.parameter_index(name)] = results.params[:, j]
    return pure_nash(s.model.payoffs(pts)).mask.reshape(results.n_points, -1)


# ----------------------------------------------------------------------------- what is drawn

def test_player_outcome_is_the_direct_solution(grid):
    """Each point's category for Japan is its strategy in every pure equilibrium, or the
    strategies the equilibria disagree on, or none."""
    mask = _direct(grid)
    cat = player_outcome(grid, "Japan")
    shape = load_model("four-power").shape
    for b in range(grid.n_points):
        japan = sorted({np.unravel_index(f, shape)[1] for f in np.flatnonzero(mask[b])})
        label = cat.categories[cat.codes[b]].label
        names = [FOUR[1][k] for k in japan]
        if not names:
            assert label == "no pure equilibrium"
        elif len(names) == 1:
            assert label == names[0]
        else:
            assert label == " or ".join(names) + " (several equilibria)"


def test_outcome_maps_titles_legends_labels(grid):
    axes = outcome_maps(grid)
    assert [ax.get_title() for ax in axes] == ["US", "Japan", "China", "NorthKorea"]
    assert axes[0].get_xlabel() == "Japan's loss if left alone (abandonment_fear)"
    assert axes[0].get_ylabel().replace("\n", " ") == \
        "Japan's loss from being dragged into escalation (entrapment_fear)"
    japan = _legend_texts(axes[1])
    assert any(t.startswith("SUPPORT  (") for t in japan)
    assert any(t.startswith("SUPPORT or DISTANCE (several equilibria)") for t in japan)
    assert axes[1].get_legend().get_title().get_text() == "Japan's strategy (% of points)"
    # The shares in a legend add up to 100% of the points.
    shares = [float(re.search(r"\(([\d.]+)%\)$", t).group(1)) for t in japan if t.endswith("%)")]
    assert abs(sum(shares) - 100) < 0.5
    # The scenario's point (abandonment 5, entrapment 3) is marked with a star, named once.
    stars = [ln for ax in axes for ln in ax.get_lines() if ln.get_marker() == "*"]
    assert len(stars) == 4 and all(ln.get_xydata().tolist() == [[5.0, 3.0]] for ln in stars)
    assert sum(t.get_text() == "baseline-2018" for ax in axes for t in ax.texts) == 1
    assert axes[0].figure.get_suptitle() == \
        "baseline-2018: each player's strategy in pure Nash equilibria"
    assert _render(axes[0].figure)[:4] == b"\x89PNG"


def test_strategy_map_some_every(grid):
    ax = strategy_map(grid, "China=HOLD")
    labels = [t.split("  (")[0] for t in _legend_texts(ax)]
    assert labels[:3] == ["in every equilibrium", "in some equilibria, not all", "in no equilibrium"]
    mask = _direct(grid)
    shape = load_model("four-power").shape
    hold = np.array([[np.unravel_index(f, shape)[2] == 0 for f in np.flatnonzero(m)] for m in mask],
                    dtype=object)
    every = np.mean([bool(h) and all(h) for h in hold]) * 100
    assert f"in every equilibrium  ({every:.1f}%)" in _legend_texts(ax)


def test_bands_switch_points_are_where_the_solution_changes(line):
    ax = outcome_bands(line, players=["China"])
    assert [t.get_text() for t in ax.get_yticklabels()] == \
        ["China  HOLD", "China  SLICE", "China  SEIZE"]
    mask = _direct(line)
    shape = load_model("four-power").shape
    xs = line.params[:, 0]
    china = [frozenset(np.unravel_index(f, shape)[2] for f in np.flatnonzero(m)) for m in mask]
    expected = [f"{(xs[k] + xs[k + 1]) / 2:.3g}" for k in range(len(xs) - 1) if china[k] != china[k + 1]]
    labels = [t.get_text() for t in ax.texts if re.fullmatch(r"[\d.]+", t.get_text())]
    assert labels == expected and expected
    assert "played in every equilibrium" in _legend_texts(ax)
    assert ax.get_xlabel().replace("\n", " ") == \
        "Baseline credibility of the US guarantee (us_credibility)"


def test_profile_view_lists_every_set(grid, line):
    ax = profile_map(grid)
    entries = _legend_texts(ax)
    sets = set(grid.labels.tolist())
    assert {e.rsplit("  (", 1)[0] for e in entries} == sets   # every set, no "other"
    ax = plot_sweep(line, profiles=True).axes[0]
    assert all("other" not in t.get_text() for t in ax.get_yticklabels())


# ----------------------------------------------------------------------------- colours

def test_same_profile_same_colour_in_two_sweeps(grid, line):
    """TRANS/SUPPORT/SLICE/FREEZE is drawn in one colour whatever its frequency rank."""
    name = "TRANS/SUPPORT/SLICE/FREEZE"
    colours = []
    for res in (grid, line):
        cat = profile_sets(res)
        (c,) = [c for c in cat.categories if c.label == name]
        colours.append(c.face)
    # ... and that is the colour the map draws where it is the only equilibrium.
    from matplotlib.colors import to_hex
    ax = profile_map(grid)
    mesh = ax.collections[0]
    b = int(np.flatnonzero(grid.labels == name)[0])
    face = to_hex(mesh.cmap(mesh.norm(mesh.get_array().reshape(21, 21).T.ravel()[b])))
    assert colours[0] == colours[1] == profile_colour(FOUR, name) == face.upper()


def test_profiles_differing_in_one_or_two_players_never_share_a_colour():
    profiles = list(itertools.product(*FOUR))
    colour = {p: profile_colour(FOUR, "/".join(p)) for p in profiles}
    for p, q in itertools.combinations(profiles, 2):
        if sum(a != b for a, b in zip(p, q)) <= 2:
            assert colour[p] != colour[q], (p, q)
    assert set(colour.values()) == set(style.PROFILE_COLOURS)


def test_strategy_colours_are_by_name_and_colour_blind_safe():
    assert strategy_colour(FOUR[2], "SEIZE") == style.STRATEGY_COLOURS[2]
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert set(style.STRATEGY_COLOURS) == okabe_ito
    tol_muted = {"#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99",
                 "#999933", "#AA4499"}
    assert set(style.PROFILE_COLOURS) == tol_muted


# ----------------------------------------------------------------------------- QRE, samples, games

def test_qre_family_of_curves(tmp_path):
    res = load_sweep(_sweep(tmp_path / "q", "singapore-summit", "--solver", "qre", "--lambda",
                            "0.5,1.5,4", "--vary", "halt_concession=0:4:9", "--backend", "numpy"))
    axes = probability_curves(res, outcomes=["NorthKorea=FREEZE", "NorthKorea=DENUC"])
    assert [ax.get_title() for ax in axes] == ["NorthKorea"]
    assert _legend_texts(axes[0]) == ["FREEZE", "DENUC"]
    fig = axes[0].figure
    assert [t.get_text() for t in fig.legends[0].get_texts()] == \
        ["lambda = 0.5", "lambda = 1.5", "lambda = 4"]
    assert len(axes[0].get_lines()) == 6 + 1          # 2 strategies x 3 lambdas, the scenario line
    freeze = axes[0].get_lines()[0].get_ydata()       # FREEZE at lambda 0.5, from the sweep
    s = load_scenario("singapore-summit")
    pts = np.repeat(s.point[None], 9, axis=0)
    pts[:, s.model.parameter_index("halt_concession")] = np.linspace(0, 4, 9)
    direct = logit_qre(s.model.payoffs(pts), 0.5, backend="numpy").profiles[:, 0, 10]
    np.testing.assert_allclose(freeze, direct, atol=1e-12)
    assert axes[0].get_ylabel() == "probability in the logit QRE"


def test_sample_is_binned_shares_not_a_scatter(tmp_path):
    res = load_sweep(_sweep(tmp_path / "s", "baseline-2018", "--sample", "sobol", "--n", "512",
                            "--params", "us_credibility,abandonment_fear", "--backend", "numpy"))
    axes = binned_shares(res, "us_credibility", outcomes=["China=SEIZE"], bins=8)
    ax = axes[0]
    assert not any(type(c).__name__ == "PathCollection" for c in ax.collections)   # no scatter
    every = ax.get_lines()[0]
    # Direct: the share of points per bin where SEIZE is in every pure equilibrium.
    mask = _direct(res).reshape(res.n_points, *load_model("four-power").shape)
    seize = mask[..., 2, :].any(axis=(1, 2, 3))
    only = ~mask[..., :2, :].any(axis=(1, 2, 3, 4)) & seize
    ok = mask.any(axis=(1, 2, 3, 4))
    edges = np.linspace(0.3, 0.95, 9)
    b = np.clip(np.searchsorted(edges, res.params[:, 0], side="right") - 1, 0, 7)
    want = [only[ok & (b == k)].mean() for k in range(8)]
    np.testing.assert_allclose(every.get_ydata(), want)
    assert "share of points in the bin (95% interval)" == axes[0].get_ylabel()
    assert "in every equilibrium" in _legend_texts(ax)


def test_qre_correspondence_marks_the_branch_point():
    m = load_model("chicken")
    res = logit_qre(m.payoffs(m.defaults), np.linspace(0, 2, 21), backend="numpy")
    axes = qre_correspondence(res, m.players, m.strategies, scenario="chicken")
    status = res.lambda_status[0]
    first = int(np.flatnonzero(status == 4)[0])
    diamonds = [ln for ln in axes[0].get_lines() if ln.get_marker() == "D"]
    assert len(diamonds) == 2 and all(ln.get_xdata()[0] == res.lambdas[first] for ln in diamonds)
    assert f"between lambda {res.lambdas[first - 1]:g} and {res.lambdas[first]:g}" in \
        axes[0].figure.get_suptitle()
    assert axes[0].get_xlabel().startswith("precision lambda")


def test_dynamics_figure_ternary_and_series():
    s = load_scenario("baseline-2018")
    fig = dynamics_figure(s.model.payoffs(s.point), s.model.players, s.model.strategies,
                          n_starts=3, seed=1)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["US", "Japan", "China", "NorthKorea"] * 2     # simplices, then time series
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(t.startswith("TRANS/SUPPORT/SLICE/FREEZE: stable") for t in legend)
    assert {t.get_text() for t in fig.axes[2].texts} >= {"HOLD", "SLICE", "SEIZE"}
    assert _render(fig)[:4] == b"\x89PNG"


def test_no_pyplot_state(grid):
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    outcome_maps(grid)
    assert plt.get_fignums() == before


# ----------------------------------------------------------------------------- the command line

def test_plot_options(tmp_path, grid):
    runner = CliRunner()
    out = tmp_path / "seize.pdf"
    res = runner.invoke(main, ["plot", grid.folder, "--outcome", "China=HOLD", "--title", "My title",
                               "--size", "6x5", "--dpi", "80", "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    assert out.read_bytes()[:5] == b"%PDF-"
    svg = tmp_path / "sets.svg"
    assert runner.invoke(main, ["plot", grid.folder, "--profiles", "-o", str(svg)]).exit_code == 0
    assert "TRANS/SUPPORT/SLICE/FREEZE" in svg.read_text()
    png = tmp_path / "japan.png"
    assert runner.invoke(main, ["plot", grid.folder, "--player", "Japan", "--size", "5x6",
                                "--dpi", "50", "-o", str(png)]).exit_code == 0
    from matplotlib.image import imread
    assert imread(png).shape[:2] == (300, 250)


@pytest.mark.parametrize("args, message", [
    (["--outcome", "China=SEIZ"], "did you mean 'SEIZE'"),
    (["--outcome", "Chna=SEIZE"], "did you mean 'China'"),
    (["--outcome", "China"], "expected PLAYER=STRATEGY"),
    (["--player", "Japn"], "did you mean 'Japan'"),
    (["--lambda", "2"], "not a QRE one"),
    (["--size", "big"], "expected WIDTHxHEIGHT"),
    (["--dpi", "1"], "between 10 and 2400"),
    (["--bins", "1"], "from 2 to 500"),
])
def test_plot_bad_options(grid, tmp_path, args, message):
    res = CliRunner().invoke(main, ["plot", grid.folder, *args, "-o", str(tmp_path / "x.png")])
    assert res.exit_code == 2 and message in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert not (tmp_path / "x.png").exists()


def test_run_plot(tmp_path):
    runner = CliRunner()
    qre = tmp_path / "qre.png"
    res = runner.invoke(main, ["run", "chicken", "--solver", "qre", "--lambda", "0:2:11",
                               "--plot", str(qre)])
    assert res.exit_code == 0, res.stderr
    assert qre.read_bytes()[:4] == b"\x89PNG" and f"wrote {qre}" in res.stderr
    dyn = tmp_path / "dyn.svg"
    res = runner.invoke(main, ["run", "matching-pennies", "--solver", "dynamics", "--starts", "3",
                               "--plot", str(dyn)])
    assert res.exit_code == 0, res.stderr
    assert "phase plane" in dyn.read_text()
    res = runner.invoke(main, ["run", "chicken", "--plot", str(tmp_path / "x.png")])
    assert res.exit_code == 2 and "--plot: draws --solver qre" in res.stderr
    assert res.stdout == "" and not (tmp_path / "x.png").exists()


# ----------------------------------------------------------------------------- reference image

def test_reference_figure(tmp_path, grid):
    """The Japan outcome map of a fixed sweep matches the committed image (RMS tolerance,
    so that small font-rendering differences pass and a changed colour, region or legend
    does not)."""
    import matplotlib
    from matplotlib.testing.compare import compare_images
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "text.hinting": "default",
                                "svg.hashsalt": "allysim"}):
        fig = plot_sweep(grid, players=["Japan"], size=(4.5, 5.5))
        actual = tmp_path / "outcome-map-japan.png"
        style.save_figure(fig, actual, dpi=60)
    expected = BASELINE / "outcome-map-japan.png"
    if os.environ.get("ALLYSIM_UPDATE_BASELINE"):
        expected.parent.mkdir(exist_ok=True)
        expected.write_bytes(actual.read_bytes())
    assert compare_images(str(expected), str(actual), tol=8) is None


# ----------------------------------------------------------------------------- worked examples

def _example_commands():
    import shlex
    text = (REPO / "docs" / "examples.md").read_text()
    lines = [ln[2:] for ln in text.splitlines() if ln.startswith("$ allysim ")]
    return text, [shlex.split(part) for ln in lines for part in ln.split(" && ")]


def test_examples_name_their_figures():
    """Every figure docs/examples.md shows is committed and written by one of its commands."""
    text, commands = _example_commands()
    shown = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", text)
    targets = {c[c.index(flag) + 1] for c in commands for flag in ("-o", "--plot")
               if flag in c and c[c.index(flag) + 1].startswith("docs/")}
    assert shown and {f"docs/{s}" for s in shown} == targets
    for s in shown:
        assert (REPO / "docs" / s).read_bytes()[:4] == b"\x89PNG", s


@pytest.mark.slow
def test_make_figures_regenerates_every_figure(tmp_path):
    import subprocess
    import sys
    script = REPO / "docs" / "make_figures.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO, env=env)
    assert res.returncode == 0, res.stderr
    text, _ = _example_commands()
    for s in re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", text):
        assert (tmp_path / Path(s).name).read_bytes()[:4] == b"\x89PNG"
