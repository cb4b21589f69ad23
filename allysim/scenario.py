"""Scenario files: a model plus parameter overrides (and, optionally, sweep and solve specs).

A scenario file is TOML::

    model = "four-power"            # a shipped model name or a path relative to this file
    description = "..."
    question = "..."                # what the scenario asks (optional)

    [overrides]                     # parameter = value, each inside its declared range
    deal_value = 3

    [sweep]                         # optional; read by ``allysim sweep``
    [solve]                         # optional; read by ``allysim run``

Where a scenario is found
-------------------------
A name (``"baseline-2018"``) is looked up as ``NAME.toml`` in these folders, the
first match winning (:func:`scenario_search_path`):

1. ``./scenarios/`` of the current working directory (origin ``"cwd"``);
2. each folder of the ``ALLYSIM_PATH`` environment variable, separated by
   ``os.pathsep`` (``:`` on POSIX, ``;`` on Windows), in order (``"ALLYSIM_PATH"``);
3. the scenarios shipped with allysim (``"shipped"``): the package data
   ``allysim/scenarios`` of an installed copy, or the top-level ``scenarios/`` of
   a source checkout.

A folder that is the shipped one (a checkout's ``./scenarios`` when working in
the checkout) counts as shipped only. A path ending in ``.toml`` is read as it
is (origin ``"file"``). :class:`Scenario` records the file it used (``path``)
and where it came from (``origin``); :func:`scenario_files` lists every name
with the file that would be used.

The ``[sweep]`` table is checked when the scenario is loaded
(:func:`validate_sweep_table`): only known keys, each of the expected type.
"""
from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .errors import AllysimError, ScenarioError, quote, suggest
from .inputs import parse_lambdas, parse_params, parse_stages, parse_vary
from .model import Model, compile_model, list_models, load_model
from .model.compiler import is_model_text, read_text_file, read_toml

_KEYS = ("model", "description", "question", "overrides", "sweep", "solve")
#: Keys of a scenario's ``[sweep]`` table and what each must be.
SWEEP_KEYS = {
    "vary": "a \"name=lo:hi:n\" string or a list of them",
    "sample": "a sampler name (a string), e.g. \"sobol\"",
    "n": "a whole number of points >= 1",
    "params": "a list of parameter names or a comma-separated string",
    "seed": "a whole number >= 0",
    "chunk_size": "a whole number >= 1",
    "solver": "a solver name (a string), e.g. \"pure\"",
    "store": "a store name (a string), e.g. \"counts\"",
    "tol": "a finite number >= 0",
    "residual_tol": "a finite number >= 0",
    "starts": "a whole number >= 1",
    "backend": "one of \"auto\", \"numba\", \"numpy\"",
    "lambda": "a number >= 0, a list of them, or a string such as \"0.5,1.5\" or \"0:20:201\"",
    "stages": "a string such as \"US>Japan>China,NorthKorea\" or a list of stages",
}


def _whole(value: Any, least: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= least


def _real(value: Any) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float))
            and math.isfinite(_float(value)) and value >= 0)


def _float(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def validate_sweep_table(table: Any, where: str) -> dict[str, Any]:
    """Check a scenario's ``[sweep]`` table and return it normalised.

    Every key must be one of :data:`SWEEP_KEYS` and of the type given there;
    ``vary`` becomes a list of strings (each a valid ``name=lo:hi:n``),
    ``params`` a list of distinct names, ``stages`` given as a list a list of
    lists of names. Whether names exist in the model, and whether a solver or
    store exists, is checked where they are used. ``where`` names the file
    (``"baseline.toml"``); errors read ``baseline.toml: [sweep] params = 5: expected ...``.

    >>> validate_sweep_table({"vary": "a=0:1:3", "params": "a, b"}, "s.toml")
    {'vary': ['a=0:1:3'], 'params': ['a', 'b']}
    >>> validate_sweep_table({"solver": ["pure"]}, "s.toml")
    Traceback (most recent call last):
    allysim.errors.ScenarioError: s.toml: [sweep] solver = ['pure']: expected a solver name (a string), e.g. "pure"
    """
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: [sweep]: expected a table, got {quote(table)}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in SWEEP_KEYS:
            raise ScenarioError(f"{where}: [sweep] unknown key {quote(key, 40)}"
                                f"{suggest(str(key), SWEEP_KEYS)}; expected {', '.join(SWEEP_KEYS)}")
        at = f"{where}: [sweep] {key} = {quote(value, 60)}"
        expected = f"{at}: expected {SWEEP_KEYS[key]}"
        try:
            out[key] = _sweep_value(key, value)
        except AllysimError as exc:     # a parser's own reason, after the file and key
            raise ScenarioError(f"{at}: {str(exc)}") from None
        except (TypeError, ValueError):
            raise ScenarioError(expected) from None
    return out


def _sweep_value(key: str, value: Any) -> Any:
    """``key``'s value normalised; TypeError when it is not of the expected type."""
    if key == "vary":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
            raise TypeError
        for item in items:
            parse_vary(item)
        return list(items)
    if key in ("sample", "solver", "store", "backend"):
        if not isinstance(value, str) or not value.strip():
            raise TypeError
        return value
    if key == "n" or key == "chunk_size":
        if not _whole(value, 1):
            raise TypeError
        return value
    if key == "starts":
        if not _whole(value, 1):
            raise TypeError
        return value
    if key == "seed":
        if not _whole(value, 0):
            raise TypeError
        return value
    if key == "params":
        if not isinstance(value, (str, list)):
            raise TypeError
        return parse_params(value)
    if key in ("tol", "residual_tol"):
        if not _real(value):
            raise TypeError
        return value
    if key == "lambda":
        if isinstance(value, str):
            parse_lambdas(value)
        elif isinstance(value, list):
            if not value or not all(_real(v) for v in value):
                raise TypeError
        elif not _real(value):
            raise TypeError
        return value
    if key == "stages":
        if isinstance(value, str):
            parse_stages(value)
            return value
        if not isinstance(value, list) or not value:
            raise TypeError
        stages = [stage.split(",") if isinstance(stage, str) else stage for stage in value]
        if not all(isinstance(stage, list) and all(isinstance(p, str) for p in stage)
                   for stage in stages):
            raise TypeError
        return [list(stage) for stage in parse_stages(">".join(",".join(st) for st in stages))]
    raise TypeError   # pragma: no cover - every key of SWEEP_KEYS is handled above

#: Where a scenario can come from, in search order; ``"file"`` is an explicit path.
ORIGINS = ("cwd", "ALLYSIM_PATH", "shipped", "file")


def shipped_scenarios_dir() -> Path | None:
    """The folder of the scenarios shipped with allysim, or None if there is none.

    An installed copy keeps them as package data (``allysim/scenarios``); a source
    checkout at the top level, next to ``pyproject.toml``.
    """
    here = Path(__file__).resolve().parent
    if (here / "scenarios").is_dir():
        return here / "scenarios"
    checkout = here.parent
    if (checkout / "scenarios").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout / "scenarios"
    return None


def scenario_search_path() -> list[tuple[Path, str]]:
    """The folders searched for a scenario name, in order, with their origin.

    Returns ``(folder, origin)`` pairs; folders that do not exist are included
    (they are reported in the error for an unknown name) and searching skips them.
    ``ALLYSIM_PATH`` is read at each call; empty entries are ignored and relative
    ones are taken from the current working directory.

    >>> [origin for _, origin in scenario_search_path()][-1]
    'shipped'
    """
    shipped = shipped_scenarios_dir()
    places: list[tuple[Path, str]] = [(Path.cwd() / "scenarios", "cwd")]
    for entry in os.environ.get("ALLYSIM_PATH", "").split(os.pathsep):
        if entry.strip():
            places.append((Path(entry).expanduser().absolute(), "ALLYSIM_PATH"))
    out: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    if shipped is not None:
        seen.add(shipped.resolve())   # the shipped folder is searched last, as "shipped"
    for folder, origin in places:
        key = folder.resolve()
        if key not in seen:
            seen.add(key)
            out.append((folder, origin))
    if shipped is not None:
        out.append((shipped, "shipped"))
    return out


def scenario_dirs() -> list[Path]:
    """Folders searched for scenarios by name that exist, first match wins."""
    return [folder for folder, _ in scenario_search_path() if folder.is_dir()]


class ScenarioFile(NamedTuple):
    """A scenario name with the file that ``load_scenario(name)`` reads and its origin."""

    name: str
    path: Path
    origin: str


def scenario_files() -> list[ScenarioFile]:
    """Every scenario found by name, sorted by name, each with the file that wins.

    A name in several folders is listed once, with the first match in
    :func:`scenario_search_path` order (``cwd`` before ``ALLYSIM_PATH`` before
    ``shipped``).

    >>> f = {s.name: s for s in scenario_files()}["baseline-2018"]
    >>> f.path.name, f.origin in ("cwd", "ALLYSIM_PATH", "shipped")
    ('baseline-2018.toml', True)
    """
    found: dict[str, ScenarioFile] = {}
    for folder, origin in scenario_search_path():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            if path.is_file() and path.stem not in found:
                found[path.stem] = ScenarioFile(path.stem, path, origin)
    return [found[name] for name in sorted(found)]


def list_scenarios() -> list[str]:
    """Names of the scenarios found by name (:func:`scenario_files`), sorted."""
    return [f.name for f in scenario_files()]


@dataclass(frozen=True, eq=False)
class Scenario:
    """A resolved scenario: its model and the parameter point it describes.

    ``point`` is the model's defaults with ``overrides`` applied, shape (P,).
    ``path`` is the file read (a model file for a model at its defaults) and
    ``origin`` where it was found: ``"cwd"``, ``"ALLYSIM_PATH"``, ``"shipped"``
    or ``"file"`` (a path given explicitly).
    """

    name: str
    model: Model
    description: str
    question: str
    overrides: dict[str, float]
    point: np.ndarray = field(repr=False)
    sweep: dict[str, Any] = field(default_factory=dict)
    solve: dict[str, Any] = field(default_factory=dict)
    source: str = field(default="", repr=False)
    sha256: str = field(default="", repr=False)
    path: str | None = None
    origin: str | None = None

    def with_overrides(self, overrides: dict[str, float], *, force: bool = False) -> Scenario:
        """A copy with more overrides applied (e.g. from ``--set``)."""
        merged = {**self.overrides, **overrides}
        point = self.model.point(merged, where=self.name, force=force)
        return Scenario(self.name, self.model, self.description, self.question, merged, point,
                        self.sweep, self.solve, self.source, self.sha256, self.path, self.origin)


def _describe_search() -> str:
    """The places searched for a name, for the error message (one line)."""
    def where(folder: Path) -> str:
        return f"{folder}" + ("" if folder.is_dir() else " (missing)")

    env = [e for e in os.environ.get("ALLYSIM_PATH", "").split(os.pathsep) if e.strip()]
    shipped = shipped_scenarios_dir()
    return ", ".join([
        f"./scenarios={where(Path.cwd() / 'scenarios')}",
        "ALLYSIM_PATH=" + (os.pathsep.join(where(Path(e).expanduser().absolute()) for e in env)
                           if env else "(not set)"),
        f"shipped={where(shipped) if shipped else '(none)'}",
    ])


def _find(name: str) -> tuple[Path, str]:
    """The file for a scenario name or path, and its origin (see :data:`ORIGINS`)."""
    path = Path(name)
    if path.suffix == ".toml":
        if not path.is_file():
            raise ScenarioError(f"{name}: no such scenario file")
        return path, "file"
    for folder, origin in scenario_search_path():
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate, origin
    known = list_scenarios()
    raise ScenarioError(f"unknown scenario '{name}'{suggest(name, known + list_models())}; "
                        f"searched {_describe_search()}; a path to a .toml file works too; "
                        f"'allysim scenarios' lists the {len(known)} found")


def load_scenario(name: str | Path, *, force: bool = False) -> Scenario:
    """Load a scenario by name (``"baseline-2018"``), by path (``"my.toml"``), or a
    shipped model name or model file path, which gives that model at its defaults.

    A name is looked up in ``./scenarios``, then the ``ALLYSIM_PATH`` folders, then
    the shipped scenarios (see the module docstring); the result records the file
    read (``path``) and where it was found (``origin``). A name that is neither a
    scenario found there nor a shipped model raises :class:`ScenarioError` listing
    the places searched.

    >>> s = load_scenario("singapore-summit")
    >>> s.model.name, s.overrides["deal_value"]
    ('four-power', 3)
    """
    name = str(name)
    if not name.endswith(".toml") and name not in list_scenarios() and name in list_models():
        model = load_model(name)
        return Scenario(name, model, model.description, "", {}, model.defaults,
                        source=model.source, sha256=model.sha256, path=model.path, origin="shipped")
    path, origin = _find(name)
    text = read_text_file(path, ScenarioError, "scenario")
    where = path.name
    if is_model_text(text):  # a model file, as 'allysim validate' tells them apart: its defaults
        model = compile_model(text, where=where, path=str(path))
        return Scenario(path.stem, model, model.description, "", {}, model.defaults,
                        source=text, sha256=model.sha256, path=str(path), origin=origin)
    doc = read_toml(text, where, ScenarioError)
    for key in doc:
        if key not in _KEYS:
            raise ScenarioError(f"{where}: unknown key {quote(key, 40)}{suggest(key, _KEYS)}; "
                                f"expected {', '.join(_KEYS)}")
    model_ref = doc.get("model")
    if not isinstance(model_ref, str) or not model_ref.strip():
        raise ScenarioError(f"{where}: model: expected a model name or path, got {quote(model_ref)}")
    if model_ref.endswith(".toml"):
        model_path = Path(model_ref)
        model = load_model(model_path if model_path.is_absolute() else path.parent / model_path)
    else:
        model = load_model(model_ref)
    overrides = doc.get("overrides", {})
    for key in ("overrides", "sweep", "solve"):
        if not isinstance(doc.get(key, {}), dict):
            raise ScenarioError(f"{where}: {key}: expected a table")
    point = model.point(overrides, where=f"{where}: overrides", force=force)
    sweep = validate_sweep_table(doc.get("sweep", {}), where)
    return Scenario(
        name=path.stem, model=model, description=str(doc.get("description", "")),
        question=str(doc.get("question", "")), overrides=dict(overrides), point=point,
        sweep=sweep, solve=dict(doc.get("solve", {})), source=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(), path=str(path), origin=origin)
