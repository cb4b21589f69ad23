"""The results folder of a sweep (``-o DIR``).

Layout while a sweep runs::

    DIR/plan.json                 what to compute (enough to resume)
    DIR/chunks/chunk-000012.npz   one file per finished chunk (typed arrays)

and once it has finished::

    DIR/manifest.json             provenance, design, timings, summary, file hashes
    DIR/results.npz               arrays (allow_pickle=False), one entry per point / row,
                                  with the player, strategy and parameter names
    DIR/equilibria.parquet        the tidy table, one row per point and equilibrium
      or equilibria.csv           (--store full; --table parquet|csv|none)

Every file is written to a temporary name in DIR and renamed into place, so a
file that exists is whole. ``manifest.json`` is written last: a folder without
it is unfinished, and ``allysim sweep --resume DIR`` finishes it from its chunks.
"""
from __future__ import annotations

import hashlib
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..errors import AllysimError
from ..io.atomic import atomic_write, write_json  # noqa: F401  (re-exported for the engine)

PLAN, MANIFEST, RESULTS, CSV, CHUNKS = "plan.json", "manifest.json", "results.npz", "equilibria.csv", "chunks"
SEAL, LOCK, PARQUET = "manifest.sha256", ".allysim.lock", "equilibria.parquet"
OWN = (PLAN, MANIFEST, SEAL, RESULTS, CSV, PARQUET, CHUNKS)


class ResultsError(AllysimError):
    """A results folder that cannot be used as asked."""


def make_folder(out: Path) -> bool:
    """Create the folder ``out`` if it does not exist; True if this call created it.

    Every way this can fail (the parent missing or a file, no permission, a read-only
    or full file system) is one :class:`ResultsError` line."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ResultsError(f"-o {out}: exists and is not a folder")
    parent = out.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() or _is_file_above(parent) else "does not exist"
        raise ResultsError(f"-o {out}: parent folder {parent} {what}")
    try:
        out.mkdir()
    except FileExistsError:
        if not out.is_dir():
            raise ResultsError(f"-o {out}: exists and is not a folder") from None
        return False
    except OSError as exc:
        raise ResultsError(f"-o {out}: cannot create the folder: {exc.strerror or exc}") from None
    return True


def _is_file_above(path: Path) -> bool:
    return any(p.exists() and not p.is_dir() for p in Path(path).parents)


def prepare(out: Path, *, overwrite: bool, own: tuple[str, ...] = OWN, chunks: bool = True) -> None:
    """Make ``out`` ready for a new sweep: create it, or refuse a non-empty one
    unless ``overwrite`` (which removes allysim's own files, ``own``, from it). Other
    results folders (thresholds, path) pass their own files and ``chunks=False``. The
    folder's lock file (:mod:`.lock`) does not count."""
    out = Path(out)
    make_folder(out)
    try:
        if any(p.name != LOCK for p in out.iterdir()):
            if not overwrite:
                raise ResultsError(f"-o {out}: folder is not empty; pass --overwrite to replace its "
                                   "results, or --resume to finish an interrupted sweep")
            for name in own:
                target = out / name
                if target.is_dir():
                    shutil.rmtree(target)
                else:
                    target.unlink(missing_ok=True)
        if chunks:
            (out / CHUNKS).mkdir(exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"-o {out}: cannot write: {exc.strerror or exc}") from None


def forget(out: Path) -> None:
    """Remove what a new sweep wrote into ``out`` before its first chunk (plan.json and an
    empty chunks/), so a sweep that fails that early leaves nothing behind."""
    out = Path(out)
    chunks = out / CHUNKS
    if chunks.is_dir() and not any(chunks.iterdir()):
        chunks.rmdir()
    if not chunks.exists():
        (out / PLAN).unlink(missing_ok=True)


def chunk_path(out: Path, k: int) -> Path:
    return Path(out) / CHUNKS / f"chunk-{k:06d}.npz"


def write_chunk(out: Path, k: int, arrays: dict[str, np.ndarray]) -> None:
    """Store one chunk's arrays (keys such as ``p/count``, ``r/eq_point``, ``t/...``)."""
    def write(fh):
        np.savez(fh, **arrays)
    atomic_write(chunk_path(out, k), write, sync=False)


def load_chunk(out: Path, k: int) -> dict[str, np.ndarray]:
    with np.load(chunk_path(out, k), allow_pickle=False) as z:
        return {key: z[key] for key in z.files}


def done_chunks(out: Path) -> set[int]:
    """Indices of the chunks already stored in ``out``."""
    folder = Path(out) / CHUNKS
    if not folder.is_dir():
        return set()
    done = set()
    for f in folder.glob("chunk-*.npz"):
        try:
            done.add(int(f.stem.split("-")[1]))
        except (IndexError, ValueError):
            continue
    return done


def _header(dtype: np.dtype, shape: tuple[int, ...]) -> dict:
    return {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
            "shape": tuple(int(s) for s in shape)}


def write_npz_stream(path: Path, entries: Iterable[tuple[str, np.dtype, tuple[int, ...],
                                                          Callable[[], Iterable[np.ndarray]]]]) -> None:
    """Write an ``.npz`` (loadable with ``np.load(allow_pickle=False)``) whose arrays
    are streamed in pieces: each entry is ``(name, dtype, shape, pieces)`` where
    ``pieces()`` yields C-ordered blocks that concatenate to ``shape``."""
    def write(fh):
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, dtype, shape, pieces in entries:
                with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array_header_2_0(f, _header(dtype, shape))
                    for piece in pieces():
                        block = np.ascontiguousarray(piece, dtype=dtype)
                        f.write(memoryview(block.reshape(-1)).cast("B") if block.size else b"")
    atomic_write(path, write)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def compare_folders(expected: Path, actual: Path, optional: tuple[str, ...] = ()) -> list[str]:
    """Bit-for-bit comparison of two results folders' data files: results.npz array by
    array, equilibria.csv byte by byte, equilibria.parquet value by value (its bytes
    depend on the pyarrow version that wrote it).

    Returns a list of human-readable differences (empty when equal). ``expected``
    is the folder under test, ``actual`` the fresh re-run; arrays named in ``optional``
    are compared only when ``expected`` has them.
    """
    diffs = []
    a_path, b_path = Path(expected) / RESULTS, Path(actual) / RESULTS
    if not a_path.exists():
        return [f"{RESULTS}: missing from {expected}"]
    try:
        a = np.load(a_path, allow_pickle=False)
    except Exception as exc:   # a tampered or truncated file
        return [f"{RESULTS}: cannot be read ({exc})"]
    with a, np.load(b_path, allow_pickle=False) as b:
        for name in sorted(set(a.files) | set(b.files)):
            if name not in a.files and name in optional:
                continue      # names that older folders do not carry
            if name not in a.files:
                diffs.append(f"{RESULTS}: array '{name}' is missing")
                continue
            if name not in b.files:
                diffs.append(f"{RESULTS}: array '{name}' is not produced by the re-run")
                continue
            try:
                x = a[name]
            except Exception as exc:   # a flipped byte fails the zip's CRC check
                diffs.append(f"{RESULTS}: array '{name}' cannot be read ({type(exc).__name__}: {exc})")
                continue
            y = b[name]
            if x.dtype != y.dtype or x.shape != y.shape:
                diffs.append(f"{RESULTS}: '{name}' is {x.dtype}{list(x.shape)}, the re-run gives "
                             f"{y.dtype}{list(y.shape)}")
                continue
            if x.tobytes() == y.tobytes():
                continue
            xs = x.reshape(len(x), -1) if x.ndim else x.reshape(1, 1)
            ys = y.reshape(len(y), -1) if y.ndim else y.reshape(1, 1)
            if xs.dtype.kind in "fiub":
                bad = np.nonzero((xs.view(np.uint8).reshape(len(xs), -1)
                                  != ys.view(np.uint8).reshape(len(ys), -1)).any(axis=1))[0]
            else:
                bad = np.nonzero((xs != ys).any(axis=1))[0]
            first = int(bad[0]) if len(bad) else 0
            diffs.append(f"{RESULTS}: '{name}' differs at {len(bad)} of {len(xs)} entries "
                         f"(first at {first}: {xs[first].tolist()} vs re-run {ys[first].tolist()})")
    a_csv, b_csv = Path(expected) / CSV, Path(actual) / CSV
    if a_csv.exists() != b_csv.exists():
        diffs.append(f"{CSV}: present in only one of the folders")
    elif a_csv.exists() and sha256_file(a_csv) != sha256_file(b_csv):
        with open(a_csv, "rb") as fa, open(b_csv, "rb") as fb:
            for line_no, (la, lb) in enumerate(zip(fa, fb), 1):
                if la != lb:
                    diffs.append(f"{CSV}: differs from line {line_no}: "
                                 f"{la.decode(errors='replace').strip()[:100]!r} vs re-run "
                                 f"{lb.decode(errors='replace').strip()[:100]!r}")
                    break
            else:
                diffs.append(f"{CSV}: files differ in length")
    a_pq, b_pq = Path(expected) / PARQUET, Path(actual) / PARQUET
    if a_pq.exists() != b_pq.exists():
        diffs.append(f"{PARQUET}: present in only one of the folders")
    elif a_pq.exists():
        from ..io.table import same_parquet
        if (why := same_parquet(a_pq, b_pq)) is not None:
            diffs.append(f"{PARQUET}: {why}")
    return diffs


def chunk_key_length(out: Path, k: int, key: str) -> int:
    """``len`` of one array of one stored chunk, read from its header only."""
    with zipfile.ZipFile(chunk_path(out, k)) as zf, zf.open(f"{key}.npy") as fh:
        version = np.lib.format.read_magic(fh)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape = read(fh)[0]
    return int(shape[0]) if shape else 1


def load_chunk_key(out: Path, k: int, key: str) -> np.ndarray:
    """One array of one stored chunk."""
    with np.load(chunk_path(out, k), allow_pickle=False) as z:
        return z[key]
