"""Learning dynamics: replicator, logit, fictitious play; rest points and stability.

Oracles: textbook facts (rock-paper-scissors orbits are closed and the centre
is neutral; the prisoner's dilemma goes to defection; fictitious play in
matching pennies averages 1/2) and pygambit's ``logit_solve_lambda`` (the
logit dynamic's rest points are the logit QRE).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from allysim import load_scenario
from allysim.solve._status import STATUS
from allysim.solve.dynamics import (STABILITY, fictitious_play, flow, jacobian,
                                    logit_dynamics, random_starts, replicator, rest_points)

import pygambit as gbt

PD = np.array([[[[3., 0.], [5., 1.]], [[3., 5.], [0., 1.]]]])
PENNIES = np.array([[[[1., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]])
_RPS = np.array([[0., -1., 1.], [1., 0., -1.], [-1., 1., 0.]])
RPS = np.array([[_RPS, -_RPS]])          # row's payoffs, column's = -row's (zero sum)
COORD = np.array([[[[2., 0.], [0., 1.]], [[2., 0.], [0., 1.]]]])


def four_power(name="baseline-2018"):
    s = load_scenario(name)
    return s.model.payoffs(s.point)


def on_simplices(x, shape, atol=1e-12):
    o = 0
    for s in shape:
        blk = x[..., o:o + s]
        if (blk < -atol).any() or not np.allclose(blk.sum(axis=-1), 1.0, atol=atol):
            return False
        o += s
    return True


def gambit_qre(u, lam):
    g = gbt.Game.from_arrays(*u)
    prof = gbt.qre.logit_solve_lambda(g, [lam])[0].profile
    return np.array([float(prof[s]) for pl in g.players for s in pl.strategies])


def test_replicator_rock_paper_scissors_cycles():
    """Closed orbits: the constant of motion sum(log x) + sum(log y) is conserved,
    the orbit never settles, its time average is near the centre, and the centre
    is a neutral rest point with purely imaginary eigenvalues."""
    start = np.array([[0.5, 0.3, 0.2, 0.2, 0.5, 0.3]])
    res = replicator(RPS, start, t_max=60.0, n_record=601)
    assert res.status[0] == STATUS["not_converged"]
    assert on_simplices(res.trajectory, (3, 3))
    H = np.log(res.trajectory).sum(axis=2)[0]
    assert np.abs(H - H[0]).max() < 1e-6
    assert np.abs(res.average - 1 / 3).max() < 0.03
    centre = rest_points(RPS, res.average)
    assert centre.status[0] == STATUS["ok"] and centre.flow[:, 0][0] <= 1e-12
    np.testing.assert_allclose(centre.profiles[:, 0], 1 / 3, atol=1e-12)
    assert centre.stability[:, 0][0] == STABILITY["neutral"]
    assert np.abs(centre.eigenvalues[:, 0].real).max() < 1e-12
    assert np.abs(centre.eigenvalues[:, 0].imag).min() > 0.1


def test_replicator_prisoners_dilemma_defects():
    starts = random_starts((2, 2), 10, seed=3)
    res = replicator(np.repeat(PD, 10, axis=0), starts, t_max=60.0)
    assert (res.status == STATUS["ok"]).all()
    np.testing.assert_allclose(res.end, np.tile([0., 1., 0., 1.], (10, 1)), atol=1e-8)
    rp = rest_points(np.repeat(PD, 10, axis=0), res.end)
    assert (rp.stability[:, 0] == STABILITY["stable"]).all() and (rp.regret[:, 0] <= 1e-8).all()
    # The eigenvalues at (Defect, Defect) are u(C, D) - u(D, D) = -1 for each player.
    np.testing.assert_allclose(np.sort(rp.eigenvalues[:, 0].real, axis=1), -1.0, atol=1e-8)
    np.testing.assert_allclose(rp.profiles[:, 0], np.tile([0., 1., 0., 1.], (10, 1)), atol=1e-12)


def test_stability_classes_in_a_coordination_game():
    mixed = np.array([[1 / 3, 2 / 3, 1 / 3, 2 / 3]])
    pure = np.array([[1., 0., 1., 0.], [0., 1., 0., 1.], [1., 0., 0., 1.]])
    rp = rest_points(np.repeat(COORD, 4, axis=0), np.concatenate([mixed, pure]))
    assert (rp.flow[:, 0] <= 1e-12).all()
    assert rp.stability[:, 0].tolist() == [STABILITY["unstable"], STABILITY["stable"], STABILITY["stable"],
                                     STABILITY["unstable"]]
    assert rp.regret[:, 0][3] > 0 and (rp.regret[:, 0][:3] <= 1e-12).all()     # the off-diagonal vertex is not Nash


def test_fictitious_play_matching_pennies_time_average():
    res = fictitious_play(np.repeat(PENNIES, 4, axis=0), seed=5, rounds=10000, tol=0.02)
    assert np.abs(res.end - 0.5).max() < 0.02
    assert (res.status == STATUS["ok"]).all() and (res.regret <= 0.02).all()
    assert on_simplices(res.trajectory, (2, 2))
    # The play itself keeps cycling: the frequencies are still changing.
    assert (res.flow > 0).all()


def test_fictitious_play_prisoners_dilemma():
    res = fictitious_play(PD, rounds=1000)
    assert res.end[0, 1] > 0.99 and res.end[0, 3] > 0.99


@pytest.mark.parametrize("lam", [0.5, 2.0])
def test_logit_dynamics_rest_point_is_gambit_qre(lam):
    """Rest points of the logit dynamic = logit QRE: pennies (asymmetric), random
    3x3 and 2x2x2 games, the four-power baseline; compared with pygambit."""
    rng = np.random.default_rng(int(lam * 10))
    games = [np.array([[[[2., -1.], [-1., 1.]], [[-1., 1.], [1., -1.]]]]),
             rng.uniform(-2, 2, size=(3, 2, 3, 3)), rng.uniform(-2, 2, size=(3, 3, 2, 2, 2))]
    worst, compared = 0.0, 0
    for u in games:
        res = logit_dynamics(u, lam, t_max=60.0)
        assert on_simplices(res.trajectory, u.shape[2:])
        rp = rest_points(u, res.end, "logit", lam)
        assert (rp.status == STATUS["ok"]).all() and (rp.flow[:, 0] <= 1e-12).all()
        assert (rp.stability[:, 0] == STABILITY["stable"]).all()
        for b in range(len(u)):
            worst = max(worst, np.abs(rp.profiles[:, 0][b] - gambit_qre(u[b], lam)).max())
            compared += 1
    assert compared == 7 and worst <= 1e-8


def test_logit_dynamics_four_power_is_gambit_qre():
    u = four_power()
    res = logit_dynamics(u, 1.5, t_max=40.0)
    rp = rest_points(u, res.end, "logit", 1.5)
    assert rp.status[0] == STATUS["ok"] and rp.stability[:, 0][0] == STABILITY["stable"]
    assert np.abs(rp.profiles[:, 0][0] - gambit_qre(u[0], 1.5)).max() <= 1e-8


def test_rest_points_have_near_zero_flow_and_jacobian_is_exact():
    rng = np.random.default_rng(12)
    u = rng.normal(size=(6, 3, 2, 3, 2))
    x = random_starts((2, 3, 2), 6, seed=4)
    h = 1e-6
    for rule, lam in [("replicator", None), ("logit", 1.3)]:
        J = jacobian(u, x, rule, lam)
        num = np.empty_like(J)
        for k in range(x.shape[1]):
            e = np.zeros(x.shape[1])
            e[k] = h
            num[:, :, k] = (flow(u, x + e, rule, lam) - flow(u, x - e, rule, lam)) / (2 * h)
        np.testing.assert_allclose(J, num, atol=1e-7)
    res = replicator(u, seed=9, t_max=100.0)
    rp = rest_points(u, res.end)
    ok = rp.status == STATUS["ok"]
    assert ok.sum() >= 3 and (rp.flow[:, 0][ok] <= 1e-8).all()
    assert (np.abs(flow(u[ok], rp.profiles[:, 0][ok])).max(axis=1) <= 1e-8).all()


def test_interior_orbit_passing_a_non_nash_vertex_is_not_converged():
    # Matching pennies orbits from starts near the boundary hug the vertices; the
    # end point has tiny flow but is not Nash, so it is not reported as reached.
    e = 1e-15
    res = replicator(PENNIES, np.array([[1 - e, e, e, 1 - e]]), t_max=5.0)
    assert res.flow[0] <= 1e-8 and res.regret[0] > 1.9
    assert res.status[0] == STATUS["not_converged"]


def test_batch_equals_loop_exactly():
    rng = np.random.default_rng(21)
    u = rng.normal(size=(3, 3, 2, 2, 3))
    starts = random_starts((2, 2, 3), 3, seed=2)
    batch = [replicator(u, starts, t_max=10.0), logit_dynamics(u, 1.0, starts, t_max=10.0),
             fictitious_play(u, starts, rounds=300)]
    for b in range(3):
        one = [replicator(u[b:b + 1], starts[b:b + 1], t_max=10.0),
               logit_dynamics(u[b:b + 1], 1.0, starts[b:b + 1], t_max=10.0),
               fictitious_play(u[b:b + 1], starts[b:b + 1], rounds=300)]
        for full, single in zip(batch, one):
            np.testing.assert_allclose(full.trajectory[b], single.trajectory[0], rtol=0, atol=1e-13)


def test_seed_is_the_only_randomness():
    state = np.random.get_state()[1].copy()
    a = replicator(np.repeat(PD, 3, axis=0), seed=7, t_max=1.0)
    b = replicator(np.repeat(PD, 3, axis=0), seed=7, t_max=1.0)
    c = replicator(np.repeat(PD, 3, axis=0), seed=8, t_max=1.0)
    assert np.array_equal(a.trajectory, b.trajectory) and not np.array_equal(a.trajectory, c.trajectory)
    assert np.array_equal(np.random.get_state()[1], state)
    np.testing.assert_array_equal(random_starts((3, 2), 4, seed=0), random_starts((3, 2), 4, seed=0))


def test_bad_input():
    with pytest.raises(ValueError, match="starts or seed"):
        replicator(PD, np.full((1, 4), 0.5), seed=1)
    with pytest.raises(ValueError, match="mixed profiles"):
        replicator(PD, np.array([[0.7, 0.7, 0.5, 0.5]]))
    with pytest.raises(ValueError, match="lam"):
        logit_dynamics(PD, -1.0)
    with pytest.raises(ValueError, match="rule"):
        rest_points(PD, np.full((1, 4), 0.5), "best-response")


def test_cli_dynamics_report():
    from allysim.cli import main
    out = CliRunner().invoke(main, ["run", "baseline-2018", "--solver", "dynamics", "--json"])
    assert out.exit_code == 0, out.output
    reports = json.loads(out.output)["results"]
    rep = reports[0]
    assert rep["solution_concept"] == "Dynamics: replicator" and rep["parameters"]["starts"] == 9
    assert len(rep["starts"]) == 9
    pts = rep["equilibria"]
    assert pts and sum(p["basin"] for p in pts) + len(rep["moving"]) == 9
    first = pts[0]
    assert first["stability"] == "stable" and first["nash"] and first["max_regret"] <= 1e-8
    assert {p: max(v, key=v.get) for p, v in first["probabilities"].items()} == \
           {"US": "TRANS", "Japan": "SUPPORT", "China": "SLICE", "NorthKorea": "FREEZE"}
    # The logit dynamics' rest point is the logit QRE: --solver qre; dynamics refuses --lambda.
    bad = CliRunner().invoke(main, ["run", "baseline-2018", "--solver", "dynamics", "--lambda", "1"])
    assert bad.exit_code == 2 and "does not apply to --solver dynamics" in bad.stderr
    text = CliRunner().invoke(main, ["run", "matching-pennies", "--solver", "dynamics"]).output
    assert "neutral" in text and "still moving" in text


def test_logit_dynamics_rest_points_are_logit_qre_batched():
    """Forty random 2x3x2 games at once: the logit dynamic's rest points equal
    allysim.solve.logit_qre's principal-branch QRE where the dynamic converges."""
    from allysim.solve.logit_qre import logit_qre
    rng = np.random.default_rng(40)
    u = rng.uniform(-2, 2, size=(40, 3, 2, 3, 2))
    res = logit_dynamics(u, 1.0, t_max=40.0)
    rp = rest_points(u, res.end, "logit", 1.0)
    q = logit_qre(u, [1.0])
    ok = (rp.status == STATUS["ok"]) & (q.lambda_status[:, 0] == 0)
    assert ok.sum() >= 38
    assert np.abs(rp.profiles[:, 0][ok] - q.profiles[ok, 0]).max() <= 1e-8
