"""Time to map one GEMM with the default search, and its gap to a brute-force optimum.

Target: within 1 % of the optimum in well under 1 s per GEMM (~0.1 s for sweeps). The reference
scores every mapping with the same cost model and no bounds at all, so it checks the best-first
search's pruning independently. Scoring all ~50k mappings of a default space takes many minutes
per GEMM, so by default both searches run on a thinned space (`--brute-tiles` candidates per dim;
24 = the default space); the time column is always the default search. Run from the repo root:
    .venv/bin/python benchmarks/bench_mapper.py [--objective latency|energy|edp] [--brute-tiles 24] [--no-brute]
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
from dataflows.cost import peak_macs_per_cycle  # noqa: E402
from dataflows.mapper import Mapper, Resolved, design_energy_spec, design_memory_spec, design_unit  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
GEMMS = [GemmShape(128, 2304, 768), GemmShape(512, 512, 512), GemmShape(1, 4096, 4096),
         GemmShape(300, 1000, 700), GemmShape(2048, 4096, 4096), GemmShape(64, 64, 64, batch=12),
         GemmShape(1, 4096, 11008), GemmShape(512, 768, 768), GemmShape(128, 768, 768)]


def brute_force(mapper: Mapper, g: GemmShape, objective: str) -> tuple[tuple, int]:
    """The best objective key over every mapping of the space, largest tiles first. Only the
    roofline (MACs / PEs, DRAM bytes / bandwidth, DRAM energy: obviously valid, independent of
    bounds.py) skips a mapping; it also keeps tiny tiles (millions of steps) from being scored."""
    space = mapper.space(g, Resolved())
    peak = peak_macs_per_cycle(mapper.unit)
    best, n = None, 0
    for m in sorted(space, key=lambda m: (-m.tile[0] * m.tile[1] * m.tile[2], str(m))):
        if best is not None:
            dram = m.totals()["dram_bytes"]
            cycles = max(g.macs / peak, dram / mapper.cost.bw_bytes_per_cycle)
            pj = dram * (mapper.energy.sram_byte_pj + mapper.energy.offchip_byte_pj)
            if {"latency": cycles, "energy": pj, "edp": cycles * pj}[objective] > best[0]:
                continue
        k = mapper.cost.evaluate(m).objective(objective)
        best, n = (k if best is None or k < best else best), n + 1
    return best, n


def run(objective: str, brute_tiles: int | None) -> list[dict]:
    design = load_config(CONFIG)
    unit, mem, energy = design_unit(design, "sa"), design_memory_spec(design), design_energy_spec(design)
    rows = []
    for g in GEMMS:
        t0 = time.perf_counter()
        fast = Mapper(unit, mem, energy, MapperConfig(objective=objective)).map_gemm(g)
        row = {"gemm": str(g), "space": fast.space_size, "method": fast.method, "fast_s": time.perf_counter() - t0,
               "fast_scored": fast.evaluated, "ref_s": float("nan"), "ref_scored": 0, "gap_pct": float("nan"),
               "bound_ratio": fast.bound_ratio}
        if brute_tiles:
            thin = MapperConfig(objective=objective, tile_candidates=brute_tiles)
            f = Mapper(unit, mem, energy, thin).map_gemm(g).best.objective(objective)[0]
            t0 = time.perf_counter()
            ref, n = brute_force(Mapper(unit, mem, energy, thin), g, objective)
            row.update(ref_s=time.perf_counter() - t0, ref_scored=n, gap_pct=100.0 * (f - ref[0]) / ref[0])
        rows.append(row)
        print(f"{row['gemm']:<16} {row['space']:>7} {row['method']:>10} {row['fast_s']:>7.3f} {row['fast_scored']:>7} "
              f"{row['ref_s']:>8.1f} {row['ref_scored']:>7} {row['gap_pct']:>7.3f} {row['bound_ratio']:>8.3f}",
              flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objective", default="latency", choices=("latency", "energy", "edp"))
    ap.add_argument("--brute-tiles", type=int, default=24, help="tile candidates per dim of the brute-force space")
    ap.add_argument("--no-brute", action="store_true", help="skip the brute-force reference (no gap)")
    args = ap.parse_args()
    print(f"objective {args.objective}, design {CONFIG.name} (32x32 WS pipelined, 3 x 512 KiB SRAM, 25.6 GB/s)")
    print(f"{'GEMM':<16} {'space':>7} {'method':>10} {'time s':>7} {'scored':>7} {'brute s':>8} {'scored':>7} "
          f"{'gap %':>7} {'x bound':>8}")
    rows = run(args.objective, None if args.no_brute else args.brute_tiles)
    worst = max((r["gap_pct"] for r in rows), default=float("nan"))
    slowest = max(r["fast_s"] for r in rows)
    print(f"worst gap {worst:.3f} % (target <= 1 %), slowest search {slowest:.3f} s (target < 1 s), "
          f"median {sorted(r['fast_s'] for r in rows)[len(rows) // 2]:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
