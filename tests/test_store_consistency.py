"""Every path gives the same answer for the same point (issue 12, items 1 and 2).

A pure sweep can take four paths — ``--store counts`` or ``full``, the compiled kernel or
``--backend numpy`` — and ``run`` a fifth (:func:`allysim.solve.pure_nash` on the model's
payoffs). On main before the fix, ``--store counts`` with the compiled kernel checked
finiteness only on the payoff terms that depend on a player's own strategy (so a NaN in
a constant term went unnoticed: ``ok 80%`` where every other path said ``failed``), and
compared best replies on other numbers than the full store at a tolerance tie (``ok``,
one equilibrium, where the others said ``degenerate``, two).
"""
from __future__ import annotations

import numpy as np
import pytest

from allysim import compile_model
from allysim.solve import STATUS, pure_nash
from allysim.sweep import engine
from allysim.sweep import store as st
from allysim.sweep.design import grid_design
from tests.test_model import MINI


def _model(row_expr: str, extra_param: str = ""):
    text = MINI.replace("ROW_EXPR", row_expr)
    if extra_param:
        text = text.replace("[derived]", extra_param + "\n\n[derived]")
    return compile_model(text, where="mini.toml")


def _sweep(tmp_path, model, vary, store, backend) -> dict[str, np.ndarray]:
    design = grid_design(model, model.defaults, vary)
    spec = engine.SweepSpec(model.source, "mini.toml", design, "pure",
                            {"tol": 1e-9, "backend": backend}, store, 64, {}, "csv")
    out = tmp_path / f"{store}-{backend}"
    st.prepare(out, overwrite=False)
    engine.write_plan(out, spec, ["test"])
    engine.run_sweep(spec, out=out)
    with np.load(out / st.RESULTS, allow_pickle=False) as z:
        return {k: z[k] for k in ("count", "status", "outcome")}, design


def _all_paths(tmp_path, model, vary):
    got = {}
    for store in ("counts", "full"):
        for backend in ("numba", "numpy"):
            got[store, backend], design = _sweep(tmp_path, model, vary, store, backend)
    u = model.payoffs(design.points(0, design.n), check=False)
    finite = np.isfinite(u.reshape(len(u), -1)).all(axis=1)
    res = pure_nash(u[finite], tol=1e-9)        # what ``run`` says, point by point
    status = np.full(len(u), STATUS["failed"], np.int8)
    count = np.zeros(len(u), np.int64)
    status[finite], count[finite] = res.status, res.count
    return got, status, count


def _assert_agree(got, status, count):
    for key, arrays in got.items():
        assert arrays["status"].tolist() == status.tolist(), key
        assert arrays["count"].tolist() == count.tolist(), key


def test_a_nan_in_a_term_without_the_players_strategy_fails_the_point_in_every_path(tmp_path):
    pytest.importorskip("numba")
    # log(scale_factor - 1) is the same for both of Row's strategies: the compiled kernel
    # may drop it from the best-reply test, but not from the finiteness check.
    model = _model("(Row == 'UP') * scale_factor + log(scale_factor - 1)")
    got, status, count = _all_paths(tmp_path, model, ["scale_factor=0:2:5"])
    assert status.tolist()[:3] == [STATUS["failed"]] * 3      # log(-1), log(-0.5), log(0)
    assert (status[3:] != STATUS["failed"]).all() and (count[3:] > 0).all()
    _assert_agree(got, status, count)


def test_a_tolerance_tie_is_judged_the_same_in_every_path(tmp_path):
    pytest.importorskip("numba")
    # Row gains 5e-9 by DOWN on payoffs up to 2e8: after rounding, a strict gain of one
    # ulp at some profiles and none at others, the gains being the whole payoff scale
    # (Col is indifferent everywhere: every point is degenerate, with 2, 3 and 4
    # equilibria). Every path must judge each comparison alike.
    model = _model("big * (1 + (Col == 'RIGHT')) + (Row == 'DOWN') * 5e-9",
                   'big = { default = 1, range = [0, 1e8] }')
    got, status, count = _all_paths(tmp_path, model, ["big=0:1e8:3"])
    assert status.tolist() == [STATUS["degenerate"]] * 3 and count.tolist() == [2, 3, 4]
    _assert_agree(got, status, count)
