"""Benchmark: the n-player search (mixed_nash) against pygambit's gnm_solve (and enumpoly_solve,
QuantEcon's polym_lcp_solver), in one process, on the same games.

Games:

1. QuantEcon's ``big_polym.gam`` and ``triggers_back_case.gam`` (5 players x 4 strategies,
   polymatrix; ``tests/data``);
2. the ten four-power scenarios (4 players, 3 strategies each).

For each: time per game and equilibria found, for

* allysim ``mixed_nash`` with its defaults (pure, QRE, random, support, global Newton and
  polymatrix starts), the whole batch at once;
* allysim with the global Newton rays alone (``n_random=0, max_supports=0,
  max_polymatrix_supports=0``: pure and QRE starts, 8 rays);
* pygambit ``gnm_solve`` (one ray, Gambit's default perturbation), game by game, building
  the game included;
* pygambit ``enumpoly_solve`` on the scenarios (the reference: 30 equilibria), and QuantEcon's
  ``polym_lcp_solver`` (one equilibrium) on the polymatrix games.

"found" counts distinct certified equilibria; "of gnm's" how many of gnm's allysim has.
Timings are wall-clock on whatever else the machine is doing (best of ``--repeat``), or
with ``--cpu`` this process's CPU time.

    python benchmarks/bench_nplayer.py
    python benchmarks/bench_nplayer.py --repeat 3 --cpu
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
from allysim.io.gam import read_gam  # noqa: E402
from allysim.solve import mixed_nash  # noqa: E402

GNM_ONLY = dict(n_random=0, max_supports=0, max_polymatrix_supports=0)
CLOCK = time.perf_counter


def best_time(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t = CLOCK()
        out = fn()
        best = min(best, CLOCK() - t)
    return best, out


def quiet(fn):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    return run


def gambit_profiles(res, game):
    return np.array([[float(e[s]) for p in game.players for s in p.strategies] for e in res.equilibria],
                    dtype=float).reshape(len(res.equilibria), -1)


def found_in(ours, theirs, atol=1e-6) -> int:
    return int(sum((np.abs(ours - t).max(axis=1) <= atol).any() for t in theirs)) if len(ours) else 0


def row(name, per_game, found, extra=""):
    print(f"  {name:<58} {per_game * 1e3:10.1f} ms/game  {found:>5} found  {extra}")


def bench_polymatrix(repeat: int) -> None:
    import pygambit as gbt
    import quantecon.game_theory as qe

    for name in ("big_polym", "triggers_back_case"):
        path = ROOT / "tests" / "data" / f"{name}.gam"
        u = read_gam(path)
        print(f"\n{name}.gam (5 players x 4 strategies, polymatrix)")
        t_gnm, (res_gnm, game) = best_time(lambda: (lambda g: (gbt.nash.gnm_solve(g), g))(
            gbt.Game.from_arrays(*u)), repeat)
        gnm = gambit_profiles(res_gnm, game)
        t_all, res = best_time(quiet(lambda: mixed_nash(u[None])), repeat)
        t_rays, rays = best_time(quiet(lambda: mixed_nash(u[None], **GNM_ONLY)), repeat)
        nfg = qe.from_gam(str(path))
        t_lcp, lcp = best_time(lambda: qe.polym_lcp_solver(qe.PolymatrixGame.from_nf(nfg)), repeat)
        lcp = np.concatenate(lcp)[None]
        row("allysim mixed_nash (defaults)", t_all, int(res.count[0]),
            f"of gnm's {found_in(res.equilibria(0), gnm)}/{len(gnm)}, lcp's "
            f"{found_in(res.equilibria(0), lcp)}/1, complete={bool(res.complete[0])}; "
            f"{t_all / t_gnm:.0f}x gnm's time")
        row("allysim mixed_nash, global Newton rays alone (8 rays)", t_rays, int(rays.count[0]),
            f"of gnm's {found_in(rays.equilibria(0), gnm)}/{len(gnm)}; {t_rays / t_gnm:.0f}x gnm's time")
        row("pygambit gnm_solve (1 ray, build + solve)", t_gnm, len(gnm))
        row("quantecon polym_lcp_solver (build + solve)", t_lcp, 1)


def bench_scenarios(repeat: int) -> None:
    import pygambit as gbt

    names = list_scenarios()
    U = np.concatenate([load_scenario(n).model.payoffs(load_scenario(n).point) for n in names])
    k = len(names)
    print(f"\nthe {k} four-power scenarios (4 players x 3 strategies)")
    t_all, res = best_time(quiet(lambda: mixed_nash(U)), repeat)
    t_rays, rays = best_time(quiet(lambda: mixed_nash(U, **GNM_ONLY)), repeat)
    t_gnm = t_enum = 0.0
    gnm_all, enum_all = [], []
    for b in range(k):
        t, (r, g) = best_time(lambda: (lambda g: (gbt.nash.gnm_solve(g), g))(gbt.Game.from_arrays(*U[b])), repeat)
        t_gnm += t
        gnm_all.append(gambit_profiles(r, g))
        t0 = CLOCK()
        g = gbt.Game.from_arrays(*U[b])
        enum_all.append(gambit_profiles(gbt.nash.enumpoly_solve(g), g))
        t_enum += CLOCK() - t0
    n_gnm = sum(len(x) for x in gnm_all)
    n_enum = sum(len(x) for x in enum_all)
    have = sum(found_in(res.equilibria(b), enum_all[b]) for b in range(k))
    have_gnm = sum(found_in(res.equilibria(b), gnm_all[b]) for b in range(k))
    have_rays = sum(found_in(rays.equilibria(b), enum_all[b]) for b in range(k))
    row("allysim mixed_nash (defaults, 10 games batched)", t_all / k, int(res.count.sum()),
        f"of enumpoly's {have}/{n_enum}, of gnm's {have_gnm}/{n_gnm}; {t_all / t_gnm:.1f}x gnm's time")
    row("allysim mixed_nash, global Newton rays alone (8 rays)", t_rays / k, int(rays.count.sum()),
        f"of enumpoly's {have_rays}/{n_enum}; {t_rays / t_gnm:.1f}x gnm's time")
    row("pygambit gnm_solve (1 ray, build + solve)", t_gnm / k, n_gnm)
    row("pygambit enumpoly_solve (build + solve, once)", t_enum / k, n_enum)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs (default 1)")
    ap.add_argument("--cpu", action="store_true",
                    help="time by this process's CPU time (less sensitive to a busy machine)")
    args = ap.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
        print("Timings are this process's CPU time (all its threads).")
    else:
        print("Timings are wall-clock and noisy on a shared machine; rerun on a quiet one before quoting.")
    mixed_nash(np.zeros((1, 3, 2, 2, 2)), n_random=1)   # imports, first calls
    bench_polymatrix(args.repeat)
    bench_scenarios(args.repeat)


if __name__ == "__main__":
    main()
