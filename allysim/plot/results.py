"""A finished sweep's results folder as plain arrays, and what figures read from it.

:func:`load_sweep` reads any concept's folder into :class:`SweepResults`; the
functions below turn its solutions into per-point categories, each with a fixed
colour (:mod:`allysim.plot.style`), so that figures only draw:

* :func:`player_outcome`: the strategy one player plays in equilibrium at each point
  (``SUPPORT``), ``mixes ...`` where it randomises, ``SUPPORT or DISTANCE`` where the
  point's equilibria disagree, and blank where there is none;
* :func:`strategy_outcome`: whether one strategy (``China=SEIZE``) is played in every
  equilibrium of a point, in some but not all, or in none;
* :func:`profile_sets`: each point's set of equilibrium profiles (every set its own
  category, drawn in its profiles' colours);
* :func:`probabilities`: ``P(Player=STRATEGY)`` per point for the QRE concepts.

A strategy counts as *played* in a solution when its probability is at least
:data:`SUPPORT_NAME` (so a mixed equilibrium plays every strategy of its support).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AllysimError, suggest
from ..solve import STATUS
from . import style

#: A strategy is played in a solution (and in a mixed solution's support name) when its
#: probability is at least this.
SUPPORT_NAME = 1e-6
#: The concepts with one solution per point and lambda (probabilities, not sets).
QRE_CONCEPTS = ("qre", "agent-qre")
#: What a point without any solution is called, per concept.
NONE_LABELS = {"pure": "no pure equilibrium", "dominance": "not dominance solvable",
               "dynamics": "no rest point reached", "spe": "no pure SPE",
               "mixed": "no equilibrium found"}
#: What the solutions of a concept are called in labels.
SOLUTION_WORDS = {"dynamics": ("rest point", "rest points"), "spe": ("SPE", "SPE"),
                  "dominance": ("surviving profile", "surviving profiles")}


@dataclass(frozen=True)
class SweepResults:
    """A finished sweep of any solution concept, as plain arrays.

    names : the swept parameters; params : (N, d) float64, their values at each point
    base : (d,) their values at the scenario's own point (``--set`` included)
    lows, highs : (d,) the swept ranges; kind : the design (``grid``, ``sobol``, ...)
    count : (N,) int, solutions per point; status : (N,) int8 status codes
    labels : (N,) object, each point's set of solutions by name, e.g.
        ``"TRANS/SUPPORT/SLICE/FREEZE"``; a mixed solution is named by each player's
        support (``"TRANS/SUPPORT+ARM/SLICE/FREEZE"``); ``"A + B"`` for several,
        the concept's none label (``"no pure equilibrium"``) for none, ``"several"``
        where the store did not keep them
    members : dict solution name -> (N,) bool, where that solution holds
    solutions : ``point (E,)``, ``prob (E, K)``, ``slot (E,)``, ``known (N,)`` as
        :meth:`allysim.concepts.SweepLayout.solutions` gives them
    prob : (N, L, K) per-point probabilities for the QRE concepts (one solution per
        point and lambda, NaN where none was certified), else None; lambdas : their (L,)
        lambdas; lambda_status : (N, L) status per lambda
    grid_counts : per-axis sizes when the design is a grid, else None
    model : the compiled model (players, strategies, parameter descriptions)
    title : the concept in words (``pure Nash equilibria``); label : as rows name it
    played : ``(played (N, K), stored (N,))`` when the concept gives them itself, else None
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
    status: np.ndarray | None = None
    base: np.ndarray | None = None
    lows: np.ndarray | None = None
    highs: np.ndarray | None = None
    kind: str = "grid"
    lambda_status: np.ndarray | None = None
    model: object = field(default=None, repr=False)
    title: str = ""
    played: tuple | None = field(default=None, repr=False)

    @property
    def n_points(self) -> int:
        return len(self.params)

    @property
    def is_qre(self) -> bool:
        return self.prob is not None

    @property
    def none_label(self) -> str:
        return NONE_LABELS.get(self.concept, "no solution")

    def words(self) -> tuple[str, str]:
        """("equilibrium", "equilibria") or the concept's own words."""
        return SOLUTION_WORDS.get(self.concept, ("equilibrium", "equilibria"))

    def axis(self, name: str | None, default: int, flag: str = "--x") -> int:
        """The column of swept parameter ``name`` (``default`` when None)."""
        if name is None:
            return default
        if name not in self.names:
            raise AllysimError(f"{flag} {name}: not a swept parameter of {self.folder}"
                               f"{suggest(name, self.names)}; swept: {', '.join(self.names)}")
        return self.names.index(name)

    def parameter_label(self, j: int) -> str:
        """The axis label of swept parameter ``j``: its description and name."""
        return style.parameter_label(self.model.parameters[self.model.parameter_index(self.names[j])])

    def player_index(self, player: str, flag: str = "--player") -> int:
        if player not in self.players:
            raise AllysimError(f"{flag} {player!r}: no such player{suggest(player, self.players)}; "
                               f"expected one of {', '.join(self.players)}")
        return self.players.index(player)

    def offsets(self) -> np.ndarray:
        """Start of each player's block in a mixed profile."""
        return np.cumsum([0, *map(len, self.strategies)])[:-1]

    def outcome(self, text: str, flag: str = "--outcome") -> tuple[int, int]:
        """``"China=SEIZE"`` -> (player index, strategy index), checked by name."""
        player, sep, strategy = str(text).partition("=")
        player, strategy = player.strip(), strategy.strip()
        if not sep or not player or not strategy:
            raise AllysimError(f"{flag} {text!r}: expected PLAYER=STRATEGY, e.g. China=SEIZE")
        i = self.player_index(player, flag)
        ss = self.strategies[i]
        if strategy not in ss:
            raise AllysimError(f"{flag} {text!r}: {player} has no strategy {strategy!r}"
                               f"{suggest(strategy, ss)}; expected one of {', '.join(ss)}")
        return i, ss.index(strategy)

    def lambda_slot(self, lam: float | None, flag: str = "--lambda") -> int | None:
        """The index of ``lam`` among the sweep's lambdas (None: not given)."""
        if lam is None:
            return None
        for k, x in enumerate(self.lambdas):
            if abs(x - lam) <= 1e-12 * max(1.0, abs(x)):
                return k
        raise AllysimError(f"{flag} {lam:g}: not one of this sweep's lambdas "
                           f"({', '.join(f'{x:g}' for x in self.lambdas) or 'none: not a QRE sweep'})")


def solution_name(strategies, prob: np.ndarray) -> str:
    """``TRANS/SUPPORT+ARM/SLICE/FREEZE``: each player's support (the players' strategy
    names ``strategies``), in strategy order."""
    parts, o = [], 0
    for ss in strategies:
        block = prob[o:o + len(ss)]
        parts.append("+".join(s for s, p in zip(ss, block) if p >= SUPPORT_NAME))
        o += len(ss)
    return "/".join(parts)


def _read(folder: Path):
    """The folder opened (:func:`allysim.sweep.results.open_folder`) and its results.npz."""
    from ..sweep.results import open_folder
    f = open_folder(folder)
    try:
        with np.load(f.path / "results.npz", allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except Exception as exc:   # missing, truncated or tampered
        raise AllysimError(f"{folder}/results.npz: unreadable ({type(exc).__name__}: {exc})") from None
    return f, data


#: Appended to the name of a QRE limit past a branch point (not a unique selection).
BRANCH_MARK = " (past a branch point)"


def load_sweep(folder: str | Path) -> SweepResults:
    """Read ``manifest.json`` and ``results.npz`` of a finished sweep (any solver)."""
    folder = Path(folder)
    f, data = _read(folder)
    manifest, spec, model, layout = f.manifest, f.spec, f.model, f.layout
    concept = layout.concept
    names = tuple(str(n) for n in data["param_names"])
    n_points = len(data["status"])
    sol = layout.solutions(data)
    limit = concept.name == "qre-limit"
    if limit:
        # The selection: only certified limits are solutions, and one past a branch point
        # (status bifurcation: the selection follows a convention there) is named so.
        kept = np.isin(data["status"][sol["point"]], [STATUS["ok"], STATUS["bifurcation"]])
        sol = {k: (v[kept] if k != "known" else v) for k, v in sol.items()}
    qre = concept.name in QRE_CONCEPTS
    count = (np.bincount(sol["point"], minlength=n_points) if not qre
             else data.get("count", np.bincount(sol["point"], minlength=n_points)))
    none = NONE_LABELS.get(concept.name, "no solution")
    sol_names = np.array([solution_name(model.strategies, p) for p in sol["prob"]], dtype=object)
    if limit:
        past = data["status"][sol["point"]] == STATUS["bifurcation"]
        sol_names[past] = sol_names[past] + BRANCH_MARK
    members: dict[str, np.ndarray] = {}
    for name in sorted(set(sol_names.tolist())):
        hit = np.zeros(n_points, dtype=bool)
        hit[sol["point"][sol_names == name]] = True
        members[name] = hit
    sets: list[list[str]] = [[] for _ in range(n_points)]
    for p, name in zip(sol["point"].tolist(), sol_names.tolist()):
        if name not in sets[p]:
            sets[p].append(name)
    labels = np.array([" + ".join(sorted(x)) if x else none for x in sets], dtype=object)
    labels[~sol["known"]] = "several"
    if limit:
        labels[data["status"] == STATUS["not_converged"]] = "not converged"
    design = spec.design
    grid = tuple(design.counts) if design.kind == "grid" else None
    # --store counts keeps no parameter columns: regenerate them from the design (deterministic).
    params = data["params"] if "params" in data else design.varied(0, n_points)
    base = np.array([design.base[c] for c in design.columns], dtype=float) if design.base else None
    prob = lambda_status = None
    lambdas: tuple[float, ...] = ()
    if qre:
        p = data["prob"]
        prob = p if p.ndim == 3 else p[:, None, :]
        lambdas = tuple(float(x) for x in layout.options["lambda"])
        ls = data.get("lambda_status", data["status"])
        lambda_status = ls if ls.ndim == 2 else ls[:, None]
    return SweepResults(str(folder), manifest.get("scenario", {}).get("name", ""), concept.name,
                        layout.label, names, params, np.asarray(count), labels, members, grid,
                        model.players, model.strategies, sol, prob, lambdas,
                        status=data["status"], base=base, lows=np.array(design.lows, dtype=float),
                        highs=np.array(design.highs, dtype=float), kind=design.kind,
                        lambda_status=lambda_status, model=model, title=concept.title or layout.label,
                        played=layout.played(data))


# ----------------------------------------------------------------------------- categories

@dataclass(frozen=True)
class Category:
    """One kind of point in a figure: its label, fill colour, and the colours drawn over it
    in ``patterns`` (stripes for several solutions, dots for a mix within one)."""

    key: tuple
    label: str
    face: str
    stripes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = style.HATCHES


@dataclass(frozen=True)
class Categorical:
    """Per-point category codes (N,) into ``categories`` (only those present, in a fixed
    order that does not depend on frequency); ``title`` says what a category means."""

    codes: np.ndarray
    categories: list[Category]
    title: str

    def shares(self) -> np.ndarray:
        """Share of the points in each category, in %."""
        n = max(len(self.codes), 1)
        return 100 * np.bincount(self.codes, minlength=len(self.categories)) / n


# Keys of the points that are not about the solutions' content, in their fixed order
# (after every other category).
_UNKNOWN, _FAILED, _NONE = -1, -2, -3
_SPECIAL = (_UNKNOWN, _FAILED, _NONE)


def _special(results: SweepResults, keys: np.ndarray) -> np.ndarray:
    """``keys`` with failed points, points whose solutions were not stored and points
    without any solution overwritten by their special keys."""
    status = results.status if results.status is not None else np.zeros(results.n_points, np.int8)
    empty = results.count == 0 if results.played is None else results.played[1] == 0
    keys = np.where(empty, _NONE, keys)
    keys = np.where(results.solutions["known"], keys, _UNKNOWN)
    return np.where(status == STATUS["failed"], _FAILED, keys)


def _special_category(results: SweepResults, key: int) -> Category:
    many = results.words()[1]
    return {_NONE: Category(("none",), results.none_label, style.BLANK),
            _FAILED: Category(("failed",), "failed (no answer)", "#000000"),
            _UNKNOWN: Category(("unknown",), f"{many} not stored (--store counts)",
                               style.PALE, ("#777777",))}[key]


def _finish(results: SweepResults, keys: np.ndarray, order, make, title: str) -> Categorical:
    """Categories of integer ``keys`` (N,): those present, sorted by ``order(key)`` (special
    keys last), each built by ``make(key)``."""
    present = np.unique(keys)
    cats = sorted(present.tolist(), key=lambda k: (k in _SPECIAL, _SPECIAL.index(k) if k in _SPECIAL
                                                  else 0, order(k) if k not in _SPECIAL else 0))
    position = np.empty(len(present), dtype=np.int64)
    position[np.searchsorted(present, cats)] = np.arange(len(cats))
    codes = position[np.searchsorted(present, keys)]
    return Categorical(codes, [make(k) if k not in _SPECIAL else _special_category(results, k)
                               for k in cats], title)


def played_counts(results: SweepResults) -> tuple[np.ndarray, np.ndarray]:
    """Per point and strategy column ``(N, K)``: in how many of the point's solutions the
    strategy is played; and ``(N,)`` how many solutions each point has stored (a
    concept may give them itself: :meth:`allysim.concepts.SweepLayout.played`)."""
    if results.played is not None:
        return results.played
    sol = results.solutions
    n, k = results.n_points, sum(map(len, results.strategies))
    played = np.zeros((n, k), dtype=np.int64)
    np.add.at(played, sol["point"], (sol["prob"] >= SUPPORT_NAME).astype(np.int64))
    return played, np.bincount(sol["point"], minlength=n)


def _needs_sets(results: SweepResults, what: str) -> None:
    if results.is_qre:
        raise AllysimError(f"{results.folder}: {what} needs a concept with sets of solutions; "
                           f"a {results.concept} sweep has one QRE per point and lambda "
                           "(its probabilities are drawn instead)")


# Kinds of a player's outcome at a point, in legend order.
_PURE, _MIXES, _SEVERAL = 0, 1, 2
_KIND = 1 << 16


def player_outcome(results: SweepResults, player: int | str) -> Categorical:
    """Player ``player``'s strategy in the solutions at each point (module docstring)."""
    _needs_sets(results, "an outcome map")
    i = results.player_index(player) if isinstance(player, str) else player
    ss = results.strategies[i]
    if len(ss) > 16:
        raise AllysimError(f"{results.players[i]}: an outcome map draws players with at most 16 "
                           f"strategies; this one has {len(ss)} (use --outcome PLAYER=STRATEGY)")
    o = results.offsets()[i]
    played, stored = played_counts(results)
    played = played[:, o:o + len(ss)]
    used = played > 0
    bits = (used * (1 << np.arange(len(ss)))).sum(axis=1)
    n_used = used.sum(axis=1)
    always = ((played == stored[:, None]) | ~used).all(axis=1)
    kind = np.where(n_used == 1, _PURE, np.where(always, _MIXES, _SEVERAL))
    keys = _special(results, kind * _KIND + bits)
    many = results.words()[1]

    def members(key):
        return [k for k in range(len(ss)) if key % _KIND >> k & 1]

    def make(key):
        ks = members(key)
        colours = [style.strategy_colour(ss, ss[k]) for k in ks]
        names = [ss[k] for k in ks]
        if key // _KIND == _PURE:
            return Category((names[0],), names[0], colours[0])
        if key // _KIND == _MIXES:
            return Category(("mixes", *names), f"mixes {' + '.join(names)}", colours[0],
                            tuple(colours[1:]), style.DOTS)
        return Category(("several", *names), f"{' or '.join(names)} (several {many})", colours[0],
                        tuple(colours[1:]))

    return _finish(results, keys,
                   lambda key: (key // _KIND, len(members(key)), members(key)), make,
                   f"{results.players[i]}'s strategy in {results.label} (% of points)")


def strategy_outcome(results: SweepResults, outcome: str) -> Categorical:
    """Where ``outcome`` (``"China=SEIZE"``) is played: in every solution of a point, in
    some but not all, or in none."""
    _needs_sets(results, "--outcome as a map")
    i, k = results.outcome(outcome)
    played, stored = played_counts(results)
    hit = played[:, results.offsets()[i] + k]
    keys = _special(results, np.where(hit == stored, 0, np.where(hit > 0, 1, 2)))
    one, many = results.words()
    colour = style.strategy_colour(results.strategies[i], results.strategies[i][k])
    cats = {0: Category(("every",), f"in every {one}", colour),
            1: Category(("some",), f"in some {many}, not all", "white", (colour,)),
            2: Category(("no",), f"in no {one}", style.PALE)}
    name = f"{results.players[i]} {results.strategies[i][k]}"
    return _finish(results, keys, lambda key: key, cats.__getitem__,
                   f"where {name} is played ({results.label}; % of points)")


def profile_sets(results: SweepResults) -> Categorical:
    """Each point's set of solutions, every set its own category: drawn in the colour of its
    first profile, striped with the others' (profiles in name order)."""
    names, inverse = np.unique(results.labels.astype(str), return_inverse=True)
    keys = _special(results, inverse.reshape(-1))
    sets = [tuple(n.split(" + ")) for n in names.tolist()]
    many = results.words()[1]

    def make(key):
        colours = [style.profile_colour(results.strategies, name) for name in sets[key]]
        return Category(("set", *sets[key]), " + ".join(sets[key]), colours[0], tuple(colours[1:]))

    return _finish(results, keys, lambda key: (len(sets[key]), sets[key]), make,
                   f"set of {many} at a point ({'/'.join(results.players)}; % of points)")


def probabilities(results: SweepResults, slot: int = 0) -> np.ndarray:
    """``(N, K)`` probabilities of every strategy at lambda slot ``slot`` (QRE concepts),
    NaN where no QRE was certified."""
    if not results.is_qre:
        raise AllysimError(f"{results.folder}: probabilities need a QRE sweep (--solver qre or "
                           f"agent-qre); this one is {results.concept}")
    return results.prob[:, slot, :]


def played_share(results: SweepResults, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``outcome`` (``"China=SEIZE"``) per point: played in some solution, in every
    solution (bool), and whether the point counts (it has solutions, all stored)."""
    _needs_sets(results, "a share of points")
    i, k = results.outcome(outcome)
    played, stored = played_counts(results)
    col = played[:, results.offsets()[i] + k]
    valid = results.solutions["known"] & (results.count > 0)
    return (col > 0) & valid, (col == stored) & valid, valid
