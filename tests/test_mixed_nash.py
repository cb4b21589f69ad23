"""Mixed Nash equilibria of n-player games (the certified search) and subgames.

Oracle: pygambit's ``enumpoly_solve`` (support enumeration with polynomial
solving) on the four-power scenarios, random 3- and 4-player games and the
3-player game of Nau et al. (2004) from ``pygambit.catalog``. Every pygambit
equilibrium must be found; equilibria allysim finds beyond pygambit's are
checked with pygambit's own regret (enumpoly misses some). Generic games have
an odd number of equilibria (Wilson 1971), which the search nearly always
reproduces; the test reports rather than hides the exceptions.
"""
from __future__ import annotations

import warnings

import numpy as np
import pygambit as gbt
import pytest
from click.testing import CliRunner

from allysim import DegenerateGameWarning, list_scenarios, load_scenario
from allysim.cli import main
from allysim.game import Game
from allysim.solve import payoff_scale
from allysim.solve import (STATUS, mixed_nash, pure_nash, status_names, support_enumeration,
                           verify)
from allysim.solve._seed import as_generator
from allysim.solve.mixed_nash import START_KINDS
from tests.strategies import random_games

SEED = 2018  # the Singapore summit


def solve(u, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = mixed_nash(u, **kw)
    return res, [w for w in caught if issubclass(w.category, DegenerateGameWarning)]


def gambit_enumpoly(u: np.ndarray) -> tuple[np.ndarray, gbt.Game]:
    game = gbt.Game.from_arrays(*u)
    res = gbt.nash.enumpoly_solve(game)
    eqs = [[float(e[s]) for p in game.players for s in p.strategies] for e in res.equilibria]
    return np.array(eqs, dtype=float).reshape(-1, sum(u.shape[1:])), game


def gambit_max_regret(game: gbt.Game, sigma: np.ndarray) -> float:
    shape = [len(p.strategies) for p in game.players]
    blocks = np.split(sigma, np.cumsum(shape)[:-1])
    return float(game.mixed_strategy_profile([b.tolist() for b in blocks]).max_regret())


def compare_with_enumpoly(u: np.ndarray, ours: np.ndarray):
    """(pygambit's count, missing from ours, extra in ours, pygambit's non-equilibria).

    Extras must be equilibria by pygambit's own regret. enumpoly accepts a
    point whose regret is up to ``maxregret`` (1e-4) times the payoff range;
    such points with a regret above 1e-7 are not Nash equilibria and are
    counted apart, not as missing."""
    theirs, game = gambit_enumpoly(u)
    exact = np.array([gambit_max_regret(game, e) <= 1e-7 for e in theirs], dtype=bool)
    missing = [e for e in theirs[exact] if not (np.abs(ours - e).max(axis=1) <= 1e-6).any()]
    extra = [e for e in ours if not len(theirs) or not (np.abs(theirs - e).max(axis=1) <= 1e-6).any()]
    for e in extra:
        assert gambit_max_regret(game, e) <= 1e-7
    return len(theirs), len(missing), len(extra), int((~exact).sum())


def _catalog(slug):
    return np.array(gbt.catalog.load(slug).to_arrays(dtype=float), dtype=float)


# ---------------------------------------------------------------------------
# textbook and catalog games
# ---------------------------------------------------------------------------

def test_nau_three_player_game_with_a_unique_irrational_equilibrium():
    u = _catalog("journals/ijgt/nau2004/sec4")
    res, warned = solve(u[None])
    assert res.method == "search" and not warned
    assert res.count[0] == 1 and status_names(res.status)[0] == "ok" and res.regular[0, 0]
    theirs, _ = gambit_enumpoly(u)
    np.testing.assert_allclose(res.equilibria(0), theirs, atol=1e-9)
    assert res.regret[0, 0] <= 1e-12


@pytest.mark.parametrize("slug", ["journals/ijgt/nau2004/sec5", "journals/ijgt/nau2004/sec6"])
def test_catalog_games_with_a_continuum_are_reported_as_degenerate(slug):
    # sec5: a continuum of completely mixed equilibria; sec6: a continuum in the
    # interior of the correlated equilibrium polytope. enumpoly does not finish on them.
    u = _catalog(slug)
    res, warned = solve(u[None])
    assert status_names(res.status)[0] == "degenerate" and warned
    assert res.continuum[0] and not res.regular[0, :res.count[0]].all()
    eq = res.equilibria(0)
    assert verify(np.repeat(u[None], len(eq), 0), eq, res.parameters["tol"]).all()
    # Points of one continuum share a component label.
    comp = res.component[0, :res.count[0]]
    assert len(set(comp.tolist())) < len(comp)


def test_two_player_textbook_games_go_to_support_enumeration():
    pennies = np.array([[[1., -1], [-1, 1]], [[-1., 1], [1, -1]]])
    res, _ = solve(pennies[None])
    assert res.method == "support_enumeration" and res.complete[0]
    np.testing.assert_allclose(res.equilibria(0), [[.5, .5, .5, .5]])
    assert res.searched["support_pairs"][0] == 5 and res.converged["support_pairs"][0] == 1


# ---------------------------------------------------------------------------
# the four-power scenarios and random games against pygambit enumpoly
# ---------------------------------------------------------------------------

def test_four_power_scenarios_against_pygambit_enumpoly():
    totals = {"gambit": 0, "ours": 0, "missing": 0, "extra": 0}
    for name in list_scenarios():
        s = load_scenario(name)
        u = s.model.payoffs(s.point)
        res, _ = solve(u)
        n, miss, extra, inexact = compare_with_enumpoly(u[0], res.equilibria(0))
        assert inexact == 0
        totals["gambit"] += n
        totals["ours"] += int(res.count[0])
        totals["missing"] += miss
        totals["extra"] += extra
        assert miss == 0, name
        assert (res.regret[0, :res.count[0]] <= res.parameters["tol"] * payoff_scale(u)[0]).all()
        # The pure equilibria are among them.
        pure = pure_nash(u).count[0]
        assert res.converged["pure"][0] == pure
    assert totals == {"gambit": 30, "ours": 30, "missing": 0, "extra": 0}


def test_singapore_summit_has_mixed_equilibria_only():
    s = load_scenario("singapore-summit")
    u = s.model.payoffs(s.point)
    assert pure_nash(u).count[0] == 0
    res, _ = solve(u)
    assert res.count[0] == 5 and status_names(res.status)[0] == "ok"
    eq = res.equilibria(0)
    assert not ((eq == 0) | (eq == 1)).all(axis=1).any()
    assert res.searched["qre"][0] == 1 and res.converged["qre"][0] == 1


def _random_check(shapes, per_shape, seed):
    """Random float games; returns totals over the shapes."""
    rng = np.random.default_rng(seed)
    tot = {"games": 0, "gambit": 0, "ours": 0, "missing": 0, "extra": 0, "even": 0,
           "gambit_not_nash": 0}
    for shape in shapes:
        U = random_games(rng, per_shape, shape, integer=False, low=-5, high=5)
        res, _ = solve(U, seed=seed)
        assert (res.status == STATUS["ok"]).all()
        for b in range(per_shape):
            n, miss, extra, inexact = compare_with_enumpoly(U[b], res.equilibria(b))
            tot["gambit_not_nash"] += inexact
            tot["gambit"] += n
            tot["missing"] += miss
            tot["extra"] += extra
        tot["games"] += per_shape
        tot["ours"] += int(res.count.sum())
        tot["even"] += int((res.count % 2 == 0).sum())
    return tot


def test_random_three_and_four_player_games_against_pygambit_enumpoly():
    tot = _random_check([(2, 2, 2), (2, 2, 3), (3, 3, 2), (2, 2, 2, 2)], 12, SEED)
    print(tot)
    assert tot["games"] == 48 and tot["missing"] == 0
    assert tot["ours"] >= tot["gambit"] - tot["gambit_not_nash"] > 48
    assert tot["even"] <= 2          # Wilson's oddness: the search is (nearly) complete here


@pytest.mark.slow
def test_many_random_games_against_pygambit_enumpoly():
    tot = _random_check([(2, 2, 2), (2, 2, 3), (3, 3, 2), (3, 3, 3), (2, 2, 2, 2)], 60, SEED + 1)
    print(tot)
    assert tot["games"] == 300 and tot["missing"] == 0
    assert tot["even"] <= 0.05 * tot["games"]


@pytest.mark.slow
def test_four_power_random_points_against_pygambit_enumpoly():
    from allysim import load_model
    from tests.strategies import random_points
    m = load_model("four-power")
    U = m.payoffs(random_points(m, np.random.default_rng(SEED + 2), 40))
    res, _ = solve(U)
    missing = 0
    for b in range(len(U)):
        missing += compare_with_enumpoly(U[b], res.equilibria(b))[1]
    assert missing == 0


# ---------------------------------------------------------------------------
# subgames: --fix reduces the four-power game to two players
# ---------------------------------------------------------------------------

def test_fixing_china_and_north_korea_gives_the_us_japan_alliance_game():
    s = load_scenario("baseline-2018")
    game = Game.from_model(s.model, s.point).restrict({"China": "SLICE", "NorthKorea": "FREEZE"})
    res, _ = solve(game.payoffs)
    assert res.method == "support_enumeration" and res.complete[0]
    two = support_enumeration(game.payoffs[:, :2].reshape(1, 2, 3, 3))
    eq = res.equilibria(0)
    np.testing.assert_array_equal(eq[:, :6], two.equilibria(0))
    np.testing.assert_array_equal(eq[:, 6:], 1.0)
    assert verify(np.repeat(game.payoffs, len(eq), 0), eq, res.parameters["tol"]).all()


def test_singapore_us_japan_subgame_at_each_china_north_korea_profile():
    # A batch of the nine US-Japan subgames equals solving each alone.
    s = load_scenario("singapore-summit")
    full = Game.from_model(s.model, s.point)
    subs = [full.restrict({"China": c, "NorthKorea": k}).payoffs
            for c in full.strategies[2] for k in full.strategies[3]]
    batch, _ = solve(np.concatenate(subs))
    assert batch.method == "support_enumeration"
    for b, u in enumerate(subs):
        alone, _ = solve(u)
        np.testing.assert_array_equal(batch.equilibria(b), alone.equilibria(0))
        assert batch.status[b] == alone.status[0]


def test_fixing_one_player_leaves_a_three_player_search():
    s = load_scenario("singapore-summit")
    game = Game.from_model(s.model, s.point).restrict({"NorthKorea": "PROVOKE"})
    res, _ = solve(game.payoffs)
    assert res.method == "search"
    n, miss, _, _ = compare_with_enumpoly(game.payoffs[0], res.equilibria(0))
    assert miss == 0 and res.count[0] >= n


# ---------------------------------------------------------------------------
# seeds, batches, permutations, search bookkeeping
# ---------------------------------------------------------------------------

def test_seed_makes_the_search_reproducible_and_leaves_global_state_alone():
    rng = np.random.default_rng(SEED + 3)
    U = random_games(rng, 4, (2, 3, 2), integer=False)
    state = np.random.get_state()[1].copy()
    a, _ = solve(U, seed=7)
    b, _ = solve(U, seed=7)
    c, _ = solve(U, seed=np.random.SeedSequence(7))
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    np.testing.assert_array_equal(a.profiles, b.profiles)
    np.testing.assert_array_equal(a.profiles, c.profiles)
    for kind in a.searched:
        np.testing.assert_array_equal(a.searched[kind], b.searched[kind])
    assert a.parameters["seed"] == 7


@pytest.mark.parametrize("seed", [-1, 1.5, "x", True])
def test_bad_seed_is_a_type_error(seed):
    with pytest.raises(TypeError, match=r"mixed_nash\(\): seed must be"):
        mixed_nash(np.zeros((1, 3, 2, 2, 2)), seed=seed)


def test_as_generator_passes_a_generator_through():
    g = np.random.default_rng(3)
    assert as_generator(g, "f") is g


def test_a_batch_equals_a_loop():
    rng = np.random.default_rng(SEED + 4)
    U = np.round(random_games(rng, 6, (2, 2, 3), integer=False), 2)
    batch, _ = solve(U, seed=1)
    for b in range(len(U)):
        alone, _ = solve(U[b:b + 1], seed=1)
        # Bit for bit: of several starts reaching one equilibrium the least batch-dependent
        # one is kept, so the digits do not depend on the other games.
        np.testing.assert_array_equal(batch.equilibria(b), alone.equilibria(0))
        assert batch.status[b] == alone.status[0]


def test_permuting_players_and_strategies_permutes_equilibria():
    rng = np.random.default_rng(SEED + 5)
    U = np.round(random_games(rng, 5, (2, 3, 2), integer=False), 2)
    base, _ = solve(U)
    # Players in the order (2, 0, 1); the middle player's strategies reversed.
    P = U[:, [2, 0, 1]].transpose(0, 1, 4, 2, 3)[:, :, :, ::-1]
    perm, _ = solve(P)
    for b in range(len(U)):
        eq = base.equilibria(b)
        want = np.concatenate([eq[:, 5:7], eq[:, 0:2][:, ::-1], eq[:, 2:5]], axis=1)
        got = perm.equilibria(b)
        assert len(got) == len(want)
        for e in want:
            assert (np.abs(got - e).max(axis=1) <= 1e-8).any()


def test_search_bookkeeping():
    rng = np.random.default_rng(SEED + 6)
    U = random_games(rng, 3, (2, 2, 2), integer=False)
    res, _ = solve(U, n_random=5, support_starts=2)
    assert set(START_KINDS) <= set(res.searched)
    assert (res.searched["random"] == 5).all()
    assert (res.searched["supports"] == 2 * (27 - res.searched["supports_pruned"])).all()
    for kind in START_KINDS:
        assert (res.converged[kind] <= res.searched[kind]).all()
    assert (res.count <= sum(res.converged[k] for k in START_KINDS)).all()
    # Without supports or random starts, pure and QRE starts still find something.
    lean, _ = solve(U, n_random=0, max_supports=0)
    assert (lean.searched["supports"] == 0).all() and any("max_supports" in n for n in lean.notes)
    assert (lean.count >= 1).all()


def test_qre_starts_fall_back_when_the_qre_module_fails(monkeypatch):
    import importlib
    lq = importlib.import_module("allysim.solve.logit_trace")   # the module, not the function

    def broken(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr(lq, "logit_trace", broken)
    u = _catalog("journals/ijgt/nau2004/sec4")[None]
    res, _ = solve(u)
    assert res.count[0] == 1 and (res.searched["qre"] == 0).all()
    assert any("logit_trace failed" in n for n in res.notes)


def test_tie_heavy_games_warn_and_keep_going():
    rng = np.random.default_rng(SEED + 7)
    U = random_games(rng, 8, (2, 2, 2), integer=True, low=0, high=1)
    res, warned = solve(U)
    assert (res.count >= 1).all()
    degenerate = res.status == STATUS["degenerate"]
    assert degenerate.any() and bool(warned) == degenerate.any()
    for b in range(len(U)):
        eq = res.equilibria(b)
        assert verify(np.repeat(U[b:b + 1], len(eq), 0), eq, res.parameters["tol"]).all()


def test_all_zero_game_is_degenerate_not_a_crash():
    res, warned = solve(np.zeros((1, 3, 2, 2, 2)))
    assert status_names(res.status)[0] == "degenerate" and warned and res.count[0] >= 1


@pytest.mark.parametrize("kw,match", [
    ({"tol": -1.0}, r"tol must be a finite number >= 0"),
    ({"n_random": -1}, r"n_random must be an integer >= 0"),
    ({"max_supports": 1.5}, r"max_supports must be an integer >= 0"),
    ({"support_starts": 0}, r"support_starts must be an integer >= 1"),
])
def test_bad_settings_raise_value_error(kw, match):
    with pytest.raises(ValueError, match=match):
        mixed_nash(np.zeros((1, 3, 2, 2, 2)), **kw)


# ---------------------------------------------------------------------------
# the CLI
# ---------------------------------------------------------------------------

def _run(*args):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def test_cli_singapore_summit_mixed_answers_without_pure_equilibria():
    import json
    out = _run("run", "singapore-summit", "--solver", "mixed")
    assert "Mixed Nash equilibria: 5" in out and "status ok" in out and "starts tried" in out
    rep = json.loads(_run("run", "singapore-summit", "--solver", "mixed", "--json"))["results"][0]
    assert rep["solution_concept"] == "NE (mixed)" and rep["count"] == 5
    assert set(rep) >= {"status", "method", "searched", "equilibria"}
    eq = rep["equilibria"][0]
    assert set(eq["probabilities"]) == {"US", "Japan", "China", "NorthKorea"}
    assert abs(sum(eq["probabilities"]["Japan"].values()) - 1) < 1e-12
    assert max(eq["regret"].values()) <= rep["parameters"]["tol"] * payoff_scale(
        load_scenario("singapore-summit").model.payoffs(load_scenario("singapore-summit").point))[0]


def test_cli_fixed_subgame_uses_support_enumeration():
    import json
    rep = json.loads(_run("run", "baseline-2018", "--fix", "China=SLICE", "--fix", "NorthKorea=FREEZE",
                          "--solver", "mixed", "--json"))["results"][0]
    assert rep["method"].startswith("support enumeration") and rep["complete"]
    assert rep["equilibria"][0]["probabilities"]["China"] == {"SLICE": 1.0}
    out = _run("run", "baseline-2018", "--fix", "China=SLICE", "--fix", "NorthKorea=FREEZE",
               "--solver", "mixed")
    assert "support pairs solved" in out and "every equilibrium" in out


def test_cli_degenerate_two_player_game_reports_the_continuum(tmp_path):
    model = tmp_path / "flat.toml"
    model.write_text('name = "flat"\ndescription = "x"\ncitation = "x"\n'
                     '[[players]]\nname = "A"\nstrategies = ["X", "Y"]\n'
                     '[[players]]\nname = "B"\nstrategies = ["L", "R"]\n'
                     '[parameters]\nc = { default = 1, range = [0, 2], description = "x" }\n'
                     '[payoffs]\nA = "c * (B == \'L\')"\nB = "c * (B == \'L\')"\n')
    out = _run("run", str(model), "--solver", "mixed")
    assert "status degenerate" in out and "continuum" in out


# ---------------------------------------------------------------------------
# sweeps: allysim sweep --solver mixed
# ---------------------------------------------------------------------------

def _sweep(folder, chunk, jobs=1, store="full"):
    from allysim.sweep import SweepSpec, engine, grid_design, run_sweep
    from allysim.sweep import store as st
    s = load_scenario("singapore-summit")
    design = grid_design(s.model, s.point, ["deal_value=0:5:4", "abandonment_fear=0:10:3"], seed=0)
    spec = SweepSpec(s.model.source, "four-power.toml", design, "mixed", {}, store, chunk,
                     {"name": s.name}, "csv")
    st.prepare(folder, overwrite=False)
    engine.write_plan(folder, spec, ["test"])
    run = run_sweep(spec, out=folder, jobs=jobs)
    with np.load(folder / "results.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    csv = (folder / "equilibria.csv").read_bytes() if store == "full" else b""
    return run, arrays, csv


def test_mixed_sweep_is_independent_of_chunking_and_matches_the_solver(tmp_path):
    run, a, csv = _sweep(tmp_path / "a", chunk=12)
    _, b, csv2 = _sweep(tmp_path / "b", chunk=5, jobs=2)
    assert csv == csv2 and a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert run.n_points == 12 and any("NE (mixed)" in line for line in run.summary)
    # Each point's rows are mixed_nash's equilibria at that point.
    s = load_scenario("singapore-summit")
    points = np.repeat(np.asarray(s.point, dtype=float)[None], 12, axis=0)
    for j, name in enumerate(a["param_names"]):
        points[:, s.model.parameter_names.index(str(name))] = a["params"][:, j]
    res, _ = solve(s.model.payoffs(points), seed=0)
    np.testing.assert_array_equal(a["count"], res.count)
    for p in range(12):
        np.testing.assert_array_equal(a["eq_prob"][a["eq_point"] == p], res.equilibria(p))
    header = csv.decode().splitlines()[0].split(",")
    assert "P(China=SEIZE)" in header and header[1] == "solution_concept"
    assert csv.decode().splitlines()[1].split(",")[1] == "NE (mixed)"


def test_mixed_sweep_rejects_lambda():
    from allysim.concepts import get_concept
    from allysim.errors import AllysimError
    with pytest.raises(AllysimError, match="--lambda: does not apply to --solver mixed"):
        get_concept("mixed").resolve({"lambda": 1.5}, load_scenario("baseline-2018").model.players)
