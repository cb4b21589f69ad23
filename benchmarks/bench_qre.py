"""Benchmark: allysim's batched logit QRE against pygambit on the same four-power games.

On random in-range points of the four-power model (uniform over every declared
parameter range):

Each allysim row is printed for both backends, ``numba`` (compiled kernels, the
default when numba is installed) and ``numpy`` (the reference path).

1. QRE at one lambda (default 1.5): ``allysim.solve.logit_qre`` on the whole
   batch vs ``pygambit.qre.logit_solve_lambda`` game by game (including building
   pygambit's game), per point, with the max abs probability difference on the
   games both solved (goal: >= 200x, error <= 1e-6);
2. trace to the limit: ``allysim.solve.logit_trace`` vs ``pygambit.nash.logit_solve``
   (goal: >= 100x), with the max difference of the limit profiles (pygambit stops at
   regret <= 1e-8 x payoff range, allysim at an equilibrium certified to 1e-9).

Times are CPU seconds of this process (``time.process_time``), best of ``--repeat``
for allysim; the wall time is printed too. On a shared machine (the 2-core
development box runs several jobs at once) they are noisy: rerun on a quiet
machine before quoting a ratio. Benchmarks are not tests.

    python benchmarks/bench_qre.py                      # defaults below
    python benchmarks/bench_qre.py --n 20000 --peers 300 --lam 0.5
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")   # small batched solves: one thread is fastest
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from allysim import load_model  # noqa: E402
from allysim.solve import STATUS, logit_qre, logit_trace, status_names  # noqa: E402


def _timed(fn, repeat: int):
    """(result, best CPU seconds, wall seconds of that run)."""
    best = None
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        out = fn()
        c, w = time.process_time() - c, time.perf_counter() - w
        if best is None or c < best[1]:
            best = (out, c, w)
    return best


def _counts(names) -> str:
    names, counts = np.unique(np.asarray(names, dtype=str), return_counts=True)
    return ", ".join(f"{n} {c}" for n, c in zip(names, counts))


def _gambit_game(u):
    import pygambit as gbt
    return gbt.Game.from_arrays(*[u[i] for i in range(u.shape[0])])


def gambit_qre(payoffs: np.ndarray, lam: float):
    import pygambit as gbt
    out = []
    c, w = time.process_time(), time.perf_counter()
    for u in payoffs:
        g = _gambit_game(u)
        q = gbt.qre.logit_solve_lambda(g, lam=[lam])[0]
        out.append([float(q.profile[s]) for s in g.strategies])
    return np.array(out), time.process_time() - c, time.perf_counter() - w


def gambit_limit(payoffs: np.ndarray):
    import pygambit as gbt
    out = []
    c, w = time.process_time(), time.perf_counter()
    for u in payoffs:
        g = _gambit_game(u)
        eq = gbt.nash.logit_solve(g).equilibria[0]
        out.append([float(eq[s]) for s in g.strategies])
    return np.array(out), time.process_time() - c, time.perf_counter() - w


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=8000, help="points solved by allysim (one batch)")
    ap.add_argument("--trace-n", type=int, default=4000, help="points traced by allysim")
    ap.add_argument("--peers", type=int, default=150, help="points solved by pygambit, one by one")
    ap.add_argument("--lam", type=float, default=1.5, help="lambda of the fixed-lambda QRE")
    ap.add_argument("--repeat", type=int, default=2, help="allysim runs, best kept")
    ap.add_argument("--seed", type=int, default=2018)
    args = ap.parse_args(argv)

    model = load_model("four-power")
    lo, hi = model.bounds.T
    rng = np.random.default_rng(args.seed)
    n = max(args.n, args.trace_n, args.peers)
    payoffs = model.payoffs(rng.uniform(lo, hi, size=(n, len(lo))))
    peers = payoffs[:args.peers]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"four-power model, {n} random in-range points; pygambit on the first {args.peers}; "
          f"load average {load:.2f} on {os.cpu_count()} cores (timings are noisy under load)")

    try:
        import numba  # noqa: F401
        backends = ["numba", "numpy"]
    except ImportError:
        backends = ["numpy"]
        print("numba is not installed: NumPy path only (pip install 'allysim[fast]')")

    rows = []
    # 1. QRE at one lambda.
    ref, g_cpu, _ = gambit_qre(peers, args.lam)
    theirs = g_cpu / len(peers)
    for be in backends:
        logit_qre(payoffs[:64], args.lam, backend=be)  # warm-up (layout cache, compilation)
        res, cpu, wall = _timed(lambda: logit_qre(payoffs[:args.n], args.lam, backend=be),
                                args.repeat)
        ok = res.lambda_status[:len(peers), 0] == STATUS["ok"]
        err = float(np.abs(ref[ok] - res.profiles[:len(peers), 0][ok]).max())
        statuses = _counts(status_names(res.lambda_status.ravel()))
        rows.append([f"QRE at lambda {args.lam:g}", be, cpu / args.n, theirs, err,
                     f"{args.n} pts in {wall:.2f} s wall; steps mean {res.steps.mean():.1f}; "
                     f"statuses {statuses}"])

    # 2. Trace to the limit.
    ref_t, g_cpu, _ = gambit_limit(peers)
    theirs_t = g_cpu / len(peers)
    for be in backends:
        logit_trace(payoffs[:64], backend=be)
        lim, cpu, wall = _timed(lambda: logit_trace(payoffs[:args.trace_n], backend=be),
                                args.repeat)
        ok = lim.status[:len(peers)] == STATUS["ok"]
        err_t = float(np.abs(ref_t[ok] - lim.profiles[:len(peers), 0][ok]).max())
        statuses = _counts(status_names(lim.status))
        rows.append(["trace to the limit", be, cpu / args.trace_n, theirs_t, err_t,
                     f"{args.trace_n} pts in {wall:.2f} s wall; max regret {lim.regret.max():.1e}; "
                     f"refined {lim.refined.mean():.1%}; statuses {statuses}"])

    print()
    print(f"{'what':<22} {'backend':<8} {'allysim/pt':>12} {'pygambit/pt':>12} {'ratio':>8} "
          f"{'max |dp|':>10}  notes")
    for what, be, a, g, e, note in rows:
        print(f"{what:<22} {be:<8} {a * 1e6:>9.1f} us {g * 1e3:>9.2f} ms {g / a:>7.0f}x "
              f"{e:>10.1e}  {note}")
    print("\ngoals: QRE >= 200x with max |dp| <= 1e-6; trace >= 100x. "
          "(pygambit's limit is approximate: regret <= 1e-8 x payoff range.)")

if __name__ == "__main__":
    main()
