"""Scenario files: a model plus parameter overrides (and, optionally, sweep and solve specs).

A scenario file is TOML::

    model = "four-power"            # a shipped model name or a path relative to this file
    description = "..."
    question = "..."                # what the scenario asks (optional)

    [overrides]                     # parameter = value, each inside its declared range
    deal_value = 3

    [sweep]                         # optional; read by ``allysim sweep``
    [solve]                         # optional; read by ``allysim run``

Scenarios are looked up by name in the repository's top-level ``scenarios/``
folder (a source checkout) and in the copy installed as package data
(``allysim.scenarios``), so ``pip install .`` users find them too.
"""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ScenarioError, suggest
from .model import Model, compile_model, list_models, load_model

_KEYS = ("model", "description", "question", "overrides", "sweep", "solve")


def scenario_dirs() -> list[Path]:
    """Folders searched for scenarios by name, first match wins."""
    here = Path(__file__).resolve().parent
    # A source checkout keeps them at the top level; an install ships them as allysim/scenarios.
    return [d for d in (here / "scenarios", here.parent / "scenarios") if d.is_dir()][:1]


def list_scenarios() -> list[str]:
    """Names of the scenarios found in :func:`scenario_dirs`, sorted."""
    return sorted({p.stem for d in scenario_dirs() for p in d.glob("*.toml")})


@dataclass(frozen=True, eq=False)
class Scenario:
    """A resolved scenario: its model and the parameter point it describes.

    ``point`` is the model's defaults with ``overrides`` applied, shape (P,).
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

    def with_overrides(self, overrides: dict[str, float], *, force: bool = False) -> Scenario:
        """A copy with more overrides applied (e.g. from ``--set``)."""
        merged = {**self.overrides, **overrides}
        point = self.model.point(merged, where=self.name, force=force)
        return Scenario(self.name, self.model, self.description, self.question, merged, point,
                        self.sweep, self.solve, self.source, self.sha256, self.path)


def _find(name: str) -> Path:
    path = Path(name)
    if path.suffix == ".toml":
        if not path.is_file():
            raise ScenarioError(f"{name}: no such scenario file")
        return path
    for d in scenario_dirs():
        candidate = d / f"{name}.toml"
        if candidate.is_file():
            return candidate
    known = list_scenarios()
    raise ScenarioError(f"unknown scenario '{name}'{suggest(name, known + list_models())}; "
                        f"see 'allysim scenarios' for the {len(known)} available")


def load_scenario(name: str | Path, *, force: bool = False) -> Scenario:
    """Load a scenario by name (``"baseline-2018"``), by path (``"my.toml"``), or a
    shipped model name or model file path, which gives that model at its defaults.

    >>> s = load_scenario("singapore-summit")
    >>> s.model.name, s.overrides["deal_value"]
    ('four-power', 3)
    """
    name = str(name)
    if not name.endswith(".toml") and name not in list_scenarios() and name in list_models():
        model = load_model(name)
        return Scenario(name, model, model.description, "", {}, model.defaults,
                        source=model.source, sha256=model.sha256, path=model.path)
    path = _find(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario file: {exc}") from None
    where = path.name
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: malformed TOML: {exc}") from None
    if "players" in doc:  # a model file, as 'allysim validate' tells them apart: its defaults
        model = compile_model(text, where=where, path=str(path))
        return Scenario(path.stem, model, model.description, "", {}, model.defaults,
                        source=text, sha256=model.sha256, path=str(path))
    for key in doc:
        if key not in _KEYS:
            raise ScenarioError(f"{where}: unknown key '{key}'{suggest(key, _KEYS)}; "
                                f"expected {', '.join(_KEYS)}")
    model_ref = doc.get("model")
    if not isinstance(model_ref, str):
        raise ScenarioError(f"{where}: model: expected a model name or path, got {model_ref!r}")
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
    return Scenario(
        name=path.stem, model=model, description=str(doc.get("description", "")),
        question=str(doc.get("question", "")), overrides=dict(overrides), point=point,
        sweep=dict(doc.get("sweep", {})), solve=dict(doc.get("solve", {})), source=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(), path=str(path))
