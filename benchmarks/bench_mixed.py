"""Benchmark: all mixed equilibria of 2-player games, allysim against the peers.

1. 4x4 games (standard normal payoffs, nondegenerate with probability 1): allysim
   ``support_enumeration`` on the whole batch at once (best of ``--repeat`` runs),
   per game, with each backend: ``numba`` (the compiled kernel, the default when
   numba is installed; its compile or cache-load time is printed), the same with
   ``threads=2``, and ``numpy`` (the reference); quantecon ``support_enumeration``
   game by game, including building its ``NormalFormGame`` (and the solve alone);
   pygambit ``enummixed_solve`` game by game (floating point and exact), including
   building the game; the ratios, and the answers cross-checked on the peers' sample.
   Every allysim equilibrium is certified (the kernel's compiled ``verify``).
2. How the ratio grows with the game's size, 2x2 to 7x7 (``--sizes``): the number of
   support pairs, allysim numba per game, quantecon per game, the ratio.
3. Nashpy's degenerate 9x9 game (``test_lemke_howson_lex_degenerate_tie_breaking_looping``)
   against random 9x9 games: time in this process (warm, best of ``--repeat``) and
   peak memory, both as the allocations' peak in this process (tracemalloc) and as
   the peak RSS of a fresh process that solves it once (``VmHWM``, which includes
   Python, NumPy and, for numba, the compiler: compare the lines with each other; numba's
   own allocations are not seen by tracemalloc).
4. The n-player search (``mixed_nash``) on the ten four-power scenarios against
   pygambit ``enumpoly_solve`` (``--skip-four-power`` to leave it out).

Timings are wall-clock on whatever else the machine is doing: on a shared machine
they are noisy (rerun on a quiet one before quoting them, or pass ``--cpu`` to time
by the process's CPU time, which the other processes' turns do not inflate). The
header prints the load average.

    python benchmarks/bench_mixed.py                      # defaults below
    python benchmarks/bench_mixed.py --n 100000 --peers 2000 --skip-four-power
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from allysim import DegenerateGameWarning, list_scenarios, load_scenario  # noqa: E402
from allysim.solve import mixed_nash, support_enumeration  # noqa: E402
from allysim.solve.support_enumeration import support_pairs  # noqa: E402

def nashpy_9x9() -> np.ndarray:
    """Nashpy's degenerate 9x9 game (row payoffs A, column payoffs 1 - A), from tests/data."""
    from allysim.io.nfg import read_nfg
    return read_nfg((ROOT / "tests" / "data" / "nashpy_degenerate_9x9.nfg").read_text(encoding="utf-8")).payoffs


#: Set by --cpu: time by the process's CPU time (time.process_time) instead of the wall
#: clock, for a loaded machine, where the wall clock counts the other processes' turns.
CPU = False


def best_time(fn, repeat: int) -> float:
    clock = time.process_time if CPU else time.perf_counter
    best = np.inf
    for _ in range(repeat):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best


def as_set(eqs, digits=6):
    return {tuple(np.round(np.asarray(e, dtype=float), digits) + 0.0) for e in eqs}


def qe_game(u):
    import quantecon.game_theory as qe
    return qe.NormalFormGame([qe.Player(u[0]), qe.Player(u[1].T.copy())])


def bench_two_player(n: int, peers: int, repeat: int, seed: int) -> float:
    import pygambit as gbt
    import quantecon.game_theory as qe

    rng = np.random.default_rng(seed)
    U = rng.standard_normal((n, 2, 4, 4))
    sample = U[:peers]
    print(f"2-player 4x4, all equilibria: {n} random games for allysim, {peers} for the peers")

    import importlib
    kern = importlib.import_module("allysim.solve._support_enumeration_numba")
    t0 = time.perf_counter()
    kern.warm_up()
    print(f"  numba kernel ready in {time.perf_counter() - t0:.2f} s (compiled, or loaded from "
          "numba's on-disk cache after the first run)")
    support_enumeration(U[:256], backend="numpy")  # warm up
    support_enumeration(U[:256], backend="numba", threads=2)
    t_numba = best_time(lambda: support_enumeration(U, backend="numba"), repeat) / n
    t_numba2 = best_time(lambda: support_enumeration(U, backend="numba", threads=2), repeat) / n
    t_numpy = best_time(lambda: support_enumeration(U, backend="numpy"), repeat) / n
    res = support_enumeration(U, backend="numba")
    ref = support_enumeration(U, backend="numpy")
    same = (np.array_equal(res.profiles, ref.profiles, equal_nan=True)
            and np.array_equal(res.status, ref.status) and np.array_equal(res.count, ref.count))
    print(f"  backends identical (equilibria bit for bit, order, status): {same}")

    qe.support_enumeration(qe_game(sample[0]))  # numba compile
    games = [qe_game(u) for u in sample]
    t_qe_solve = best_time(lambda: [qe.support_enumeration(g) for g in games], repeat) / peers
    t_qe = best_time(lambda: [qe.support_enumeration(qe_game(u)) for u in sample], repeat) / peers

    def gbt_run(rational):
        return [gbt.nash.enummixed_solve(gbt.Game.from_arrays(u[0], u[1]), rational=rational)
                for u in sample]
    t_gbt = best_time(lambda: gbt_run(False), 1) / peers
    n_exact = min(peers, 200)
    t0 = time.perf_counter()
    [gbt.nash.enummixed_solve(gbt.Game.from_arrays(u[0], u[1])) for u in sample[:n_exact]]
    t_gbt_exact = (time.perf_counter() - t0) / n_exact

    # Cross-check on the sample.
    agree_qe = agree_gbt = 0
    for b, (u, g) in enumerate(zip(sample, gbt_run(False))):
        ours = as_set(res.equilibria(b))
        agree_qe += ours == as_set(np.concatenate(e) for e in qe.support_enumeration(qe_game(u)))
        agree_gbt += ours == as_set([[float(e[s]) for p in e.game.players for s in p.strategies]
                                     for e in g.equilibria])
    counts = np.bincount(res.count)
    print(f"  equilibria per game (allysim, all {n}): "
          + ", ".join(f"{k}: {c}" for k, c in enumerate(counts) if c))
    print(f"  agreement on the sample: quantecon {agree_qe}/{peers}, pygambit {agree_gbt}/{peers}")
    peers_rows = [
        ("quantecon support_enumeration (build + solve)", t_qe),
        ("quantecon support_enumeration (solve only)", t_qe_solve),
        ("pygambit enummixed_solve rational=False (build + solve)", t_gbt),
        (f"pygambit enummixed_solve exact (build + solve, {n_exact} games)", t_gbt_exact),
    ]
    rows = [("allysim support_enumeration backend=numba (batched, 1 thread)", t_numba),
            ("allysim support_enumeration backend=numba threads=2", t_numba2),
            ("allysim support_enumeration backend=numpy (batched)", t_numpy)] + peers_rows
    width = max(len(r[0]) for r in rows)
    print(f"  {'method'.ljust(width)}  {'per game':>12}  {'games/s':>10}  {'numba is':>14}  {'numpy is':>14}")
    for name, t in rows:
        print(f"  {name.ljust(width)}  {t * 1e6:10.2f} us  {1 / t:10.0f}  "
              f"{t / t_numba:7.1f}x faster  {t / t_numpy:7.1f}x faster")
    print(f"  goal (issue 11 item 6): allysim >= 20x quantecon (build + solve): numba {t_qe / t_numba:.1f}x "
          f"(threads=2: {t_qe / t_numba2:.1f}x), numpy {t_qe / t_numpy:.1f}x; "
          f"pygambit rational=False {t_gbt / t_numba:.0f}x")
    return t_qe / t_numba


def bench_sizes(sizes, n: int, peers: int, repeat: int, seed: int) -> None:
    import quantecon.game_theory as qe

    print("\nHow the ratio grows with the game's size (random standard-normal games; allysim "
          "numba batched, quantecon build + solve game by game)")
    print(f"  {'size':>5}  {'pairs':>6}  {'allysim':>12}  {'quantecon':>12}  {'ratio':>7}  "
          f"{'quantecon per pair':>18}  {'eq/game':>7}  agree")
    rng = np.random.default_rng(seed)
    for s in sizes:
        pairs = support_pairs(s, s)
        # Fewer games for the bigger sizes: about the same work for each line.
        k = max(200, min(n, int(n * 69 / pairs)))
        kp = max(20, min(peers, int(peers * 69 / pairs)))
        U = rng.standard_normal((k, 2, s, s))
        support_enumeration(U[:64], backend="numba")
        t_ally = best_time(lambda: support_enumeration(U, backend="numba"), repeat) / k
        sample = U[:kp]
        qe.support_enumeration(qe_game(sample[0]))
        t_qe = best_time(lambda: [qe.support_enumeration(qe_game(u)) for u in sample], repeat) / kp
        res = support_enumeration(U, backend="numba")
        agree = sum(as_set(res.equilibria(b)) ==
                    as_set(np.concatenate(e) for e in qe.support_enumeration(qe_game(u)))
                    for b, u in enumerate(sample))
        print(f"  {s}x{s:<3}  {pairs:6d}  {t_ally * 1e6:9.2f} us  {t_qe * 1e6:9.1f} us  "
              f"{t_qe / t_ally:6.1f}x  {t_qe / pairs * 1e9:15.0f} ns  {res.count.mean():7.2f}  "
              f"{agree}/{kp}")


_CHILD = """
import json, sys, time, warnings
import numpy as np
sys.path.insert(0, {root!r})
from allysim.solve import support_enumeration
u = np.array({games!r})
warnings.simplefilter("ignore")
t = time.perf_counter()
res = support_enumeration(u, backend={backend!r})
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")]
print(json.dumps(dict(seconds=time.perf_counter() - t, count=res.count.tolist(),
                      maxrss_mb=int(hwm[0].split()[1]) / 1024 if hwm else float("nan"))))
"""


def _fresh_process(games: np.ndarray, backend: str) -> dict:
    """Solve ``games`` once in a fresh Python process: its seconds and peak RSS."""
    code = _CHILD.format(root=str(ROOT), games=games.tolist(), backend=backend)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_degenerate(repeat: int, seed: int) -> None:
    deg = nashpy_9x9()
    rand = np.random.default_rng(seed).standard_normal((5, 2, 9, 9))
    print(f"\nNashpy's degenerate 9x9 game against random 9x9 games ({support_pairs(9, 9)} support "
          "pairs each; main took 20-39 s and 17.9-18 GB peak RSS on the degenerate one)")
    print(f"  {'backend':7}  {'game':18}  {'time (warm)':>12}  {'alloc peak':>10}  "
          f"{'fresh process: time':>20}  {'peak RSS':>9}  status")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)
        for backend in ("numpy", "numba"):
            lines = [("degenerate (Nashpy)", deg)] + [(f"random #{i}", rand[i:i + 1]) for i in range(3)]
            for name, u in lines:
                support_enumeration(u, backend=backend)
                t = best_time(lambda: support_enumeration(u, backend=backend), repeat)
                tracemalloc.start()
                res = support_enumeration(u, backend=backend)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                fresh = _fresh_process(u, backend)
                status = {0: "ok", 2: "degenerate", 6: "failed"}.get(int(res.status[0]), "?")
                print(f"  {backend:7}  {name:18}  {t * 1e3:9.1f} ms  {peak / 1e6:7.1f} MB  "
                      f"{fresh['seconds']:17.2f} s  {fresh['maxrss_mb']:6.0f} MB  {status}, "
                      f"{res.count[0]} equilibria")


def bench_four_power(repeat: int) -> None:
    import pygambit as gbt

    print("\nn-player search (mixed_nash) on the ten four-power scenarios, against pygambit enumpoly_solve")
    tot_ally = tot_gbt = 0.0
    found = theirs_n = missing = extra = 0
    for name in list_scenarios():
        s = load_scenario(name)
        u = s.model.payoffs(s.point)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tot_ally += best_time(lambda: mixed_nash(u), repeat)
            res = mixed_nash(u)
        t0 = time.perf_counter()
        game = gbt.Game.from_arrays(*u[0])
        eqs = gbt.nash.enumpoly_solve(game).equilibria
        tot_gbt += time.perf_counter() - t0
        theirs = np.array([[float(e[st]) for p in game.players for st in p.strategies] for e in eqs])
        ours = res.equilibria(0)
        found += len(ours)
        theirs_n += len(theirs)
        missing += sum(not (np.abs(ours - e).max(1) <= 1e-6).any() for e in theirs)
        extra += sum(not (np.abs(theirs - e).max(1) <= 1e-6).any() for e in ours)
    k = len(list_scenarios())
    print(f"  equilibria: allysim {found}, pygambit {theirs_n}; missing {missing}, extra {extra}")
    print(f"  allysim mixed_nash {tot_ally / k * 1e3:.1f} ms/game, pygambit enumpoly_solve "
          f"{tot_gbt / k * 1e3:.1f} ms/game (ratio {tot_gbt / tot_ally:.2f}; allysim also runs a "
          "QRE trace, random and support starts)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="4x4 games for allysim (default 20000)")
    ap.add_argument("--peers", type=int, default=500, help="4x4 games for quantecon/pygambit (default 500)")
    ap.add_argument("--repeat", type=int, default=5, help="best of this many runs (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sizes", type=int, nargs="*", default=[2, 3, 4, 5, 6, 7],
                    help="square game sizes for the growth table (default 2..7; none to skip)")
    ap.add_argument("--skip-degenerate", action="store_true")
    ap.add_argument("--skip-four-power", action="store_true")
    ap.add_argument("--cpu", action="store_true",
                    help="time by CPU time (process_time), not wall clock: for a loaded machine "
                         "(threads=2 then reads as the sum of both threads)")
    args = ap.parse_args()
    global CPU
    CPU = args.cpu
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Timings: {'CPU time' if CPU else 'wall clock'}, best of {args.repeat}; load average "
          f"{load:.1f} on {os.cpu_count()} CPUs (wall-clock timings are noisy on a shared machine: "
          "rerun on a quiet one, or with --cpu, before quoting).\n")
    bench_two_player(args.n, min(args.peers, args.n), args.repeat, args.seed)
    if args.sizes:
        bench_sizes(args.sizes, args.n, args.peers, args.repeat, args.seed + 1)
    if not args.skip_degenerate:
        bench_degenerate(args.repeat, args.seed + 2)
    if not args.skip_four_power:
        bench_four_power(args.repeat)


if __name__ == "__main__":
    main()
