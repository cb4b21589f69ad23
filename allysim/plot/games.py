"""Figures of one game: its logit QRE correspondence and its learning dynamics.

* :func:`qre_correspondence`: each strategy's probability on the principal branch
  against lambda (from :func:`allysim.solve.logit_qre` over a lambda grid), branch
  points the trace passed marked, lambdas without a certified QRE shaded.
* :func:`simplex_trajectories`: a three-strategy player's replicator trajectories on
  its simplex (a ternary plot), rest points marked by stability; :func:`time_series`:
  any player's probabilities against time; :func:`dynamics_figure` puts both together.
* :func:`plot_game`: the figure ``allysim run NAME --solver qre|dynamics --plot FILE``
  writes.

Every drawing function takes ``ax=None``/``axes=None`` and returns the axes.
"""
from __future__ import annotations

import numpy as np

from ..errors import AllysimError
from ..solve import STATUS
from . import style
from .results import solution_name

#: The solvers ``run --plot`` draws.
RUN_PLOTS = ("qre", "dynamics")
_SQRT3 = np.sqrt(3.0)


def _blocks(strategies):
    return np.cumsum([0, *map(len, strategies)])[:-1]


# ----------------------------------------------------------------------------- QRE correspondence

def qre_correspondence(result, players, strategies, *, b: int = 0, scenario: str = "", axes=None,
                       size=None):
    """Probabilities against lambda for game ``b`` of a :class:`LogitQREResult` over a grid of
    lambdas: a panel per player, a curve per strategy; the first lambda past a branch
    point (status ``bifurcation``) marked, where no certified QRE was found shaded.
    Returns the axes."""
    lams = np.asarray(result.lambdas, dtype=float)
    if lams.size < 2:
        raise AllysimError("the QRE correspondence needs several lambdas, e.g. --lambda 0:20:201")
    order = np.argsort(lams, kind="stable")
    lams = lams[order]
    prob = result.profiles[b][order]
    status = result.lambda_status[b][order]
    if axes is None:
        axes = style.panels(len(players), size, width=3.9, height=3.5, sharey=True,
                            ncols=2 if len(players) == 4 else None)
    branch = np.flatnonzero(status == STATUS["bifurcation"])
    first = int(branch[0]) if branch.size else None
    missing = ~np.isfinite(prob).all(axis=1)
    from ._draw import runs
    for ax, i0, player, ss in zip(axes, _blocks(strategies), players, strategies):
        for k, s in enumerate(ss):
            colour = style.strategy_colour(ss, s)
            cut = len(lams) if first is None else first
            ax.plot(lams[:cut], prob[:cut, i0 + k], color=colour, linewidth=1.6, label=s)
            if first is not None:   # past a branch point: dashed
                ax.plot(lams[max(cut - 1, 0):], prob[max(cut - 1, 0):, i0 + k], color=colour,
                        linewidth=1.4, linestyle="--")
            if first is not None and np.isfinite(prob[first, i0 + k]):
                ax.plot([lams[first]], [prob[first, i0 + k]], marker="D", markersize=5,
                        color=colour, markeredgecolor="black", markeredgewidth=0.7, zorder=5)
        for a, z in runs(missing):
            lo = lams[a - 1] if a > 0 else lams[a]
            hi = lams[z] if z < len(lams) else lams[-1]
            ax.axvspan(lo, hi, color=style.PALE, alpha=0.7, linewidth=0, zorder=0)
        if first is not None:
            lo = lams[first - 1] if first > 0 else lams[first]
            ax.axvspan(lo, lams[first], color="0.2", alpha=0.25, linewidth=0, zorder=0)
            ax.axvline(lams[first], color="0.2", linestyle=":", linewidth=0.9)
        ax.set_title(player, fontsize=10)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(lams[0], lams[-1])
        style.light_grid(ax)
        ax.set_xlabel("precision lambda (logit QRE; inverse payoff units)", fontsize=8.5)
        ax.tick_params(labelsize=8)
        handles, labels = ax.get_legend_handles_labels()
        style.legend(ax, handles, labels, ncols=min(3, len(ss)), title=f"{player}'s strategy")
    axes[0].set_ylabel("probability on the principal branch", fontsize=8.5)
    notes = []
    if first is not None:
        where = (f"between lambda {lams[first - 1]:g} and {lams[first]:g}" if first > 0
                 else f"before lambda {lams[first]:g}")
        notes.append(f"diamonds: the trace passed a branch point {where} (dark band) and was "
                     "followed straight through; beyond it (dashed) the QREs are certified but "
                     "may lie off the principal branch")
    if missing.any():
        notes.append(f"grey: no certified QRE at {int(missing.sum())} of {len(lams)} lambdas "
                     "(status not_converged)")
    style.suptitle(axes[0].figure, f"{scenario + ': ' if scenario else ''}logit QRE correspondence "
                   f"(principal branch, lambda {lams[0]:g} to {lams[-1]:g})"
                   + ("".join(f"\n{n}" for n in notes)), fontsize=10)
    return axes


# ----------------------------------------------------------------------------- dynamics

def _ternary(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric (…, 3) -> plane: vertex 0 bottom left, 1 bottom right, 2 top."""
    return p[..., 1] + p[..., 2] / 2, p[..., 2] * _SQRT3 / 2


def _simplex_frame(ax, strategies) -> None:
    from matplotlib.patches import Polygon
    ax.add_patch(Polygon([(0, 0), (1, 0), (0.5, _SQRT3 / 2)], closed=True, facecolor="none",
                         edgecolor="0.3", linewidth=1.0, zorder=1))
    for t in (0.2, 0.4, 0.6, 0.8):
        for a in range(3):
            p0, p1 = np.zeros(3), np.zeros(3)
            p0[a] = p1[a] = t
            p0[(a + 1) % 3], p1[(a + 2) % 3] = 1 - t, 1 - t
            x, y = _ternary(np.array([p0, p1]))
            ax.plot(x, y, color="0.9", linewidth=0.6, zorder=0)
    for (x, y, ha, va), s in zip([(-0.03, -0.03, "right", "top"), (1.03, -0.03, "left", "top"),
                                  (0.5, _SQRT3 / 2 + 0.03, "center", "bottom")], strategies):
        ax.text(x, y, s, ha=ha, va=va, fontsize=8.5, fontweight="bold",
                color=style.strategy_colour(strategies, s))
    ax.set_xlim(-0.22, 1.22)
    ax.set_ylim(-0.12, _SQRT3 / 2 + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")


_STABILITY_MARK = {0: dict(marker="o", markerfacecolor="black", markeredgecolor="black"),
                   1: dict(marker="o", markerfacecolor="white", markeredgecolor="black"),
                   2: dict(marker="o", markerfacecolor="0.6", markeredgecolor="black",
                           fillstyle="left", markerfacecoloralt="white")}


def _end_colours(search, strategies, b: int) -> list[str]:
    """Each start's colour: the profile colour of the rest point it reached, grey if none."""
    out = []
    for k in range(len(search.starts)):
        end = search.end[b, k]
        colour = "0.55"
        for m in range(int(search.count[b])):
            if np.abs(search.profiles[b, m] - end).max() <= 1e-4:
                name = solution_name(strategies, search.profiles[b, m])
                colour = style.profile_colour(strategies, name)
                break
        out.append(colour)
    return out


def simplex_trajectories(trajectory: np.ndarray, search, strategies, player: int, *, b: int = 0,
                         ax=None, title: str | None = None):
    """Player ``player``'s (three strategies) trajectories ``(K, T, size)`` on its simplex,
    each coloured by the rest point it reached; rest points marked by stability (filled:
    stable, open: unstable, half: neutral). Returns the axes."""
    ss = strategies[player]
    if len(ss) != 3:
        raise AllysimError(f"a ternary plot needs a player with three strategies; this one has "
                           f"{len(ss)}")
    if ax is None:
        ax = style.new_figure(None, (4.4, 4.0)).add_subplot()
    o = _blocks(strategies)[player]
    _simplex_frame(ax, ss)
    colours = _end_colours(search, strategies, b)
    for k in range(trajectory.shape[0]):
        x, y = _ternary(trajectory[k, :, o:o + 3])
        ax.plot(x, y, color=colours[k], linewidth=1.1, alpha=0.9, zorder=2)
        ax.plot(x[:1], y[:1], marker=".", color=colours[k], markersize=5, zorder=2)
        mid = len(x) // 8
        if mid + 1 < len(x) and np.hypot(x[mid + 1] - x[mid], y[mid + 1] - y[mid]) > 1e-4:
            ax.annotate("", xy=(x[mid + 1], y[mid + 1]), xytext=(x[mid], y[mid]),
                        arrowprops=dict(arrowstyle="-|>", color=colours[k], lw=1.0,
                                        mutation_scale=9), zorder=3)
    for m in range(int(search.count[b])):
        x, y = _ternary(search.profiles[b, m, o:o + 3])
        ax.plot([x], [y], linestyle="none", markersize=8, zorder=5,
                **_STABILITY_MARK.get(int(search.stability[b, m]), _STABILITY_MARK[2]))
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def time_series(times: np.ndarray, trajectory: np.ndarray, strategies, player: int, ax=None,
                *, title: str | None = None):
    """Player ``player``'s probabilities against time, one thin line per start and strategy
    (coloured by strategy). Returns the axes."""
    ss = strategies[player]
    if ax is None:
        ax = style.new_figure(None, (4.4, 3.0)).add_subplot()
    o = _blocks(strategies)[player]
    shown = ss[:1] if len(ss) == 2 else ss    # with two strategies the second is 1 - the first
    for k, s in enumerate(shown):
        colour = style.strategy_colour(ss, s)
        label = f"{s} ({ss[1]} = 1 - {s})" if len(ss) == 2 else s
        for start in range(trajectory.shape[0]):
            ax.plot(times, trajectory[start, :, o + k], color=colour, linewidth=0.9, alpha=0.75,
                    label=label if start == 0 else None)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(times[0], times[-1])
    style.light_grid(ax)
    ax.tick_params(labelsize=8)
    ax.set_xlabel("time (replicator dynamics)", fontsize=8.5)
    if title:
        ax.set_title(title, fontsize=10)
    style.legend(ax, *ax.get_legend_handles_labels(), ncols=min(3, len(shown)))
    return ax


def phase_plane(trajectory: np.ndarray, search, strategies, *, b: int = 0, ax=None,
                players=("player 1", "player 2")):
    """A two-player game with two strategies each: trajectories in the unit square of
    (P(player 1 plays its first strategy), P(player 2 plays its first)), coloured by the
    rest point reached, rest points marked by stability. Returns the axes."""
    if [len(s) for s in strategies] != [2, 2]:
        raise AllysimError("a phase plane needs two players with two strategies each")
    if ax is None:
        ax = style.new_figure(None, (4.2, 4.0)).add_subplot()
    colours = _end_colours(search, strategies, b)
    for k in range(trajectory.shape[0]):
        x, y = trajectory[k, :, 0], trajectory[k, :, 2]
        ax.plot(x, y, color=colours[k], linewidth=1.0, alpha=0.9)
        ax.plot(x[:1], y[:1], marker=".", color=colours[k], markersize=5)
    for m in range(int(search.count[b])):
        ax.plot([search.profiles[b, m, 0]], [search.profiles[b, m, 2]], linestyle="none",
                markersize=8, zorder=5,
                **_STABILITY_MARK.get(int(search.stability[b, m]), _STABILITY_MARK[2]))
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(f"P({players[0]} = {strategies[0][0]})", fontsize=8.5)
    ax.set_ylabel(f"P({players[1]} = {strategies[1][0]})", fontsize=8.5)
    ax.tick_params(labelsize=8)
    style.light_grid(ax)
    ax.set_title("phase plane", fontsize=10)
    return ax


def dynamics_figure(payoffs: np.ndarray, players, strategies, *, n_starts: int = 9, seed=0,
                    tol: float | None = None, scenario: str = "", size=None, n_record: int = 201):
    """Replicator dynamics of one game ``(1, n, s1..sn)`` from the barycentre and seeded
    starts (as ``--solver dynamics``): a ternary plot per three-strategy player and a time
    series per player. Returns the figure."""
    from ..solve.dynamics import STABILITY_NAMES, rest_point_search, replicator
    from ..solve.regret import DEFAULT_TOL
    search = rest_point_search(payoffs, n_starts=n_starts, seed=seed,
                               tol=DEFAULT_TOL if tol is None else tol)
    prm = search.parameters
    k = len(search.starts)
    rep = replicator(np.repeat(payoffs, k, axis=0), search.starts, t_max=prm["t_max"], dt=prm["dt"],
                     n_record=n_record)
    three = [i for i, ss in enumerate(strategies) if len(ss) == 3]
    plane = [len(s) for s in strategies] == [2, 2]
    n = len(players)
    top = len(three) or plane
    fig = style.new_figure(size, (3.6 * max(n, len(three), 2), 3.5 + (3.6 if top else 0)))
    rows = 2 if top else 1
    grid = fig.add_gridspec(rows, max(n, len(three), 1), height_ratios=[1.1, 1] if top else None)
    for c, i in enumerate(three):
        ax = fig.add_subplot(grid[0, c])
        simplex_trajectories(rep.trajectory, search, strategies, i, ax=ax, title=players[i])
    if plane:
        phase_plane(rep.trajectory, search, strategies, ax=fig.add_subplot(grid[0, :]),
                    players=players)
    series = []
    for i in range(n):
        ax = fig.add_subplot(grid[rows - 1, i])
        time_series(rep.times, rep.trajectory, strategies, i, ax=ax, title=players[i])
        series.append(ax)
    series[0].set_ylabel("probability", fontsize=8.5)
    # One legend for the rest points: profile, stability, how many starts reached it.
    from matplotlib.lines import Line2D
    handles, labels = [], []
    for m in range(int(search.count[0])):
        code = int(search.stability[0, m])
        name = solution_name(strategies, search.profiles[0, m])
        handles.append(Line2D([], [], linestyle="-", linewidth=2.5,
                              color=style.profile_colour(strategies, name),
                              markersize=8, **_STABILITY_MARK.get(code, _STABILITY_MARK[2])))
        labels.append(f"{name}: {STABILITY_NAMES[code]}, reached from {int(search.basin[0, m])} of "
                      f"{k} starts" + ("" if search.nash[0, m] else " (not Nash)"))
    if search.moving[0]:
        moving = int(search.moving[0])
        handles.append(Line2D([], [], color="0.55", linewidth=2.5))
        labels.append(f"still moving at t = {prm['t_max']:g} ({moving} start{'s' * (moving > 1)}: "
                      "cycling, or passing slowly near a rest point that is not Nash)")
    fig.legend(handles, labels, loc="outside lower center", ncols=1, fontsize=8, frameon=False,
               title="rest points reached (marker: filled stable, open unstable, half neutral; "
                     "trajectories in the colour of where they end)", title_fontsize=8)
    style.suptitle(fig, f"{scenario + ': ' if scenario else ''}replicator dynamics from {k} starts "
                   f"(the barycentre and {k - 1} drawn with seed {prm['seed']})")
    return fig


# ----------------------------------------------------------------------------- run --plot

def check_run_plot(solver: str, path) -> None:
    """Refuse ``run --plot`` for a solver it does not draw or a file type it cannot write,
    before anything is solved."""
    from pathlib import Path
    if solver not in RUN_PLOTS:
        raise AllysimError(f"--plot: draws --solver qre (the QRE correspondence over --lambda, "
                           f"e.g. 0:20:201) or --solver dynamics; for --solver {solver} sweep a "
                           "parameter and use allysim plot")
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in style.FORMATS:
        raise AllysimError(f"--plot {path}: expected a .png, .pdf or .svg file name")
    if not Path(path).parent.is_dir():
        raise AllysimError(f"--plot {path}: folder {Path(path).parent} does not exist")


def plot_game(game, solver: str, options: dict, path, *, scenario: str = "", size=None,
              dpi=None) -> None:
    """Draw the figure of ``run --solver qre|dynamics --plot FILE`` for one game and write
    it to ``path``; ``options`` are the concept's resolved options."""
    check_run_plot(solver, path)
    if solver == "qre":
        from ..solve import logit_qre
        # logit_qre's step cap (1000 per pass) also counts the steps that stop at each requested
        # lambda, so a dense grid such as 0:20:201 runs out of steps half way along the branch
        # (singapore-summit: 95 of 201 lambdas not_converged); give the trace room per lambda.
        lams = options["lambda"]
        res = logit_qre(game.payoffs, lams, residual_tol=options["residual_tol"],
                        backend=options["backend"], max_steps=max(1000, 20 * len(lams)))
        fig = qre_correspondence(res, game.players, game.strategies, scenario=scenario,
                                 size=size)[0].figure
    else:
        fig = dynamics_figure(game.payoffs, game.players, game.strategies,
                              n_starts=options["starts"], seed=options["seed"], tol=options["tol"],
                              scenario=scenario, size=size)
    style.save_figure(fig, path, dpi=dpi)
