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
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from archsim.hdl.gemm_port import bench_config, load, report, reset, unpack
from archsim.hdl.registry import RtlCore, register_core
from archsim.units.bitweight.engine import Schedule, cycle_cost

AW, DW = 32, 8
OVERHEAD = 2     # the start edge, and the last pass's resolution before `done`


def _params(R: int, C: int, size: int) -> dict[str, int]:
    return {"C": C, "MAXM": size, "MAXN": size, "MAXK": size}


register_core(RtlCore(
    name="ent_column", family="bitweight", top="ent_column", bench=__name__, params=_params,
    sources=("gemm_buf.v", "ent_encoder.v", "ent_pe.v", "ent_column.v"),
    model="bitweight engine: OPT3/OPT4C law per row", test_arrays=((1, 3), (1, 4), (1, 1)),
    lint_arrays=((1, 1), (1, 3), (1, 4))))


def operands(M: int, N: int, K: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if seed % 2:
        A = np.clip(np.rint(rng.laplace(0, 6, (M, K))), -128, 127).astype(np.int64)
        A[rng.random((M, K)) < 0.5] = 0
    else:
        A = rng.integers(-128, 128, (M, K))
    return A, rng.integers(-128, 128, (K, N))


def row_law(A: np.ndarray) -> np.ndarray:
    """Cycles of each row of A on one column: sum over b and groups of 4 of max(1, non-zero digits)."""
    s = Schedule("activation", "ent", True, rows=1, cols=1, lane_k=4, per_digit_pass=True)
    return np.array([int(cycle_cost(s, A[m:m + 1], np.zeros((A.shape[1], 1), np.int64)).cycles)
                     for m in range(len(A))])


def pass_trace(A: np.ndarray, B: np.ndarray, C: int) -> np.ndarray:
    """Register-level model: each PE's pass value (sum + carry) after every step, [steps, C]; a step
    issues the group's lowest remaining non-zero digit of weight b, or nothing (an idle step)."""
    from archsim.units.bitweight.encodings import encoding

    enc = encoding("ent", DW)
    M, K = A.shape
    N = B.shape[1]
    Bp = np.zeros((K, -(-N // C) * C), np.int64)
    Bp[:, :N] = B
    out = []
    for f in range(-(-N // C)):
        cols = Bp[:, f * C:(f + 1) * C]
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


def wrap(x: np.ndarray, bits: int = AW) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64) & ((1 << bits) - 1)
    return np.where(x >= 1 << (bits - 1), x - (1 << bits), x)


async def run_case(dut, C: int, case: dict, size: int, trace: bool) -> dict:
    M, N, K, seed = case["M"], case["N"], case["K"], case["seed"]
    A, B = operands(M, N, K, seed)
    law = row_law(A)
    folds = -(-N // C)
    steps = folds * int(law.sum())
    whole = Schedule("activation", "ent", True, rows=1, cols=C, lane_k=4, per_digit_pass=True)
    model_steps = int(cycle_cost(whole, A, B).cycles)
    trace_ref = pass_trace(A, B, C) if trace else None
    expect_rows = [f * int(law.sum()) + int(law[:m + 1].sum()) + 1 for f in range(folds) for m in range(M)]
    await load(dut, A, B, size, DW)
    dut.dim_m.value, dut.dim_n.value, dut.dim_k.value = M, N, K
    dut.start.value = 1
    events: list[tuple[int, np.ndarray, bool]] = []
    s = 0
    error = None
    while True:
        await RisingEdge(dut.clk)
        await ReadOnly()
        if trace_ref is not None and error is None and 1 <= s <= len(trace_ref):
            rtl = unpack(int(dut.dbg_acc.value), C, AW)
            if not np.array_equal(rtl, trace_ref[s - 1]):
                j = int(np.argmax(rtl != trace_ref[s - 1]))
                error = f"cycle {s}: signal pass value PE[{j}] differs first: rtl={rtl[j]} model={trace_ref[s - 1][j]}"
        if int(dut.out_valid.value) & 1:
            events.append((s, unpack(int(dut.out_data.value), C, AW), bool(int(dut.out_last.value) & 1)))
        if int(dut.done.value) or s > 4 * steps + 100:
            break
        await FallingEdge(dut.clk)
        dut.start.value = 0
        s += 1
    cycles_rtl = int(dut.cycles.value)
    await FallingEdge(dut.clk)
    out = np.zeros((M, N), np.int64)
    for i, (_, vals, _) in enumerate(events[:folds * M]):
        f, m = divmod(i, M)
        n = min(C, N - f * C)
        out[m, f * C:f * C + n] = vals[:n]
    ref = wrap(A @ B)
    rows_rtl = [e[0] for e in events]
    lasts = [i for i, e in enumerate(events) if e[2]]
    res = {"M": M, "N": N, "K": K, "seed": seed, "rtl_cycles": cycles_rtl, "rtl_done_state": s,
           "model_cycles": model_steps + OVERHEAD, "law_steps": steps, "rtl_fold_ends": rows_rtl,   # one fold of the schedule per result row
           "model_fold_ends": expect_rows, "outputs_equal": bool(np.array_equal(out, ref)),
           "trace_checked": trace}
    if error is not None:
        pass
    elif len(events) != folds * M:
        error = f"{len(events)} result rows, expected {folds * M}"
    elif not res["outputs_equal"]:
        bad = tuple(np.argwhere(out != ref)[0])
        error = f"output C[{bad[0]}][{bad[1]}] rtl={out[bad]} expected={ref[bad]}"
    elif rows_rtl != expect_rows:
        k = next(i for i, (a, b) in enumerate(zip(rows_rtl, expect_rows)) if a != b)
        error = f"row {k % M} of fold {k // M}: results at cycle {rows_rtl[k]}, the law says {expect_rows[k]}"
    elif lasts != [f * M + M - 1 for f in range(folds)]:
        error = f"out_last on result rows {lasts}, expected the last row of each fold"
    elif not (cycles_rtl == s == steps + OVERHEAD == model_steps + OVERHEAD):
        error = (f"total cycles: rtl counter={cycles_rtl}, rtl done state={s}, law={steps}+{OVERHEAD}, "
                 f"engine={model_steps}+{OVERHEAD}")
    res["error"] = error
    res["match"] = error is None
    return res


@cocotb.test()
async def ent_column_cosim(dut):
    cfg = bench_config()
    await reset(dut)
    results = []
    for case in cfg["cases"]:
        results.append(await run_case(dut, cfg["C"], case, cfg["size"], cfg["trace"]))
    report(cfg, results)
