"""cocotb bench of the OPT1 carry-save row (rtl/csa_row.v of rtl/csa_pe.v), registered as `opt1_row`.

Checks the core against the bitweight engine's bit-parallel schedule (one MAC per PE per cycle):
outputs bit for bit against numpy (mod 2^32), every PE's sum + carry every cycle (traced runs), each
row's results 2 cycles after its last issue, and total cycles = M K folds + 3 (start edge, input
register and tree, edge CPA). R is unused: the core is one row of C PEs.
"""
from __future__ import annotations

import cocotb
import numpy as np

from archsim.hdl.benches._columns import SHARED_RTL, check, fold_columns, operands, run_gemm, wrap
from archsim.hdl.gemm_port import bench_config, report, reset
from archsim.hdl.registry import RtlCore, register_core
from archsim.units.bitweight.engine import Schedule, cycle_cost

OVERHEAD = 3


def _params(R: int, C: int, size: int) -> dict[str, int]:
    return {"C": C, "MAXM": size, "MAXN": size, "MAXK": size}


register_core(RtlCore(
    name="opt1_row", family="bitweight", top="csa_row", bench=__name__, params=_params,
    sources=(*SHARED_RTL, "csa_pe.v", "csa_row.v"), model="bitweight engine: bit-parallel, 1 MAC/PE/cycle",
    test_arrays=((1, 3), (1, 4), (1, 1)), lint_arrays=((1, 1), (1, 3), (1, 4))))


def pe_trace(A: np.ndarray, B: np.ndarray, C: int, prev: np.ndarray) -> np.ndarray:
    """Each PE's sum + carry in states 1 .. steps + 1: the previous case's value in state 1, then the
    running dot product, restarting at k = 0 of every row."""
    out = [prev]
    for cols in fold_columns(B, C):
        part = np.cumsum(A[:, :, None] * cols[None], axis=1)   # [M, K, C]
        out.extend(part.reshape(-1, C))
    return wrap(np.array(out))


@cocotb.test()
async def csa_row_cosim(dut):
    cfg = bench_config()
    await reset(dut)
    C = cfg["C"]
    prev = np.zeros(C, np.int64)
    results = []
    for case in cfg["cases"]:
        A, B = operands(case["M"], case["N"], case["K"], case["seed"])
        sched = Schedule("none", "parallel", False, rows=1, cols=C)
        engine = int(cycle_cost(sched, A, B).cycles)
        ref = pe_trace(A, B, C, prev)
        run = await run_gemm(dut, A, B, C, cfg["size"], ref if cfg["trace"] else None, "sum+carry", 4 * engine + 100)
        law = np.full(len(A), A.shape[1])
        results.append(check(case, A, B, C, law, engine, OVERHEAD, 2, run, cfg["trace"]))
        prev = ref[-1]
    report(cfg, results)
