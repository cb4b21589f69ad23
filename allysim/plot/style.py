"""Colours, labels and figure plumbing shared by every figure (no pyplot state).

Colours are keyed by name, never by frequency, so a strategy or an equilibrium
profile has the same colour in every figure of the same model:

* a **strategy** takes the colour of its place in its player's strategy list from
  the Okabe–Ito palette (Okabe & Ito 2008; safe for the common colour-vision
  deficiencies): blue, orange, bluish green, reddish purple, sky blue, vermillion,
  yellow, then again;
* a **profile** (one strategy per player) takes one of the nine colours of Paul
  Tol's *muted* qualitative palette. For games of up to four players with up to
  three strategies each (the four-power model, the textbook games) the colour is
  the syndrome of the profile in the ternary tetracode: the strategy indices
  ``a_i`` map to ``sum_i a_i h_i (mod 3)`` with ``h = (1,0), (0,1), (1,1), (1,2)``,
  a point of Z3^2, i.e. one of 9 colours. Any two of those vectors are
  independent, so **two profiles that differ in one or two players' strategies
  never share a colour**; profiles that share one differ in at least three. Other
  games fall back to a stable hash of the profile's name (no such guarantee).

Where several equilibria coexist a region is drawn in the colours of all of them:
the first as its fill, the others as stripes (:data:`HATCHES`).

>>> strategy_colour(("HOLD", "SLICE", "SEIZE"), "SEIZE")
'#009E73'
>>> s = (("FIRM", "TRANS", "ACCOM"), ("SUPPORT", "ARM", "DISTANCE"),
...      ("HOLD", "SLICE", "SEIZE"), ("DENUC", "FREEZE", "PROVOKE"))
>>> profile_colour(s, "TRANS/SUPPORT/SLICE/FREEZE") != profile_colour(s, "TRANS/DISTANCE/SLICE/FREEZE")
True
"""
from __future__ import annotations

import textwrap
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import AllysimError

#: Okabe–Ito, without black (kept for marks and text), in the order strategies take them.
STRATEGY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
#: Paul Tol's muted palette (nine colours), indexed by a profile's tetracode syndrome.
PROFILE_COLOURS = ("#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499",
                   "#44AA99", "#999933", "#882255")
#: Tol's pale grey: "not played", "not stored".
PALE = "#DDDDDD"
#: Points without any solution are left blank.
BLANK = "#FFFFFF"
#: Stripe patterns for the 2nd, 3rd, ... colour of a region (matplotlib hatches).
HATCHES = ("///", "\\\\\\", "|||", "---", "+++")
#: Patterns for a player that mixes (its strategies blended in one equilibrium), not stripes.
DOTS = ("..", "oo", "**")
#: Line width of the stripes (points).
HATCH_WIDTH = 1.5
#: Line styles of a family of curves (e.g. one per lambda), in order.
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))
#: The mark of the scenario's own parameter point.
POINT_STYLE = dict(marker="*", markersize=14, color="white", markeredgecolor="black",
                   markeredgewidth=1.1, linestyle="none", zorder=6)
FORMATS = ("png", "pdf", "svg")
#: Default image resolution (dots per inch) for PNG.
DPI = 200

# Four pairwise independent vectors of Z3^2 (the tetracode's parity checks).
_TETRA = ((1, 0), (0, 1), (1, 1), (1, 2))


def strategy_colour(strategies: Sequence[str], name: str) -> str:
    """The colour of strategy ``name`` of a player whose strategies are ``strategies``."""
    return STRATEGY_COLOURS[list(strategies).index(name) % len(STRATEGY_COLOURS)]


def profile_colour(strategies: Sequence[Sequence[str]], profile: str | Sequence[str]) -> str:
    """The colour of a profile, given by name (``"TRANS/SUPPORT/SLICE/FREEZE"``) or as one
    strategy name per player, in a game whose players' strategies are ``strategies``
    (module docstring)."""
    names = profile.split("/") if isinstance(profile, str) else list(profile)
    if len(names) != len(strategies):
        raise ValueError(f"profile_colour(): {profile!r} names {len(names)} strategies, "
                         f"expected one per player ({len(strategies)})")
    shape = [len(s) for s in strategies]
    if len(shape) <= len(_TETRA) and max(shape) <= 3 and all("+" not in n for n in names):
        idx = [list(ss).index(n) for ss, n in zip(strategies, names)]
        s0 = sum(a * h[0] for a, h in zip(idx, _TETRA)) % 3
        s1 = sum(a * h[1] for a, h in zip(idx, _TETRA)) % 3
        return PROFILE_COLOURS[3 * s0 + s1]
    return PROFILE_COLOURS[zlib.crc32("/".join(names).encode()) % len(PROFILE_COLOURS)]


def parameter_label(parameter, width: int = 46) -> str:
    """An axis label from a model parameter: its description, then its name, wrapped.

    >>> from types import SimpleNamespace as P
    >>> parameter_label(P(name="abandonment_fear", description="Japan's loss if left alone"))
    "Japan's loss if left alone (abandonment_fear)"
    """
    desc = (parameter.description or "").strip()
    if not desc:
        return parameter.name
    desc = desc[0].upper() + desc[1:]
    text = f"{desc} ({parameter.name})"
    return "\n".join(textwrap.wrap(text, width)) if len(text) > width else text


def new_figure(size: tuple[float, float] | None, default: tuple[float, float]):
    """A matplotlib Figure outside pyplot (nothing global is registered)."""
    from matplotlib.figure import Figure
    return Figure(figsize=size or default, layout="constrained")


def panels(n: int, size, *, width: float = 4.2, height: float = 3.6, ncols: int | None = None,
           **kw):
    """A figure with ``n`` panels in a near-square grid; returns the flat axes (unused ones
    removed)."""
    ncols = ncols or (n if n <= 3 else int(np.ceil(np.sqrt(n))))
    nrows = int(np.ceil(n / ncols))
    if n == 1:
        width, height = max(width, 6.0), max(height, 4.4)
    fig = new_figure(size, (width * ncols, height * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False, **kw)).ravel()
    for ax in axes[n:]:
        ax.remove()
    return list(axes[:n])


def suptitle(fig, text: str, fontsize: float = 10.5) -> None:
    """A figure title wrapped to the figure's width."""
    chars = max(30, int(fig.get_figwidth() * 72 / (0.56 * fontsize)))
    lines = [w for part in text.split("\n") for w in (textwrap.wrap(part, chars) or [""])]
    fig.suptitle("\n".join(lines), fontsize=fontsize)


def save_figure(fig, path: str | Path, *, dpi: float | None = None) -> None:
    """Write ``fig`` to ``path`` (.png, .pdf or .svg, by its suffix) atomically: an
    interrupted or failed write leaves no file. Metadata that would change from run to
    run (dates, versions) is left out, so the same figure gives the same bytes."""
    from ..io.atomic import write_file
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise AllysimError(f"{target}: expected a .png, .pdf or .svg file name")
    meta = {"png": {"Software": None}, "svg": {"Date": None},
            "pdf": {"CreationDate": None, "Producer": None}}[fmt]
    write_file(target, lambda fh: fig.savefig(fh, format=fmt, dpi=dpi or DPI, metadata=meta),
               sync=False)


def parse_size(text: str | None) -> tuple[float, float] | None:
    """``--size 8x5`` (inches) -> (8.0, 5.0).

    >>> parse_size("8x5"), parse_size(None)
    ((8.0, 5.0), None)
    """
    if text is None:
        return None
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        w, h = (float(p) for p in parts)
    except ValueError:
        raise AllysimError(f"--size {text!r}: expected WIDTHxHEIGHT in inches, e.g. 8x5") from None
    if not (0.5 <= w <= 100 and 0.5 <= h <= 100):
        raise AllysimError(f"--size {text!r}: expected width and height between 0.5 and 100 inches")
    return w, h


def check_dpi(dpi) -> float | None:
    if dpi is None:
        return None
    if not (isinstance(dpi, (int, float)) and 10 <= dpi <= 2400):
        raise AllysimError(f"--dpi {dpi!r}: expected a number between 10 and 2400")
    return float(dpi)


def swatch(face: str, stripes: Sequence[str] = (), *, edge: str = "0.55",
           patterns: Sequence[str] = HATCHES):
    """A legend handle: a patch filled with ``face`` and striped with ``stripes`` (in
    ``patterns``)."""
    from matplotlib.patches import Patch
    base = Patch(facecolor=face, edgecolor=edge, linewidth=0.6)
    if not stripes:
        return base
    return (base, *(Patch(facecolor="none", edgecolor="none", hatch=patterns[k % len(patterns)],
                          hatchcolor=c, linewidth=0, hatch_linewidth=HATCH_WIDTH)
                    for k, c in enumerate(stripes)))


def legend(ax, handles, labels, *, title: str | None = None, below: bool = True, ncols: int = 1,
           fontsize: float = 7.5):
    """A legend outside the axes, below its x label (or at the right), which constrained
    layout makes room for."""
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.transforms import offset_copy
    if below:
        # Below the tick labels and the (possibly wrapped) x label, whatever the axes height.
        lines = ax.get_xlabel().count("\n") + 1 if ax.get_xlabel() else 0
        drop = 18 + 11 * lines
        kw = dict(loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  bbox_transform=offset_copy(ax.transAxes, ax.figure, y=-drop, units="points"))
    else:
        kw = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax.legend(handles, labels, title=title, fontsize=fontsize, title_fontsize=fontsize,
                     frameon=False, ncols=ncols, handler_map={tuple: HandlerTuple(ndivide=1, pad=0)},
                     handlelength=1.6, handleheight=1.1, alignment="left", **kw)


def light_grid(ax, axis: str = "both") -> None:
    """Faint grid lines behind everything drawn."""
    ax.grid(axis=axis, color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)


def share_text(share: float) -> str:
    """A share in % for a legend: ``36.0%``, ``<0.1%`` for a small nonzero one.

    >>> share_text(36.04), share_text(0.01), share_text(0.0)
    ('36.0%', '<0.1%', '0%')
    """
    if share == 0:
        return "0%"
    return "<0.1%" if share < 0.05 else f"{share:.1f}%"


def mark_x(ax, x: float, label: str | None, lo: float, hi: float):
    """A soft grey band at the scenario's value ``x`` (if within [lo, hi]), named by ``label``
    in a tick above the axes. Returns the line (None if outside)."""
    if not (lo <= x <= hi):
        return None
    line = ax.axvline(x, color="0.45", linewidth=5, alpha=0.25, zorder=0, solid_capstyle="butt")
    top = ax.secondary_xaxis("top")
    top.set_xticks([x], [label] if label else [""], fontsize=7, color="0.2")
    top.tick_params(length=3, color="0.3", pad=1)
    return line


def mark_xy(ax, x: float, y: float, label: str | None, xlim, ylim) -> None:
    """A star at the scenario's point ``(x, y)`` (if inside the axes), labelled."""
    if not (min(xlim) <= x <= max(xlim) and min(ylim) <= y <= max(ylim)):
        return
    ax.plot([x], [y], **POINT_STYLE)
    if label:
        ax.annotate(label, xy=(x, y), xytext=(7, 6), textcoords="offset points", fontsize=7.5,
                    color="black", zorder=7,
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))
