"""Our mapper vs ZigZag on GEMM layers of ZigZag's `tpu_like` design, side by side.

ZigZag's numbers come from zigzag_tpu_like.csv (written by run_zigzag.py; see the `source` column),
so this runs without ZigZag. The equivalent archsim design (DESIGN below) is derived from
zigzag-dse 3.9.1 inputs/hardware/tpu_like.yaml:
  * operational_array 32 x 32, systolic, mapping D1 = K (our N) and D2 = C (our K): weight-stationary;
  * sram_2MB: 16,777,216 bits = 2 MiB shared by inputs (I1) and outputs (O) -> 1 MiB each here;
  * rf_128B per PE for weights (I2): 1024 bits x 1024 PEs = 128 KiB of weight storage in total;
  * dram port: 64 bit/cycle -> 8 B/cycle = 8 GB/s at 1 GHz, latency 1 cycle;
  * precisions I 8, W 8, partial sums O 16, final outputs 8 bit (the workload we gave ZigZag);
  * the output buffer writes behind (`write_behind`): finished outputs go out only into the port's
    idle time, loads first. ZigZag's latency model lets every operand's transfers overlap; a DMA
    with separate read and write queues is the physical way to get close to that on one port.
Energies are not compared (ZigZag prices every memory level with its own per-access costs).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

DESIGN = {
    "name": "zigzag-tpu-like", "clock": "1 GHz",
    "units": {"sa": {"kind": "systolic", "rows": 32, "cols": 32, "dataflow": "ws", "timing": "pipelined",
                     "input_bits": 8, "weight_bits": 8, "acc_bits": 16}},
    "memory": {"sram": {"ifmap": {"capacity": "1 MiB", "bytes_per_cycle": 256, "double_buffered": True},
                        "filter": {"capacity": "128 KiB", "bytes_per_cycle": 1024, "double_buffered": True},
                        "ofmap": {"capacity": "1 MiB", "bytes_per_cycle": 256, "double_buffered": True,
                                  "write_behind": True}},
               "offchip": {"kind": "simple", "bandwidth": "8 GB/s", "latency": "1 ns"}},
    "mapper": {"objective": "latency", "budget": "30 s"},
}


def zigzag_rows() -> list[dict]:
    with open(HERE / "zigzag_tpu_like.csv") as f:
        return list(csv.DictReader(f))


def compare(simulate: bool = True) -> list[dict]:
    """Per layer: ZigZag's latency, our mapper's analytic estimate of its best mapping, and (with
    `simulate`) that mapping run through the tile pipeline as `archsim run` does (fast fidelity)."""
    import archsim
    from archsim.config.loader import load_config
    from archsim.units.base import GemmShape
    from dataflows.mapper import mapper_for

    design = load_config(DESIGN)
    mapper = mapper_for(design, "sa")
    out = []
    for r in zigzag_rows():
        M, N, K = int(r["M"]), int(r["N"]), int(r["K"])
        res = mapper.map_gemm(GemmShape(M, N, K), r["name"])
        compulsory = res.lower_bound["compulsory_bytes"]
        row = {"name": r["name"], "gemm": f"{M}x{N}x{K}", "zigzag_cycles": float(r["latency_cycles"]),
               "zigzag_implied_bytes_per_cycle": compulsory / float(r["latency_cycles"]),
               "archsim_cycles": res.best.cycles, "bound_cycles": res.lower_bound["cycles"],
               "mapping": str(res.best.mapping)}
        if simulate:
            op = archsim.run(design, {"gemm": [f"{M}x{N}x{K}"], "bits": 8}).ops[0]
            row["simulated_cycles"] = op["cycles"]
        out.append(row)
    return out


def main() -> int:
    rows = compare()
    print(f"{'layer':<20} {'GEMM':<14} {'ZigZag':>10} {'B/cyc':>6} {'mapper':>10} {'ratio':>6} {'simulated':>10} "
          f"{'ratio':>6} {'bound':>10}  archsim mapping")
    for r in rows:
        z = r["zigzag_cycles"]
        print(f"{r['name']:<20} {r['gemm']:<14} {z:>10.0f} {r['zigzag_implied_bytes_per_cycle']:>6.2f} "
              f"{r['archsim_cycles']:>10} {r['archsim_cycles'] / z:>6.3f} {r['simulated_cycles']:>10} "
              f"{r['simulated_cycles'] / z:>6.3f} {r['bound_cycles']:>10.0f}  {r['mapping']}")
    print("B/cyc: compulsory DRAM bytes / ZigZag's cycles; above 8 (the 64 bit/cycle port) ZigZag's latency is "
          "below what the port can physically deliver.\nmapper: the mapper's analytic estimate (step model); "
          "simulated: the same mapping through the tile pipeline, as `archsim run` reports it (fast = cycle here).\n"
          "bound: archsim's roofline bound max(MACs/1024, compulsory bytes/8).")
    worse = [r["name"] for r in rows if r["simulated_cycles"] > r["zigzag_cycles"]]
    print("archsim is no worse than ZigZag on every layer" if not worse else f"archsim slower than ZigZag on: {worse}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
