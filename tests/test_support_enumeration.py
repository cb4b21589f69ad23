"""Two-player mixed equilibria by batched support enumeration.

Oracles: QuantEcon's ``support_enumeration`` (nondegenerate games; its players
hold their own action first, so player 1's array is ``u[1].T``) and pygambit's
``enummixed_solve`` (vertex enumeration: every extreme equilibrium, degenerate
games included). Textbook games with known equilibria run alone and stacked;
degenerate games (ties) must give a warning and a status, never a crash, and a
continuum must be reported as one (Nashpy issue #222).
"""
from __future__ import annotations

import importlib
import itertools
import math
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pygambit as gbt
import pytest
import quantecon.game_theory as qe
from hypothesis import given, settings
from hypothesis import strategies as st

from allysim import DegenerateGameWarning, load_model
from allysim.solve import (STATUS, payoff_scale, regret, status_names, support_enumeration,
                           verify)
from allysim.solve.support_enumeration import support_pairs
from tests.strategies import payoff_arrays, random_games, random_mixed

se_module = importlib.import_module("allysim.solve.support_enumeration")

SEED = 1962  # the year of the Cuban missile crisis


def as_set(profiles, digits=7):
    """Equilibria ``(k, m+n)`` as a set of rounded tuples (order-free comparison)."""
    return {tuple(np.round(np.asarray(p, dtype=float), digits) + 0.0) for p in profiles}


def assert_same_equilibria(got, expected, atol, msg=""):
    """Each equilibrium of ``got (k, m+n)`` within ``atol`` (max abs) of exactly one of
    ``expected``, and the other way round."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape, msg
    close = np.abs(got[:, None] - expected[None]).max(axis=2) <= atol
    assert (close.sum(axis=0) == 1).all() and (close.sum(axis=1) == 1).all(), msg


def quantecon_equilibria(u: np.ndarray) -> np.ndarray:
    g = qe.NormalFormGame([qe.Player(u[0]), qe.Player(u[1].T.copy())])
    eqs = [np.concatenate(e) for e in qe.support_enumeration(g)]
    return np.array(eqs).reshape(-1, sum(u.shape[1:]))


def gambit_equilibria(u: np.ndarray, rational: bool) -> np.ndarray:
    """pygambit's enummixed_solve; integer payoffs are passed as ints (exact)."""
    arrays = [u[i].astype(int) if rational else u[i] for i in range(2)]
    game = gbt.Game.from_arrays(*arrays)
    res = gbt.nash.enummixed_solve(game, rational=rational)
    eqs = [[float(e[s]) for p in game.players for s in p.strategies] for e in res.equilibria]
    return np.array(eqs, dtype=float).reshape(-1, sum(u.shape[1:]))


def solve(u, **kw):
    """Support enumeration of a batch, with degenerate-game warnings recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = support_enumeration(u, **kw)
    return res, [w for w in caught if issubclass(w.category, DegenerateGameWarning)]


def _model(name):
    m = load_model(name)
    return m.payoffs(m.defaults)[0]


def _catalog(slug):
    return np.array(gbt.catalog.load(slug).to_arrays(dtype=float), dtype=float)


# ---------------------------------------------------------------------------
# textbook games with known equilibria, alone and stacked
# ---------------------------------------------------------------------------

RPS = np.array([[0., -1, 1], [1, 0, -1], [-1, 1, 0]])
T = 1 / 3

# (id, game factory, expected equilibria (None: ask pygambit), status, continuum)
CASES = [
    ("matching-pennies", lambda: _model("matching-pennies"), [[.5, .5, .5, .5]], "ok", False),
    ("battle-of-sexes", lambda: _model("battle-of-sexes"),
     [[1, 0, 1, 0], [2 / 3, 1 / 3, 1 / 3, 2 / 3], [0, 1, 0, 1]], "ok", False),
    ("chicken", lambda: _model("chicken"), [[1, 0, 0, 1], [.9, .1, .9, .1], [0, 1, 1, 0]], "ok", False),
    ("prisoners-dilemma", lambda: _model("prisoners-dilemma"), [[0, 1, 0, 1]], "ok", False),
    ("snyder-dilemma", lambda: _model("snyder-dilemma"), [[0, 1, 0, 1]], "ok", False),
    ("rock-paper-scissors", lambda: np.stack([RPS, -RPS]), [[T] * 6], "ok", False),
    # Nashpy #222: (p, 1 - p) against Left is an equilibrium for every p in [0, 2/7].
    ("nashpy-222-continuum", lambda: np.array([[[-3., 3], [-3, 5]], [[2., 7], [4, 2]]]),
     [[2 / 7, 5 / 7, 1, 0], [0, 1, 1, 0]], "degenerate", True),
    # Identical rows: the row player is indifferent everywhere.
    ("identical-rows", lambda: np.array([[[1., 0], [1, 0]], [[1., 0], [0, 1]]]),
     [[1, 0, 1, 0], [.5, .5, 1, 0], [.5, .5, 0, 1], [0, 1, 0, 1]], "degenerate", True),
    ("all-zero-2x3", lambda: np.zeros((2, 2, 3)),
     [[1, 0, 1, 0, 0], [1, 0, 0, 1, 0], [1, 0, 0, 0, 1], [0, 1, 1, 0, 0], [0, 1, 0, 1, 0],
      [0, 1, 0, 0, 1]], "degenerate", True),
    ("one-row", lambda: np.array([[[3., 1, 2]], [[0., 2, 1]]]), [[1, 0, 1, 0]], "ok", False),
] + [
    (slug.split("/", 2)[2], (lambda s=slug: _catalog(s)), None, None, None)
    for slug in ("journals/ijgt/nau2004/sec3", "journals/other/shapley1974/fig2",
                 "journals/other/shapley1974/fig3")
]


@pytest.mark.parametrize("factory,expected,status,continuum", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_textbook_case(factory, expected, status, continuum):
    u = factory()
    res, warned = solve(u[None])
    got = res.equilibria(0)
    if expected is None:
        integer = bool(np.all(u == np.round(u)))
        expected = gambit_equilibria(u, rational=integer)
    assert as_set(got) == as_set(expected)
    if status is not None:
        assert status_names(res.status)[0] == status
        assert bool(res.continuum[0]) == continuum
        assert bool(warned) == (status == "degenerate")
    assert verify(np.repeat(u[None], len(got), 0), got, res.parameters["tol"]).all()
    assert (res.regret[0, :res.count[0]] <= res.parameters["tol"]).all()
    # Canonical order: descending lexicographic.
    keys = [tuple(-np.round(e, 9)) for e in got]
    assert keys == sorted(keys)


def test_textbook_cases_stacked_with_random_games_agree_with_alone():
    rng = np.random.default_rng(SEED)
    games = [c[1]() for c in CASES]
    by_shape: dict = {}
    for u in games:
        by_shape.setdefault(u.shape, []).append(u)
    for shape, us in by_shape.items():
        stack = us * 2 + list(random_games(rng, 6, shape[1:], integer=False))
        order = rng.permutation(len(stack))
        batch, _ = solve(np.stack([stack[j] for j in order]))
        for pos, j in enumerate(order):
            alone, _ = solve(stack[j][None])
            assert batch.count[pos] == alone.count[0]
            np.testing.assert_array_equal(batch.equilibria(pos), alone.equilibria(0))
            assert batch.status[pos] == alone.status[0]
            assert batch.continuum[pos] == alone.continuum[0]
            np.testing.assert_array_equal(batch.component[pos, :batch.count[pos]],
                                          alone.component[0, :alone.count[0]])


# ---------------------------------------------------------------------------
# cross-checks on random games
# ---------------------------------------------------------------------------

SHAPES = [(2, 2), (2, 3), (3, 2), (3, 3), (3, 4), (4, 4), (2, 5), (5, 5)]


def _cross_check(per_shape, seed, gambit_every=1, backend="auto"):
    """Random float games (nondegenerate with probability 1) against QuantEcon and
    pygambit. Returns {number of equilibria: number of games} over all shapes."""
    rng = np.random.default_rng(seed)
    counts: dict = {}
    for shape in SHAPES:
        U = random_games(rng, per_shape, shape, integer=False, low=-10, high=10)
        res, warned = solve(U, backend=backend)
        assert backend == "auto" or res.backend == backend
        assert not warned and (res.status == STATUS["ok"]).all()
        for b in range(per_shape):
            got = res.equilibria(b)
            assert as_set(got, 6) == as_set(quantecon_equilibria(U[b]), 6), (shape, b)
            if b % gambit_every == 0:
                assert as_set(got, 6) == as_set(gambit_equilibria(U[b], rational=False), 6), (shape, b)
            counts[len(got)] = counts.get(len(got), 0) + 1
    return counts


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_random_games_against_quantecon_and_pygambit(backend):
    counts = _cross_check(25, SEED + 1, gambit_every=2, backend=backend)
    assert sum(counts.values()) == 25 * len(SHAPES)
    # Nondegenerate games have an odd number of equilibria; the sample has 1, 3 and 5+.
    assert all(k % 2 == 1 for k in counts)
    assert {1, 3} <= set(counts) and max(counts) >= 5


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_many_random_games_against_quantecon_and_pygambit(backend):
    counts = _cross_check(250, SEED + 2, backend=backend)
    assert sum(counts.values()) == 250 * len(SHAPES)


def _degenerate_check(per_shape, seed, backend="auto"):
    """Integer payoffs in [-2, 2] (ties everywhere) against pygambit's exact vertex
    enumeration: the same extreme equilibria. Returns (games, degenerate, continuum)."""
    rng = np.random.default_rng(seed)
    n_deg = n_cont = total = 0
    for shape in [(2, 2), (2, 3), (3, 3), (3, 4), (4, 4)]:
        U = random_games(rng, per_shape, shape, integer=True, low=-2, high=2)
        res, warned = solve(U, backend=backend)
        deg = res.status == STATUS["degenerate"]
        assert bool(warned) == deg.any()
        for b in range(per_shape):
            assert as_set(res.equilibria(b)) == as_set(gambit_equilibria(U[b], rational=True)), (shape, b)
        n_deg += int(deg.sum())
        n_cont += int(res.continuum.sum())
        total += per_shape
        assert not (res.continuum & ~deg).any()
    return total, n_deg, n_cont


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_degenerate_integer_games_give_gambits_extreme_equilibria(backend):
    total, n_deg, n_cont = _degenerate_check(30, SEED + 3, backend)
    assert total == 150 and n_deg > 50 and n_cont > 30


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_many_degenerate_integer_games_against_pygambit(backend):
    total, n_deg, _ = _degenerate_check(300, SEED + 4, backend)
    assert total == 1500 and n_deg > 500


def test_bigger_supports_use_the_general_determinant_path():
    # 6 x 6 games have supports of size 5 and 6 (minors of size >= 4: np.linalg.det).
    rng = np.random.default_rng(SEED + 5)
    U = random_games(rng, 6, (6, 6), integer=False)
    res, _ = solve(U)
    for b in range(len(U)):
        assert as_set(res.equilibria(b), 6) == as_set(quantecon_equilibria(U[b]), 6)
    assert res.count.max() >= 3


# ---------------------------------------------------------------------------
# invariances: a batch equals a loop, permutations, payoff transformations
# ---------------------------------------------------------------------------

def test_a_batch_equals_a_loop_and_chunking_does_not_matter():
    rng = np.random.default_rng(SEED + 6)
    U = np.concatenate([random_games(rng, 40, (3, 4), integer=False),
                        random_games(rng, 40, (3, 4), integer=True, low=-1, high=1)])
    U = U[rng.permutation(len(U))]
    whole, _ = solve(U)
    small, _ = solve(U, chunk=7)
    for field in ("profiles", "regret", "component"):
        np.testing.assert_array_equal(getattr(whole, field), getattr(small, field))
    np.testing.assert_array_equal(whole.status, small.status)
    for b in range(len(U)):
        alone, _ = solve(U[b:b + 1])
        np.testing.assert_array_equal(alone.equilibria(0), whole.equilibria(b))
        assert alone.status[0] == whole.status[b] and alone.continuum[0] == whole.continuum[b]


@pytest.mark.parametrize("integer", [False, True])
def test_permuting_strategies_and_players_permutes_equilibria(integer):
    rng = np.random.default_rng(SEED + 7)
    U = random_games(rng, 30, (3, 4), integer=integer, low=-2, high=2)
    base, _ = solve(U)
    pr, pc = rng.permutation(3), rng.permutation(4)
    perm, _ = solve(U[:, :, pr][:, :, :, pc])
    swap, _ = solve(U[:, ::-1].transpose(0, 1, 3, 2))   # column player first
    for b in range(len(U)):
        eq = base.equilibria(b)
        assert as_set(perm.equilibria(b)) == as_set(np.concatenate([eq[:, :3][:, pr], eq[:, 3:][:, pc]], 1))
        assert as_set(swap.equilibria(b)) == as_set(np.concatenate([eq[:, 3:], eq[:, :3]], 1))
        assert perm.status[b] == base.status[b] == swap.status[b]


@settings(max_examples=40, deadline=None)
@given(U=payoff_arrays(min_players=2, max_players=2, max_strategies=4))
def test_every_game_has_a_certified_equilibrium(U):
    res, _ = solve(U)
    for b in range(len(U)):
        eq = res.equilibria(b)
        assert res.count[b] >= 1                          # every finite game has one
        assert verify(np.repeat(U[b:b + 1], len(eq), 0), eq, res.parameters["tol"]).all()
        assert (res.regret[b, :res.count[b]] <= res.parameters["tol"]).all()


@settings(max_examples=40, deadline=None)
@given(U=payoff_arrays(min_players=2, max_players=2, max_strategies=4, integer=True),
       scale=st.integers(1, 4), shift=st.integers(-5, 5))
def test_equilibria_are_invariant_to_positive_affine_payoffs(U, scale, shift):
    res, _ = solve(U)
    res2, _ = solve(U * float(scale) + shift)   # integers: exact, ties stay ties
    for b in range(len(U)):
        assert as_set(res2.equilibria(b)) == as_set(res.equilibria(b))
        assert res2.status[b] == res.status[b] and res2.continuum[b] == res.continuum[b]


def test_tolerance_decides_what_counts_as_a_tie():
    eps = 1e-6
    u = np.array([[[[1., 0], [1 - eps, .5]], [[1., 0], [0, 1]]]])   # rows tie on Left within eps
    tight, warned_tight = solve(u, tol=0.1 * eps)
    loose, warned_loose = solve(u, tol=10 * eps)
    assert status_names(tight.status)[0] == "ok" and not warned_tight
    assert status_names(loose.status)[0] == "degenerate" and warned_loose
    assert (regret(np.repeat(u, loose.count[0], 0), loose.equilibria(0)).max(1) <= 10 * eps).all()


# ---------------------------------------------------------------------------
# scale: tolerances relative to the payoff scale (issue 14, item 1)
# ---------------------------------------------------------------------------

DATA = Path(__file__).parent / "data"


def _von_stengel():
    """von Stengel (1999)'s 6 x 6 game with 75 equilibria, payoffs up to 1.7e6 (Gambit's
    catalog/journals/dcg/vonstengel1999/6x6_game_with_75_eq.nfg, which pygambit 16.7 does
    not ship: a verbatim copy is in tests/data)."""
    game = gbt.read_nfg(str(DATA / "vonstengel1999_6x6_game_with_75_eq.nfg"))
    return np.array(game.to_arrays(dtype=float), dtype=float)


def _affine_variants(u):
    """Positive affine changes of a game ``(2, m, n)``: scalings, shifts, the [-1, 1]
    rescaling, and a different change for each player."""
    lo, hi = u.min(), u.max()
    return {
        "original": u,
        "x1e-6": u * 1e-6,
        "x1e3+5": u * 1e3 + 5,
        "[-1,1]": (u - lo) / (hi - lo) * 2 - 1,
        "x1e-200": u * 1e-200,
        "x1e150-7e156": u * 1e150 - 7e156,
        # Each player its own change (of a similar size: tolerances are relative to the
        # game's scale, the larger player's, so a player scaled down by orders of
        # magnitude gets relatively looser ties).
        "per player": np.stack([u[0] * 3 + 11, u[1] * 0.5 - 1e3]),
    }


@pytest.fixture(scope="module")
def von_stengel_gambit():
    u = _von_stengel()
    return u, gambit_equilibria(u, rational=True)        # integer payoffs: exact


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_von_stengel_75_equilibria_at_any_scale(von_stengel_gambit, backend):
    u, exact = von_stengel_gambit
    assert len(exact) == 75
    base = None
    for name, v in _affine_variants(u).items():
        res, warned = solve(v[None], backend=backend)
        got = res.equilibria(0)
        assert status_names(res.status)[0] == "ok" and not warned, name
        assert res.count[0] == 75, name
        assert_same_equilibria(got, exact, 1e-9, name)
        assert verify(np.repeat(v[None], 75, 0), got, res.parameters["tol"]).all(), name
        assert (res.regret[0, :75] <= res.parameters["tol"] * payoff_scale(v[None])[0]).all(), name
        if base is None:
            base = got
        else:
            # The same supports, in the same canonical order; probabilities to 1e-9.
            np.testing.assert_array_equal(got > 0, base > 0, err_msg=name)
            np.testing.assert_allclose(got, base, rtol=0, atol=1e-9, err_msg=name)


def test_fully_mixed_equilibrium_of_an_ill_conditioned_system_is_found():
    # The fully mixed equilibrium of von Stengel's game: a bordered determinant of 7e-16 of
    # the product of its rows' norms, on a system with condition number about 6e6.
    u = _von_stengel()
    res, _ = solve(u[None])
    full = res.equilibria(0)[(res.equilibria(0) > 0).all(axis=1)]
    assert len(full) == 1
    np.testing.assert_allclose(full[0, :6] * 245, [132, 66, 30, 12, 4, 1], atol=1e-9)


@pytest.mark.parametrize("integer", [False, True])
def test_random_games_do_not_depend_on_the_payoff_scale(integer):
    rng = np.random.default_rng(SEED + 11)
    U = random_games(rng, 200, (4, 4), integer=integer, low=-3, high=3)
    ref, _ = solve(U)
    # (Shifts stay within 1e4 of the scale: beyond about 1e7 the payoffs themselves, and
    # verify's sums of them, lose the digits a relative tol of 1e-9 needs.)
    for factor, shift in [(1e-8, 0.0), (1e-3, 1.0), (1e3, -7.0), (1e8, 1e9), (2.0 ** -40, 3e-9)]:
        V = U * factor + shift
        res, _ = solve(V)
        np.testing.assert_array_equal(res.status, ref.status)
        np.testing.assert_array_equal(res.count, ref.count)
        np.testing.assert_array_equal(res.continuum, ref.continuum)
        np.testing.assert_allclose(res.profiles, ref.profiles, rtol=0, atol=1e-9)
        scale = payoff_scale(V)
        assert (res.regret <= res.parameters["tol"] * scale[:, None]).all(where=~np.isnan(res.regret))


def test_kernel_payoff_scale_is_the_shared_one():
    nb = pytest.importorskip("allysim.solve._support_enumeration_numba")
    rng = np.random.default_rng(SEED + 12)
    U = np.concatenate([rng.standard_normal((50, 2, 3, 5)) * 10.0 ** rng.integers(-200, 200, (50, 1, 1, 1)),
                        random_games(rng, 50, (3, 5), integer=True, low=-1, high=1),
                        np.zeros((1, 2, 3, 5)), np.full((1, 2, 3, 5), -4.0),
                        np.stack([np.zeros((3, 5)), np.tile([1., 2, 3, 4, 5], (3, 1))])[None]])
    np.testing.assert_array_equal(nb.scales(U), payoff_scale(U))


# ---------------------------------------------------------------------------
# bounded work on degenerate games (issue 14, item 2)
# ---------------------------------------------------------------------------

def _nashpy_looping():
    """Nashpy's test_lemke_howson_lex_degenerate_tie_breaking_looping game (9 x 9, B = 1 - A),
    kept in tests/data (the benchmark reads the same file)."""
    from allysim.io.nfg import read_nfg
    return read_nfg((DATA / "nashpy_degenerate_9x9.nfg").read_text(encoding="utf-8")).payoffs[0]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_nashpy_degenerate_9x9_matches_gambit_in_bounded_memory(backend):
    u = _nashpy_looping()
    tracemalloc.start()
    try:
        res, warned = solve(u[None], backend=backend)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64e6            # it took 18 GB when vertices were deduplicated pairwise
    assert status_names(res.status)[0] == "degenerate" and warned and not res.continuum[0]
    theirs = gambit_equilibria(u, rational=False)
    assert len(theirs) == 1 and res.count[0] == 1
    np.testing.assert_allclose(res.equilibria(0), theirs, rtol=0, atol=1e-9)
    # The row player's value Nashpy's test expects ("from support vector calc", to 1e-9).
    x, y = res.split(0)[0]
    assert x @ u[0] @ y == pytest.approx(0.75872890672, abs=2e-9)


def test_streaming_in_small_blocks_gives_the_same_answers(monkeypatch):
    # Tiny blocks of support pairs, supports generated a few at a time and vertex pairs
    # matched a few at a time: the same bits as one block each.
    rng = np.random.default_rng(SEED + 13)
    U = np.concatenate([random_games(rng, 20, (4, 5), integer=False),
                        random_games(rng, 20, (4, 5), integer=True, low=-1, high=1),
                        np.stack([np.eye(4, 5), np.eye(4, 5)])[None]])
    ref, _ = solve(U, backend="numpy")
    assert (ref.status == STATUS["degenerate"]).any() and ref.continuum.any()
    monkeypatch.setattr(se_module, "_BLOCK", 40)
    monkeypatch.setattr(se_module, "_COMBO_ROWS", 3)
    monkeypatch.setattr(se_module, "_MATCH", 5)
    for chunk in (1, 7, 1024):
        got, _ = solve(U, backend="numpy", chunk=chunk)
        for field in ("profiles", "count", "regret", "component", "continuum", "status"):
            np.testing.assert_array_equal(getattr(got, field), getattr(ref, field), err_msg=field)


@pytest.fixture(scope="module")
def wide_game():
    u = np.zeros((2, 2, 64))
    u[0, 0, :2], u[0, 1, 2:] = 1.0, 1.0
    return u, gambit_equilibria(u, rational=True)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_wide_degenerate_game_beyond_64_strategies(wide_game, backend):
    # A 2 x 64 game where the column player is indifferent between everything and the row
    # player prefers row 0 against 2 columns, row 1 against 62: vertices are keyed by more
    # than 62 flags (the row player's 2 support flags and 64 best replies).
    u, theirs = wide_game
    res, warned = solve(u[None], backend=backend)
    assert status_names(res.status)[0] == "degenerate" and warned and res.continuum[0]
    # Each pure row with each of its best columns, or with any 50:50 mix of a column it
    # prefers and one it does not (2 x 62): the rows are then indifferent.
    assert res.count[0] == (2 + 62) + 2 * (2 * 62)
    assert verify(np.repeat(u[None], res.count[0], 0), res.equilibria(0), res.parameters["tol"]).all()
    assert as_set(res.equilibria(0)) == as_set(theirs)


def test_components_join_equilibria_that_share_a_vertex():
    # Random "equilibria" of 3 games sharing x or y vertices, against a plain search.
    rng = np.random.default_rng(SEED + 15)
    game = np.sort(rng.integers(0, 3, 300))
    xid = game * 100 + rng.integers(0, 40, 300)
    yid = game * 100 + rng.integers(0, 40, 300)
    got = se_module._components(game, xid, yid)
    want = np.full(300, -1)
    for g in range(3):
        rows, label = np.flatnonzero(game == g), 0
        for r in rows:
            if want[r] >= 0:
                continue
            todo, want[r] = [r], label
            while todo:
                i = todo.pop()
                for j in rows[(xid[rows] == xid[i]) | (yid[rows] == yid[i])]:
                    if want[j] < 0:
                        want[j] = label
                        todo.append(j)
            label += 1
    np.testing.assert_array_equal(got, want)


def test_support_pairs_is_the_work_per_game():
    assert [support_pairs(m, n) for m, n in [(1, 1), (2, 2), (4, 4), (3, 5), (9, 9)]] == \
        [1, 5, 69, 55, 48619]
    for m, n in [(3, 5), (4, 4)]:
        assert support_pairs(m, n) == sum(math.comb(m, k) * math.comb(n, k)
                                          for k in range(1, min(m, n) + 1))
    assert support_pairs(20, 20) > 1e11


# ---------------------------------------------------------------------------
# the compiled certificate is the shared verify (issue 11, item 6)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 4), (1, 5), (5, 1), (9, 1), (3, 9), (9, 12), (8, 8)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
def test_compiled_certificate_computes_what_verify_does(shape):
    nb = pytest.importorskip("allysim.solve._support_enumeration_numba")
    rng = np.random.default_rng([SEED + 14, *shape])
    U = rng.standard_normal((400, 2) + shape) * 10.0 ** rng.integers(-5, 6, (400, 1, 1, 1))
    sigma = random_mixed(rng, 400, shape)
    sigma[:100] = np.round(sigma[:100], 1)                     # ties, zeros, sums off by 0.1
    # Profiles with regret near the tolerance: a pure profile's own regret as the tol.
    reg = regret(U, sigma).max(axis=1) / payoff_scale(U)
    for tol in (1e-9, 0.5, 1e-3):
        passed, rg = nb.certify_many(U, sigma, tol)
        np.testing.assert_array_equal(passed, verify(U, sigma, tol))
    for tol in np.quantile(reg, [0.1, 0.5, 0.9]):
        passed, _ = nb.certify_many(U, sigma, tol)
        np.testing.assert_array_equal(passed, verify(U, sigma, tol))
    np.testing.assert_array_equal(rg, regret(U, sigma).max(axis=1))
    exact = reg == np.quantile(reg, 0.5, method="nearest")
    passed, _ = nb.certify_many(U, sigma, float(reg[exact][0]))
    np.testing.assert_array_equal(passed, verify(U, sigma, float(reg[exact][0])))


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad,kw,match", [
    (np.zeros((1, 3, 2, 2, 2)), {}, r"support_enumeration\(\): payoffs must have shape \(B, 2, m, n\)"),
    (np.zeros((2, 2)), {}, r"support_enumeration\(\): payoffs must have shape"),
    (np.full((1, 2, 2, 2), np.nan), {}, "NaN or inf"),
    (np.zeros((1, 2, 2, 2)), {"tol": -1.0}, r"tol must be a finite number >= 0"),
    (np.zeros((1, 2, 2, 2)), {"chunk": 0}, r"chunk must be an integer >= 1"),
    (np.zeros((1, 2, 2, 2)), {"backend": "fortran"}, r"backend must be one of 'auto', 'numba', 'numpy'"),
    (np.zeros((1, 2, 2, 2)), {"threads": 0}, r"threads must be an integer >= 1"),
])
def test_bad_input_raises_value_error_naming_the_function(bad, kw, match):
    with pytest.raises(ValueError, match=match):
        support_enumeration(bad, **kw)


def test_empty_batch():
    res, _ = solve(np.zeros((0, 2, 3, 3)))
    assert res.profiles.shape == (0, 1, 6) and res.count.shape == (0,)


def test_does_not_modify_its_input():
    u = random_games(np.random.default_rng(SEED + 8), 5, (3, 3), integer=True)
    before = u.copy()
    solve(u)
    np.testing.assert_array_equal(u, before)


def test_all_support_pairs_of_every_size_are_tried():
    # In a 3 x 3 game whose unique equilibrium is completely mixed (RPS), only the
    # size-3 pair works; scaling one player's payoffs keeps it.
    u = np.stack([RPS, -2.0 * RPS])[None]
    res, _ = solve(u)
    assert res.count[0] == 1 and np.allclose(res.equilibria(0), T)
    assert list(itertools.chain(*res.split(0)[0])) == pytest.approx([T] * 6)


# ---------------------------------------------------------------------------
# backends: the compiled kernel against the NumPy reference
# ---------------------------------------------------------------------------

def _assert_backends_agree(U, exact):
    """Both backends on ``U``: the same equilibria in the same order (bit for bit when
    ``exact``, else to 1e-12), the same counts, status, components and continuum flags,
    the same warnings, regret to 1e-12."""
    ref, warned_ref = solve(U, backend="numpy")
    got, warned_got = solve(U, backend="numba")
    assert (ref.backend, got.backend) == ("numpy", "numba")
    assert got.profiles.shape == ref.profiles.shape
    if exact:
        np.testing.assert_array_equal(got.profiles, ref.profiles)
    else:
        np.testing.assert_allclose(got.profiles, ref.profiles, rtol=0, atol=1e-12)
    for field in ("count", "status", "continuum", "component"):
        np.testing.assert_array_equal(getattr(got, field), getattr(ref, field), err_msg=field)
    np.testing.assert_allclose(got.regret, ref.regret, rtol=0, atol=1e-12)
    assert [str(w.message) for w in warned_got] == [str(w.message) for w in warned_ref]
    return ref


BACKEND_SHAPES = [(1, 3), (2, 2), (2, 3), (3, 2), (3, 3), (3, 4), (4, 4), (4, 2), (2, 5), (4, 6)]


@pytest.mark.parametrize("shape", BACKEND_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_backends_agree_on_thousands_of_random_games(shape):
    # Supports of at most 4: the same closed forms, the same IEEE operations -> the same bits.
    rng = np.random.default_rng([SEED, *shape])
    U = np.concatenate([random_games(rng, 1500, shape, integer=False, low=-10, high=10),
                        rng.standard_normal((1500, 2) + shape)])
    ref = _assert_backends_agree(U, exact=True)
    assert (ref.status == STATUS["ok"]).all()


@pytest.mark.parametrize("shape", BACKEND_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_backends_agree_on_degenerate_integer_games(shape):
    # Ties everywhere: most games go back to the NumPy path; the others must not differ.
    rng = np.random.default_rng([SEED + 1, *shape])
    U = np.concatenate([random_games(rng, 1000, shape, integer=True, low=-2, high=2),
                        random_games(rng, 1000, shape, integer=True, low=-20, high=20)])
    ref = _assert_backends_agree(U, exact=True)
    assert 0 < (ref.status == STATUS["degenerate"]).sum() < len(U)


@pytest.mark.parametrize("shape", [(5, 5), (6, 6), (5, 7)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_backends_agree_on_bigger_supports(shape):
    # Supports of 5 or more: the same elimination with partial pivoting on both paths.
    rng = np.random.default_rng([SEED + 2, *shape])
    _assert_backends_agree(random_games(rng, 300, shape, integer=False), exact=True)
    _assert_backends_agree(random_games(rng, 300, shape, integer=True, low=-2, high=2), exact=True)


def test_backends_agree_on_the_textbook_cases_and_their_ties():
    games = [c[1]() for c in CASES]
    by_shape: dict = {}
    for u in games:
        by_shape.setdefault(u.shape, []).append(u)
    for us in by_shape.values():
        _assert_backends_agree(np.stack(us * 3), exact=True)
    # A near-tie decided by tol, on both sides of it.
    eps = 1e-6
    u = np.array([[[[1., 0], [1 - eps, .5]], [[1., 0], [0, 1]]]])
    for tol in (0.1 * eps, 10 * eps):
        ref, _ = solve(u, tol=tol, backend="numpy")
        got, _ = solve(u, tol=tol, backend="numba")
        np.testing.assert_array_equal(got.profiles, ref.profiles)
        assert got.status[0] == ref.status[0]


def test_numba_backend_many_equilibria_beyond_the_first_capacity():
    # A coordination game (identity payoffs) has 2^n - 1 equilibria: more than the
    # kernel's first per-game room, so it is solved again with room for all.
    for n in (4, 5):
        u = np.stack([np.eye(n), np.eye(n)])[None]
        ref = _assert_backends_agree(np.concatenate([u, u]), exact=False)
        assert ref.count.tolist() == [2 ** n - 1] * 2


def test_numba_backend_many_equilibria_in_every_game_of_a_block():
    # Perturbed 5 x 5 coordination games: 31 equilibria each, far more hits in a block
    # than the kernel's hit buffer holds (it records them as it goes), and more than
    # its first per-game room.
    rng = np.random.default_rng(SEED + 16)
    U = np.eye(5)[None, None] + 0.01 * rng.random((300, 2, 5, 5))
    ref = _assert_backends_agree(U, exact=True)
    assert (ref.count == 31).all() and (ref.status == STATUS["ok"]).all()


def test_auto_backend_uses_numba_for_big_batches_only():
    rng = np.random.default_rng(SEED + 9)
    small, _ = solve(random_games(rng, 3, (3, 3), integer=False))
    big, _ = solve(random_games(rng, se_module.AUTO_NUMBA_MIN, (3, 3), integer=False))
    assert small.backend == "numpy" and big.backend == "numba"


def test_numba_backend_chunking_and_empty_batches():
    rng = np.random.default_rng(SEED + 10)
    U = np.concatenate([random_games(rng, 50, (3, 4), integer=False),
                        random_games(rng, 50, (3, 4), integer=True, low=-1, high=1)])
    whole, _ = solve(U, backend="numba")
    small, _ = solve(U, backend="numba", chunk=7)
    np.testing.assert_array_equal(whole.profiles, small.profiles)
    # Threads: every game is written to its own rows, so the answer is the same.
    V = np.concatenate([U] * 30)
    one, _ = solve(V, backend="numba")
    two, _ = solve(V, backend="numba", threads=2)
    for field in ("profiles", "count", "status", "component", "continuum", "regret"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))
    empty, _ = solve(np.zeros((0, 2, 3, 3)), backend="numba")
    assert empty.profiles.shape == (0, 1, 6) and empty.count.shape == (0,)
