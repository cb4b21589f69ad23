"""Parameter sweeps: designs, a streaming chunk engine, executors and results folders.

What a chunk computes and keeps is declared by the solver's concept
(:mod:`allysim.concepts`): ``SweepSpec(..., solver="qre", options=...)`` sweeps any
concept that ``allysim run`` has.

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

__all__ = ["KINDS", "SAMPLE_KINDS", "SEED_BLOCK", "Design", "DesignError", "grid_design",
           "nearest_power_of_two", "parse_vary", "sample_design", "sobol_warning",
           "DEFAULT_CHUNK_SIZE", "SweepRun", "SweepSpec", "run_chunk", "run_sweep"]
