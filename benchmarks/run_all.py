"""Every benchmark of allysim against its peer, from one run: ``python benchmarks/run_all.py``.

Workloads (four-power model unless said; ratios are peer time per point over allysim's):

1. pure sweep, ``--store counts``: ``allysim sweep baseline-2018 --sample sobol --n 2^21
   --jobs 2`` (all 33 parameters), the whole command timed from outside (interpreter
   start-up, imports, kernel load, solving, writing), against quantecon
   ``pure_nash_brute`` and pygambit ``enumpure_solve`` per point (build + solve);
2. pure sweep, ``--store full`` (the default: results.npz and equilibria.parquet), the same;
3. peak RSS of a 10,000,000-point ``--store full`` sweep (process tree, sampled every 50 ms);
4. QRE sweep at lambda 1.5 (``--solver qre --jobs 2``, whole command) against pygambit
   ``logit_solve_lambda`` per point;
5. trace to the limit (``logit_trace``, in process) against pygambit ``logit_solve``;
6. two-player support enumeration (4x4, all equilibria; and by size, 2x2 to 7x7) against
   quantecon, Nashpy's degenerate 9x9 game against random 9x9 games, and the n-player
   search on the ten scenarios against pygambit ``enumpoly_solve``
   (``benchmarks/bench_mixed.py``), and on QuantEcon's big_polym.gam against pygambit
   ``gnm_solve`` (``benchmarks/bench_nplayer.py``);
7. single-run latency, ``allysim run singapore-summit --solver qre``, with numba importable
   and with numba hidden (median of 5 fresh processes each): installing the fast extra must
   not make a single run slower.

Before timing, one small sweep makes sure the generated kernel is compiled and cached
(a one-time cost, printed) and Python's bytecode is written, as after ``pip install``. Timings depend on what else the machine runs: the load
average is printed first; quote numbers from a quiet machine (load average below 1).
``--markdown`` also prints the README's benchmark table.

    python benchmarks/run_all.py                    # all of it (about 5 minutes)
    python benchmarks/run_all.py --quick            # smaller sizes, no 10M-point run
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_qre  # noqa: E402
import bench_sweep  # noqa: E402

from allysim import load_model  # noqa: E402

ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
# As an installed package does (pip compiles bytecode at install), let Python keep the
# compiled modules: a shell that sets PYTHONDONTWRITEBYTECODE would otherwise recompile
# allysim's sources in every timed process.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
HIDE_NUMBA = "import sys; sys.modules['numba'] = None; "


def allysim_cmd(args: list[str], prelude: str = "") -> list[str]:
    return [sys.executable, "-c", prelude + "import sys; sys.argv[0] = 'allysim'; "
            "from allysim.cli import main; main()", *args]


def sweep(args: list[str], watch_rss: bool = False) -> dict:
    """One ``allysim sweep`` as a fresh process (:func:`bench_sweep.run_sweep`): wall time
    from outside, the parts of its summary line, peak RSS of the process tree when asked."""
    r = bench_sweep.run_sweep(["sweep", *args], watch_rss=watch_rss, env=ENV, command=allysim_cmd([]))
    r["parts"]["command"] = r["seconds"]
    r["peak_mb"] = r["peak_sum_mb"]
    return r


def single_run(prelude: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(allysim_cmd(["run", "singapore-summit", "--solver", "qre"], prelude),
                       env=ENV, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def numba_imported_by_run() -> bool:
    code = ("import sys; sys.argv[0] = 'allysim'\nfrom allysim.cli import main\ntry:\n"
            "    main(['run', 'singapore-summit', '--solver', 'qre'])\nexcept SystemExit:\n    pass\n"
            "print('NUMBA', 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=ENV, cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return "NUMBA True" in out


def mixed_ratios(quick: bool) -> dict:
    """Two-player enumeration (4x4, by size, degenerate 9x9) and n-player search ratios,
    from the output of bench_mixed.py."""
    args = ["--n", "5000", "--peers", "200", "--repeat", "2"] if quick else []
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_mixed.py"), *args],
                         env=ENV, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    two = re.search(r"numba ([\d.]+)x \(threads=2: ([\d.]+)x\)", out)
    us = re.search(r"allysim support_enumeration backend=numba \(batched, 1 thread\)\s+([\d.]+) us", out)
    qe = re.search(r"quantecon support_enumeration \(build \+ solve\)\s+([\d.]+) us", out)
    npl = re.search(r"allysim mixed_nash ([\d.]+) ms/game, pygambit enumpoly_solve ([\d.]+) ms/game "
                    r"\(ratio ([\d.]+)", out)
    found = re.search(r"equilibria: allysim (\d+), pygambit (\d+)", out)
    sizes = re.findall(r"^\s+(\d)x\d\s+\d+\s+([\d.]+) us\s+([\d.]+) us\s+([\d.]+)x", out, re.M)
    deg = {(b, g): (float(t), float(s), float(rss)) for b, g, t, s, rss in re.findall(
        r"^\s+(numpy|numba)\s+(degenerate \(Nashpy\)|random #\d)\s+([\d.]+) ms\s+[\d.]+ MB\s+"
        r"([\d.]+) s\s+(\d+) MB", out, re.M)}
    return {"sizes": sizes, "degenerate": deg,"two_player": float(two.group(1)), "two_player_threads2": float(two.group(2)),
            "two_player_us": float(us.group(1)), "quantecon_us": float(qe.group(1)),
            "nplayer_ms": float(npl.group(1)), "enumpoly_ms": float(npl.group(2)),
            "nplayer": float(npl.group(3)), "found": found.group(0) if found else ""}


def nplayer_vs_gnm() -> dict:
    """The n-player search on QuantEcon's big_polym.gam against pygambit's gnm_solve
    (``benchmarks/bench_nplayer.py``): ms per game and equilibria found."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_nplayer.py")],
                         env=ENV, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    block = out.split("big_polym.gam", 1)[1].split("triggers_back_case.gam", 1)[0]
    ours = re.search(r"allysim mixed_nash \(defaults\)\s+([\d.]+) ms/game\s+(\d+) found\s+of gnm's "
                     r"(\d+)/(\d+)", block)
    gnm = re.search(r"pygambit gnm_solve[^\n]*?([\d.]+) ms/game\s+(\d+) found", block)
    return {"ms": float(ours.group(1)), "found": int(ours.group(2)), "of_gnm": int(ours.group(3)),
            "gnm_found": int(gnm.group(2)), "gnm_ms": float(gnm.group(1))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1 << 21, help="points of the pure sweeps (2^21)")
    ap.add_argument("--rss-n", type=int, default=10_000_000, help="points of the memory run (0: skip)")
    ap.add_argument("--qre-n", type=int, default=1 << 17, help="points of the QRE sweep (2^17)")
    ap.add_argument("--peers", type=int, default=150, help="games timed with each peer")
    ap.add_argument("--quick", action="store_true", help="2^18 pure, 2^14 QRE points; no 10M run")
    ap.add_argument("--markdown", action="store_true", help="also print the README's table")
    opts = ap.parse_args()
    if opts.quick:
        opts.n, opts.qre_n, opts.rss_n = 1 << 18, 1 << 14, 0
    load = os.getloadavg()
    print(f"allysim benchmarks: {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.2f}' for x in load)}"
          + ("" if load[0] < 1 else "  (NOT quiet: numbers are slower than on a quiet machine)"))
    rows: list[tuple[str, str, str, float | None, str]] = []   # what, allysim, peer, ratio, goal

    with tempfile.TemporaryDirectory(prefix="allysim-bench-") as tmp:
        warm = sweep(["baseline-2018", "--sample", "sobol", "--n", "1024", "--quiet",
                      "-o", f"{tmp}/warm"])
        compiled = [ln for ln in warm["err"].splitlines() if "compiled" in ln]
        print("kernel: " + (compiled[0] if compiled else "already compiled and cached "
                            f"(loaded in {warm['parts']['compile']:.2f} s)"))
        common = ["baseline-2018", "--sample", "sobol", "--n", str(opts.n), "--jobs", "2",
                  "--quiet", "--overwrite"]
        counts = sweep(common + ["--store", "counts", "-o", f"{tmp}/counts"])
        full = sweep(common + ["-o", f"{tmp}/full"])
        rss = (sweep(["baseline-2018", "--sample", "random", "--n", str(opts.rss_n), "--jobs", "2",
                      "--quiet", "--yes", "-o", f"{tmp}/rss"], watch_rss=True)
               if opts.rss_n else None)
        qre = sweep(["baseline-2018", "--solver", "qre", "--lambda", "1.5", "--sample", "sobol",
                     "--n", str(opts.qre_n), "--jobs", "2", "--quiet", "-o", f"{tmp}/qre"])

    p = bench_sweep.peers(max(opts.peers, 300), min(opts.peers, 100), 0)
    model = load_model("four-power")
    lo, hi = model.bounds.T
    u = model.payoffs(np.random.default_rng(2018).uniform(lo, hi, size=(opts.peers, len(lo))))
    _, g_qre, _ = bench_qre.gambit_qre(u, 1.5)
    _, g_lim, _ = bench_qre.gambit_limit(u)
    g_qre, g_lim = g_qre / len(u), g_lim / len(u)
    from allysim.solve import logit_trace
    n_trace = 4000
    ut = model.payoffs(np.random.default_rng(7).uniform(lo, hi, size=(n_trace, len(lo))))
    logit_trace(ut[:64])
    t = time.process_time()
    logit_trace(ut)
    trace = (time.process_time() - t) / n_trace
    mixed = mixed_ratios(opts.quick)
    polym = nplayer_vs_gnm()
    with_numba = single_run("", 5)
    without = single_run(HIDE_NUMBA, 5)
    imported = numba_imported_by_run()

    def per_point(r):
        return r["wall"] / r["points"]

    for label, r in (("pure sweep --store counts", counts), ("pure sweep --store full (default)", full)):
        rate = r["points"] / r["wall"]
        parts = r["parts"]
        rows.append((f"{label}, {r['points']:,} Sobol points, --jobs 2, whole command",
                     f"{rate:,.0f} points/s ({parts['command']:.2f} s: start-up {parts['start-up']:.2f}, "
                     f"compile {parts['compile']:.2f}, solve {parts['solve']:.2f}, write {parts['write']:.2f})",
                     f"quantecon {p['qe'] * 1e3:.2f} ms, pygambit {p['gambit'] * 1e3:.2f} ms",
                     p["qe"] / per_point(r),
                     f">= 1,000,000 points/s: {'met' if rate >= 1e6 else 'NOT met'}; "
                     f"{p['gambit'] / per_point(r):,.0f}x pygambit"))
    if rss is not None:
        rows.append((f"pure sweep --store full, {rss['points']:,} points, peak RSS (process tree)",
                     f"{rss['peak_mb']:,.0f} MB; {rss['points'] / rss['wall']:,.0f} points/s", "", None,
                     f"<= 1 GB: {'met' if rss['peak_mb'] <= 1024 else 'NOT met'}"))
    q = per_point(qre)
    qp = qre["parts"]
    rows.append((f"QRE sweep lambda 1.5, {qre['points']:,} points, --jobs 2, whole command",
                 f"{q * 1e6:.1f} us/point ({qp['command']:.2f} s: start-up {qp['start-up']:.2f}, "
                 f"compile {qp['compile']:.2f}, solve {qp['solve']:.2f}, write {qp['write']:.2f})",
                 f"pygambit logit_solve_lambda {g_qre * 1e3:.2f} ms",
                 g_qre / q, f">= 600x: {'met' if g_qre / q >= 600 else 'NOT met'}"))
    rows.append(("trace to the limit (logit_trace, one process)", f"{trace * 1e6:.0f} us/point",
                 f"pygambit logit_solve {g_lim * 1e3:.2f} ms", g_lim / trace, ">= 100x: "
                 + ("met" if g_lim / trace >= 100 else "NOT met")))
    rows.append(("2-player support enumeration, 4x4, all equilibria",
                 f"{mixed['two_player_us']:.1f} us/game", f"quantecon {mixed['quantecon_us']:.1f} us",
                 mixed["two_player"], f">= 20x: {'met' if mixed['two_player'] >= 20 else 'NOT met'} "
                 f"(threads=2: {mixed['two_player_threads2']:.1f}x)"))
    if mixed["sizes"]:
        rows.append(("the same by size: " + ", ".join(f"{s}x{s}" for s, *_ in mixed["sizes"]),
                     ", ".join(f"{float(a):g}" for _, a, _, _ in mixed["sizes"]) + " us/game",
                     "quantecon " + ", ".join(f"{float(q):g}" for _, _, q, _ in mixed["sizes"]) + " us",
                     None, "ratio " + ", ".join(f"{float(r):g}x" for *_, r in mixed["sizes"])))
    deg = mixed["degenerate"]
    if ("numba", "degenerate (Nashpy)") in deg:
        t, s, rss = deg[("numba", "degenerate (Nashpy)")]
        rand = [v for (b, g), v in deg.items() if b == "numba" and g.startswith("random")]
        worst_t, worst_rss = max(v[1] for v in rand), max(v[2] for v in rand)
        rows.append(("Nashpy's degenerate 9x9 game, all equilibria (fresh process)",
                     f"{s:.2f} s, {rss:.0f} MB peak RSS (warm: {t:.0f} ms)",
                     f"random 9x9 games: up to {worst_t:.2f} s, {worst_rss:.0f} MB", None,
                     "bounded, like a few random games: " + ("met" if s <= 3 * worst_t + 0.5 and
                                                            rss <= 2 * worst_rss else "NOT met")
                     + " (was 20-39 s, 18 GB)"))
    rows.append(("n-player search, QuantEcon big_polym.gam (5 players x 4 strategies)",
                 f"{polym['ms']:.0f} ms, {polym['found']} equilibria ({polym['of_gnm']} of gnm's)",
                 f"pygambit gnm_solve {polym['gnm_ms']:.0f} ms, {polym['gnm_found']} equilibria", None,
                 f"at least gnm's {polym['gnm_found']}: "
                 + ("met" if polym["of_gnm"] >= polym["gnm_found"] else "NOT met")))
    rows.append(("n-player search, ten scenarios", f"{mixed['nplayer_ms']:.0f} ms/game",
                 f"pygambit enumpoly_solve {mixed['enumpoly_ms']:.0f} ms", mixed["nplayer"],
                 mixed["found"]))
    rows.append(("single run: allysim run singapore-summit --solver qre (median of 5)",
                 f"{with_numba:.2f} s with numba installed", f"{without:.2f} s without numba",
                 without / with_numba, "never slower: " + ("met" if with_numba <= without * 1.1
                                                           else "NOT met")
                 + f"; run imports numba: {imported}"))

    print()
    for what, ours, peer, ratio, goal in rows:
        print(what)
        print(f"    allysim: {ours}")
        if peer:
            print(f"    peer:    {peer}")
        print(f"    ratio:   {ratio:,.1f}x; goal {goal}" if ratio is not None else f"    goal {goal}")
    if opts.markdown:
        print("\n| benchmark | allysim | peer | ratio | goal |\n| --- | --- | --- | --- | --- |")
        for what, ours, peer, ratio, goal in rows:
            print(f"| {what} | {ours} | {peer} | {'' if ratio is None else f'{ratio:,.1f}x'} | {goal} |")


if __name__ == "__main__":
    main()
