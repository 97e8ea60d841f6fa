"""Time to map one GEMM with the default search, and its gap to the exhaustive optimum.

Target: within 1 % of the exhaustive optimum in under 1 s per GEMM. Run from the repo root:
    .venv/bin/python benchmarks/bench_mapper.py [--objective latency|energy|edp]
No cache is used (every search runs).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archsim.config.loader import load_config  # noqa: E402
from archsim.config.mapper_schema import MapperConfig  # noqa: E402
from archsim.units.base import GemmShape  # noqa: E402
from dataflows.mapper import Mapper, design_energy_spec, design_memory_spec, design_unit  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
GEMMS = [GemmShape(128, 2304, 768), GemmShape(512, 512, 512), GemmShape(1, 4096, 4096),
         GemmShape(300, 1000, 700), GemmShape(2048, 4096, 4096), GemmShape(64, 64, 64, batch=12)]


def run(objective: str) -> list[dict]:
    design = load_config(CONFIG)
    unit, mem, energy = design_unit(design, "sa"), design_memory_spec(design), design_energy_spec(design)
    rows = []
    for g in GEMMS:
        fast_cfg = MapperConfig(objective=objective)
        full_cfg = MapperConfig(objective=objective, exhaustive_limit=10**9, budget="600 s")
        t0 = time.perf_counter()
        fast = Mapper(unit, mem, energy, fast_cfg).map_gemm(g)
        t_fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        full = Mapper(unit, mem, energy, full_cfg).map_gemm(g)
        t_full = time.perf_counter() - t0
        f, e = fast.best.objective(objective)[0], full.best.objective(objective)[0]
        rows.append({"gemm": str(g), "space": full.space_size, "method": fast.method, "fast_s": t_fast,
                     "fast_scored": fast.evaluated, "exhaustive_s": t_full, "exhaustive_scored": full.evaluated,
                     "gap_pct": 100.0 * (f - e) / e, "bound_ratio": full.bound_ratio})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objective", default="latency", choices=("latency", "energy", "edp"))
    args = ap.parse_args()
    rows = run(args.objective)
    print(f"objective {args.objective}, design {CONFIG.name} (32x32 WS pipelined, 3 x 512 KiB SRAM, 25.6 GB/s)")
    print(f"{'GEMM':<16} {'space':>7} {'method':>10} {'time s':>7} {'scored':>7} {'exh. s':>7} {'scored':>7} "
          f"{'gap %':>7} {'x bound':>8}")
    for r in rows:
        print(f"{r['gemm']:<16} {r['space']:>7} {r['method']:>10} {r['fast_s']:>7.3f} {r['fast_scored']:>7} "
              f"{r['exhaustive_s']:>7.2f} {r['exhaustive_scored']:>7} {r['gap_pct']:>7.3f} {r['bound_ratio']:>8.3f}")
    worst = max(r["gap_pct"] for r in rows)
    slowest = max(r["fast_s"] for r in rows)
    print(f"worst gap {worst:.3f} % (target <= 1 %), slowest search {slowest:.3f} s (target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
