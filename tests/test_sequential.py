"""Sequential play: subgame-perfect equilibria and agent logit QRE.

Oracles: hand-solved textbook sequential games; pygambit 16.7 on the same
extensive games (``enumpure_agent_solve`` filtered for subgame perfection with
Gambit's own node values, ``logit_solve`` limits, ``logit_solve_lambda`` agent
QRE on trees).
"""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from allysim import ScenarioError, list_scenarios, load_scenario
from allysim.solve import pure_nash
from allysim.solve._status import STATUS
from allysim.solve.sequential import (agent_logit_qre, history_profile, resolve_stages,
                                      spe_regret, subgame_perfect)

import pygambit as gbt

FOUR_POWER_STAGES = ((0,), (1,), (2, 3))


# ---------------------------------------------------------------------------
# pygambit trees
# ---------------------------------------------------------------------------

def gambit_tree(u, stages, names=None):
    """The staged game of one normal form ``u: (n, *S)`` as a pygambit tree.

    Returns the game and, per stage t, its history nodes in allysim's numbering
    (plus the terminal nodes as the last list). A stage's first player moves at
    its own information set at each history; every later player of the stage
    has one information set spanning the nodes after the earlier moves of the
    stage (simultaneous moves).
    """
    n, shape = u.shape[0], u.shape[1:]
    names = list(names or [f"P{i}" for i in range(n)])
    g = gbt.Game.new_tree(players=names)
    levels = [[g.root]]
    for t, stage in enumerate(stages):
        new = []
        for h, node in enumerate(levels[-1]):
            nodes = [node]
            for p in stage:
                g.append_move(nodes if len(nodes) > 1 else nodes[0], names[p],
                              [f"a{k}" for k in range(shape[p])])
                nodes[0].infoset.label = f"t{t}h{h}"
                nodes = [c for nd in nodes for c in nd.children]
            new.extend(nodes)
        levels.append(new)
    order = [p for st in stages for p in st]
    for k, node in enumerate(levels[-1]):
        prof = [0] * n
        for p, a in zip(order, np.unravel_index(k, [shape[p] for p in order])):
            prof[p] = int(a)
        g.set_outcome(node, g.add_outcome(label=f"o{k}",
                                          payoffs=[float(u[(i, *prof)]) for i in range(n)]))
    return g, levels


def behaviour_index(g):
    """(player, history, action) of each entry of Gambit's flat behaviour vector."""
    return [(i, int(inf.label.split("h")[1]), k)
            for i, pl in enumerate(g.players) for inf in pl.infosets for k in range(len(inf.actions))]


def gambit_pure_spe(u, stages, tol=1e-9):
    """Gambit's pure agent equilibria that are subgame perfect, judged with Gambit's
    node values: at every history the stage's joint move is a Nash equilibrium of
    the stage game whose payoffs are the node values of the next histories."""
    g, levels = gambit_tree(u, stages)
    players = list(g.players)
    idx = behaviour_index(g)
    shape = u.shape[1:]
    found = set()
    agent = gbt.nash.enumpure_agent_solve(g).equilibria
    for eq in agent:
        flat = [float(eq[a]) for pl in g.players for inf in pl.infosets for a in inf.actions]
        move = {(p, h): k for (p, h, k), v in zip(idx, flat) if v > 0.5}
        perfect = True
        for t, stage in enumerate(stages):
            sshape = [shape[p] for p in stage]
            A = int(np.prod(sshape))
            for h in range(len(levels[t])):
                cont = np.array([[float(eq.node_value(players[i], levels[t + 1][h * A + a]))
                                  for i in range(len(players))] for a in range(A)]).reshape(sshape + [-1])
                chosen = tuple(move[(p, h)] for p in stage)
                for j, p in enumerate(stage):
                    line = list(chosen)
                    line[j] = slice(None)
                    if cont[tuple(line) + (p,)].max() > cont[chosen + (p,)] + tol:
                        perfect = False
        if perfect:
            found.add(tuple(sorted(move.items())))
    return found, len(agent)


def allysim_spe_set(res, b=0):
    out = set()
    for k in range(int(res.count[b])):
        out.add(tuple(sorted(((p, h), int(res.choices[p][b, k, h]))
                             for p in range(len(res.choices)) for h in range(res.choices[p].shape[2]))))
    return out


# ---------------------------------------------------------------------------
# Hand-solved textbook games
# ---------------------------------------------------------------------------

def two_player(u0, u1):
    return np.array([[u0, u1]], dtype=float)


ENTRY = two_player([[0, 0], [-1, 1]], [[2, 2], [-1, 1]])          # Out/In x Fight/Accommodate
ULTIMATUM = two_player([[5, 0], [8, 0]], [[5, 0], [2, 0]])        # fair/unfair x accept/reject
BOS = two_player([[2, 0], [0, 1]], [[1, 0], [0, 2]])              # Opera/Football
PENNIES = two_player([[1, -1], [-1, 1]], [[-1, 1], [1, -1]])
# Quantities {3, 4, 6}, price 12 - Q, no costs: Cournot (4, 4); Stackelberg leader plays 6.
_q = np.array([3.0, 4.0, 6.0])
_price = 12 - _q[:, None] - _q[None, :]
STACKELBERG = np.array([[_q[:, None] * _price, _q[None, :] * _price]])


def leader_and_bos():
    """Leader L in {A, B}, then followers F1, F2 play battle of the sexes (X/Y).
    L gets 3/1 from coordination on X/Y after A, 2 from any coordination after B."""
    u = np.zeros((1, 3, 2, 2, 2))
    for lead in range(2):
        for a in range(2):
            for b in range(2):
                coord = a == b
                u[0, 1, lead, a, b] = (2 if a == 0 else 1) * coord
                u[0, 2, lead, a, b] = (1 if a == 0 else 2) * coord
                u[0, 0, lead, a, b] = ((3 if a == 0 else 1) if lead == 0 else 2) * coord
    return u


def leader_and_pennies():
    u = np.zeros((1, 3, 2, 2, 2))
    u[0, 0] = np.arange(2)[:, None, None] * 1.0
    u[0, 1, :] = PENNIES[0, 0]
    u[0, 2, :] = PENNIES[0, 1]
    return u


TEXTBOOK = [
    # name, payoffs, stages, count, paths, status, extra check on choices
    ("entry deterrence", ENTRY, [[0], [1]], 2, {(1, 1)}, "degenerate",
     lambda r: (r.choices[1][0, :, 1] == 1).all()),                      # accommodate after In
    ("entry, simultaneous", ENTRY, [[0, 1]], 2, {(0, 0), (1, 1)}, "degenerate", None),
    ("ultimatum", ULTIMATUM, [[0], [1]], 1, {(1, 0)}, "ok",
     lambda r: r.choices[1][0, 0].tolist() == [0, 0]),                   # accept both offers
    ("battle of the sexes, Opera fan first", BOS, [[0], [1]], 1, {(0, 0)}, "ok",
     lambda r: r.choices[1][0, 0].tolist() == [0, 1]),                   # follow the leader
    ("battle of the sexes, Football fan first", BOS, [[1], [0]], 1, {(1, 1)}, "ok", None),
    ("battle of the sexes, simultaneous", BOS, [[0, 1]], 2, {(0, 0), (1, 1)}, "ok", None),
    ("Stackelberg", STACKELBERG, [[0], [1]], 1, {(2, 0)}, "ok",
     lambda r: r.choices[1][0, 0].tolist() == [1, 1, 0] and r.payoff[0, 0].tolist() == [18, 9]),
    ("Cournot", STACKELBERG, [[0, 1]], 1, {(1, 1)}, "ok", None),
    ("sequential pennies", PENNIES, [[0], [1]], 2, {(0, 1), (1, 0)}, "degenerate",
     lambda r: (r.payoff[0, :, 1] == 1).all()),                          # the second mover wins
    ("simultaneous pennies", PENNIES, [[0, 1]], 0, set(), "no_pure", None),
    ("leader, then battle of the sexes", leader_and_bos(), [[0], [1, 2]], 4,
     {(0, 0, 0), (1, 0, 0), (1, 1, 1)}, "ok",
     lambda r: sorted(r.pure[0, :, 0].tolist()) == [0, 0, 1, 1]),
    ("leader, then pennies", leader_and_pennies(), [[0], [1, 2]], 0, set(), "no_pure", None),
]


@pytest.mark.parametrize("case", TEXTBOOK, ids=[c[0] for c in TEXTBOOK])
def test_textbook_spe(case):
    name, u, stages, count, paths, status, check = case
    res = subgame_perfect(u, stages)
    assert res.count[0] == count
    assert {tuple(p) for p in res.pure[0][res.valid[0]].tolist()} == paths
    assert STATUS[status] == res.status[0]
    if count:
        assert (res.regret[0][res.valid[0]] <= 1e-12).all()
    if check is not None:
        assert check(res)
    # The same game stacked in a batch with others gives the same answer.
    batch = np.concatenate([ENTRY if u.shape[1:] == ENTRY.shape[1:] else u, u, u])
    stacked = subgame_perfect(batch, stages)
    assert stacked.count[1] == count and stacked.status[1] == res.status[0]
    for p in range(len(res.choices)):
        k = max(count, 1)
        np.testing.assert_array_equal(stacked.choices[p][1, :k], res.choices[p][0, :k])


def test_textbook_against_gambit():
    """Every hand-solved case: allysim's SPE set equals Gambit's subgame-perfect agent equilibria."""
    for name, u, stages, count, *_ in TEXTBOOK:
        stages = tuple(tuple(s) for s in stages)
        if len(stages) == 1:
            continue                       # a one-stage game is the normal form: covered below
        theirs, _ = gambit_pure_spe(u[0], stages)
        assert allysim_spe_set(subgame_perfect(u, stages)) == theirs, name


def test_one_stage_is_pure_nash():
    rng = np.random.default_rng(3)
    u = rng.integers(0, 3, size=(50, 3, 2, 3, 2)).astype(float)
    res = subgame_perfect(u, [[0, 1, 2]])
    pn = pure_nash(u)
    np.testing.assert_array_equal(res.count, pn.count)
    for b in range(50):
        assert {tuple(p) for p in res.pure[b][res.valid[b]].tolist()} == \
               {tuple(p) for p in pn.pure_profiles(b).tolist()}


def test_spe_regret_rejects_non_perfect():
    # (Out; Fight after In) is a Nash equilibrium of the tree but not subgame perfect.
    r, ok = spe_regret(ENTRY, [[0], [1]], [np.array([[0]]), np.array([[0, 0]])])
    assert r[0] == 2.0 and not ok[0]
    r, ok = spe_regret(ENTRY, [[0], [1]], [np.array([[1]]), np.array([[0, 1]])])
    assert r[0] == 0.0 and ok[0]


# ---------------------------------------------------------------------------
# Random games against Gambit
# ---------------------------------------------------------------------------

RANDOM_CASES = [((3, 3), ((0,), (1,))), ((2, 2, 2), ((0,), (1, 2))), ((2, 2, 2), ((1, 2), (0,))),
                ((2, 3, 2), ((2,), (0,), (1,))), ((2, 2, 2, 2), ((0,), (1,), (2, 3)))]


def test_random_games_against_gambit():
    """Integer payoffs in {0, 1, 2} (many ties, several or no pure equilibria per
    stage): the SPE sets agree with Gambit's, game by game."""
    rng = np.random.default_rng(2018)
    agree = total = spe_total = 0
    for shape, stages in RANDOM_CASES:
        u = rng.integers(0, 3, size=(6, len(shape)) + shape).astype(float)
        res = subgame_perfect(u, stages)
        assert (res.regret[res.valid] <= 1e-12).all()
        for b in range(len(u)):
            theirs, _ = gambit_pure_spe(u[b], stages)
            mine = allysim_spe_set(res, b)
            total += 1
            spe_total += len(mine)
            agree += mine == theirs
            assert res.status[b] != STATUS["no_pure"] or not theirs
    assert agree == total == 30
    assert spe_total > 30        # the enumeration over several stage equilibria was exercised


def test_generic_random_games_match_gambit_logit_limit():
    """Continuous payoffs, perfect information: the unique SPE equals the limit
    of Gambit's agent QRE trace (a sequential equilibrium), at every history."""
    rng = np.random.default_rng(7)
    checked = 0
    for shape, stages in [((3, 3), ((0,), (1,))), ((2, 2, 3), ((2,), (0,), (1,)))]:
        u = rng.normal(size=(4, len(shape)) + shape)
        res = subgame_perfect(u, stages)
        assert (res.count == 1).all() and (res.status == STATUS["ok"]).all()
        for b in range(len(u)):
            g, _ = gambit_tree(u[b], stages)
            eq = gbt.nash.logit_solve(g).equilibria[0]
            flat = [float(eq[a]) for pl in g.players for inf in pl.infosets for a in inf.actions]
            limit = {(p, h): k for (p, h, k), v in zip(behaviour_index(g), flat) if v > 0.5}
            assert limit == dict(next(iter(allysim_spe_set(res, b))))
            checked += 1
    assert checked == 8


def test_batch_equals_loop():
    rng = np.random.default_rng(11)
    u = rng.integers(0, 3, size=(25, 3, 2, 3, 2)).astype(float)
    stages = ((1,), (0, 2))
    batch = subgame_perfect(u, stages)
    for b in range(len(u)):
        one = subgame_perfect(u[b:b + 1], stages)
        k = int(one.count[0])
        assert batch.count[b] == k and batch.status[b] == one.status[0]
        np.testing.assert_array_equal(batch.pure[b, :k], one.pure[0, :k])
        for p in range(3):
            np.testing.assert_array_equal(batch.choices[p][b, :k], one.choices[p][0, :k])


def test_large_batch_certified():
    """20,000 random four-power points in range, one call: every SPE passes the
    certificate and points agree with one-point solves. (Batches over 8192
    histories once met a NumPy 2.4 unravel_index bug; the certificate caught it.)"""
    from allysim import load_model
    m = load_model("four-power")
    lo = np.array([p.low for p in m.parameters])
    hi = np.array([p.high for p in m.parameters])
    u = m.payoffs(lo + (hi - lo) * np.random.default_rng(0).random((20000, len(lo))))
    res = subgame_perfect(u, FOUR_POWER_STAGES)
    assert (res.status != STATUS["failed"]).all() and (res.count >= 1).all()
    assert np.nanmax(res.regret) <= 1e-9
    for b in np.random.default_rng(1).choice(20000, 5, replace=False):
        one = subgame_perfect(u[b:b + 1], FOUR_POWER_STAGES)
        np.testing.assert_array_equal(one.pure[0], res.pure[b, :one.pure.shape[1]])
        for p in range(4):
            np.testing.assert_array_equal(one.choices[p][0], res.choices[p][b, :one.pure.shape[1]])


def test_truncation_is_reported():
    # Two followers indifferent everywhere: 4 histories x 4 stage equilibria each.
    u = np.zeros((1, 3, 2, 2, 2))
    u[0, 0, 1] = 1.0
    res = subgame_perfect(u, [[0], [1, 2]], max_equilibria=10)
    assert res.count[0] == 10 and res.truncated[0]
    full = subgame_perfect(u, [[0], [1, 2]])
    assert full.count[0] == 16 and not full.truncated[0]


def test_payoff_shift_invariance():
    rng = np.random.default_rng(5)
    u = rng.normal(size=(10, 3, 2, 3, 2))
    shift = rng.normal(size=(10, 3, 1, 1, 1)) * 10
    a = subgame_perfect(u, [[2], [0], [1]])
    b = subgame_perfect(u + shift, [[2], [0], [1]], tol=1e-8)
    np.testing.assert_array_equal(a.pure, b.pure)


# ---------------------------------------------------------------------------
# Agent logit QRE
# ---------------------------------------------------------------------------

def test_agent_qre_entry_by_hand():
    q = agent_logit_qre(ENTRY, [[0], [1]], [0.0, 1.0, 2.0])
    assert (q.lambda_status == 0).all() and (q.residual <= 1e-12).all()
    np.testing.assert_allclose(q.behaviour[1][0, 0], 0.5)                  # lambda 0: uniform
    for li, lam in enumerate([1.0, 2.0]):
        acc = np.exp(lam) / (np.exp(lam) + np.exp(-lam))
        v_in = acc - (1 - acc)
        p_in = 1 / (1 + np.exp(-lam * v_in))
        np.testing.assert_allclose(q.behaviour[1][0, li + 1, 1, 1], acc, atol=1e-14)
        np.testing.assert_allclose(q.profiles[0, li + 1, 1], p_in, atol=1e-14)
        np.testing.assert_allclose(q.outcome[0, li + 1].sum(), 1.0, atol=1e-14)


def _compare_agent_qre(u, stages, lambdas):
    q = agent_logit_qre(u, stages, lambdas)
    assert (q.lambda_status == 0).all()
    worst = 0.0
    for b in range(len(u)):
        g, _ = gambit_tree(u[b], stages)
        idx = behaviour_index(g)
        for li, prof in enumerate(gbt.qre.logit_solve_lambda(g, list(lambdas))):
            flat = np.array([prof[i] for i in range(len(prof))])
            mine = np.array([q.behaviour[p][b, li, h, k] for (p, h, k) in idx])
            worst = max(worst, np.abs(flat - mine).max())
    return worst


def test_agent_qre_random_games_against_gambit():
    rng = np.random.default_rng(99)
    worst = 0.0
    for shape, stages in [((3, 3), ((0,), (1,))), ((2, 2, 2), ((0,), (1, 2))),
                          ((2, 3, 2), ((1, 2), (0,))), ((2, 2, 2, 2), ((0,), (1,), (2, 3)))]:
        u = rng.uniform(-3, 3, size=(3, len(shape)) + shape)
        worst = max(worst, _compare_agent_qre(u, stages, (0.5, 2.0, 6.0)))
    assert worst <= 1e-6


def test_agent_qre_one_stage_is_normal_form_qre():
    rng = np.random.default_rng(4)
    u = rng.uniform(-2, 2, size=(3, 3, 2, 3, 2))
    q = agent_logit_qre(u, [[0, 1, 2]], [1.0, 4.0])
    for b in range(3):
        g = gbt.Game.from_arrays(*u[b])
        for li, prof in enumerate(gbt.qre.logit_solve_lambda(g, [1.0, 4.0])):
            theirs = np.array([float(prof.profile[s]) for pl in g.players for s in pl.strategies])
            np.testing.assert_allclose(q.profiles[b, li], theirs, atol=1e-6)


def test_agent_qre_batch_equals_loop():
    rng = np.random.default_rng(8)
    u = rng.uniform(-3, 3, size=(6, 3, 2, 2, 3))
    stages = ((0,), (1, 2))
    batch = agent_logit_qre(u, stages, [0.7, 3.0])
    for b in range(6):
        one = agent_logit_qre(u[b:b + 1], stages, [0.7, 3.0])
        np.testing.assert_allclose(batch.profiles[b], one.profiles[0], atol=1e-12)


# ---------------------------------------------------------------------------
# The four-power model
# ---------------------------------------------------------------------------

def four_power(name):
    s = load_scenario(name)
    return s, s.model.payoffs(s.point)


def test_four_power_baseline_spe():
    s, u = four_power("baseline-2018")
    res = subgame_perfect(u, FOUR_POWER_STAGES)
    assert res.count[0] == 1 and res.status[0] == STATUS["ok"] and res.regret[0, 0] == 0
    names = [s.model.strategies[i][a] for i, a in enumerate(res.pure[0, 0])]
    assert names == ["ACCOM", "ARM", "HOLD", "FREEZE"]


def _gambit_limit_matches(u, stages):
    res = subgame_perfect(u, stages)
    g, _ = gambit_tree(u[0], stages)
    eq = gbt.nash.logit_solve(g).equilibria[0]
    flat = [float(eq[a]) for pl in g.players for inf in pl.infosets for a in inf.actions]
    limit = {(p, h): k for (p, h, k), v in zip(behaviour_index(g), flat) if v > 0.5}
    return res.count[0] == 1 and limit == dict(next(iter(allysim_spe_set(res))))


def test_four_power_baseline_against_gambit():
    """Full strategies (22 information sets) equal Gambit's agent-QRE limit; the
    agent QRE at lambda 0.5 and 1.5 equals Gambit's logit_solve_lambda on the tree."""
    _, u = four_power("baseline-2018")
    assert _gambit_limit_matches(u, FOUR_POWER_STAGES)
    assert _compare_agent_qre(u, FOUR_POWER_STAGES, (0.5, 1.5)) <= 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in list_scenarios() if n != "baseline-2018"])
def test_four_power_scenarios_against_gambit(name):
    _, u = four_power(name)
    assert _gambit_limit_matches(u, FOUR_POWER_STAGES)
    assert _compare_agent_qre(u, FOUR_POWER_STAGES, (1.5,)) <= 1e-6


def test_four_power_all_scenarios_batched():
    names = list_scenarios()
    u = np.concatenate([four_power(n)[1] for n in names])
    res = subgame_perfect(u, FOUR_POWER_STAGES)
    assert (res.count >= 1).all()
    assert (res.regret[res.valid] <= 1e-9).all()
    q = agent_logit_qre(u, FOUR_POWER_STAGES, [1.5])
    assert (q.lambda_status == 0).all() and (q.residual <= 1e-10).all()


# ---------------------------------------------------------------------------
# Input checking and the CLI
# ---------------------------------------------------------------------------

PLAYERS = ("US", "Japan", "China", "NorthKorea")


@pytest.mark.parametrize("stages, fragment", [
    ([["US"], ["Japn"], ["China", "NorthKorea"]], "unknown player 'Japn' (did you mean 'Japan'?)"),
    ([["US"], ["Japan"], ["China"]], "NorthKorea missing"),
    ([["US", "Japan"], ["Japan"], ["China", "NorthKorea"]], "'Japan' appears more than once"),
    ([["US"], [], ["Japan", "China", "NorthKorea"]], "expected stages of players"),
])
def test_bad_stages(stages, fragment):
    with pytest.raises(ScenarioError) as err:
        resolve_stages(stages, PLAYERS)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_history_numbering():
    assert history_profile((3, 3, 3, 3), FOUR_POWER_STAGES, 2, 5) == {0: 1, 1: 2}
    assert history_profile((3, 3, 3, 3), FOUR_POWER_STAGES, 0, 0) == {}


def test_cli_spe_prints_path_and_strategies():
    from allysim.cli import main
    out = CliRunner().invoke(main, ["run", "baseline-2018", "--solver", "spe"])
    assert out.exit_code == 0, out.output
    text = out.output
    assert "US > Japan > China, NorthKorea" in text
    assert "path" in text.lower() and "ACCOM" in text and "FREEZE" in text
    assert "after US=TRANS, Japan=SUPPORT" in text or "TRANS" in text


def test_cli_agent_qre_and_json():
    from allysim.cli import main
    out = CliRunner().invoke(main, ["run", "baseline-2018", "--solver", "agent-qre",
                                    "--lambda", "1.5", "--json"])
    assert out.exit_code == 0, out.output
    import json
    rep = json.loads(out.output)["results"][0]
    assert rep["solution_concept"].startswith("AQRE")
    assert abs(sum(rep["probabilities"]["China"].values()) - 1) < 1e-9


def test_cli_bad_stages_one_line():
    from allysim.cli import main
    out = CliRunner().invoke(main, ["run", "baseline-2018", "--solver", "spe",
                                    "--stages", "US>Japn>China,NorthKorea"])
    assert out.exit_code == 2
    lines = [ln for ln in out.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Japn" in lines[0] and "expected one of" in lines[0]


# ---------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------

def test_sweep_spe_reducer_matches_direct_solve():
    from allysim.sweep import SweepSpec, grid_design, run_chunk, run_sweep
    s = load_scenario("baseline-2018")
    design = grid_design(s.model, s.point, ["us_credibility=0.3:0.95:6", "halt_credibility_loss=0:0.8:5"])
    spec = SweepSpec(s.model.source, "four-power.toml", design, solver="spe", store="full")
    packed = run_chunk(spec.to_json(), 0, 0, design.n)
    res = subgame_perfect(s.model.payoffs(design.points(0, design.n)), FOUR_POWER_STAGES)
    np.testing.assert_array_equal(packed["p/count"], res.count)
    np.testing.assert_array_equal(packed["p/status"], res.status)
    np.testing.assert_array_equal(packed["r/eq_path"], res.pure[res.valid])
    np.testing.assert_array_equal(packed["r/eq_choices"][:, 0], res.choices[0][res.valid][:, 0])
    from allysim.sweep.engine import context
    layout = context(spec.to_json())[2]
    arrays = {k[2:]: v for k, v in packed.items() if k[:2] in ("p/", "r/")}
    text = layout.csv_text(arrays, design.varied(0, design.n), 0)
    assert text.count("\n") == design.n and "SPE (pure; stages US>Japan>China,NorthKorea)" in text
    run = run_sweep(SweepSpec(s.model.source, "four-power.toml", design, solver="spe", store="counts",
                              options={"stages": "Japan>US>China,NorthKorea"}))
    assert run.totals["status_counts"][0] == design.n and any("Japan>US" in ln for ln in run.summary)
    with pytest.raises(ScenarioError, match="unknown player 'Japn'"):
        run_sweep(SweepSpec(s.model.source, "four-power.toml", design, solver="spe", store="counts",
                            options={"stages": "US>Japn>China,NorthKorea"}))


def test_agent_qre_of_one_simultaneous_stage_is_the_normal_form_qre():
    """With every player in one stage, agent QRE is the normal-form logit QRE."""
    from allysim.solve.logit_qre import logit_qre
    rng = np.random.default_rng(31)
    for shape in [(3, 3), (2, 3, 2), (2, 2, 2, 2)]:
        u = rng.uniform(-3, 3, size=(15, len(shape)) + shape)
        lams = [0.5, 3.0]
        agent = agent_logit_qre(u, [list(range(len(shape)))], lams)
        normal = logit_qre(u, lams)
        ok = (agent.lambda_status == 0) & (normal.lambda_status == 0)
        assert ok.sum() >= 28
        assert np.abs(agent.profiles[ok] - normal.profiles[ok]).max() <= 1e-9


# ---------------------------------------------------------------------------
# Properties (hypothesis)
# ---------------------------------------------------------------------------

import itertools  # noqa: E402
import os  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.strategies import payoff_arrays  # noqa: E402

PROPS = settings(max_examples=int(os.environ.get("ALLYSIM_PROP_EXAMPLES", 40)), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@st.composite
def staged_games(draw):
    u = draw(payoff_arrays(min_players=2, max_players=3, max_strategies=3, max_profiles=12,
                           max_batch=3))
    n = u.shape[1]
    order = draw(st.permutations(range(n)))
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=n - 1))) if n > 1 else []
    bounds = [0, *cuts, n]
    stages = tuple(tuple(order[a:b]) for a, b in zip(bounds[:-1], bounds[1:]))
    return u, stages


@PROPS
@given(staged_games())
def test_property_spe_set_is_exactly_the_certified_profiles(game):
    """Brute force over every pure behaviour profile (a move for every player at
    every history): the ones that pass the certificate are exactly the SPE found,
    and a batch equals a loop."""
    u, stages = game
    res = subgame_perfect(u, stages, max_equilibria=5000)      # above any brute-force count here
    assert not res.truncated.any()
    shape = u.shape[2:]
    stage_of = {p: t for t, st_ in enumerate(stages) for p in st_}
    hist = [int(np.prod([shape[q] for st_ in stages[:stage_of[p]] for q in st_])) for p in range(len(shape))]
    agents = [(p, h) for p in range(len(shape)) for h in range(hist[p])]
    combos = np.array(list(itertools.product(*[range(shape[p]) for p, _ in agents])), dtype=np.intp)
    assert len(combos) <= 4096
    for b in range(len(u)):
        choices, col = [], 0
        for p in range(len(shape)):
            choices.append(combos[:, col:col + hist[p]][None])
            col += hist[p]
        _, ok = spe_regret(u[b:b + 1], stages, choices)
        brute = {tuple(c) for c in combos[ok[0]].tolist()}
        found = {tuple(np.concatenate([res.choices[p][b, k] for p in range(len(shape))]).tolist())
                 for k in range(int(res.count[b]))}
        assert found == brute
        one = subgame_perfect(u[b:b + 1], stages, max_equilibria=5000)
        assert one.count[0] == res.count[b] and one.status[0] == res.status[b]


def test_sweep_cli_stages_flag(tmp_path):
    """`allysim sweep --solver spe --stages ...` uses that order; bad orders and misuse exit 2."""
    from click.testing import CliRunner
    from allysim.cli import main

    runner = CliRunner()
    args = ["sweep", "baseline-2018", "--vary", "us_credibility=0.3:0.95:6", "--solver", "spe", "--quiet"]
    ok = runner.invoke(main, args + ["--stages", "Japan>US>China,NorthKorea"])
    assert ok.exit_code == 0 and "stages Japan>US>China,NorthKorea" in ok.output
    default = runner.invoke(main, args)
    assert default.exit_code == 0 and "stages US>Japan>China,NorthKorea" in default.output
    bad = runner.invoke(main, args + ["--stages", "Japn>US>China,NorthKorea"])
    assert bad.exit_code == 2 and "did you mean 'Japan'" in bad.stderr
    misuse = runner.invoke(main, args[:4] + ["--stages", "US>Japan"])
    assert misuse.exit_code == 2 and "applies to --solver agent-qre, spe" in misuse.stderr
