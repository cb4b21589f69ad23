"""Where each pure equilibrium holds over a swept parameter space.

Two figures, both from a pure-equilibrium sweep's results folder:

* :func:`equilibrium_map` colours each point by its set of pure equilibria
  (one profile, several, or none) over two swept parameters: an image for a
  grid, a scatter for a sample.
* :func:`equilibrium_bands` draws, over one swept parameter, a band per
  equilibrium profile covering the values where that profile is an
  equilibrium (several bands overlap where equilibria coexist).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AllysimError, suggest
from ..model import compile_model
from ..sweep.design import Design

#: Most categories drawn in their own colour; the rest are grouped as "other".
MAX_CATEGORIES = 10


@dataclass(frozen=True)
class SweepResults:
    """A finished pure-equilibrium sweep, as plain arrays.

    params : (N, K) float64, the swept parameters' values (``names``)
    count : (N,) int, pure equilibria per point
    labels : (N,) object, each point's equilibrium set, e.g. ``"TRANS/SUPPORT/SLICE/FREEZE"``,
        ``"A + B"`` for several, ``"no pure equilibrium"``
    members : dict profile name -> (N,) bool, where that profile is an equilibrium
        (only with ``--store full``; else profiles known only where unique)
    grid_counts : per-axis sizes when the design is a grid, else None
    """

    folder: str
    scenario: str
    names: tuple[str, ...]
    params: np.ndarray
    count: np.ndarray
    labels: np.ndarray
    members: dict
    grid_counts: tuple[int, ...] | None
    players: tuple[str, ...]


def load_sweep(folder: str | Path) -> SweepResults:
    """Read ``manifest.json`` and ``results.npz`` of a finished pure-equilibrium sweep."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        raise AllysimError(f"{folder}: no manifest.json; expected a finished sweep folder "
                           "(allysim sweep ... -o DIR)") from None
    except (OSError, ValueError) as exc:
        raise AllysimError(f"{folder}/manifest.json: unreadable ({exc})") from None
    solver = manifest.get("solver", {}).get("name")
    if solver != "pure":
        raise AllysimError(f"{folder}: holds a '{solver}' sweep; plot draws pure-equilibrium sweeps "
                           "(allysim sweep --solver pure)")
    model = compile_model(manifest["model"]["source"], where=manifest["model"].get("where", "model"))
    with np.load(folder / "results.npz", allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    names = tuple(str(n) for n in data["param_names"])
    count = data["count"]
    n_points = len(count)
    shape = model.shape

    def profile_name(profile) -> str:
        return "/".join(model.strategies[i][a] for i, a in enumerate(profile))

    members: dict[str, np.ndarray] = {}
    if "eq_point" in data:
        for profile in np.unique(data["eq_profile"], axis=0):
            rows = np.all(data["eq_profile"] == profile, axis=1)
            hit = np.zeros(n_points, dtype=bool)
            hit[data["eq_point"][rows]] = True
            members[profile_name(profile)] = hit
        sets = [[] for _ in range(n_points)]
        for name, hit in members.items():
            for b in np.flatnonzero(hit):
                sets[b].append(name)
        labels = np.array([" + ".join(sorted(s)) if s else "no pure equilibrium" for s in sets],
                          dtype=object)
    else:
        outcome = data["outcome"]
        labels = np.empty(n_points, dtype=object)
        labels[outcome == -1] = "no pure equilibrium"
        labels[outcome == -2] = "several"
        for flat in np.unique(outcome[outcome >= 0]):
            name = profile_name(np.unravel_index(int(flat), shape))
            labels[outcome == flat] = name
            members[name] = outcome == flat
    design = manifest.get("design", {})
    grid = tuple(design["counts"]) if design.get("kind") == "grid" else None
    # --store counts keeps no parameter columns: regenerate them from the design (deterministic).
    params = data["params"] if "params" in data else Design.from_json(design).varied(0, n_points)
    return SweepResults(str(folder), manifest.get("scenario", {}).get("name", ""), names,
                        params, count, labels, members, grid, model.players)


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
    ax.set_title(f"{results.scenario}: pure Nash equilibria", fontsize=10)
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
        names = names + ["no pure equilibrium"]
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel(results.names[ix])
    ax.set_title(f"{results.scenario}: where each pure equilibrium holds "
                 f"({'/'.join(results.players)})", fontsize=10)
    return ax


def plot_sweep(results: SweepResults, x: str | None = None, y: str | None = None):
    """The default figure: bands for one swept parameter, a map for two or more. Returns the figure."""
    ax = (equilibrium_bands(results, x) if len(results.names) == 1
          else equilibrium_map(results, x, y))
    return ax.figure
