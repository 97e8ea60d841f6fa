"""Speed of the PIM models (printed, never asserted).

    .venv/bin/python benchmarks/bench_pim.py

HBM-PIM GEMV 4096x4096 FP16 (configs/pim/hbm_pim.yaml, 64 pseudo-channels):
  cycle - its command stream through the DRAM controller (target < 5 s)
  fast  - the throughput model (target < 10 ms)
and, as the baseline measured in the same run, the same memory without PIM in cycle (the host streaming the
32 MiB of weights through the same controllers). Best of 3 wall times.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import archsim                                                        # noqa: E402
from archsim.units.pim.kernels import gemv, no_pim_cycles, run_kernel   # noqa: E402
from memory.dram.spec import load_spec                                # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "pim" / "hbm_pim.yaml"


def best(fn, n: int = 3) -> tuple[float, object]:
    out, t = None, float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def main() -> None:
    d = archsim.load_config(str(CONFIG))
    cfg, off = d.units["pim"], d.memory.offchip
    spec, ch = load_spec(off.standard, off.timing), off.channels
    op = gemv(4096, 4096)
    tc, rc = best(lambda: run_kernel(cfg, spec, ch, op, "cycle"))
    tf, rf = best(lambda: run_kernel(cfg, spec, ch, op, "fast"))
    tn, cn = best(lambda: no_pim_cycles(spec, ch, op))
    ta, ra = best(lambda: run_kernel(cfg, spec, ch, op, "cycle", simulate_channels=ch), 1)
    print(f"HBM-PIM GEMV 4096x4096  cycle {tc * 1e3:8.1f} ms  ({rc.detail['dram_cycles']} DRAM cycles)   target < 5 s")
    print(f"HBM-PIM GEMV 4096x4096  fast  {tf * 1e3:8.2f} ms  ({rf.detail['dram_cycles']} DRAM cycles)   "
          "target < 10 ms")
    print(f"HBM-PIM GEMV 4096x4096  cycle, all {ch} channels simulated {ta:6.2f} s  "
          f"({ra.detail['dram_cycles']} DRAM cycles)")
    print(f"baseline: no-PIM cycle  {tn * 1e3:8.1f} ms  ({cn} DRAM cycles); PIM cycle / baseline wall time "
          f"{tc / tn:.2f}")


if __name__ == "__main__":
    main()
