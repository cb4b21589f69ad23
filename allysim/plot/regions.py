"""Where each solution holds over a swept parameter space, for any solution concept.

Figures from a sweep's results folder (:func:`load_sweep` reads any solver's):

* :func:`equilibrium_map` colours each point by its set of solutions (one
  profile, several, or none) over two swept parameters: an image for a grid, a
  scatter for a sample.
* :func:`equilibrium_bands` draws, over one swept parameter, a band per solution
  covering the values where it holds (several bands overlap where solutions coexist).
* :func:`probability_curves`: for the QRE concepts, each strategy's probability
  against one swept parameter.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AllysimError, suggest
from ..sweep.design import Design

#: Most categories drawn in their own colour; the rest are grouped as "other".
MAX_CATEGORIES = 10


@dataclass(frozen=True)
class SweepResults:
    """A finished sweep of any solution concept, as plain arrays.

    names : the swept parameters; params : (N, d) float64, their values at each point
    count : (N,) int, solutions per point
    labels : (N,) object, each point's set of solutions by name, e.g.
        ``"TRANS/SUPPORT/SLICE/FREEZE"``; a mixed solution is named by each player's
        support (``"TRANS/SUPPORT+ARM/SLICE/FREEZE"``); ``"A + B"`` for several,
        ``"none"`` for no solution, ``"several"`` where the store did not keep them
    members : dict solution name -> (N,) bool, where that solution holds
    solutions : ``point (E,)``, ``prob (E, K)``, ``slot (E,)`` as
        :meth:`allysim.concepts.SweepLayout.solutions` gives them
    prob : (N, L, K) per-point probabilities for the QRE concepts (one solution per
        point and lambda), else None; lambdas : their (L,) lambdas
    grid_counts : per-axis sizes when the design is a grid, else None
    """

    folder: str
    scenario: str
    concept: str
    label: str
    names: tuple[str, ...]
    params: np.ndarray
    count: np.ndarray
    labels: np.ndarray
    members: dict
    grid_counts: tuple[int, ...] | None
    players: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    solutions: dict
    prob: np.ndarray | None = None
    lambdas: tuple[float, ...] = ()


#: A strategy is in a mixed solution's support name when its probability is at least this.
SUPPORT_NAME = 1e-6


def solution_name(model, prob: np.ndarray) -> str:
    """``TRANS/SUPPORT+ARM/SLICE/FREEZE``: each player's support, in strategy order."""
    parts, o = [], 0
    for ss in model.strategies:
        block = prob[o:o + len(ss)]
        parts.append("+".join(s for s, p in zip(ss, block) if p >= SUPPORT_NAME))
        o += len(ss)
    return "/".join(parts)


def load_sweep(folder: str | Path) -> SweepResults:
    """Read ``manifest.json`` and ``results.npz`` of a finished sweep (any solver)."""
    from ..sweep.results import open_folder

    f = open_folder(folder)
    folder, manifest, model, layout = f.path, f.manifest, f.model, f.layout
    concept = layout.concept
    try:
        with np.load(folder / "results.npz", allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except Exception as exc:   # missing, truncated or tampered
        raise AllysimError(f"{folder}/results.npz: unreadable ({type(exc).__name__}: {exc})") from None
    names = tuple(str(n) for n in data["param_names"])
    n_points = len(data["status"])
    sol = layout.solutions(data)
    count = np.bincount(sol["point"], minlength=n_points) if concept.name not in ("qre", "agent-qre") \
        else data.get("count", np.bincount(sol["point"], minlength=n_points))
    sol_names = np.array([solution_name(model, p) for p in sol["prob"]], dtype=object)
    members: dict[str, np.ndarray] = {}
    for name in sorted(set(sol_names.tolist())):
        hit = np.zeros(n_points, dtype=bool)
        hit[sol["point"][sol_names == name]] = True
        members[name] = hit
    sets = [[] for _ in range(n_points)]
    for p, name in zip(sol["point"].tolist(), sol_names.tolist()):
        if name not in sets[p]:
            sets[p].append(name)
    labels = np.array([" + ".join(sorted(x)) if x else "none" for x in sets], dtype=object)
    labels[~sol["known"]] = "several"
    design = manifest.get("design", {})
    grid = tuple(design["counts"]) if design.get("kind") == "grid" else None
    # --store counts keeps no parameter columns: regenerate them from the design (deterministic).
    params = data["params"] if "params" in data else Design.from_json(design).varied(0, n_points)
    prob = None
    lambdas: tuple[float, ...] = ()
    if concept.name in ("qre", "agent-qre"):
        p = data["prob"]
        prob = p if p.ndim == 3 else p[:, None, :]
        lambdas = tuple(float(x) for x in layout.options["lambda"])
    return SweepResults(str(folder), manifest.get("scenario", {}).get("name", ""), concept.name,
                        layout.label, names, params, np.asarray(count), labels, members, grid,
                        model.players, model.strategies, sol, prob, lambdas)


def _axis(results: SweepResults, name: str | None, default: int) -> int:
    if name is None:
        return default
    if name not in results.names:
        raise AllysimError(f"--x/--y {name}: not a swept parameter of {results.folder}"
                           f"{suggest(name, results.names)}; swept: {', '.join(results.names)}")
    return results.names.index(name)


def _categories(labels: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Most frequent labels first (ties by name), the rest merged into "other"."""
    values, counts = np.unique(labels.astype(str), return_counts=True)
    order = sorted(range(len(values)), key=lambda k: (-counts[k], values[k]))
    cats = [str(values[k]) for k in order]
    if len(cats) > MAX_CATEGORIES:
        cats = cats[:MAX_CATEGORIES - 1] + ["other"]
    index = {c: k for k, c in enumerate(cats)}
    codes = np.array([index.get(str(lab), len(cats) - 1) for lab in labels])
    return cats, codes


def equilibrium_map(results: SweepResults, x: str | None = None, y: str | None = None, ax=None):
    """Colour each point by its set of pure equilibria over parameters ``x`` and ``y``.

    A two-parameter grid is drawn as an image; anything else as a scatter of
    the points projected on (x, y). Returns the axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    if len(results.names) < 2:
        raise AllysimError(f"{results.folder}: a map needs two swept parameters; "
                           f"this sweep varies {', '.join(results.names)} (use the band plot)")
    ix, iy = _axis(results, x, 0), _axis(results, y, 1)
    if ix == iy:
        raise AllysimError(f"--x and --y: both are {results.names[ix]}; expected two parameters")
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 6), layout="constrained")
    cats, codes = _categories(results.labels)
    cmap = ListedColormap(plt.get_cmap("tab10").colors[:len(cats)])
    grid = results.grid_counts
    if grid is not None and len(grid) == 2:
        # Grid points are stored with the last axis fastest (C order).
        img = codes.reshape(grid)                       # [value of names[0], value of names[1]]
        first, second = results.params[:, 0].reshape(grid)[:, 0], results.params[:, 1].reshape(grid)[0]
        xs, ys, img = (first, second, img.T) if (ix, iy) == (0, 1) else (second, first, img)
        ax.pcolormesh(xs, ys, img, cmap=cmap, vmin=-0.5, vmax=len(cats) - 0.5, shading="nearest")
    else:
        ax.scatter(results.params[:, ix], results.params[:, iy], c=codes, cmap=cmap,
                   vmin=-0.5, vmax=len(cats) - 0.5, s=6, linewidths=0)
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(k)) for k in range(len(cats))]
    shares = [100 * np.mean(codes == k) for k in range(len(cats))]
    ax.legend(handles, [f"{c} ({s:.1f}%)" for c, s in zip(cats, shares)], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1), title="/".join(results.players),
              title_fontsize=7, frameon=False)
    ax.set_xlabel(results.names[ix])
    ax.set_ylabel(results.names[iy])
    ax.set_title(f"{results.scenario}: {results.label}", fontsize=10)
    return ax


def equilibrium_bands(results: SweepResults, x: str | None = None, ax=None):
    """Over parameter ``x``, one band per profile where it is a pure equilibrium. Returns the axes."""
    import matplotlib.pyplot as plt

    ix = _axis(results, x, 0)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 1.2 + 0.45 * max(1, len(results.members))),
                             layout="constrained")
    xs = results.params[:, ix]
    order = np.argsort(xs, kind="stable")
    names = sorted(results.members, key=lambda k: (-results.members[k].sum(), k))
    for row, name in enumerate(names):
        hit = results.members[name][order].astype(float)
        ax.fill_between(xs[order], row - 0.35, row + 0.35, where=hit > 0, step="mid",
                        color=plt.get_cmap("tab10")(row % 10))
    none = (results.count == 0)[order]
    if none.any():
        row = len(names)
        ax.fill_between(xs[order], row - 0.35, row + 0.35, where=none, step="mid", color="0.6")
        names = names + ["none"]
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel(results.names[ix])
    ax.set_title(f"{results.scenario}: where each solution holds, {results.label} "
                 f"({'/'.join(results.players)})", fontsize=10)
    return ax


def probability_curves(results: SweepResults, x: str | None = None, axes=None):
    """Over parameter ``x``, each player's strategy probabilities (QRE concepts): one
    panel per player, a curve per strategy (and per lambda). Returns the axes."""
    import matplotlib.pyplot as plt

    ix = _axis(results, x, 0)
    n = len(results.players)
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.0), layout="constrained", sharey=True)
    axes = np.atleast_1d(axes)
    xs = results.params[:, ix]
    order = np.argsort(xs, kind="stable")
    o = 0
    styles = ["-", "--", ":", "-."]
    for i, (player, ss) in enumerate(zip(results.players, results.strategies)):
        ax = axes[i]
        for k, s in enumerate(ss):
            for li, lam in enumerate(results.lambdas):
                ax.plot(xs[order], results.prob[order, li, o + k], styles[li % 4],
                        color=plt.get_cmap("tab10")(k),
                        label=s if len(results.lambdas) == 1 else f"{s}, lambda {lam:g}")
        ax.set_title(player, fontsize=9)
        ax.set_xlabel(results.names[ix], fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=6, frameon=False)
        o += len(ss)
    axes[0].set_ylabel("probability")
    title = (results.label if len(results.lambdas) == 1 else
             f"{results.label.split('(')[0]} at lambda {', '.join(f'{x:g}' for x in results.lambdas)}")
    axes[0].figure.suptitle(f"{results.scenario}: {title}", fontsize=10)
    return axes


def plot_sweep(results: SweepResults, x: str | None = None, y: str | None = None):
    """The default figure: for the QRE concepts, probability curves over one swept
    parameter; otherwise bands for one swept parameter, a map of each point's solutions
    for two or more. Returns the figure."""
    if results.prob is not None and len(results.names) == 1:
        return probability_curves(results, x)[0].figure
    ax = (equilibrium_bands(results, x) if len(results.names) == 1
          else equilibrium_map(results, x, y))
    return ax.figure
