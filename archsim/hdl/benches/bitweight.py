"""cocotb bench of the EN-T sparse-digit column (rtl/ent_column.v), registered as `ent_column`.

Checks the core against the bitweight digit engine (archsim/units/bitweight/engine.py): every output
bit for bit against numpy (mod 2^32), the state in which each row's results appear against the
OPT3/OPT4C law summed row by row, and the total cycles (law + 2: the start edge and the pass
resolution before `done`). Even seeds draw A uniform over INT8; odd seeds draw it skewed (half
zeros, the rest Laplace(0, 6)), so the scheduler sees both dense and sparse groups. R is unused: the
core is one column of C PEs. With the trace on, every PE's carry-save pass value (sum + carry) is
compared with the register-level model every cycle.
"""
from __future__ import annotations

import cocotb
import numpy as np

from archsim.hdl.benches._columns import DW, SHARED_RTL, check, fold_columns, operands, row_law, run_gemm, wrap
from archsim.hdl.gemm_port import bench_config, report, reset
from archsim.hdl.registry import RtlCore, register_core
from archsim.units.bitweight.engine import Schedule, cycle_cost

OVERHEAD = 2     # the start edge, and the last pass's resolution before `done`


def _params(R: int, C: int, size: int) -> dict[str, int]:
    return {"C": C, "MAXM": size, "MAXN": size, "MAXK": size}


register_core(RtlCore(
    name="ent_column", family="bitweight", top="ent_column", bench=__name__, params=_params,
    sources=(*SHARED_RTL, "ent_encoder.v", "ent_pe.v", "ent_column.v"),
    model="bitweight engine: OPT3/OPT4C law per row", test_arrays=((1, 3), (1, 4), (1, 1)),
    lint_arrays=((1, 1), (1, 3), (1, 4))))


def _schedule(C: int) -> Schedule:
    return Schedule("activation", "ent", True, rows=1, cols=C, lane_k=4, per_digit_pass=True)


def pass_trace(A: np.ndarray, B: np.ndarray, C: int) -> np.ndarray:
    """Register-level model: each PE's pass value (sum + carry) after every step, [steps, C]; a step
    issues the group's lowest remaining non-zero digit of weight b, or nothing (an idle step)."""
    from archsim.units.bitweight.encodings import encoding

    enc = encoding("ent", DW)
    M, K = A.shape
    out = []
    for cols in fold_columns(B, C):
        for m in range(M):
            digits = enc.digits[A[m] - enc.lo]                    # [K, 4]
            for b in range(enc.positions):
                acc = np.zeros(C, np.int64)
                for g0 in range(0, K, 4):
                    picks = [k for k in range(g0, min(g0 + 4, K)) if digits[k, b]]
                    for k in picks or [None]:
                        if k is not None:
                            acc = acc + digits[k, b] * cols[k]
                        out.append(acc.copy())
    return wrap(np.array(out).reshape(-1, C))


@cocotb.test()
async def ent_column_cosim(dut):
    cfg = bench_config()
    await reset(dut)
    results = []
    C = cfg["C"]
    for case in cfg["cases"]:
        A, B = operands(case["M"], case["N"], case["K"], case["seed"])
        one = _schedule(1)
        law = row_law(lambda a, s=one: cycle_cost(s, a, np.zeros((a.shape[1], 1), np.int64)).cycles, A)
        engine = int(cycle_cost(_schedule(C), A, B).cycles)
        ref = pass_trace(A, B, C) if cfg["trace"] else None
        run = await run_gemm(dut, A, B, C, cfg["size"], ref, "pass value", 4 * engine + 100)
        results.append(check(case, A, B, C, law, engine, OVERHEAD, 1, run, cfg["trace"]))
    report(cfg, results)
