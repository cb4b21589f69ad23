"""The tidy table of a sweep (one row per point and solution), written as Parquet or CSV.

A table arrives in pieces (one per chunk of points), each a list of
:class:`allysim.concepts.Column` (typed values; strategy, status and concept names as
codes into labels; a validity mask for empty cells). The same pieces become:

* **Parquet** (``equilibria.parquet``, needs pyarrow: ``pip install 'allysim[parquet]'``):
  one row group per piece; numbers keep their type (int64, float64), names are
  dictionary-encoded (categoricals in pandas), empty cells are nulls. The file's
  key-value metadata ``allysim`` holds the players, strategies, parameters and solution
  concept as JSON. Read with ``pandas.read_parquet``, ``polars.read_parquet`` or R's
  ``arrow::read_parquet``.
* **CSV** (``equilibria.csv``): a header, then the rows; floats as Python's shortest
  round-trip ``repr`` (they read back bit for bit), empty cells empty. This is byte for byte
  the format allysim 0.1.0 wrote.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import AllysimError
from .atomic import atomic_write

FORMATS = ("parquet", "csv")


class ExtraMissing(AllysimError):
    """An optional extra that a request needs is not installed."""


def pyarrow_available() -> bool:
    """Whether pyarrow can be imported (checked without importing it)."""
    import importlib.util
    return importlib.util.find_spec("pyarrow") is not None


def require_pyarrow(what: str):
    """pyarrow, or a one-line error naming the extra."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ExtraMissing(f"{what}: needs pyarrow, which is not installed; "
                           "pip install 'allysim[parquet]' (or use --format csv)") from None
    return pyarrow


def write_csv(path: Path, header: list[str], pieces: Iterable[list]) -> None:
    """Write ``header`` and the rows of every piece (lists of Columns) as CSV, atomically."""
    from ..concepts._sweep import csv_rows

    def write(fh):
        fh.write((",".join(header) + "\n").encode())
        for cols in pieces:
            fh.write(csv_rows(cols).encode())
    atomic_write(path, write)


_ARROW_TYPES = {"f8": "float64", "i8": "int64", "i4": "int32", "i2": "int16", "i1": "int8",
                "u1": "uint8", "b1": "bool_"}


def _arrow_numbers(values: np.ndarray, valid: np.ndarray | None):
    """An Arrow array over a NumPy array's buffer (no copy when contiguous). Built from
    buffers: ``pyarrow.array`` would import pandas (half a second) to look for Series."""
    import pyarrow as pa
    values = np.ascontiguousarray(values)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    kind = _ARROW_TYPES[values.dtype.str.lstrip("<>|=")]
    bitmap, nulls = None, 0
    if valid is not None and not valid.all():
        bitmap = pa.py_buffer(np.packbits(np.asarray(valid, dtype=bool), bitorder="little"))
        nulls = int(len(valid) - np.count_nonzero(valid))
    return pa.Array.from_buffers(getattr(pa, kind)(), len(values), [bitmap, pa.py_buffer(values)],
                                 null_count=nulls)


def _arrow_strings(labels):
    import pyarrow as pa
    data = [s.encode() for s in labels]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in data])]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(data),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def arrow_table(cols: list):
    """A ``pyarrow.Table`` of one piece (names and labels as dictionary columns)."""
    import pyarrow as pa
    arrays = []
    for c in cols:
        if c.labels is not None:
            codes = _arrow_numbers(np.asarray(c.values, dtype=np.int32), c.valid)
            arrays.append(pa.DictionaryArray.from_arrays(codes, _arrow_strings(c.labels)))
        else:
            arrays.append(_arrow_numbers(c.values, c.valid))
    return pa.Table.from_arrays(arrays, names=[c.name for c in cols])


def write_parquet(path: Path, pieces: Iterable[list], metadata: dict,
                  dictionary: tuple[str, ...] = ()) -> None:
    """Write every piece as one row group of one Parquet file, atomically; ``metadata``
    goes into the file's key-value metadata under ``allysim`` (JSON).

    Names (columns with labels) and the columns named in ``dictionary`` (e.g. the
    parameters of a grid, with few distinct values) are dictionary-encoded; nothing is
    compressed (sampled floats do not compress, and Snappy would triple the time)."""
    require_pyarrow("writing equilibria.parquet")
    import pyarrow.parquet as pq

    def write(fh):
        writer = None
        try:
            for cols in pieces:
                table = arrow_table(cols)
                if writer is None:
                    meta = dict(table.schema.metadata or {})
                    meta[b"allysim"] = json.dumps(metadata, sort_keys=True).encode()
                    schema = table.schema.with_metadata(meta)
                    # Dictionary encoding pays for names, not for sampled floats.
                    labelled = [c.name for c in cols if c.labels is not None or c.name in dictionary]
                    writer = pq.ParquetWriter(fh, schema, compression="none",
                                              use_dictionary=labelled, write_statistics=False)
                if not table.schema.equals(schema, check_metadata=False):
                    table = table.cast(schema)
                writer.write_table(table.replace_schema_metadata(schema.metadata))
        finally:
            if writer is not None:
                writer.close()
    atomic_write(path, write)


def same_parquet(a: Path, b: Path) -> str | None:
    """None when two Parquet files hold the same table (schema, metadata, every value
    bit for bit), else a one-line description of the first difference."""
    require_pyarrow(f"comparing {Path(a).name}")
    import pyarrow.parquet as pq
    try:
        x = pq.read_table(a)
    except Exception as exc:     # a tampered or truncated file
        return f"cannot be read ({exc})"
    y = pq.read_table(b)
    if x.schema.names != y.schema.names:
        return f"columns {x.schema.names} vs re-run {y.schema.names}"
    if x.num_rows != y.num_rows:
        return f"{x.num_rows} rows vs re-run {y.num_rows}"
    if (x.schema.metadata or {}).get(b"allysim") != (y.schema.metadata or {}).get(b"allysim"):
        return "its allysim metadata differs"
    for name in x.schema.names:
        cx, cy = x.column(name).combine_chunks(), y.column(name).combine_chunks()
        if not cx.equals(cy) or cx.type != cy.type:
            return f"column '{name}' differs"
        if cx.type == "double":      # equals() treats NaN and signed zeros loosely
            vx = cx.to_numpy(zero_copy_only=False)
            vy = cy.to_numpy(zero_copy_only=False)
            if vx.tobytes() != vy.tobytes():
                return f"column '{name}' differs"
    return None
