"""The n-player search's new start kinds and the components of degenerate games (issue 14).

Oracles: pygambit's ``gnm_solve`` (global Newton, one ray) and ``enumpoly_solve``,
QuantEcon's ``polym_lcp_solver`` (Howson's algorithm on polymatrix games) and its
``.gam`` reader. The test games are the peers' own (``tests/data``, see its README;
Nau 2004 and Selten 1975 from ``pygambit.catalog``).

What allysim guarantees for components (``allysim.solve._components``): every
listed point is certified; points with one label are joined by a walked path of
equilibria; a component the search landed on is listed once, by the extreme points
its walk reached. enumpoly lists points per support profile, so on a continuum it
lists some vertices and misses others; the tests check that every enumpoly
equilibrium lies in a component allysim reports (walking allysim's points together
with enumpoly's finds no new component) and pin allysim's own counts.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pygambit as gbt
import pytest
import quantecon.game_theory as qe

from allysim.io.gam import parse_gam, read_gam
from allysim.solve import STATUS, mixed_nash, verify
from allysim.solve import _components, _global_newton, _polymatrix
from allysim.solve.mixed_nash import _scaled
from tests.oracles import gambit_game, gambit_mixed
from tests.strategies import random_games

DATA = Path(__file__).parent / "data"
SEED = 14


def solve(u, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mixed_nash(u, **kw)


def profiles(eqs, game) -> np.ndarray:
    S = sum(len(p.strategies) for p in game.players)
    return np.array([[float(e[s]) for p in game.players for s in p.strategies] for e in eqs],
                    dtype=float).reshape(-1, S)


def contains(ours: np.ndarray, theirs: np.ndarray, atol=1e-6) -> np.ndarray:
    """Which of ``theirs`` are within ``atol`` of one of ``ours``."""
    if len(ours) == 0:
        return np.zeros(len(theirs), dtype=bool)
    return np.array([(np.abs(ours - t).max(axis=1) <= atol).any() for t in theirs], dtype=bool)


def efg_arrays(name: str) -> np.ndarray:
    return np.array(gbt.read_efg(str(DATA / name)).to_arrays(dtype=float), dtype=float)


def catalog_arrays(slug: str) -> np.ndarray:
    return np.array(gbt.catalog.load(slug).to_arrays(dtype=float), dtype=float)


# ---------------------------------------------------------------------------
# the .gam reader
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["big_polym", "triggers_back_case"])
def test_gam_reader_agrees_with_quantecon(name):
    u = read_gam(DATA / f"{name}.gam")
    theirs = qe.from_gam(str(DATA / f"{name}.gam"))
    n = u.shape[0]
    assert u.shape == (5, 4, 4, 4, 4, 4)
    for i in range(n):   # QuantEcon: own action first, the others cyclically after it
        np.testing.assert_array_equal(np.transpose(u[i], [(i + k) % n for k in range(n)]),
                                      theirs.players[i].payoff_array)


@pytest.mark.parametrize("text,match", [("", "not a .gam"), ("2 2", "bad header"),
                                        ("2 2 2 1 2 3", "expected 8 payoffs")])
def test_gam_reader_rejects_bad_text(text, match):
    with pytest.raises(ValueError, match=match):
        parse_gam(text)


# ---------------------------------------------------------------------------
# polymatrix games: exact detection, complete enumeration
# ---------------------------------------------------------------------------

def random_polymatrix(rng, B, shape, extra=True):
    """B polymatrix games; ``extra`` adds, to each player's payoff, a random function of
    two *other* players' strategies (it changes no incentive)."""
    n = len(shape)
    u = np.zeros((B, n) + tuple(shape))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            m = rng.normal(size=(B, shape[i], shape[j]))
            u[:, i] += m.reshape((B,) + tuple(shape[k] if k in (i, j) else 1 for k in range(n)))
        if extra and n >= 3:
            j, k = [a for a in range(n) if a != i][:2]
            f = rng.normal(size=(B, shape[j], shape[k]))
            u[:, i] += f.reshape((B,) + tuple(shape[a] if a in (j, k) else 1 for a in range(n)))
    return u


def test_polymatrix_detection_is_exact():
    rng = np.random.default_rng(SEED)
    poly = random_polymatrix(rng, 6, (2, 3, 2, 2))
    is_poly, A, residual = _polymatrix.pairwise_matrices(poly)
    assert is_poly.all() and (residual <= 1e-14).all()
    # The values are linear: A sigma equals the strategy values up to one constant per player.
    from allysim.solve import strategy_values
    sigma = np.concatenate([rng.dirichlet(np.ones(s), size=6) for s in (2, 3, 2, 2)], axis=1)
    v = np.concatenate(strategy_values(poly, sigma), axis=1)
    diff = v - np.einsum("bkl,bl->bk", A, sigma)
    for lo, hi in [(0, 2), (2, 5), (5, 7), (7, 9)]:
        assert np.ptp(diff[:, lo:hi], axis=1).max() <= 1e-12
    # A three-way interaction of 1e-9 of the payoff range is not polymatrix.
    bumped = poly.copy()
    bumped[:, 0, 0, 0, 0, 0] += 1e-9 * np.ptp(poly)
    assert not _polymatrix.pairwise_matrices(bumped)[0].any()
    generic = random_games(rng, 5, (2, 2, 2), integer=False)
    assert not _polymatrix.pairwise_matrices(generic)[0].any()
    for name in ("big_polym", "triggers_back_case"):
        assert _polymatrix.pairwise_matrices(read_gam(DATA / f"{name}.gam")[None])[0].all()


def test_polymatrix_enumeration_is_complete_on_random_polymatrix_games():
    # Every equilibrium pygambit's enumpoly or gnm finds is found, every other one
    # passes pygambit's own regret, and the counts are odd (Wilson 1971: nondegenerate
    # games). enumpoly alone misses the only equilibrium of one of these games.
    rng = np.random.default_rng(SEED + 1)
    missed_by_enumpoly = 0
    for shape, B in [((3, 2, 2), 6), ((2, 3, 2, 2), 4)]:
        U = random_polymatrix(rng, B, shape)
        res = solve(U, n_random=0, n_rays=0, max_supports=0)      # the polymatrix kind alone
        assert res.complete.all() and (res.status == STATUS["ok"]).all() and (res.count % 2 == 1).all()
        assert (res.searched["polymatrix"] + res.searched["polymatrix_pruned"]
                == _polymatrix.count_profiles(shape)).all()
        for b in range(B):
            game = gambit_game(U[b])
            enumpoly = profiles(gbt.nash.enumpoly_solve(game).equilibria, game)
            gnm = profiles(gbt.nash.gnm_solve(game).equilibria, game)
            ours = res.equilibria(b)
            assert contains(ours, enumpoly).all() and contains(ours, gnm).all(), b
            missed_by_enumpoly += len(ours) - len(enumpoly)
            for e in ours:
                assert gambit_mixed(U[b], e)[3] <= 1e-12
    assert missed_by_enumpoly >= 1


def test_big_polym_yields_every_equilibrium_gnm_finds():
    u = read_gam(DATA / "big_polym.gam")
    game = gambit_game(u)
    theirs = profiles(gbt.nash.gnm_solve(game).equilibria, game)
    assert len(theirs) == 15
    res = solve(u[None])
    ours = res.equilibria(0)
    assert contains(ours, theirs).all()
    # Every support profile solved or pruned, none singular: all 17 equilibria.
    assert res.count[0] == 17 and res.complete[0] and res.status[0] == STATUS["ok"]
    assert res.searched["polymatrix"][0] + res.searched["polymatrix_pruned"][0] == 15 ** 5
    assert verify(np.repeat(u[None], 17, 0), ours, res.parameters["tol"]).all()
    assert max(float(game.mixed_strategy_profile(
        [e[a:b].tolist() for a, b in zip(range(0, 20, 4), range(4, 21, 4))]).max_regret())
        for e in ours) <= 1e-9
    # The global Newton kind alone (8 rays) reaches all 17 too.
    assert res.converged["gnm"][0] >= 17 and res.searched["gnm_unfinished"][0] == 0
    gnm_only = solve(u[None], n_random=0, max_polymatrix_supports=0, max_supports=0)
    assert gnm_only.count[0] == 17 and not gnm_only.complete[0]


def test_triggers_back_case_yields_quantecons_equilibrium():
    u = read_gam(DATA / "triggers_back_case.gam")
    nfg = qe.from_gam(str(DATA / "triggers_back_case.gam"))
    lcp = np.concatenate(qe.polym_lcp_solver(qe.PolymatrixGame.from_nf(nfg)))
    game = gambit_game(u)
    gnm = profiles(gbt.nash.gnm_solve(game).equilibria, game)
    res = solve(u[None], n_random=0)
    ours = res.equilibria(0)
    assert contains(ours, lcp[None]).all() and contains(ours, gnm).all()
    assert res.count[0] == 41 and res.complete[0]


# ---------------------------------------------------------------------------
# global Newton paths
# ---------------------------------------------------------------------------

def test_global_newton_paths_cross_an_odd_number_of_times():
    # A generic path enters at lam = +inf and leaves at lam = -inf: it crosses lam = 0 an
    # odd number of times (the index theorem), each crossing a certified equilibrium.
    rng = np.random.default_rng(SEED + 2)
    for shape in [(2, 2, 2), (3, 2, 2), (2, 2, 2, 2)]:
        U = random_games(rng, 6, shape, integer=False)
        g = _global_newton.rays(np.random.default_rng(0), 4, shape)
        res = _global_newton.trace(_scaled(U), g)
        assert res.finished.all()
        per_path = np.bincount(res.path, minlength=len(U) * len(g))
        assert (per_path % 2 == 1).all()
        assert verify(U[res.game], res.sigma, 1e-8).all()


def test_global_newton_finds_what_pygambit_gnm_and_simpdiv_find():
    rng = np.random.default_rng(SEED + 3)
    U = random_games(rng, 8, (2, 3, 2), integer=False)
    res = solve(U, n_random=0, max_supports=0, max_polymatrix_supports=0)   # pure, qre, gnm
    for b in range(len(U)):
        game = gambit_game(U[b])
        theirs = profiles(gbt.nash.gnm_solve(game).equilibria, game)
        assert contains(res.equilibria(b), theirs).all(), b
        # Simplicial subdivision from the centroid: an approximate equilibrium (regret
        # <= 1e-8 of the payoff range), within 1e-4 of one of ours.
        start = game.mixed_strategy_profile(rational=True)
        approx = profiles(gbt.nash.simpdiv_solve(start).equilibria, game)
        assert contains(res.equilibria(b), approx, atol=1e-4).all(), b


def test_new_kinds_keep_a_batch_equal_to_a_loop():
    rng = np.random.default_rng(SEED + 4)
    U = np.concatenate([random_polymatrix(rng, 2, (2, 2, 3)), np.round(random_games(rng, 2, (2, 2, 3)), 2)])
    batch = solve(U, seed=3)
    for b in range(len(U)):
        alone = solve(U[b:b + 1], seed=3)
        np.testing.assert_array_equal(batch.equilibria(b), alone.equilibria(0))
        for kind in ("gnm", "polymatrix"):
            assert batch.searched[kind][b] == alone.searched[kind][0]
        assert batch.complete[b] == alone.complete[0]
    assert batch.complete[:2].all() and not batch.complete[2:].any()


@pytest.mark.parametrize("kw,match", [({"n_rays": -1}, "n_rays must be"),
                                      ({"max_polymatrix_supports": 0.5}, "max_polymatrix_supports must be"),
                                      ({"max_component_points": -2}, "max_component_points must be")])
def test_bad_new_settings_raise_value_error(kw, match):
    with pytest.raises(ValueError, match=match):
        mixed_nash(np.zeros((1, 3, 2, 2, 2)), **kw)


# ---------------------------------------------------------------------------
# components of degenerate games
# ---------------------------------------------------------------------------

# game -> (components, listed points, dimensions sorted, enumpoly's count); allysim's own
# counts, checked by hand for Nau sec5 (below) and against enumpoly's points for all.
COMPONENTS = {
    "nau2004/sec5": (2, 5, [0, 1], 3),
    "selten1975/fig1": (2, 4, [1, 1], 2),
    "selten1975/fig3": (3, 7, [0, 1, 2], 3),
    "e05.efg": (2, 3, [0, 1], 2),
    "e06.efg": (2, 5, [0, 2], 3),
    "e08.efg": (3, 6, [0, 1, 2], 5),
    "3_player.efg": (1, 5, [2], 3),
    "3_player_with_nonterm_outcomes.efg": (1, 5, [2], 3),
    "3_player_perfect_info_1_move_each.efg": (1, 11, [5], 11),
    "el_farol_bar.efg": (32, 51, [0] * 31 + [1], 51),
}
SLOW_COMPONENTS = {
    "jury_un.efg": (3, 32, [0, 1, 6], 26),
    "condjury.efg": (9, 15, [0] * 7 + [1, 1], 15),
    "jury_mr.efg": (9, 15, [0] * 7 + [1, 1], 15),
    "e09.efg": (3, 18, [1, 1, 5], 14),
    "3_player_PI_2_dev_off_eq_path.efg": (1, 26, [8], 26),
    "3_player_PI_2_dev_off_eq_path_strict_dom_for_p1.efg": (1, 25, [8], 25),
}


def test_e06_component_by_hand():
    # Player 1's first strategy pays 1 whatever happens; with it the others are
    # indifferent, and it stays best while player 3's second strategy has probability
    # r at most 1 / 2.1 (2.1 r <= 1 and 2 r - 0.1 (1 - r) <= 1). So a rectangle: player
    # 2's mix free times r in [0, 1/2.1], dimension 2, four corners.
    u = efg_arrays("e06.efg")
    res = solve(u[None])
    r = 1 / 2.1
    corners = np.array([[1, 0, 0, q, 1 - q, 1 - s, s] for q in (0, 1) for s in (0, r)], dtype=float)
    eq = res.equilibria(0)
    hit = np.array([np.argmin(np.abs(eq - c).max(axis=1)) for c in corners])
    assert np.abs(eq[hit] - corners).max() <= 1e-9
    lab = res.component[0, hit]
    assert (lab == lab[0]).all() and (res.component[0, :res.count[0]] == lab[0]).sum() == 4
    assert res.component_dimension[0, lab[0]] == 2


def component_game(name):
    if "/" in name:
        return catalog_arrays("journals/ijgt/" + name)
    return efg_arrays(name)


def check_components(name, expected):
    u = component_game(name)
    res = solve(u[None])
    n, listed, dims, n_enumpoly = expected
    ours = res.equilibria(0)
    nc = int(res.n_components[0])
    assert res.status[0] == STATUS["degenerate"] and res.continuum[0] == (max(dims) >= 1)
    assert (nc, len(ours)) == (n, listed), name
    assert sorted(res.component_dimension[0, :nc].tolist()) == dims
    assert verify(np.repeat(u[None], len(ours), 0), ours, res.parameters["tol"]).all()
    labels = res.component[0, :len(ours)]
    assert sorted(set(labels.tolist())) == list(range(nc))
    # Labels by first appearance in canonical order; the representative is that first point.
    assert (np.maximum.accumulate(labels) == np.maximum.accumulate(labels)).all()
    np.testing.assert_array_equal(labels[res.component_representative[0, :nc]], np.arange(nc))
    # Every enumpoly equilibrium lies in a component found: walking allysim's points
    # together with enumpoly's finds no new component.
    game = gambit_game(u)
    theirs = profiles(gbt.nash.enumpoly_solve(game).equilibria, game)
    assert len(theirs) == n_enumpoly
    both = _components.walk(u, np.concatenate([ours, theirs]), res.parameters["tol"])
    assert both.label.max() + 1 == nc
    return res


@pytest.mark.parametrize("name", list(COMPONENTS))
def test_each_component_is_reported_once(name):
    check_components(name, COMPONENTS[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW_COMPONENTS))
def test_each_component_is_reported_once_slow(name):
    check_components(name, SLOW_COMPONENTS[name])


def test_nau_sec5_components_by_hand():
    # Players' probabilities of their first strategy p, q, r. Indifference of players 1
    # and 2 forces r = 1/4 wherever they mix; player 3's forces 2pq = 3(1-p)(1-q): a
    # curve from (p, q) = (1, 0) to (0, 1). At its ends player 3 is indifferent, and
    # r runs from 1/4 up to 1 while the other keeps its pure strategy. So one component
    # of dimension 1: curve, two segments, two pure ends; and the pure (2, 2, 2), alone.
    u = catalog_arrays("journals/ijgt/nau2004/sec5")
    res = solve(u[None])
    eq = res.equilibria(0)
    want = np.array([[1, 0, 0, 1, 1, 0], [1, 0, 0, 1, .25, .75], [0, 1, 1, 0, 1, 0],
                     [0, 1, 1, 0, .25, .75], [0, 1, 0, 1, 0, 1]], dtype=float)
    assert len(eq) == 5 and contains(eq, want, atol=1e-7).all()
    lab = res.component[0, :5]
    big = lab[np.argmin(np.abs(eq - want[0]).max(axis=1))]
    alone = lab[np.argmin(np.abs(eq - want[4]).max(axis=1))]
    assert big != alone and (lab == big).sum() == 4
    assert res.component_dimension[0, big] == 1 and res.component_dimension[0, alone] == 0
    assert res.component_traced[0, big] and not res.component_traced[0, alone]


@pytest.mark.slow
def test_jury_un_components_with_the_walk_capped():
    # Unanimity jury: a component of dimension 6 with curved faces, whose walk stops at
    # max_component_points and says so; pure and simple vertices are walked first, so
    # the three sets are those an uncapped walk (about 11,000 new points, 100 s) finds.
    u = efg_arrays("jury_un.efg")
    res = solve(u[None])
    assert res.components_capped[0] and res.n_components[0] == 3 and res.count[0] == 32
    assert sorted(res.component_dimension[0, :3].tolist()) == [0, 1, 6]


def test_walk_can_be_switched_off_and_generic_games_are_unchanged():
    u = catalog_arrays("journals/ijgt/nau2004/sec5")
    off = solve(u[None], max_component_points=0)
    assert off.n_components[0] == off.count[0] > 5         # the search's sample points
    rng = np.random.default_rng(SEED + 5)
    U = random_games(rng, 6, (2, 2, 3), integer=False)
    res = solve(U)
    assert (res.n_components == res.count).all() and not res.continuum.any()
    for b in range(len(U)):
        assert (res.component_dimension[b, :res.count[b]] == 0).all()
        np.testing.assert_array_equal(res.component[b, :res.count[b]], np.arange(res.count[b]))


def test_two_player_games_get_the_component_fields():
    flat = np.zeros((1, 2, 2, 2))
    flat[0, 0] = [[1, 1], [0, 0]]                         # the column player never cares
    res = solve(flat)
    assert res.method == "support_enumeration"
    assert res.n_components[0] == 1 and res.component_dimension[0, 0] == 1
    assert res.component_representative[0, 0] == 0 and not res.components_capped[0]


def test_segment_certificate_is_sound():
    # Whenever a segment is certified, every point sampled on it is an equilibrium.
    rng = np.random.default_rng(SEED + 6)
    hits = 0
    for name in ("e05.efg", "3_player.efg"):
        u = efg_arrays(name)
        eq = solve(u[None]).equilibria(0)
        a = eq[rng.integers(len(eq), size=60)]
        b = eq[rng.integers(len(eq), size=60)]
        ok = _components.segment_certified(u, a, b, 1e-8)
        t = np.linspace(0, 1, 41)[:, None, None]
        pts = ((1 - t) * a[ok][None] + t * b[ok][None]).reshape(-1, a.shape[1])
        assert verify(np.repeat(u[None], len(pts), 0), pts, 1e-8).all()
        hits += int(ok.sum())
        # A segment from an equilibrium to a non-equilibrium is never certified.
        bad = np.full_like(a, 0.0)
        for lo, hi in zip(np.cumsum((0,) + u.shape[1:])[:-1], np.cumsum(u.shape[1:])):
            bad[:, lo:hi] = rng.dirichlet(np.ones(hi - lo), size=len(a))
        far = ~verify(np.repeat(u[None], len(bad), 0), bad, 1e-8)
        assert not _components.segment_certified(u, a[far], bad[far], 1e-8).any()
    assert hits > 0


def test_components_of_a_batch_equal_a_loop():
    names = ["nau2004/sec5", "e05.efg", "selten1975/fig1"]
    U = np.stack([component_game(n) for n in names])
    batch = solve(U)
    for b in range(len(U)):
        alone = solve(U[b:b + 1])
        np.testing.assert_array_equal(batch.equilibria(b), alone.equilibria(0))
        k = int(alone.count[0])
        np.testing.assert_array_equal(batch.component[b, :k], alone.component[0, :k])
        nc = int(alone.n_components[0])
        assert batch.n_components[b] == nc
        np.testing.assert_array_equal(batch.component_dimension[b, :nc], alone.component_dimension[0, :nc])
