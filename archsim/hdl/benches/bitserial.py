"""cocotb bench of the bit-serial column (rtl/bitserial_column.v), registered as `pragmatic_column`
(essential bits, SKIP=1) and `stripes_column` (all bits, SKIP=0); R is the brick's lanes L.

Checks the core against the bitweight digit engine: outputs bit for bit against numpy (mod 2^32),
each column's accumulator every cycle (traced runs) against a register-level model, the cycle each
row's results appear against the law row by row (Pragmatic: sum over bricks of max over lanes of
popcount(|a|), floor 1; Stripes: 8 per brick), and total cycles = law + 1 (the start edge).
"""
from __future__ import annotations

import cocotb
import numpy as np

from archsim.hdl.benches._columns import DW, SHARED_RTL, bricks, check, operands, row_law, run_gemm, wrap
from archsim.hdl.gemm_port import bench_config, report, reset
from archsim.hdl.registry import RtlCore, register_core
from archsim.units.bitweight.engine import Schedule, cycle_cost

OVERHEAD = 1     # the start edge
CORES = {"pragmatic_column": 1, "stripes_column": 0}


def _params(skip: int):
    def params(R: int, C: int, size: int) -> dict[str, int]:
        return {"L": R, "C": C, "SKIP": skip, "MAXM": size, "MAXN": size, "MAXK": size}
    return params


for _name, _skip in CORES.items():
    register_core(RtlCore(
        name=_name, family="bitweight", top="bitserial_column", bench=__name__, params=_params(_skip),
        sources=(*SHARED_RTL, "bitserial_column.v"),
        model=f"bitweight engine: {'essential bits, max over the brick' if _skip else 'all bits'} per brick",
        test_arrays=((4, 3), (2, 2), (3, 1)), lint_arrays=((1, 1), (2, 3), (4, 4))))


def schedule(skip: int, L: int, C: int) -> Schedule:
    if skip:
        return Schedule("activation", "popcount", True, rows=1, cols=C, k_lanes=L)
    return Schedule("activation", "radix2", False, rows=1, cols=C, k_lanes=L, act_bits=DW)


def acc_trace(A: np.ndarray, B: np.ndarray, L: int, C: int, skip: int) -> np.ndarray:
    """Each column's accumulator after every step, [steps, C]: a step adds each lane's next bit
    (essential bits lowest first, or bit t with the sign bit negative) times its weights; the row's
    last step leaves the accumulator cleared (its sum went out)."""
    out, acc = [], np.zeros(C, np.int64)
    for m, cols, lanes, row_end in bricks(A, B, C, L):
        if skip:
            bits = {k: [p for p in range(DW) if abs(int(A[m, k])) >> p & 1] for k in lanes}
            n_steps = max([1] + [len(v) for v in bits.values()])
        else:
            n_steps = DW
        for t in range(n_steps):
            for k in lanes:
                acc = acc + _term(int(A[m, k]), t, bits[k] if skip else None) * cols[k]
            if row_end and t == n_steps - 1:
                acc = np.zeros(C, np.int64)
            out.append(acc.copy())
    return wrap(np.array(out).reshape(-1, C))


def _term(a: int, t: int, essential: list[int] | None) -> int:
    """What lane value a contributes in step t: its t-th essential bit with a's sign, or bit t of its
    two's complement (the sign bit negative)."""
    if essential is not None:
        return ((-1 if a < 0 else 1) << essential[t]) if t < len(essential) else 0
    bit = (a & ((1 << DW) - 1)) >> t & 1
    return bit * (-(1 << t) if t == DW - 1 else 1 << t)


@cocotb.test()
async def bitserial_column_cosim(dut):
    cfg = bench_config()
    await reset(dut)
    skip, L, C = CORES[cfg["core"]], cfg["R"], cfg["C"]
    results = []
    for case in cfg["cases"]:
        A, B = operands(case["M"], case["N"], case["K"], case["seed"])
        one = schedule(skip, L, 1)
        law = row_law(lambda a, s=one: cycle_cost(s, a, np.zeros((a.shape[1], 1), np.int64)).cycles, A)
        engine = int(cycle_cost(schedule(skip, L, C), A, B).cycles)
        ref = acc_trace(A, B, L, C, skip) if cfg["trace"] else None
        run = await run_gemm(dut, A, B, C, cfg["size"], ref, "accumulator", 4 * engine + 100)
        results.append(check(case, A, B, C, law, engine, OVERHEAD, 0, run, cfg["trace"]))
    report(cfg, results)
