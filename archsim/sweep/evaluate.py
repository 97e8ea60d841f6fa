"""The one seam between sweeps and the simulator: resolve a design point, and simulate it.

Everything the sweep machinery knows about the config loader and the runner goes through the two
functions here, so the rest of `archsim/sweep/` deals only in plain JSON-able dicts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping


def resolve_design(base: str | Path | Mapping[str, Any], overrides: Mapping[str, Any]) -> dict:
    """Validate `base` with dotted `overrides` applied; return the canonical design as plain JSON data.

    Two spellings of one design (`256 KiB` vs `262144 B`) resolve to the same dict, hence the same point id.
    Raises `ConfigError` naming the key when the loader rejects a value.
    """
    from archsim.config.loader import load_config
    from archsim.system import System

    design = load_config(base, overrides=dict(overrides))
    System(design)  # cross-section checks (e.g. a GEMM unit without SRAM buffers) fail here, before any run
    return design.model_dump(mode="json")


def check_workload(workload: Mapping[str, Any]) -> None:
    """Resolve a workload dict to operators once, before any point runs (raises WorkloadError naming the key)."""
    from archsim.workload import resolve_workload

    resolve_workload(dict(workload))


def evaluate_point(design: Mapping[str, Any], workload: Mapping[str, Any], fidelity: str = "fast") -> dict:
    """Simulate one design point; returns the Report as a dict ({"config", "ops", "totals"})."""
    from archsim import load_config, run

    return run(load_config(dict(design)), dict(workload), fidelity=fidelity).to_dict()

