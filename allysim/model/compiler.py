"""Model files (TOML) compiled into a batched payoff function.

A model file declares, in this order of meaning::

    name = "prisoners-dilemma"
    description = "..."
    citation = "..."

    [[players]]
    name = "Row"
    strategies = ["C", "D"]
    [players.attributes]          # optional, one value per strategy
    defects = [0, 1]              # numbers or expressions of parameters

    [parameters]
    temptation = { default = 5, range = [3, 10], description = "..." }

    [derived]                     # optional, evaluated in file order
    both = "Row.defects * Col.defects"

    [payoffs]                     # one expression per player
    Row = "..."
    Col = "..."

:class:`Model` maps a parameter block ``params: (B, P) float64`` (columns in
``Model.parameter_names`` order) to ``payoffs: (B, n, s1, ..., sn) float64``.

Limits: a model file is at most :data:`MAX_FILE_BYTES` (1 MB); TOML nested too
deeply for :mod:`tomllib` is refused as malformed; a declared range must have
finite bounds, ``low <= high`` and a finite width ``high - low``; names are at most
:data:`MAX_NAME` (64) ASCII characters; a model has at most :data:`MAX_PLAYERS` (32)
players, :data:`MAX_STRATEGIES` (10,000) strategies per player and :data:`MAX_ENTRIES`
(1,000) parameters, derived quantities and attributes per player; expressions obey
the limits of :mod:`allysim.model.expr` (also counted through the derived
quantities and attributes they use); and a model whose payoff table at one point
is larger than ``ALLYSIM_MAX_MEMORY`` is refused (:func:`allysim.limits.check_model_size`).
"""
from __future__ import annotations

import hashlib
import numbers
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AllysimError, ModelError, PayoffError, ScenarioError, quote, suggest
from .expr import MAX_DEPTH, FUNCTIONS, Expr, Namespace, evaluate, inlined_depth, parse

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Largest model or scenario file read, in bytes (the shipped four-power model is 9 KB).
MAX_FILE_BYTES = 1_000_000
#: Longest name of a player, strategy, parameter, attribute or derived quantity.
MAX_NAME = 64
#: Most players (payoff arrays have one axis per player, and NumPy at most 64 axes).
MAX_PLAYERS = 32
#: Most strategies of one player (building its indicators costs strategies squared).
MAX_STRATEGIES = 10_000
#: Most parameters, derived quantities, and attributes of one player (names are looked
#: up in lists, so compiling costs their number squared).
MAX_ENTRIES = 1_000
_TOP_KEYS = ("name", "description", "citation", "players", "parameters", "derived", "payoffs")


@dataclass(frozen=True)
class Parameter:
    """A model parameter: its default and its declared range ``[low, high]``."""

    name: str
    default: float
    low: float
    high: float
    description: str = ""


@dataclass(frozen=True, eq=False)
class Model:
    """A compiled model. Build it with :func:`compile_model` or :func:`load_model`.

    Attributes
    ----------
    players : tuple of str, length n
    strategies : tuple of tuple of str; ``strategies[i]`` has length ``s_i``
    parameters : tuple of Parameter, length P (the column order of ``params``)
    attributes : tuple of dict, ``attributes[i][name]`` is a tuple of ``s_i`` Expr
    derived : tuple of (name, Expr), in evaluation order
    payoff_exprs : tuple of Expr, one per player
    source : the file text; ``sha256`` its digest; ``path`` where it was read
    """

    name: str
    description: str
    citation: str
    players: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    parameters: tuple[Parameter, ...]
    attributes: tuple[dict[str, tuple[Expr, ...]], ...]
    derived: tuple[tuple[str, Expr], ...]
    payoff_exprs: tuple[Expr, ...]
    source: str = field(repr=False)
    sha256: str = field(repr=False)
    path: str | None = None

    @property
    def n_players(self) -> int:
        return len(self.players)

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of strategies per player, ``(s1, ..., sn)``."""
        return tuple(len(s) for s in self.strategies)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def defaults(self) -> np.ndarray:
        """Default parameter values, shape ``(P,)`` float64."""
        return np.array([p.default for p in self.parameters], dtype=float)

    @property
    def bounds(self) -> np.ndarray:
        """Declared ranges, shape ``(P, 2)`` float64 (low, high)."""
        return np.array([[p.low, p.high] for p in self.parameters], dtype=float).reshape(-1, 2)

    def parameter_index(self, name: str) -> int:
        """Column of parameter ``name``; a :class:`ScenarioError` names the nearest one if unknown."""
        names = self.parameter_names
        if name not in names:
            raise ScenarioError(f"unknown parameter '{name}' of model {self.name}"
                                f"{suggest(name, names)}")
        return names.index(name)

    def player_index(self, name: str) -> int:
        if name not in self.players:
            raise ScenarioError(f"unknown player '{name}' of model {self.name}"
                                f"{suggest(name, self.players)}; expected one of "
                                f"{', '.join(self.players)}")
        return self.players.index(name)

    def strategy_index(self, player: str, strategy: str) -> tuple[int, int]:
        i = self.player_index(player)
        names = self.strategies[i]
        if strategy not in names:
            raise ScenarioError(f"unknown strategy '{strategy}' of {player}"
                                f"{suggest(strategy, names)}; expected one of {', '.join(names)}")
        return i, names.index(strategy)

    def point(self, overrides: Mapping[str, float] | None = None, *, where: str = "",
              force: bool = False) -> np.ndarray:
        """One parameter point, shape ``(P,)``: the defaults with ``overrides`` applied.

        Values outside a parameter's declared range raise :class:`ScenarioError`
        unless ``force`` is true. ``where`` prefixes error messages (a file name).

        >>> m = load_model("prisoners-dilemma")
        >>> float(m.point({"temptation": 6})[m.parameter_index("temptation")])
        6.0
        """
        values = self.defaults
        prefix = f"{where}: " if where else ""
        for name, value in (overrides or {}).items():
            if name not in self.parameter_names:
                raise ScenarioError(f"{prefix}unknown parameter '{name}' of model {self.name}"
                                    f"{suggest(name, self.parameter_names)}")
            j = self.parameter_names.index(name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise ScenarioError(f"{prefix}parameter {name} = {quote(value)}: expected a number")
            p = self.parameters[j]
            try:
                value = float(value)
            except OverflowError:       # an integer past float64's range
                value = np.inf
            if not np.isfinite(value):
                raise ScenarioError(f"{prefix}parameter {name} = {value}: expected a finite number")
            if not force and not (p.low <= value <= p.high):
                raise ScenarioError(f"{prefix}parameter {name} = {value:g} is outside its range "
                                    f"[{p.low:g}, {p.high:g}] (use --force to allow)")
            values[j] = float(value)
        return values

    def payoffs(self, params: np.ndarray, *, check: bool = True) -> np.ndarray:
        """Payoff tensors for a batch of parameter points.

        Parameters
        ----------
        params : ndarray of float, shape (B, P) or (P,)
            Columns in ``parameter_names`` order.
        check : raise :class:`PayoffError` if any payoff is NaN or infinite.

        Returns
        -------
        payoffs : ndarray of float64, shape (B, n, s1, ..., sn)
            ``payoffs[b, i, a1, ..., an]`` is player i's payoff at point b when
            player j plays strategy ``aj``.

        >>> m = load_model("prisoners-dilemma")
        >>> m.payoffs(m.defaults).shape
        (1, 2, 2, 2)
        """
        params = np.asarray(params, dtype=float)
        if params.ndim == 1:
            params = params[None, :]
        if params.ndim != 2 or params.shape[1] != len(self.parameters):
            raise ValueError(f"Model.payoffs(): params must have shape (B, {len(self.parameters)}), "
                             f"got {params.shape}")
        batch = params.shape[0]
        env = self._environment(params)
        out = np.empty((batch, self.n_players, *self.shape))
        with np.errstate(all="ignore"):
            for i, expr in enumerate(self.payoff_exprs):
                out[:, i] = evaluate(expr, env)
        if check:
            self._check_finite(out, params)
        return out

    def _environment(self, params: np.ndarray) -> dict:
        batch, n = params.shape[0], self.n_players
        env: dict = {}
        for j, name in enumerate(self.parameter_names):
            env[("param", name)] = params[:, j].reshape((batch,) + (1,) * n)
        for i, strategies in enumerate(self.strategies):
            axis_shape = [1] * (n + 1)
            axis_shape[i + 1] = len(strategies)
            for k in range(len(strategies)):
                onehot = np.zeros(axis_shape)
                onehot.reshape(-1)[k] = 1.0
                env[("indicator", (i, k))] = onehot
            with np.errstate(all="ignore"):
                for attr, exprs in self.attributes[i].items():
                    values = [np.broadcast_to(evaluate(e, env), (batch,) + (1,) * n) for e in exprs]
                    env[("attr", (i, attr))] = np.concatenate(values, axis=i + 1)
        with np.errstate(all="ignore"):
            for name, expr in self.derived:
                env[("derived", name)] = evaluate(expr, env)
        return env

    def _check_finite(self, out: np.ndarray, params: np.ndarray) -> None:
        finite = np.isfinite(out)
        if finite.all():
            return
        b, i, *profile = np.argwhere(~finite)[0]
        names = ", ".join(s[a] for s, a in zip(self.strategies, profile))
        point = ", ".join(f"{k}={v:g}" for k, v in zip(self.parameter_names, params[b]))
        raise PayoffError(f"model {self.name}: payoff of {self.players[i]} at ({names}) is "
                          f"{out[(b, i, *profile)]} at point {b} ({point}); expected a finite number")


def _table(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ModelError(f"{where}: expected a table, got {type(value).__name__}")
    return value


def _number(value: Any, where: str) -> float:
    if not isinstance(value, bool) and isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:       # an integer past float64's range
            number = np.inf
        if np.isfinite(number):
            return number
    raise ModelError(f"{where}: expected a finite number, got {quote(value, 40)}")


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value) or len(value) > MAX_NAME:
        raise ModelError(f"{where}: {quote(value, 40)} is not a valid name; expected ASCII "
                         f"letters, digits and _ starting with a letter, at most {MAX_NAME} of them")
    return value


def _at_most(count: int, limit: int, what: str, where: str) -> None:
    if count > limit:
        raise ModelError(f"{where}: {count:,} {what}; expected at most {limit:,}")


def read_toml(text: str, where: str, error: type[AllysimError] = ModelError) -> dict:
    """Parse TOML text, turning every failure into one line of ``error``.

    Besides malformed TOML this refuses text longer than :data:`MAX_FILE_BYTES`
    and nesting too deep for :mod:`tomllib` (which recurses: a few hundred
    nested arrays or inline tables exhaust Python's recursion limit).
    """
    if len(text) > MAX_FILE_BYTES:
        raise error(f"{where}: {len(text):,} characters; expected a file of at most "
                    f"{MAX_FILE_BYTES:,}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{where}: malformed TOML: {exc}") from None
    except RecursionError:
        raise error(f"{where}: malformed TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:       # e.g. an integer past Python's 4,300-digit limit
        raise error(f"{where}: malformed TOML: {exc}") from None


def read_text_file(path: Path, error: type[AllysimError] = ModelError, what: str = "model") -> str:
    """The UTF-8 text of a model or scenario file, refusing files past :data:`MAX_FILE_BYTES`."""
    try:
        if path.exists() and not path.is_file():
            raise error(f"{path}: not a regular file; expected a {what} file")
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise error(f"{path}: {path.stat().st_size:,} bytes; expected a {what} file of at "
                        f"most {MAX_FILE_BYTES:,}")
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read {what} file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not a UTF-8 text file") from None
    if len(text) > MAX_FILE_BYTES:
        raise error(f"{path}: more than {MAX_FILE_BYTES:,} characters; expected a {what} file "
                    f"of at most {MAX_FILE_BYTES:,}")
    return text


def is_model_text(text: str) -> bool:
    """Whether TOML text is a model file (it declares players); anything else is read as a
    scenario. Never raises: malformed text counts as a model when it has ``[[players]]``,
    so that compiling it reports the error."""
    try:
        return "players" in tomllib.loads(text)
    except (ValueError, RecursionError):
        return "[[players]]" in text


def is_model_file(path: str | Path) -> bool:
    """:func:`is_model_text` of a file; a file that cannot be read counts as a scenario
    (loading it then reports why)."""
    try:
        return is_model_text(read_text_file(Path(path)))
    except AllysimError:
        return False


def compile_model(text: str, *, where: str = "<model>", path: str | None = None) -> Model:
    """Compile model-file text into a :class:`Model`.

    where: the file name to use in error messages.
    """
    doc = read_toml(text, where)
    for key in doc:
        if key not in _TOP_KEYS:
            raise ModelError(f"{where}: unknown key '{key}'{suggest(key, _TOP_KEYS)}; "
                             f"expected {', '.join(_TOP_KEYS)}")
    for key in ("name", "players", "parameters", "payoffs"):
        if key not in doc:
            raise ModelError(f"{where}: missing key '{key}'")
    name = doc["name"]
    if not isinstance(name, str) or not name:
        raise ModelError(f"{where}: name: expected a non-empty string")
    if len(name) > 200 or not name.isprintable():
        raise ModelError(f"{where}: name {quote(name, 40)}: expected a printable name of at "
                         "most 200 characters")

    raw_players = doc["players"]
    if not isinstance(raw_players, list) or not raw_players:
        raise ModelError(f"{where}: players: expected an array of tables ([[players]])")
    _at_most(len(raw_players), MAX_PLAYERS, "players", f"{where}: players")
    players, strategies, raw_attributes = [], [], []
    for k, raw in enumerate(raw_players):
        at = f"{where}: players[{k}]"
        raw = _table(raw, at)
        extra = set(raw) - {"name", "strategies", "attributes", "description"}
        if extra:
            key = sorted(extra)[0]
            raise ModelError(f"{at}: unknown key '{key}'"
                             f"{suggest(key, ['name', 'strategies', 'attributes', 'description'])}")
        pname = _identifier(raw.get("name"), f"{at}.name")
        if pname in players:
            raise ModelError(f"{at}.name: player '{pname}' is declared twice")
        strats = raw.get("strategies")
        if not isinstance(strats, list) or not strats:
            raise ModelError(f"{at}.strategies: expected a non-empty array of names")
        _at_most(len(strats), MAX_STRATEGIES, "strategies", f"{at}.strategies")
        strats = tuple(_identifier(s, f"{at}.strategies") for s in strats)
        if len(set(strats)) != len(strats):
            raise ModelError(f"{at}.strategies: names must be distinct, got {list(strats)}")
        players.append(pname)
        strategies.append(strats)
        raw_attributes.append(_table(raw.get("attributes", {}), f"{at}.attributes"))
        _at_most(len(raw_attributes[-1]), MAX_ENTRIES, "attributes", f"{at}.attributes")

    parameters = []
    raw_parameters = _table(doc["parameters"], f"{where}: parameters")
    _at_most(len(raw_parameters), MAX_ENTRIES, "parameters", f"{where}: parameters")
    raw_derived = _table(doc.get("derived", {}), f"{where}: derived")
    _at_most(len(raw_derived), MAX_ENTRIES, "derived quantities", f"{where}: derived")
    for pname, spec in raw_parameters.items():
        at = f"{where}: parameters.{pname}"
        _identifier(pname, at)
        if pname in FUNCTIONS or pname in players:
            raise ModelError(f"{at}: name '{pname}' is taken by a function or a player")
        spec = _table(spec, at)
        extra = set(spec) - {"default", "range", "description"}
        if extra:
            key = sorted(extra)[0]
            raise ModelError(f"{at}: unknown key '{key}'"
                             f"{suggest(key, ['default', 'range', 'description'])}")
        if "default" not in spec or "range" not in spec:
            raise ModelError(f"{at}: expected keys default and range")
        default = _number(spec["default"], f"{at}.default")
        rng = spec["range"]
        if not isinstance(rng, list) or len(rng) != 2:
            raise ModelError(f"{at}.range: expected [low, high], got {rng!r}")
        low, high = (_number(v, f"{at}.range") for v in rng)
        if low > high:
            raise ModelError(f"{at}.range: [{low:g}, {high:g}]: expected low <= high")
        if not np.isfinite(high - low):
            raise ModelError(f"{at}.range: [{low:g}, {high:g}] is {high - low:g} wide (float64 "
                             "overflows); expected a range whose width high - low is finite")
        if not low <= default <= high:
            raise ModelError(f"{at}: default {default:g} is outside range [{low:g}, {high:g}]")
        parameters.append(Parameter(pname, default, low, high, str(spec.get("description", ""))))
    param_names = tuple(p.name for p in parameters)

    attr_names = tuple(tuple(a) for a in raw_attributes)
    ns = Namespace(tuple(players), tuple(strategies), attr_names, param_names)
    # Attributes may use parameters only.
    param_ns = Namespace(tuple(players), tuple(strategies), tuple(() for _ in players), param_names,
                         indicators=False)
    attributes = []
    for i, raw in enumerate(raw_attributes):
        compiled = {}
        for attr, values in raw.items():
            at = f"{where}: players[{i}].attributes.{attr}"
            _identifier(attr, at)
            if not isinstance(values, list) or len(values) != len(strategies[i]):
                raise ModelError(f"{at}: expected an array of {len(strategies[i])} values, "
                                 f"one per strategy of {players[i]}")
            compiled[attr] = tuple(parse(v, param_ns, at) for v in values)
        attributes.append(compiled)
    # Depth through references: every consumer of the trees walks them recursively.
    depths: dict[tuple[str, Any], int] = {}
    for i, compiled in enumerate(attributes):
        for attr, exprs in compiled.items():
            depths[("attr", (i, attr))] = max(inlined_depth(e, depths) for e in exprs)

    derived = []
    for dname, text_ in raw_derived.items():
        at = f"{where}: derived.{dname}"
        _identifier(dname, at)
        if dname in param_names or dname in players or dname in FUNCTIONS:
            raise ModelError(f"{at}: name '{dname}' is taken by a parameter, player or function")
        derived.append((dname, parse(text_, ns, at)))
        depths[("derived", dname)] = _inlined(derived[-1][1], depths, at)
        ns = Namespace(ns.players, ns.strategies, ns.attributes, ns.parameters,
                       ns.derived + (dname,))

    payoff_table = _table(doc["payoffs"], f"{where}: payoffs")
    for key in payoff_table:
        if key not in players:
            raise ModelError(f"{where}: payoffs.{key}: unknown player{suggest(key, players)}; "
                             f"expected one of {', '.join(players)}")
    missing = [p for p in players if p not in payoff_table]
    if missing:
        raise ModelError(f"{where}: payoffs: missing payoff for {', '.join(missing)}")
    payoff_exprs = tuple(parse(payoff_table[p], ns, f"{where}: payoffs.{p}") for p in players)
    for p, expr in zip(players, payoff_exprs):
        _inlined(expr, depths, f"{where}: payoffs.{p}")

    model = Model(
        name=name,
        description=str(doc.get("description", "")),
        citation=str(doc.get("citation", "")),
        players=tuple(players),
        strategies=tuple(strategies),
        parameters=tuple(parameters),
        attributes=tuple(attributes),
        derived=tuple(derived),
        payoff_exprs=payoff_exprs,
        source=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        path=path,
    )
    from ..limits import check_model_size
    check_model_size(model, where=where)
    return model


def _inlined(expr: Expr, depths: dict, at: str) -> int:
    depth = inlined_depth(expr, depths)
    if depth > MAX_DEPTH:
        raise ModelError(f"{at}: nested {depth} levels deep counting the derived quantities and "
                         f"attributes it uses; expected at most {MAX_DEPTH}")
    return depth


MODELS_DIR = Path(__file__).parent / "models"


def list_models() -> list[str]:
    """Names of the models shipped with allysim."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.toml"))


def load_model(name_or_path: str | Path) -> Model:
    """Load a shipped model by name (``"four-power"``) or a model file by path.

    >>> load_model("four-power").players
    ('US', 'Japan', 'China', 'NorthKorea')
    """
    path = Path(name_or_path)
    if not path.suffix == ".toml":
        if str(name_or_path) not in list_models():
            raise ModelError(f"unknown model '{name_or_path}'{suggest(str(name_or_path), list_models())}; "
                             f"expected one of {', '.join(list_models())} or a path to a .toml file")
        path = MODELS_DIR / f"{name_or_path}.toml"
    text = read_text_file(path)
    return compile_model(text, where=path.name, path=str(path))
