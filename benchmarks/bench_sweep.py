"""Benchmark: allysim sweeps against quantecon and pygambit on the same games.

Runs, on the four-power model (scenario baseline-2018, Sobol' points over every
declared range, pure-equilibrium counts):

1. end-to-end sweep rate of ``allysim sweep ... --store counts -o DIR`` (sampling,
   payoffs, solve, reduction, writing chunks and results) with --jobs 1 and 2, and
   with the NumPy reference path (--backend numpy) for comparison;
2. peak resident memory of a 10,000,000-point counts-only sweep (--jobs 2), summed
   over the process tree and sampled every 50 ms;
3. per-point time of quantecon ``pure_nash_brute`` and pygambit ``enumpure_solve``
   (each including building the library's game object) on a sample of the same
   games, and the ratios to allysim. The answers are cross-checked on that sample.

Each sweep runs as a fresh ``allysim`` process; its rate is points over the whole
command's time, as ``allysim sweep`` prints it (start-up, compile, solve, write), and
the wall time measured from outside is shown too.
Timings on a shared machine are noisy: rerun on a quiet one before quoting them.

    python benchmarks/bench_sweep.py                  # defaults below
    python benchmarks/bench_sweep.py --n 1048576 --rss-n 0 --peers 100
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from allysim import load_scenario  # noqa: E402
from allysim.solve import pure_nash  # noqa: E402
from allysim.sweep import sample_design  # noqa: E402

ALLYSIM = [sys.executable, "-c", "import sys; sys.argv[0] = 'allysim'; "
           "from allysim.cli import main; main()"]


def _tree_rss_kb(root: int) -> tuple[int, int]:
    """(sum, max) of VmRSS over ``root`` and its descendants, in kB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, biggest, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        kb = int(line.split()[1])
                        total += kb
                        biggest = max(biggest, kb)
        except OSError:
            pass
    return total, biggest


def run_sweep(args: list[str], watch_rss: bool = False, env: dict | None = None,
              command: list[str] | None = None) -> dict:
    """Run ``allysim`` with ``args`` as a fresh process (``command`` instead of the default
    one); its wall time from outside, the summary's numbers, peak RSS when asked."""
    if env is None:
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    proc = subprocess.Popen((command or ALLYSIM) + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    peak_sum = peak_one = 0
    if watch_rss:
        while proc.poll() is None:
            s, m = _tree_rss_kb(proc.pid)
            peak_sum, peak_one = max(peak_sum, s), max(peak_one, m)
            time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"sweep failed ({proc.returncode}): {' '.join(args)}\n{err}")
    m = re.search(r"swept ([\d,]+) points in ([\d.]+) s \(([\d,]+) points/s", out)
    c = re.search(r"compiled in ([\d.]+) s", out)
    parts = re.search(r"start-up ([\d.]+) s, compile ([\d.]+) s, solve ([\d.]+) s, write ([\d.]+) s",
                      out)
    return {"points": int(m.group(1).replace(",", "")), "seconds": float(m.group(2)),
            "rate": float(m.group(3).replace(",", "")), "wall": wall,
            "compile": float(c.group(1)) if c else None, "peak_sum_mb": peak_sum / 1024,
            "peak_one_mb": peak_one / 1024, "out": out, "err": err,
            "parts": dict(zip(("start-up", "compile", "solve", "write"),
                              map(float, parts.groups()))) if parts else {}}


def peers(n_games: int, n_gambit: int, seed: int) -> dict:
    import pygambit as gbt
    import quantecon.game_theory as qe

    s = load_scenario("baseline-2018")
    design = sample_design(s.model, s.point, "sobol", 1 << 20, seed=seed)
    params = design.points(0, n_games)
    u = s.model.payoffs(params)
    n = s.model.n_players
    ours = pure_nash(u)

    t = time.perf_counter()
    qe_counts = []
    for b in range(n_games):
        g = qe.NormalFormGame([qe.Player(np.transpose(u[b, i], [(i + k) % n for k in range(n)]).copy())
                               for i in range(n)])
        qe_counts.append(len(qe.pure_nash_brute(g, tol=1e-9)))
    qe_time = (time.perf_counter() - t) / n_games

    t = time.perf_counter()
    gb_counts = []
    for b in range(n_gambit):
        g = gbt.Game.from_arrays(*[u[b, i] for i in range(n)])
        gb_counts.append(len(gbt.nash.enumpure_solve(g).equilibria))
    gb_time = (time.perf_counter() - t) / n_gambit
    agree_qe = int((np.array(qe_counts) == ours.count).sum())
    agree_gb = int((np.array(gb_counts) == ours.count[:n_gambit]).sum())
    return {"qe": qe_time, "gambit": gb_time, "agree_qe": (agree_qe, n_games),
            "agree_gambit": (agree_gb, n_gambit)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1 << 22, help="points of the rate sweeps (default 2^22)")
    ap.add_argument("--rss-n", type=int, default=10_000_000, help="points of the memory sweep (0 skips)")
    ap.add_argument("--peers", type=int, default=300, help="games timed with quantecon")
    ap.add_argument("--gambit", type=int, default=100, help="games timed with pygambit")
    ap.add_argument("--seed", type=int, default=0)
    opts = ap.parse_args()

    print(f"allysim sweep benchmark: four-power model, baseline-2018, Sobol' over all parameters, "
          f"pure-equilibrium counts; {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("NOTE: timings on a shared machine are noisy; rerun on a quiet one before quoting.\n")
    results = {}
    with tempfile.TemporaryDirectory(prefix="allysim-bench-") as tmp:
        common = ["sweep", "baseline-2018", "--sample", "sobol", "--seed", str(opts.seed),
                  "--store", "counts", "--quiet", "--overwrite"]
        for label, extra, n in [("numpy path, --jobs 1", ["--backend", "numpy", "--jobs", "1"],
                                 min(opts.n, 1 << 17)),
                                ("numba kernel, --jobs 1", ["--jobs", "1"], opts.n),
                                ("numba kernel, --jobs 2", ["--jobs", "2"], opts.n)]:
            r = run_sweep(common + ["--n", str(n), "-o", f"{tmp}/rate"] + extra)
            results[label] = r
            comp = f"; kernel compile {r['compile']:.2f} s" if r["compile"] is not None else ""
            print(f"{label:<24} {r['points']:>10,} points  {r['seconds']:7.2f} s  "
                  f"{r['rate']:>12,.0f} points/s  ({1e6 / r['rate']:.3f} us/point; "
                  f"whole command {r['wall']:.2f} s{comp})")
        if opts.rss_n:
            r = run_sweep(common + ["--n", str(opts.rss_n), "--jobs", "2", "-o", f"{tmp}/rss"],
                          watch_rss=True)
            print(f"\n{opts.rss_n:,}-point counts-only sweep, --jobs 2: {r['seconds']:.2f} s "
                  f"({r['rate']:,.0f} points/s)")
            print(f"peak RSS: {r['peak_sum_mb']:.0f} MB summed over the process tree "
                  f"(largest single process {r['peak_one_mb']:.0f} MB); goal < 1024 MB: "
                  f"{'met' if r['peak_sum_mb'] < 1024 else 'NOT met'}")
            results["rss"] = r

    p = peers(opts.peers, opts.gambit, opts.seed)
    print("\nper point on the same games (build the library's game object + solve):")
    print(f"  quantecon pure_nash_brute  {p['qe'] * 1e3:8.3f} ms  ({1 / p['qe']:,.0f} points/s); "
          f"same counts as allysim on {p['agree_qe'][0]}/{p['agree_qe'][1]}")
    print(f"  pygambit enumpure_solve    {p['gambit'] * 1e3:8.3f} ms  ({1 / p['gambit']:,.0f} points/s); "
          f"same counts as allysim on {p['agree_gambit'][0]}/{p['agree_gambit'][1]}")
    print("\nratios (peer time per point / allysim time per point, end to end):")
    for label in ("numba kernel, --jobs 2", "numba kernel, --jobs 1", "numpy path, --jobs 1"):
        ours = 1 / results[label]["rate"]
        print(f"  allysim {label:<24} {p['qe'] / ours:10,.0f}x quantecon   "
              f"{p['gambit'] / ours:10,.0f}x pygambit")
    best = results["numba kernel, --jobs 2"]["rate"]
    print(f"\ngoal >= 1,000,000 points/s with --jobs 2: {'met' if best >= 1e6 else 'NOT met'} "
          f"({best:,.0f}); goal >= 600x quantecon: "
          f"{'met' if p['qe'] * best >= 600 else 'NOT met'} ({p['qe'] * best:,.0f}x)")


if __name__ == "__main__":
    main()
