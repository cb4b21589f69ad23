"""Drawing primitives shared by the figures (private): categorical images and bands with
striped categories, binning with confidence intervals, grids as images."""
from __future__ import annotations

import numpy as np

from . import style

#: z-order of the layers: fills, stripes, marks.
_Z_FILL, _Z_STRIPE = 1, 2


def cell_edges(centres: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Edges of the cells around sorted ``centres`` (midpoints; the ends mirror them),
    the outer ones kept inside ``[lo, hi]`` (the swept range) when given.

    >>> cell_edges(np.array([0.0, 1.0, 3.0])).tolist()
    [-0.5, 0.5, 2.0, 4.0]
    >>> cell_edges(np.array([0.0, 1.0, 3.0]), 0, 3).tolist()
    [0.0, 0.5, 2.0, 3.0]
    """
    c = np.asarray(centres, dtype=float)
    if len(c) == 1:
        e = np.array([c[0] - 0.5, c[0] + 0.5])
    else:
        mid = (c[1:] + c[:-1]) / 2
        e = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
    if lo is not None and lo < e[1]:
        e[0] = max(e[0], lo)
    if hi is not None and hi > e[-2]:
        e[-1] = min(e[-1], hi)
    return e


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in a 1-d mask.

    >>> runs(np.array([1, 1, 0, 1], bool))
    [(0, 2), (3, 4)]
    """
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.flatnonzero(m[1:] != m[:-1])
    return list(zip(d[::2].tolist(), d[1::2].tolist()))


def _stripes(ax, rects, colours, patterns=style.HATCHES, z=_Z_STRIPE):
    """Stripe overlays over rectangles ``(x0, x1, y0, y1)``: one hatch per colour."""
    from matplotlib.collections import PolyCollection
    if not rects or not colours:
        return
    polys = [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)] for x0, x1, y0, y1 in rects]
    for k, colour in enumerate(colours):
        ax.add_collection(PolyCollection(polys, facecolors="none", edgecolors="none", linewidths=0,
                                         hatch=patterns[k % len(patterns)],
                                         hatchcolor=colour, hatch_linewidth=style.HATCH_WIDTH,
                                         zorder=z), autolim=False)


def category_image(ax, xs: np.ndarray, ys: np.ndarray, codes: np.ndarray, categories,
                   xlim=(None, None), ylim=(None, None)) -> None:
    """Draw ``codes (len(ys), len(xs))`` as cells coloured by ``categories`` (each with
    ``face`` and ``stripes``) over the grid values ``xs`` and ``ys`` (swept ranges
    ``xlim``, ``ylim``)."""
    from matplotlib.colors import ListedColormap
    ex, ey = cell_edges(xs, *xlim), cell_edges(ys, *ylim)
    cmap = ListedColormap([c.face for c in categories])
    ax.pcolormesh(ex, ey, codes, cmap=cmap, vmin=-0.5, vmax=len(categories) - 0.5,
                  shading="flat", antialiased=False, linewidth=0, zorder=_Z_FILL, rasterized=True)
    for c, cat in enumerate(categories):
        if not cat.stripes:
            continue
        rects = []
        for r in range(codes.shape[0]):
            rects += [(ex[a], ex[b], ey[r], ey[r + 1]) for a, b in runs(codes[r] == c)]
        _stripes(ax, rects, cat.stripes, cat.patterns)
    ax.set_xlim(ex[0], ex[-1])
    ax.set_ylim(ey[0], ey[-1])


def band(ax, xs_edges: np.ndarray, mask: np.ndarray, y0: float, y1: float, face: str,
         stripes=()) -> None:
    """A horizontal band between ``y0`` and ``y1`` over the cells where ``mask`` holds."""
    from matplotlib.collections import PolyCollection
    rects = [(xs_edges[a], xs_edges[b], y0, y1) for a, b in runs(mask)]
    if not rects:
        return
    polys = [[(x0, a), (x1, a), (x1, b), (x0, b)] for x0, x1, a, b in rects]
    ax.add_collection(PolyCollection(polys, facecolors=face, edgecolors="none", linewidths=0,
                                     zorder=_Z_FILL, antialiased=False), autolim=False)
    _stripes(ax, rects, stripes)


def wilson(hits: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of a share ``hits / n`` (95% for z = 1.96); NaN where n = 0.

    >>> lo, hi = wilson(np.array([5]), np.array([10]))
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.237, 0.763)
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = hits / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def auto_bins(n: int, bins: int | None) -> int:
    """``bins`` if given, else 20, fewer for small samples (about 40 points a bin, at least 5).

    >>> auto_bins(64, None), auto_bins(100000, None), auto_bins(64, 8)
    (5, 20, 8)
    """
    return bins if bins is not None else int(np.clip(n // 40, 5, 20))


def bins_of(values: np.ndarray, lo: float, hi: float, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges and each value's bin: one bin per distinct value when there are at most
    ``bins`` of them (a grid axis), else ``bins`` equal-width bins over ``[lo, hi]``."""
    distinct = np.unique(values)
    if len(distinct) <= bins:
        edges = cell_edges(distinct, lo, hi)
        return edges, np.searchsorted(distinct, values)
    edges = np.linspace(lo, hi, bins + 1)
    return edges, np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)


def grid_image(results, ix: int, iy: int):
    """For a two-parameter grid: the x and y values and a function mapping a per-point
    array ``(N, ...)`` to an image ``(ny, nx, ...)`` with rows along y; None otherwise."""
    grid = results.grid_counts
    if grid is None or len(grid) != 2 or {ix, iy} != {0, 1}:
        return None
    first = results.params[:, 0].reshape(grid)[:, 0]
    second = results.params[:, 1].reshape(grid)[0]

    def image(values):
        v = np.asarray(values).reshape(grid + np.shape(values)[1:])   # [first, second]
        return np.swapaxes(v, 0, 1) if (ix, iy) == (0, 1) else v

    return (first, second, image) if (ix, iy) == (0, 1) else (second, first, image)


def binned_2d(x, y, values, valid, xlim, ylim, bins: int):
    """Mean of ``values`` over the ``valid`` points in each 2-d bin: (x edges, y edges,
    mean (ny, nx) with NaN in empty bins, count (ny, nx))."""
    ex, bx = bins_of(x, *xlim, bins)
    ey, by = bins_of(y, *ylim, bins)
    nx, ny = len(ex) - 1, len(ey) - 1
    flat = by[valid] * nx + bx[valid]
    count = np.bincount(flat, minlength=nx * ny).reshape(ny, nx)
    total = np.bincount(flat, weights=values[valid].astype(float), minlength=nx * ny).reshape(ny, nx)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ex, ey, np.where(count > 0, total / count, np.nan), count
