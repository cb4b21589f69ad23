"""Reading a finished results folder: its arrays, its tidy table, pandas and xarray.

Any folder that ``allysim sweep -o DIR`` wrote (0.1.0 folders included) can be:

* opened (:func:`open_folder`): the manifest, the spec, the model and the concept's
  sweep layout, rebuilt from the manifest alone;
* read array by array without loading it (:func:`npz_arrays`: results.npz members are
  stored uncompressed, so each is a read-only memory map);
* turned into its tidy table, piece by piece (:func:`folder_pieces`), and so exported
  (:func:`export_table`, ``allysim export DIR --format csv|parquet``) or loaded
  (:func:`load`, ``allysim.load(DIR)``).

With ``--store counts`` a folder keeps no solutions, only per-point arrays: its table has
one row per point (point, solution concept, status, the varied parameters and every
per-point array, the unique outcome by name).
"""
from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AllysimError
from . import store as st

#: Points per piece when a folder's table is made (memory stays flat).
PIECE = 1 << 16


@dataclass(frozen=True)
class Folder:
    """A finished results folder: where it is, its manifest, spec, model and layout."""

    path: Path
    manifest: dict[str, Any]
    spec: Any
    model: Any
    layout: Any

    @property
    def design(self):
        return self.spec.design


def open_folder(folder: str | Path) -> Folder:
    """Read ``manifest.json`` of a finished sweep and rebuild its model and layout."""
    from ..concepts import get_concept
    from ..model import compile_model
    from .engine import SweepSpec

    folder = Path(folder)
    try:
        manifest = json.loads((folder / st.MANIFEST).read_text())
    except FileNotFoundError:
        raise st.ResultsError(f"{folder}: no manifest.json; expected a finished sweep folder "
                              "(allysim sweep ... -o DIR)") from None
    except (OSError, ValueError) as exc:
        raise st.ResultsError(f"{folder}/manifest.json: unreadable ({exc})") from None
    try:
        spec = SweepSpec.from_json(manifest["spec"])
    except (KeyError, TypeError, ValueError) as exc:
        raise st.ResultsError(f"{folder}/manifest.json: unreadable ({exc})") from None
    model = compile_model(spec.model_source, where=spec.model_where)
    concept = get_concept(spec.solver)
    layout = concept.sweep(concept, model, concept.resolve(spec.options, model.players), spec.store)
    return Folder(folder, manifest, spec, model, layout)


def npz_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz``, as read-only memory maps where the member is stored
    uncompressed (as allysim writes them), else loaded."""
    path = Path(path)
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
            for info in zf.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape, fortran, dtype = read(fh)
                    header = fh.tell()
                if (info.compress_type != zipfile.ZIP_STORED or dtype.hasobject or fortran
                        or math.prod(shape) == 0):
                    with zf.open(info) as fh:
                        out[name] = np.lib.format.read_array(fh, allow_pickle=False)
                    continue
                raw.seek(info.header_offset)
                local = raw.read(30)
                data = (info.header_offset + 30 + int.from_bytes(local[26:28], "little")
                        + int.from_bytes(local[28:30], "little") + header)
                out[name] = np.memmap(path, dtype=dtype, mode="r", offset=data, shape=shape)
    except (OSError, ValueError, zipfile.BadZipFile, KeyError) as exc:
        raise st.ResultsError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
    return out


def _point_table(f: Folder, arrays: dict, varied: np.ndarray, start: int) -> list:
    """One row per point for a folder that keeps no solutions (``--store counts``)."""
    from ..concepts._sweep import Column, name_columns, point_columns, profile_name

    layout, model = f.layout, f.model
    m = len(arrays["status"])
    columns, names = [], []
    for field in layout.point_fields():
        if field.name == "status" or field.shape:
            continue
        values = np.asarray(arrays[field.name])
        if field.name == "outcome":
            flat = values.astype(np.int64)
            labels = tuple(profile_name(model, c) for c in range(math.prod(model.shape)))
            columns.append(Column("", np.maximum(flat, 0), labels, flat >= 0))
        elif values.dtype == bool:
            columns.append(Column("", values.astype(np.int8), ("false", "true")))
        else:
            columns.append(Column("", values))
        names.append(field.name)
    concept = Column("", np.zeros(m, np.int8), (layout.label,))
    cols = point_columns(start, concept, np.asarray(arrays["status"]), varied, columns)
    return name_columns(["point", "solution_concept", "status", *f.design.names, *names], cols)


def folder_pieces(f: Folder, arrays: dict[str, np.ndarray] | None = None, piece: int = PIECE):
    """The folder's tidy table, piece by piece (lists of Columns), from its results.npz
    (or ``arrays``): the same rows ``sweep`` writes."""
    arrays = npz_arrays(f.path / st.RESULTS) if arrays is None else arrays
    design, layout = f.design, f.layout
    n = design.n
    rows = [fl.name for fl in layout.row_fields()] if "eq_point" in arrays else []
    points = [fl.name for fl in layout.point_fields()]
    eq_point = np.asarray(arrays["eq_point"]) if rows else None
    for start in range(0, n, piece):
        stop = min(n, start + piece)
        chunk = {k: np.asarray(arrays[k][start:stop]) for k in points}
        if "params" in arrays:
            varied = np.asarray(arrays["params"][start:stop])
        else:
            varied = design.varied(start, stop)
        if rows:
            lo, hi = np.searchsorted(eq_point, [start, stop])
            chunk.update({k: np.asarray(arrays[k][lo:hi]) for k in rows})
        if f.spec.store == "full":
            yield layout.table(chunk, varied, start, design.names)
        else:
            yield _point_table(f, chunk, varied, start)


def table_header(f: Folder) -> list[str]:
    if f.spec.store == "full":
        return f.layout.csv_header(f.design.names)
    return [c.name for c in _point_table(f, {k: np.zeros((0, *fl.shape), fl.dtype) for fl in
                                             f.layout.point_fields() for k in [fl.name]},
                                         np.zeros((0, f.design.d)), 0)]


def export_table(folder: str | Path, path: str | Path, fmt: str) -> Path:
    """Write the tidy table of a results folder to ``path`` as ``fmt`` (``csv`` or
    ``parquet``); returns the path. The CSV of a ``--store full`` folder is byte for byte
    the ``equilibria.csv`` that ``sweep --table csv`` writes."""
    from ..io.table import write_csv, write_parquet
    from .engine import table_metadata

    f = open_folder(folder)
    path = Path(path)
    if fmt == "parquet":
        grid = tuple(f.design.names) if f.design.kind == "grid" else ()
        write_parquet(path, folder_pieces(f), table_metadata(f.model, f.design, f.layout),
                      dictionary=grid)
    elif fmt == "csv":
        write_csv(path, table_header(f), folder_pieces(f))
    else:
        raise AllysimError(f"--format {fmt!r}: expected csv or parquet for a results folder")
    return path


def _require(module: str, extra: str):
    try:
        return __import__(module)
    except ImportError:
        raise AllysimError(f"allysim.load(): needs {module}, which is not installed; "
                           f"pip install 'allysim[{extra}]'") from None


def _pandas_frame(pieces):
    """A pandas DataFrame of table pieces: names as categoricals, empty cells as
    missing values (NaN for floats, <NA> for whole numbers)."""
    import pandas as pd

    frames = []
    for cols in pieces:
        data = {}
        for c in cols:
            valid = None if c.valid is None or c.valid.all() else np.asarray(c.valid)
            if c.labels is not None:
                codes = np.asarray(c.values, dtype=np.int64)
                if valid is not None:
                    codes = np.where(valid, codes, -1)
                data[c.name] = pd.Categorical.from_codes(codes, categories=list(c.labels))
            elif valid is None:
                data[c.name] = np.asarray(c.values)
            elif np.asarray(c.values).dtype.kind == "f":
                data[c.name] = np.where(valid, c.values, np.nan)
            else:
                data[c.name] = pd.array(np.asarray(c.values), dtype="Int64")
                data[c.name][~valid] = pd.NA
        frames.append(pd.DataFrame(data))
    if not frames:
        return pd.DataFrame()
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def _xarray_dataset(f: Folder):
    """Per-point arrays as an xarray Dataset: for a grid, one dimension per swept
    parameter (its values as coordinates); for a sample, a ``point`` dimension with the
    parameters as coordinates. Solutions per point (rows) are not included: use pandas."""
    import xarray as xr

    from ..solve import STATUS_NAMES
    arrays = npz_arrays(f.path / st.RESULTS)
    design, model, layout = f.design, f.model, f.layout
    n = design.n
    grid = design.kind == "grid"
    if grid:
        from .design import linspace_at
        dims = tuple(design.names)
        shape = tuple(design.counts)
        coords = {name: linspace_at(lo, hi, c, np.arange(c))
                  for name, lo, hi, c in zip(design.names, design.lows, design.highs, design.counts)}
    else:
        dims, shape = ("point",), (n,)
        varied = np.asarray(arrays["params"]) if "params" in arrays else design.varied(0, n)
        coords = {"point": np.arange(n)}
        coords.update({name: ("point", varied[:, j]) for j, name in enumerate(design.names)})
    strategy = [f"{p}={s}" for p, ss in zip(model.players, model.strategies) for s in ss]
    lambdas = list(layout.options.get("lambda", [])) if "lambda" in layout.options else []
    data = {}
    for field in layout.point_fields():
        values = np.asarray(arrays[field.name])
        extra_dims: list[str] = []
        for size in field.shape:
            if size == len(strategy) and "strategy" not in extra_dims:
                extra_dims.append("strategy")
            elif lambdas and size == len(lambdas) and "lambda" not in extra_dims:
                extra_dims.append("lambda")
            elif size == model.n_players and "player" not in extra_dims:
                extra_dims.append("player")
            else:
                extra_dims.append(f"{field.name}_dim{len(extra_dims)}")
        if field.name == "status":
            values = np.asarray(STATUS_NAMES)[values.astype(np.intp)]
        data[field.name] = (dims + tuple(extra_dims), values.reshape(shape + tuple(field.shape)))
    if any("strategy" in d[0] for d in data.values()):
        coords["strategy"] = strategy
    if any("lambda" in d[0] for d in data.values()):
        coords["lambda"] = lambdas
    if any("player" in d[0] for d in data.values()):
        coords["player"] = list(model.players)
    attrs = {"solution_concept": layout.label, "solver": f.spec.solver, "model": model.name,
             "store": f.spec.store}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def load(folder: str | Path, as_: str = "pandas"):
    """A results folder as a pandas DataFrame (``as_="pandas"``) or an xarray Dataset
    (``as_="xarray"``).

    pandas: the tidy table, one row per point and solution (``--store counts``: per point),
    with the strategies, status and solution concept as categoricals (names, not indices)
    and the swept parameters as columns; the same rows as ``equilibria.parquet``/``.csv``.
    xarray: the per-point arrays with the swept parameters as coordinates (one dimension
    per parameter for a grid; a ``point`` dimension for a sample). Needs the ``pandas`` or
    ``xarray`` extra (``pip install 'allysim[pandas]'``); works on 0.1.0 folders too.

    Example (``out/`` and ``grid/`` made by ``allysim sweep ... -o``; tested in
    tests/test_tables.py)::

        import allysim
        df = allysim.load("out/")
        ds = allysim.load("grid/", as_="xarray")
    """
    if as_ not in ("pandas", "xarray"):
        raise AllysimError(f"allysim.load(): as_={as_!r}: expected 'pandas' or 'xarray'")
    _require("pandas", "pandas")
    if as_ == "xarray":
        _require("xarray", "xarray")
    f = open_folder(folder)
    if as_ == "xarray":
        return _xarray_dataset(f)
    return _pandas_frame(folder_pieces(f))
