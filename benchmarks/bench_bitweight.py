"""Speed of the bitweight digit engine on a 1024x4096x256 GEMM (1 G MACs).

    python benchmarks/bench_bitweight.py

For each bundled value-dependent design: `cycle` (exact, from the operand values) and `fast`
(expected, from their histograms) wall time, beside a numpy int32 matmul of the same operands in the
same run (the ratio says how the engine compares with merely multiplying the matrices once).
Targets (issue 13): cycle under 1 s where one operand's digits set the cycles (Stripes, Pragmatic,
EN-T columns, BitMoD), under 10 s where both do (Laconic); fast under 10 ms.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archsim.config.loader import load_config  # noqa: E402
from archsim.units.bitweight.engine import cycle_cost, fast_cost, histogram  # noqa: E402
from archsim.units.bitweight.unit import schedule_of  # noqa: E402

M, N, K = 1024, 4096, 256
DESIGNS = {"stripes": 1.0, "pragmatic": 1.0, "opt4c_column": 1.0, "bitmod": 1.0, "laconic": 10.0}


def best_of(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    rng = np.random.default_rng(0)
    a8 = np.clip(np.rint(rng.normal(0, 20, (M, K))), -128, 127).astype(np.int64)
    w8 = np.clip(np.rint(rng.normal(0, 20, (K, N))), -128, 127).astype(np.int64)
    w4 = np.clip(np.rint(rng.normal(0, 2, (K, N))), -8, 7).astype(np.int64)
    a32, w32 = a8.astype(np.int32), w8.astype(np.int32)
    base = best_of(lambda: a32 @ w32, 2)
    print(f"GEMM {M}x{N}x{K} ({M * N * K / 1e9:.2f} G MACs); numpy int32 matmul {base:.3f} s")
    print(f"{'design':<14} {'cycle s':>8} {'target':>7} {'x matmul':>8} {'fast ms':>8} {'target':>7} "
          f"{'cycles':>12} {'fast/cycle':>10}")
    ok = True
    for name, target in DESIGNS.items():
        cfg = next(iter(load_config(ROOT / "configs" / "bitweight" / f"{name}.yaml").units.values()))
        s = schedule_of(cfg)
        w = w4 if s.weight_bits == 4 else w8
        a = a8
        t_cycle = best_of(lambda s=s, a=a, w=w: cycle_cost(s, a, w), 2)
        c = cycle_cost(s, a, w)
        ha, hw = histogram(a, s.act_bits), histogram(w, s.weight_bits)   # once per operand, shared with cycle
        t_fast = best_of(lambda s=s, ha=ha, hw=hw: fast_cost(s, M, N, K, 1, ha, hw), 5)
        f = fast_cost(s, M, N, K, 1, ha, hw)
        ok &= t_cycle < target and t_fast < 0.010
        print(f"{name:<14} {t_cycle:>8.3f} {target:>7.1f} {t_cycle / base:>8.2f} {t_fast * 1e3:>8.2f} {10:>7} "
              f"{c.cycles:>12.0f} {f.cycles / c.cycles:>10.4f}")
    print("all within target" if ok else "SOME OVER TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
