"""The numba kernel generated from a model's Expr trees agrees with the NumPy reference path."""
from __future__ import annotations

import numpy as np
import pytest

from allysim import compile_model, list_models, load_model
from allysim.solve import STATUS, pure_nash
from allysim.concepts.pure import PURE
from allysim.model import _numba as _kernel
from allysim.solve import STATUS_NAMES


def PureReducer(model, options, store, backend):
    """The pure concept's sweep layout with its kernel built (as the engine does)."""
    layout = PURE.sweep(PURE, model, PURE.resolve({**options, "backend": backend}, model.players),
                        store)
    layout.prepare()
    return layout

import numba  # noqa: F401  (a test dependency: the kernel is tested, never skipped)

# Every operator and function of the expression whitelist, with ties and a log that can hit 0.
ALL_OPS = """
name = "all-ops"
[[players]]
name = "A"
strategies = ["X", "Y", "Z"]
[players.attributes]
w = [1, "a / 2", "-b"]
[[players]]
name = "B"
strategies = ["L", "R"]
[players.attributes]
v = ["abs(a - b)", "a ** 0.5"]
[parameters]
a = { default = 1, range = [0, 3] }
b = { default = 2, range = [0, 3] }
c = { default = 0.5, range = [0, 1] }
[derived]
m = "min(A.w, B.v) + max(a, b) - clip(A.w * B.v, -1, 1)"
e = "where(a > b, exp(-a), log(1 + b)) + (a >= b) - (a < b) * (a <= c) + (a == b) - (b != c)"
q = "(A == 'Y') * m + (B == 'R') * e / (1 + c)"
[payoffs]
A = "q - 2 * A.w * (B == 'L') + c * round_me"
B = "-q + B.v * (A == 'Z') - log(c) * (B == 'R')"
""".replace(" + c * round_me", "")


def random_points(model, n, seed=0, edges=True):
    rng = np.random.default_rng(seed)
    b = model.bounds
    pts = b[:, 0] + (b[:, 1] - b[:, 0]) * rng.random((n, len(b)))
    if edges:  # a third of the points at range ends and defaults: ties and degenerate games
        k = n // 3
        choice = rng.integers(0, 3, (k, len(b)))
        pts[:k] = np.where(choice == 0, b[:, 0], np.where(choice == 1, b[:, 1], model.defaults))
    return pts


def check_equal(model, params, bitwise=True):
    kern = _kernel.build_kernel(model)
    ref = model.payoffs(params, check=False)
    got = kern.payoffs(params)
    finite = np.isfinite(ref.reshape(len(params), -1)).all(axis=1)
    if bitwise:
        assert got.tobytes() == ref.tobytes()
    else:
        np.testing.assert_allclose(got[finite], ref[finite], rtol=1e-13, atol=1e-13)
    count, status, outcome, hist = kern.counts(params, 1e-9)
    res = pure_nash(ref[finite], tol=1e-9)
    assert np.array_equal(count[finite], res.count)
    assert np.array_equal(status[finite], res.status)
    assert (status[~finite] == STATUS["failed"]).all()
    mask = res.mask.reshape(finite.sum(), -1)
    assert np.array_equal(hist, mask.sum(axis=0))
    uniq = np.where(res.count == 1, mask.argmax(axis=1), np.where(res.count == 0, -1, -2))
    assert np.array_equal(outcome[finite], uniq)
    return status


def test_four_power_kernel_equals_numpy_bitwise():
    model = load_model("four-power")
    status = check_equal(model, random_points(model, 3000))
    # the edge points do produce ties, so degenerate games are compared too
    assert (status == STATUS["degenerate"]).any() and (status == STATUS["ok"]).any()


@pytest.mark.parametrize("name", [m for m in list_models() if m != "four-power"])
def test_every_shipped_model(name):
    model = load_model(name)
    check_equal(model, random_points(model, 600, seed=1), bitwise=False)


def test_every_operator_and_function():
    model = compile_model(ALL_OPS, where="all-ops.toml")
    params = random_points(model, 2000, seed=2)
    params[:50, 2] = 0.0          # log(c) = -inf: those points are failed in both paths
    status = check_equal(model, params, bitwise=False)
    assert (status[:50] == STATUS["failed"]).all()


def test_reducer_backends_agree_on_every_array():
    model = load_model("four-power")
    params = random_points(model, 1500, seed=3)
    for store in ("counts", "full"):
        fast = PureReducer(model, {}, store, "numba").reduce(params, 100)
        slow = PureReducer(model, {}, store, "numpy").reduce(params, 100)
        assert fast.keys() == slow.keys()
        for key in fast:
            assert np.asarray(fast[key]).tobytes() == np.asarray(slow[key]).tobytes(), key


def test_kernel_is_cached_per_model_and_compile_time_is_measured():
    model = load_model("four-power")
    k = _kernel.build_kernel(model)
    assert _kernel.build_kernel(load_model("four-power")) is k
    assert k.compile_seconds > 0


def test_kernel_status_codes_are_the_solvers():
    assert all(STATUS_NAMES[code] == name for name, code in _kernel.STATUS_CODES.items())


def test_numpy_fallback_when_numba_is_missing(monkeypatch):
    import allysim.solve._backend as backend
    monkeypatch.setattr(backend, "_NUMBA", False)
    model = load_model("prisoners-dilemma")
    red = PureReducer(model, {}, "counts", "auto")
    assert red.kernel is None and "numba is not installed" in red.note()
    out = red.reduce(model.defaults[None, :], 0)
    assert out["count"].tolist() == [1]


# -- the on-disk cache of compiled kernels ---------------------------------------------------
_RUN = """
import sys, time, numpy as np
from allysim import load_model
from allysim.model import _numba
m = load_model("{model}")
k = _numba.build_kernel(m, notify=lambda line: print("NOTICE", line))
P = np.repeat(m.defaults[None], 5, axis=0) * np.linspace(0.5, 1, 5)[:, None]
r = k.rows(P, 1e-9, 0)
print("RESULT", k.compiled, "numba" in sys.modules, r["count"].tolist(), r["eq_profile"].tolist(),
      k.payoffs(P).sum().hex())
"""


def _run_kernel(cache, model="prisoners-dilemma"):
    import os
    import subprocess
    import sys
    from pathlib import Path
    env = dict(os.environ, ALLYSIM_CACHE_DIR=str(cache),
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, "-c", _RUN.format(model=model)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    notices = [ln for ln in out.stdout.splitlines() if ln.startswith("NOTICE")]
    result = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][0]
    return notices, result


def test_kernel_compiled_once_then_loaded_without_numba(tmp_path):
    notices, first = _run_kernel(tmp_path)
    assert len(notices) == 1 and "compiled the sweep kernel of model prisoners-dilemma" in notices[0]
    assert f"cached in {tmp_path}" in notices[0]
    assert first.startswith("RESULT True True")
    notices, second = _run_kernel(tmp_path)
    assert notices == []
    assert second.startswith("RESULT False False")          # numba was not even imported
    assert second.split()[3:] == first.split()[3:]           # the same numbers


def test_a_broken_cache_file_is_compiled_again(tmp_path):
    _run_kernel(tmp_path)
    (path,) = tmp_path.glob("kernel-*.npz")
    path.write_bytes(b"not a kernel")
    notices, result = _run_kernel(tmp_path)
    assert len(notices) == 1 and result.startswith("RESULT True")


def test_cache_key_follows_the_model_and_versions(monkeypatch):
    a, b = load_model("four-power"), load_model("chicken")
    assert _kernel.cache_key(a) != _kernel.cache_key(b)
    key = _kernel.cache_key(a)
    monkeypatch.setattr(_kernel, "CACHE_FORMAT", _kernel.CACHE_FORMAT + 1)
    assert _kernel.cache_key(a) != key
    monkeypatch.setenv("ALLYSIM_CACHE_DIR", "")
    assert _kernel.cache_dir() is None


def test_rows_equal_pure_nash_with_and_without_room():
    model = load_model("four-power")
    params = random_points(model, 400, seed=5)
    kern = _kernel.build_kernel(model)
    ref = pure_nash(model.payoffs(params, check=False), tol=1e-9)
    got = kern.rows(params, 1e-9, 7)
    local, slot = np.nonzero(ref.pure[:, :, 0] >= 0)
    assert np.array_equal(got["eq_point"], local + 7)
    assert np.array_equal(got["eq_profile"], ref.pure[local, slot])
    assert np.array_equal(got["eq_regret"], ref.regret[local, slot])
    # the first call's room for rows (2 per point + 16) is too small here: it grows and retries
    assert ref.count.max() >= 3
    many = np.repeat(params[np.argmax(ref.count)][None], 50, axis=0)
    got = kern.rows(many, 1e-9, 0)
    assert len(got["eq_point"]) == 50 * ref.count.max()


@pytest.mark.parametrize("solver", ["pure", "qre", "mixed"])
def test_a_single_run_does_not_import_numba(solver):
    """Installing the fast extra never slows a single run: ``auto`` takes NumPy for one game,
    and numba is not even imported."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    code = ("import sys; sys.argv[0] = 'allysim'\nfrom allysim.cli import main\ntry:\n"
            f"    main(['run', 'singapore-summit', '--solver', {solver!r}])\nexcept SystemExit:\n"
            "    pass\nprint('NUMBA', 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(root)), timeout=300)
    assert "NUMBA False" in out.stdout, out.stdout + out.stderr
