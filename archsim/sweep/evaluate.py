"""The one seam between sweeps and the simulator: resolve a design point, and simulate it.

Everything the sweep machinery knows about the config loader and the runner goes through the two
functions here, so the rest of `archsim/sweep/` deals only in plain JSON-able dicts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from archsim.errors import WorkloadError


def resolve_design(base: str | Path | Mapping[str, Any], overrides: Mapping[str, Any]) -> dict:
    """Validate `base` with dotted `overrides` applied; return the canonical design as plain JSON data.

    Two spellings of one design (`256 KiB` vs `262144 B`) resolve to the same dict, hence the same point id.
    Raises `ConfigError` naming the key when the loader rejects a value.
    """
    try:
        from archsim.config.schema import DesignConfig  # noqa: F401
    except ImportError:  # TEMPORARY until the lead's DesignConfig lands: no schema validation
        return _temporary_resolve(base, overrides)
    from archsim.config.loader import load_config

    return load_config(base, overrides=dict(overrides)).model_dump(mode="json")


def check_workload(workload: Mapping[str, Any]) -> None:
    """Cheap structural check of a workload dict before any point runs (the runner checks the rest)."""
    forms = [k for k in ("gemm", "model") if k in workload]
    if len(forms) != 1:
        raise WorkloadError(f"workload {dict(workload)!r}: give exactly one of 'gemm' (e.g. '512x768x768' "
                            f"or a list of them) or 'model' (e.g. 'llama2-7b' with phase/batch/seq/kv)")


def evaluate_point(design: Mapping[str, Any], workload: Mapping[str, Any], fidelity: str = "fast") -> dict:
    """Simulate one design point; returns the Report as a dict ({"config", "ops", "totals"})."""
    try:
        from archsim.run import run
    except ImportError:  # TEMPORARY until archsim/run.py lands
        return _temporary_evaluate(design, workload)
    from archsim.config.loader import load_config

    return run(load_config(dict(design)), dict(workload), fidelity=fidelity).to_dict()


# --- TEMPORARY bodies (delete when archsim/run.py and DesignConfig land) ---------------------------
def _temporary_resolve(base: Any, overrides: Mapping[str, Any]) -> dict:
    from archsim.config.loader import apply_overrides, read_yaml

    data = dict(base) if isinstance(base, Mapping) else read_yaml(base)[0]
    return apply_overrides(data, overrides)


def _temporary_evaluate(design: Mapping[str, Any], workload: Mapping[str, Any]) -> dict:
    """TEMPORARY: a bare roofline over GEMMs so the sweep plumbing can be exercised end to end."""
    gemms = workload.get("gemm", [])
    gemms = [gemms] if isinstance(gemms, str) else list(gemms)
    sa = next(iter(design.get("units", {}).values()), {"rows": 128, "cols": 128})
    pes = int(sa.get("rows", 128)) * int(sa.get("cols", 128))
    ops, t_ns = [], 0.0
    for i, g in enumerate(gemms):
        m, n, k = (int(x) for x in str(g).lower().split("x"))
        cycles = -(-m * n * k // pes) + int(sa.get("rows", 128))
        dram = 2 * (m * k + k * n + m * n)
        ops.append({"name": f"gemm{i}", "kind": "gemm", "unit": "sa", "cycles": cycles, "time_ns": float(cycles),
                    "utilization": m * n * k / (cycles * pes), "macs": m * n * k, "stall_cycles": 0,
                    "sram_reads": {}, "sram_writes": {}, "dram_read_bytes": dram, "dram_write_bytes": m * n,
                    "energy_pj": 0.2 * m * n * k + 20.0 * dram})
        t_ns += cycles
    keys = ("cycles", "macs", "stall_cycles", "dram_read_bytes", "dram_write_bytes", "energy_pj")
    totals = {k: sum(o[k] for o in ops) for k in keys}
    totals["time_ns"] = t_ns
    return {"config": dict(design), "ops": ops, "totals": totals}
