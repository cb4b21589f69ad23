"""Parameter sweeps: designs, a streaming chunk engine, executors and results folders.

>>> from allysim import load_scenario
>>> from allysim.sweep import grid_design, SweepSpec, run_sweep
>>> s = load_scenario("baseline-2018")
>>> design = grid_design(s.model, s.point, ["abandonment_fear=0:10:5"])
>>> run = run_sweep(SweepSpec(s.model.source, "four-power.toml", design, store="counts"))
>>> run.n_points, int(run.totals["status_counts"].sum())
(5, 5)
"""
from .design import (KINDS, SAMPLE_KINDS, SEED_BLOCK, Design, DesignError, grid_design,
                     nearest_power_of_two, parse_vary, sample_design, sobol_warning)
from .engine import DEFAULT_CHUNK_SIZE, SweepRun, SweepSpec, run_chunk, run_sweep
from .reducers import REDUCERS, STORES, Field, PureReducer, Reducer, get_reducer, register_reducer
from . import sequential as _sequential  # noqa: F401,E402  (registers the "spe" sweep solver)
from . import mixed as _mixed  # noqa: F401,E402  (registers the "mixed" sweep solver)
from . import qre as _qre  # noqa: F401,E402  (registers the "qre" sweep solver)

__all__ = ["KINDS", "SAMPLE_KINDS", "SEED_BLOCK", "Design", "DesignError", "grid_design",
           "nearest_power_of_two", "parse_vary", "sample_design", "sobol_warning",
           "DEFAULT_CHUNK_SIZE", "SweepRun", "SweepSpec", "run_chunk", "run_sweep", "REDUCERS",
           "STORES", "Field", "PureReducer", "Reducer", "get_reducer", "register_reducer"]
