"""Which implementation a solver runs: the one backend resolver (private).

Every solver with a compiled (numba) path takes ``backend``:

* ``"numpy"``: the NumPy reference path;
* ``"numba"``: the compiled kernels (the ``fast`` extra); an error without numba;
* ``"auto"`` (the default everywhere): numba when it is installed *and* the work
  is large enough for compiled code to pay for loading it (``min_batch`` games;
  each solver states its threshold), else NumPy. A single game is always solved
  on the NumPy path under ``auto``, so installing numba never makes a single run
  slower.

Whether numba is installed is found once, without importing it (importing
numba takes about half a second); it is imported only by the kernels that use it.
"""
from __future__ import annotations

import importlib.util

BACKENDS: tuple[str, ...] = ("auto", "numba", "numpy")

_NUMBA: bool | None = None


def numba_available() -> bool:
    """Whether numba can be imported (checked once, without importing it)."""
    global _NUMBA
    if _NUMBA is None:
        _NUMBA = importlib.util.find_spec("numba") is not None
    return _NUMBA


def check_backend(backend: str, where: str) -> str:
    """Validate a ``backend`` argument; ``where`` names the function for the message."""
    if backend not in BACKENDS:
        raise ValueError(f"{where}(): backend must be one of {', '.join(map(repr, BACKENDS))}, "
                         f"got {backend!r}")
    if backend == "numba" and not numba_available():
        raise ImportError(f"{where}(): backend 'numba' needs numba, which is not installed; "
                          "pip install 'allysim[fast]' or use backend='numpy'")
    return backend


def resolve_backend(backend: str, where: str, *, batch: int, min_batch: int) -> str:
    """``"numba"`` or ``"numpy"``: the path a call with ``batch`` games takes.

    ``auto`` picks numba when it is installed and ``batch >= min_batch``.

    >>> resolve_backend("numpy", "f", batch=10**6, min_batch=1)
    'numpy'
    >>> resolve_backend("auto", "f", batch=1, min_batch=64)
    'numpy'
    """
    check_backend(backend, where)
    if backend == "auto":
        return "numba" if numba_available() and batch >= min_batch else "numpy"
    return backend
