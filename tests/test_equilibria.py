"""One table of known games x solution concepts, checked by one parametrised test.

After pygambit's ``tests/test_nash.py`` (its ``EquilibriumTestCase``): each case names a
game, a concept of the registry (``allysim.concepts``) with its options, the expected
solutions (hand-solved, or computed at test time by an independent reference:
pygambit, quantecon) and tolerances. Every case is checked the same way:

* the solutions are the expected ones (all of them where ``complete``);
* each carries its certificate: a regret within the concept's tolerance of the payoff
  scale (Nash concepts), or a logit residual within ``residual_tol`` (QRE concepts);
* a batch equals a loop: the game solved between two other games gives the same
  bits as alone;
* relabelling the strategies permutes the solutions (where the concept does not
  depend on strategy order);
* a positive affine change of the payoffs changes nothing (Nash concepts; lambda is in
  inverse payoff units, so the QRE concepts rescale it instead).

The per-concept modules keep what is specific to an algorithm (backends, degenerate
games, continuation steps, CLI reports).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import itertools

import numpy as np
import pygambit as gbt
import pytest

from allysim import load_model, load_scenario
from allysim.concepts import get_concept
from allysim.game import Game
from allysim.solve import payoff_scale, status_names, verify
from tests.oracles import gambit_iesds, gambit_pure

PD = np.array([[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]])                 # D strictly dominant
BOS = np.array([[[2., 0.], [0., 1.]], [[1., 0.], [0., 2.]]])                # battle of the sexes
PENNIES = np.array([[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]])
STAG = np.array([[[4., 0.], [3., 3.]], [[4., 3.], [0., 3.]]])               # stag hunt
RPS = np.array([[[0., -1., 1.], [1., 0., -1.], [-1., 1., 0.]],
                [[0., 1., -1.], [-1., 0., 1.], [1., -1., 0.]]])
ENTRY = np.array([[[0., 0.], [-1., 1.]], [[2., 2.], [-1., 1.]]])            # entrant x incumbent


def _catalog(slug):
    def game():
        return np.array(gbt.catalog.load(slug).to_arrays(dtype=float), dtype=float)
    return game


_nau_sec4 = _catalog("journals/ijgt/nau2004/sec4")


def _model(name):
    def game():
        m = load_model(name)
        return m.payoffs(m.defaults)[0]
    return game


def _scenario(name):
    def game():
        s = load_scenario(name)
        return s.model.payoffs(s.point)[0]
    return game


def _profile(*blocks):
    return np.concatenate([np.asarray(b, dtype=float) for b in blocks])


# ----------------------------------------------------------------------------- references

def _gambit_game(u):
    return gbt.Game.from_arrays(*[u[i] for i in range(u.shape[0])])


def _flat(game, profile):
    return np.array([float(profile[s]) for p in game.players for s in p.strategies])


def _one_hot(u, profile):
    return np.concatenate([np.eye(s)[a] for s, a in zip(u.shape[1:], profile)])


def pure(u, *profiles):
    """0/1 profiles of pure profiles given as strategy indices."""
    return [_one_hot(u, p) for p in profiles]


def gambit_pure_equilibria(u):
    """Every pure equilibrium by pygambit's ``enumpure_solve``, lexicographic."""
    return [_one_hot(u, p) for p in sorted(gambit_pure(u))]


def gambit_dominance_solution(u):
    """The surviving profile where pygambit's strict dominance leaves one (else none)."""
    survivors, _ = gambit_iesds(u)
    if all(s.sum() == 1 for s in survivors):
        return [np.concatenate([s.astype(float) for s in survivors])]
    return []


def survivors(expected: list[list[bool]] | None, rounds: int | None):
    """A check of dominance's surviving strategies and rounds (None: ask pygambit)."""
    def check(u, res):
        want, want_rounds = (gambit_iesds(u) if expected is None else
                             ([np.array(e) for e in expected], rounds))
        assert [s[0].tolist() for s in res.surviving] == [w.tolist() for w in want]
        assert res.rounds[0] == want_rounds
    return check


def gambit_enummixed(u):
    """Every extreme equilibrium of a two-player game (exact rationals)."""
    g = _gambit_game(u)
    return [_flat(g, e) for e in gbt.nash.enummixed_solve(g, rational=True).equilibria]


def gambit_enumpoly(u):
    g = _gambit_game(u)
    return [_flat(g, e) for e in gbt.nash.enumpoly_solve(g).equilibria]


def gambit_qre(lam):
    def ref(u):
        g = _gambit_game(u)
        return [_flat(g, gbt.qre.logit_solve_lambda(g, [lam])[0].profile)]
    return ref


def gambit_logit_limit(u):
    g = _gambit_game(u)
    return [_flat(g, gbt.nash.logit_solve(g).equilibria[0])]


# ----------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class Case:
    """One game and concept with what must come out (see the module docstring)."""

    id: str
    game: Callable[[], np.ndarray]
    concept: str
    expected: object                      # list of profiles, or a reference function of u
    options: dict = field(default_factory=dict)
    complete: bool = True                 # the expected list is every solution
    prob_tol: float = 1e-9
    permutable: bool = True               # relabelling strategies permutes the answer
    nash: bool = True                     # solutions are Nash equilibria (regret certificate)
    affine: bool = True                   # a positive affine change of payoffs changes nothing
    status: str | None = None             # the expected status, when it says something
    check: Callable | None = None         # (u, result): what else the concept must give


CASES = [
    # pure Nash equilibria, hand-solved (status: degenerate where an equilibrium is weak)
    Case("pd/pure", lambda: PD, "pure", [_profile([0, 1], [0, 1])], status="ok"),
    Case("bos/pure", lambda: BOS, "pure", [_profile([1, 0], [1, 0]), _profile([0, 1], [0, 1])]),
    Case("pennies/pure", lambda: PENNIES, "pure", [], status="no_pure"),
    Case("stag/pure", lambda: STAG, "pure", [_profile([1, 0], [1, 0]), _profile([0, 1], [0, 1])]),
    Case("rps/pure", lambda: RPS, "pure", [], status="no_pure"),
    Case("chicken/pure", _model("chicken"), "pure", [_profile([1, 0], [0, 1]), _profile([0, 1], [1, 0])],
         status="ok"),
    Case("snyder/pure", _model("snyder-dilemma"), "pure", [_profile([0, 1], [0, 1])]),
    Case("coordination-tie/pure", lambda: np.array([[[1., 1.], [0., 1.]], [[1., 1.], [0., 1.]]]),
         "pure", lambda u: pure(u, (0, 0), (0, 1), (1, 1)), status="degenerate"),
    Case("all-zero-3x2x2/pure", lambda: np.zeros((3, 3, 2, 2)), "pure",
         lambda u: pure(u, *itertools.product(range(3), range(2), range(2))), status="degenerate"),
    Case("one-strategy-each/pure", lambda: np.array([2., 3., 4.]).reshape(3, 1, 1, 1), "pure",
         lambda u: pure(u, (0, 0, 0)), status="ok"),
    Case("baseline-2018/pure", _scenario("baseline-2018"), "pure",    # MODEL.md: TRANS/SUPPORT/SLICE/FREEZE
         [_profile([0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0])], status="ok"),
] + [
    Case(f"{slug.rsplit('/', 2)[-2]}-{slug.rsplit('/', 1)[-1]}/pure", _catalog(slug), "pure",
         gambit_pure_equilibria)
    for slug in ("journals/ijgt/nau2004/sec3", "journals/ijgt/nau2004/sec4",
                 "journals/ijgt/nau2004/sec5", "journals/ijgt/nau2004/sec6",
                 "journals/other/shapley1974/fig2", "journals/other/shapley1974/fig3")
] + [
    # iterated strict dominance (by pure strategies, as Gambit's default)
    Case("pd/dominance", lambda: PD, "dominance", [_profile([0, 1], [0, 1])],
         check=survivors([[False, True], [False, True]], 1)),
    Case("pennies/dominance", lambda: PENNIES, "dominance", [],
         check=survivors([[True, True], [True, True]], 0)),
    Case("chicken/dominance", _model("chicken"), "dominance", [],
         check=survivors([[True, True], [True, True]], 0)),
    Case("bos/dominance", lambda: BOS, "dominance", []),
    # Row: T dominates B; then Column: L dominates R; two rounds.
    Case("two-rounds/dominance", lambda: np.array([[[3., 1.], [2., 0.]], [[1., 0.], [3., 4.]]]),
         "dominance", [_profile([1, 0], [1, 0])], check=survivors([[True, False], [True, False]], 2)),
    # Row's M pays (1, 1); only the 50:50 mix of T (3, 0) and B (0, 3) beats it: pure
    # domination keeps it.
    Case("mixed-only-domination/dominance",
         lambda: np.array([[[3., 0.], [1., 1.], [0., 3.]], [[0., 0.], [0., 0.], [0., 0.]]]),
         "dominance", [], check=survivors([[True, True, True], [True, True]], 0)),
    # Weak domination is not strict: B ties T against L.
    Case("weak-only/dominance", lambda: np.array([[[1., 1.], [1., 0.]], [[0., 0.], [0., 0.]]]),
         "dominance", [], check=survivors([[True, True], [True, True]], 0)),
    Case("baseline-2018/dominance", _scenario("baseline-2018"), "dominance",
         gambit_dominance_solution, check=survivors(None, None)),
    # mixed equilibria: hand-solved, and exact rationals from pygambit
    Case("bos/mixed", lambda: BOS, "mixed",
         [_profile([1, 0], [1, 0]), _profile([2 / 3, 1 / 3], [1 / 3, 2 / 3]), _profile([0, 1], [0, 1])]),
    Case("pennies/mixed", lambda: PENNIES, "mixed", [_profile([.5, .5], [.5, .5])]),
    Case("rps/mixed", lambda: RPS, "mixed", [_profile([1 / 3] * 3, [1 / 3] * 3)]),
    Case("stag/mixed", lambda: STAG, "mixed", gambit_enummixed),
    Case("chicken/mixed", _model("chicken"), "mixed", gambit_enummixed),
    Case("snyder/mixed", _model("snyder-dilemma"), "mixed", gambit_enummixed),
    Case("nau-sec4/mixed", _nau_sec4, "mixed", gambit_enumpoly, prob_tol=1e-7),   # irrational
    # logit QRE at given lambdas, and the limit of the principal branch
    Case("pennies/qre", lambda: PENNIES, "qre", [_profile([.5, .5], [.5, .5])] * 2,
         options={"lambda": "0,2"}, nash=False),
    Case("pd/qre", lambda: PD, "qre", gambit_qre(1.0), options={"lambda": "1"}, nash=False,
         prob_tol=1e-6),
    Case("chicken/qre", _model("chicken"), "qre", gambit_qre(0.3), options={"lambda": "0.3"},
         nash=False, prob_tol=1e-6),
    Case("stag/qre-limit", lambda: STAG, "qre-limit", [_profile([0, 1], [0, 1])]),  # risk dominant
    Case("pennies/qre-limit", lambda: PENNIES, "qre-limit", [_profile([.5, .5], [.5, .5])]),
    Case("snyder/qre-limit", _model("snyder-dilemma"), "qre-limit", gambit_logit_limit, prob_tol=1e-4),
    # subgame-perfect equilibria: entry deterrence (hand-solved: enter, accommodate;
    # after Out the incumbent is indifferent, so two SPE share that path)
    Case("entry/spe", lambda: ENTRY, "spe", [_profile([0, 1], [0, 1])] * 2,
         options={"stages": "0>1"}, permutable=False),
    Case("pd/spe", lambda: PD, "spe", [_profile([0, 1], [0, 1])], options={"stages": "0>1"}),
    # replicator dynamics: where trajectories from the seeded starts come to rest
    # (the replicator's speed scales with the payoffs: no affine invariance at a fixed t_max)
    Case("pd/dynamics", lambda: PD, "dynamics", [_profile([0, 1], [0, 1])], prob_tol=1e-7,
         permutable=False, affine=False),
    Case("stag/dynamics", lambda: STAG, "dynamics",
         [_profile([1, 0], [1, 0]), _profile([0, 1], [0, 1])], prob_tol=1e-7, permutable=False,
         affine=False),
]


def _players(u):
    return tuple(str(i) for i in range(u.shape[0]))


def _game(u):
    return Game(u[None], _players(u), tuple(tuple(f"s{k}" for k in range(s)) for s in u.shape[1:]))


def solve(case: Case, U: np.ndarray):
    """The concept's result on a batch ``U: (B, n, *S)`` and the options it used."""
    concept = get_concept(case.concept)
    options = concept.resolve(case.options, _players(U[0]))
    return concept.solve(U, options, _game(U[0])), options


def _expected(case: Case, u: np.ndarray) -> list[np.ndarray]:
    exp = case.expected(u) if callable(case.expected) else case.expected
    return [np.asarray(e, dtype=float) for e in exp]


def _match(found: np.ndarray, expected: list[np.ndarray], tol: float, complete: bool, where: str):
    unmatched = list(range(len(found)))
    for e in expected:
        hits = [k for k in unmatched if np.abs(found[k] - e).max() <= tol]
        assert hits, f"{where}: expected {np.round(e, 6).tolist()} not found in {np.round(found, 6).tolist()}"
        unmatched.remove(hits[0])
    if complete:
        assert not unmatched, f"{where}: extra solutions {np.round(found[unmatched], 6).tolist()}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_known_games(case: Case):
    u = case.game()
    res, options = solve(case, u[None])
    found = res.equilibria(0)
    found = found[np.isfinite(found).all(axis=1)]
    _match(found, _expected(case, u), case.prob_tol, case.complete, case.id)
    if case.status is not None:
        assert status_names(res.status)[0] == case.status, case.id
    if case.check is not None:
        case.check(u, res)
    # The certificate of every solution.
    if case.nash:
        tol = options.get("tol", 1e-9)
        assert (res.regret[0, :len(found)] <= tol * payoff_scale(u[None])[0]).all(), case.id
        if case.concept not in ("spe",):          # an SPE's path need not be a Nash profile
            assert verify(np.repeat(u[None], len(found), axis=0), found, tol).all(), case.id
    else:
        assert (res.residual[0] <= options["residual_tol"]).all(), case.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_batch_equals_a_loop(case: Case):
    """The game between two random ones of its shape: the same bits as alone."""
    u = case.game()
    rng = np.random.default_rng(7)
    others = rng.normal(size=(2,) + u.shape)
    batch, _ = solve(case, np.stack([others[0], u, others[1]]))
    alone, _ = solve(case, u[None])
    k = int(alone.count[0])
    assert int(batch.count[1]) == k and batch.status[1] == alone.status[0], case.id
    np.testing.assert_array_equal(batch.profiles[1, :k], alone.profiles[0, :k], err_msg=case.id)
    np.testing.assert_array_equal(batch.regret[1, :k], alone.regret[0, :k], err_msg=case.id)


@pytest.mark.parametrize("case", [c for c in CASES if c.permutable], ids=[c.id for c in CASES if c.permutable])
def test_relabelling_strategies_permutes_the_solutions(case: Case):
    u = case.game()
    rng = np.random.default_rng(11)
    perms = [rng.permutation(s) for s in u.shape[1:]]
    v = u
    for i, p in enumerate(perms):
        v = np.take(v, p, axis=i + 1)
    found = solve(case, v[None])[0].equilibria(0)
    offsets = np.concatenate([[0], np.cumsum(u.shape[1:])[:-1]])
    expected = [np.concatenate([e[o:o + len(p)][p] for o, p in zip(offsets, perms)])
                for e in solve(case, u[None])[0].equilibria(0)]
    _match(found[np.isfinite(found).all(axis=1)], expected, max(case.prob_tol, 1e-9), True, case.id)


@pytest.mark.parametrize("case", [c for c in CASES if c.nash and c.affine],
                         ids=[c.id for c in CASES if c.nash and c.affine])
@pytest.mark.parametrize("scale, shift", [(1e6, 0.0), (1e-4, 3.0), (7.0, -1e3)])
def test_a_positive_affine_change_changes_nothing(case: Case, scale: float, shift: float):
    u = case.game()
    a, _ = solve(case, u[None])
    b, _ = solve(case, scale * u[None] + shift)
    assert a.status[0] == b.status[0] and a.count[0] == b.count[0], case.id
    k = int(a.count[0])
    np.testing.assert_allclose(b.profiles[0, :k], a.profiles[0, :k], rtol=0,
                               atol=max(case.prob_tol, 1e-7), err_msg=case.id)


@pytest.mark.parametrize("case", [c for c in CASES if c.concept == "qre"],
                         ids=[c.id for c in CASES if c.concept == "qre"])
def test_qre_lambda_is_in_inverse_payoff_units(case: Case):
    """QRE(c u, lambda / c) = QRE(u, lambda)."""
    u = case.game()
    a, options = solve(case, u[None])
    concept = get_concept("qre")
    scaled = concept.resolve({**case.options, "lambda": [x / 4.0 for x in options["lambda"]]},
                             _players(u))
    b = concept.solve(4.0 * u[None], scaled, _game(u))
    np.testing.assert_allclose(b.profiles, a.profiles, rtol=0, atol=1e-9, err_msg=case.id)
