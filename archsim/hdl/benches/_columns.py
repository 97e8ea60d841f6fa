"""What the benches of the bit-weight column cores share: operands (dense or skewed by seed), running
one GEMM while collecting result rows and comparing a per-cycle register, and the checks of outputs,
result-row cycles and totals against the digit engine's law."""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from archsim.hdl.gemm_port import load, unpack

AW, DW = 32, 8
SHARED_RTL = ("gemm_buf.v", "gemm_operands.v", "gemm_brick.v", "gemm_rows.v", "row_acc.v")   # shared modules in rtl/


def operands(M: int, N: int, K: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Even seeds: A uniform over INT8; odd seeds: skewed (half zeros, the rest Laplace(0, 6))."""
    rng = np.random.default_rng(seed)
    if seed % 2:
        A = np.clip(np.rint(rng.laplace(0, 6, (M, K))), -128, 127).astype(np.int64)
        A[rng.random((M, K)) < 0.5] = 0
    else:
        A = rng.integers(-128, 128, (M, K))
    return A, rng.integers(-128, 128, (K, N))


def fold_columns(B: np.ndarray, C: int) -> list[np.ndarray]:
    """B in folds of C columns, [K, C] each, the last zero-padded: what the C PEs see fold by fold."""
    K, N = B.shape
    folds = -(-N // C)
    Bp = np.zeros((K, folds * C), np.int64)
    Bp[:, :N] = B
    return [Bp[:, f * C:(f + 1) * C] for f in range(folds)]


def bricks(A: np.ndarray, B: np.ndarray, C: int, L: int) -> Iterator[tuple[int, np.ndarray, range, bool]]:
    """The cores' walk a brick at a time: (row m, the fold's columns [K, C], the brick's k range, whether
    the brick ends the row), folds outermost, then rows, then bricks of L consecutive k."""
    M, K = A.shape
    for cols in fold_columns(B, C):
        for m in range(M):
            for k0 in range(0, K, L):
                yield m, cols, range(k0, min(k0 + L, K)), k0 + L >= K


def wrap(x: np.ndarray, bits: int = AW) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64) & ((1 << bits) - 1)
    return np.where(x >= 1 << (bits - 1), x - (1 << bits), x)


async def run_gemm(dut, A: np.ndarray, B: np.ndarray, C: int, size: int, trace_ref: np.ndarray | None,
                   what: str, limit: int) -> tuple[list, int, int, str | None]:
    """Load, start, and watch until done: (result rows [(state, values, last)], cycles counter, done
    state, first per-cycle mismatch of dbg_acc against trace_ref[state - 1])."""
    M, K = A.shape
    await load(dut, (A, B), size, DW)
    dut.dim_m.value, dut.dim_n.value, dut.dim_k.value = M, B.shape[1], K
    dut.start.value = 1
    events, s, error = [], 0, None
    while True:
        await RisingEdge(dut.clk)
        await ReadOnly()
        if trace_ref is not None and error is None and 1 <= s <= len(trace_ref):
            rtl = unpack(int(dut.dbg_acc.value), C, AW)
            if not np.array_equal(rtl, trace_ref[s - 1]):
                j = int(np.argmax(rtl != trace_ref[s - 1]))
                error = (f"cycle {s}: signal {what} PE[{j}] differs first: rtl={rtl[j]} "
                         f"model={trace_ref[s - 1][j]}")
        if int(dut.out_valid.value) & 1:
            events.append((s, unpack(int(dut.out_data.value), C, AW), bool(int(dut.out_last.value) & 1)))
        if int(dut.done.value) or s > limit:
            break
        await FallingEdge(dut.clk)
        dut.start.value = 0
        s += 1
    cycles = int(dut.cycles.value)
    await FallingEdge(dut.clk)
    return events, cycles, s, error


def check(case: dict, A: np.ndarray, B: np.ndarray, C: int, law: np.ndarray, engine_steps: int, overhead: int,
          row_offset: int, run: tuple, trace: bool) -> dict:
    """The bench's report of one case: outputs against numpy, each result row's cycle against the law
    (row m of fold f at f * sum(law) + law[:m+1].sum() + row_offset), out_last, and the totals."""
    events, cycles_rtl, s, error = run
    M, N = A.shape[0], B.shape[1]
    folds = -(-N // C)
    steps = folds * int(law.sum())
    per_fold = int(law.sum())
    expect_rows = [f * per_fold + int(law[:m + 1].sum()) + row_offset for f in range(folds) for m in range(M)]
    out = np.zeros((M, N), np.int64)
    for i, (_, vals, _) in enumerate(events[:folds * M]):
        f, m = divmod(i, M)
        n = min(C, N - f * C)
        out[m, f * C:f * C + n] = vals[:n]
    ref = wrap(A @ B)
    rows_rtl = [e[0] for e in events]
    lasts = [i for i, e in enumerate(events) if e[2]]
    res = {**case, "rtl_cycles": cycles_rtl, "rtl_done_state": s, "model_cycles": engine_steps + overhead,
           "law_steps": steps, "rtl_fold_ends": rows_rtl,   # one fold of the schedule per result row
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
    elif not (cycles_rtl == s == steps + overhead == engine_steps + overhead):
        error = (f"total cycles: rtl counter={cycles_rtl}, rtl done state={s}, law={steps}+{overhead}, "
                 f"engine={engine_steps}+{overhead}")
    res["error"] = error
    res["match"] = error is None
    return res


def row_law(cost: Callable[[np.ndarray], float], A: np.ndarray) -> np.ndarray:
    """Cycles of each row of A alone (the engine on a one-row GEMM)."""
    return np.array([int(cost(A[m:m + 1])) for m in range(len(A))])
