"""cocotb bench of the Bit Fusion row (rtl/bitfusion_row.v), registered as `bitfusion_a8w8` and
`bitfusion_a2w4` (activation and weight widths). R is unused: the core is one row of C fusion units.

Checks the core against the bitweight engine's brick schedule (16 bricks fuse (8/pa)(8/pw) MACs a
cycle): outputs bit for bit against numpy (mod 2^32), each unit's accumulator every cycle (traced
runs), each row's results in the cycle of its last step, and total cycles = steps + 1.
"""
from __future__ import annotations

import cocotb
import numpy as np

from archsim.hdl.benches._columns import SHARED_RTL, bricks, check, run_gemm, wrap
from archsim.hdl.gemm_port import bench_config, report, reset
from archsim.hdl.registry import RtlCore, register_core
from archsim.units.bitweight.engine import Schedule, cycle_cost

OVERHEAD = 1
MODES = {"bitfusion_a8w8": (8, 8), "bitfusion_a2w4": (2, 4)}


def _params(pa: int, pw: int):
    def params(R: int, C: int, size: int) -> dict[str, int]:
        return {"C": C, "PA": pa, "PW": pw, "MAXM": size, "MAXN": size, "MAXK": size}
    return params


for _name, (_pa, _pw) in MODES.items():
    register_core(RtlCore(
        name=_name, family="bitweight", top="bitfusion_row", bench=__name__, params=_params(_pa, _pw),
        sources=(*SHARED_RTL, "bitfusion_row.v"), model=f"bitweight engine: 16 bricks, a{_pa} w{_pw}",
        test_arrays=((1, 3), (1, 2)), lint_arrays=((1, 1), (1, 3))))


def acc_trace(A: np.ndarray, B: np.ndarray, C: int, F: int) -> np.ndarray:
    """Each unit's accumulator after every step: F MACs of one row a step, cleared after the row."""
    out, acc = [], np.zeros(C, np.int64)
    for m, cols, ks, row_end in bricks(A, B, C, F):
        acc = np.zeros(C, np.int64) if row_end else acc + A[m, ks.start:ks.stop] @ cols[ks.start:ks.stop]
        out.append(acc.copy())
    return wrap(np.array(out).reshape(-1, C))


@cocotb.test()
async def bitfusion_row_cosim(dut):
    cfg = bench_config()
    await reset(dut)
    pa, pw = MODES[cfg["core"]]
    C = cfg["C"]
    sched = Schedule("none", "slice2", False, rows=1, cols=C, bricks=16, act_bits=pa, weight_bits=pw)
    F = 16 // ((pa // 2) * (pw // 2))
    results = []
    for case in cfg["cases"]:
        M, N, K = case["M"], case["N"], case["K"]
        rng = np.random.default_rng(case["seed"])
        A = rng.integers(-(1 << (pa - 1)), 1 << (pa - 1), (M, K))
        B = rng.integers(-(1 << (pw - 1)), 1 << (pw - 1), (K, N))
        engine = int(cycle_cost(sched, A, B).cycles)
        ref = acc_trace(A, B, C, F) if cfg["trace"] else None
        run = await run_gemm(dut, A, B, C, cfg["size"], ref, "accumulator", 4 * engine + 100)
        law = np.full(M, -(-K // F))
        results.append(check(case, A, B, C, law, engine, OVERHEAD, 0, run, cfg["trace"]))
    report(cfg, results)
