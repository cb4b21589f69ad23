"""Benchmark: all mixed equilibria of 2-player 4x4 games, allysim against the peers.

On the same random 4x4 games (standard normal payoffs, nondegenerate with
probability 1):

1. allysim ``support_enumeration`` on the whole batch at once (best of
   ``--repeat`` runs), per game, with each backend: ``numba`` (the compiled
   kernel, the default when numba is installed; its compile or cache-load
   time is printed), the same with ``threads=2``, and ``numpy`` (the reference);
2. quantecon ``support_enumeration`` game by game, including building its
   ``NormalFormGame`` (and, separately, the solve alone);
3. pygambit ``enummixed_solve`` game by game (floating point, ``rational=False``;
   and exact, its default), including building the game;

and the ratios. The answers are cross-checked on the peers' sample. A second
part times the n-player search (``mixed_nash``) on the ten four-power scenarios
against pygambit ``enumpoly_solve`` and compares the equilibria found.

Timings are wall-clock on whatever else the machine is doing: on a shared
machine they are noisy (rerun on a quiet one before quoting them).

    python benchmarks/bench_mixed.py                      # defaults below
    python benchmarks/bench_mixed.py --n 100000 --peers 2000
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from allysim import list_scenarios, load_scenario  # noqa: E402
from allysim.solve import mixed_nash, support_enumeration  # noqa: E402


def best_time(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def as_set(eqs, digits=6):
    return {tuple(np.round(np.asarray(e, dtype=float), digits) + 0.0) for e in eqs}


def bench_two_player(n: int, peers: int, repeat: int, seed: int) -> None:
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
    t_numba = best_time(lambda: support_enumeration(U, backend="numba"), repeat) / n
    t_numba2 = best_time(lambda: support_enumeration(U, backend="numba", threads=2), repeat) / n
    t_numpy = best_time(lambda: support_enumeration(U, backend="numpy"), repeat) / n
    res = support_enumeration(U, backend="numba")
    ref = support_enumeration(U, backend="numpy")
    same = (np.array_equal(res.profiles, ref.profiles, equal_nan=True)
            and np.array_equal(res.status, ref.status) and np.array_equal(res.count, ref.count))
    print(f"  backends identical (equilibria bit for bit, order, status): {same}")

    def qe_game(u):
        return qe.NormalFormGame([qe.Player(u[0]), qe.Player(u[1].T.copy())])

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
    exact = [gbt.nash.enummixed_solve(gbt.Game.from_arrays(u[0], u[1])) for u in sample[:n_exact]]
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
        print(f"  {name.ljust(width)}  {t * 1e6:10.1f} us  {1 / t:10.0f}  "
              f"{t / t_numba:7.1f}x faster  {t / t_numpy:7.1f}x faster")
    print(f"  goal (issue 5): allysim >= 20x quantecon (build + solve): numba {t_qe / t_numba:.1f}x "
          f"(threads=2: {t_qe / t_numba2:.1f}x), numpy {t_qe / t_numpy:.1f}x")


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
    ap.add_argument("--n", type=int, default=20000, help="games for allysim (default 20000)")
    ap.add_argument("--peers", type=int, default=500, help="games for quantecon/pygambit (default 500)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-four-power", action="store_true")
    args = ap.parse_args()
    print("Timings are wall-clock and noisy on a shared machine; rerun on a quiet one before quoting.\n")
    bench_two_player(args.n, min(args.peers, args.n), args.repeat, args.seed)
    if not args.skip_four_power:
        bench_four_power(args.repeat)


if __name__ == "__main__":
    main()
