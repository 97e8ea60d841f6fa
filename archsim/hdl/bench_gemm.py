"""cocotb bench: run GEMMs on a systolic core and check it against `simulate()` cycle for cycle.

Configured by $ARCHSIM_COSIM_CFG (JSON: core, R, C, trace, cases) and reports to the JSON file
named by $ARCHSIM_COSIM_OUT; launched by archsim.hdl.cosim.run_cosim. Inputs are driven on the
falling edge and every register is read after the rising edge settles (ReadOnly), so state s
of the RTL is compared with state s of the model.
"""
from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from archsim.units.systolic.pipelined import pipelined_cycles, simulate, wrap

AW, DW = 32, 8


def _unpack(value: int, n: int, width: int) -> np.ndarray:
    """Split a packed bus into n signed fields of `width` bits (field 0 = least significant)."""
    mask = (1 << width) - 1
    raw = np.array([(value >> (k * width)) & mask for k in range(n)], dtype=np.int64)
    return np.where(raw >= 1 << (width - 1), raw - (1 << width), raw)


def assemble(core: str, emitted: list[list[int]], M: int, N: int, R: int, C: int) -> np.ndarray:
    """Rebuild C[M,N] from each column's output stream (order documented in docs/rtl.md)."""
    out = np.zeros((M, N), dtype=np.int64)
    col_folds = -(-N // C)
    for j, vals in enumerate(emitted):
        for k, v in enumerate(vals):
            if core == "os":   # R results per fold, bottom row first
                fr, fc = divmod(k // R, col_folds)
                m, n = fr * R + R - 1 - k % R, fc * C + j
                if m < M and n < N:
                    out[m, n] = v
            else:              # M partial sums per fold; K-folds of the same outputs add up
                fc = (k // M) % col_folds
                n = fc * C + j
                if n < N:
                    out[k % M, n] += v
    return wrap(out, AW)


async def _load(dut, A: np.ndarray, B: np.ndarray, size: int) -> None:
    dut.ld_we.value = 1
    for sel, X, stride in ((0, A, size), (1, B, size)):
        dut.ld_sel.value = sel
        for (r, c), v in np.ndenumerate(X):
            dut.ld_addr.value = r * stride + c
            dut.ld_data.value = int(v) & ((1 << DW) - 1)
            await FallingEdge(dut.clk)
    dut.ld_we.value = 0


def _first_mismatch(s: int, rtl: dict, ref: dict) -> str | None:
    for name in ("done", "out_valid", "out_data", "valid", "acc"):
        a, b = np.asarray(rtl[name]), np.asarray(ref[name])
        if not np.array_equal(a, b):
            idx = tuple(int(x) for x in np.argwhere(a != b)[0]) if a.ndim else ()
            where = {2: "PE[{}][{}]", 1: "col {}", 0: ""}[a.ndim].format(*idx)
            return (f"cycle {s}: signal {name} {where} differs first: rtl={a[idx] if idx else a}"
                    f" model={b[idx] if idx else b}")
    return None


async def run_case(dut, core: str, R: int, C: int, case: dict, trace: bool, size: int) -> dict:
    M, N, K, seed = case["M"], case["N"], case["K"], case["seed"]
    rng = np.random.default_rng(seed)
    A = rng.integers(-128, 128, (M, K))
    B = rng.integers(-128, 128, (K, N))
    model = simulate(A, B, R, C, core, acc_bits=AW, record=trace)
    timing = pipelined_cycles(M, N, K, R, C, core)
    fault = os.environ.get("ARCHSIM_BENCH_FAULT", "")
    if trace and fault.startswith("acc:"):   # self-test of the checker: corrupt one model register
        fs, fi, fj = (int(x) for x in fault.split(":")[1:])
        model.trace["acc"][fs, fi, fj] += 1
    await _load(dut, A, B, size)
    dut.dim_m.value, dut.dim_n.value, dut.dim_k.value = M, N, K
    dut.start.value = 1
    emitted: list[list[int]] = [[] for _ in range(C)]
    ends: list[int] = []
    error = None
    limit = 4 * timing.total_cycles + 100
    s = 0
    while True:
        await RisingEdge(dut.clk)
        await ReadOnly()
        ov = int(dut.out_valid.value)
        ol = int(dut.out_last.value)
        od = _unpack(int(dut.out_data.value), C, AW)
        done = bool(int(dut.done.value))
        if trace and error is None:
            ref = {k: model.trace[k][min(s, len(model.trace[k]) - 1)] for k in model.trace}
            rtl = {"done": done, "out_valid": _unpack(ov, C, 1) != 0, "out_data": od,
                   "valid": _unpack(int(dut.dbg_valid.value), R * C, 1).reshape(R, C) != 0,
                   "acc": _unpack(int(dut.dbg_acc.value), R * C, AW).reshape(R, C)}
            error = _first_mismatch(s, rtl, ref)
        if done or s > limit:
            break
        for j in range(C):
            if ov >> j & 1:
                emitted[j].append(int(od[j]))
        if (ov >> (C - 1)) & 1 and (ol >> (C - 1)) & 1:
            ends.append(s)
        await FallingEdge(dut.clk)
        dut.start.value = 0
        s += 1
    cycles_rtl = int(dut.cycles.value)
    await FallingEdge(dut.clk)
    out = assemble(core, emitted, M, N, R, C)
    res = {"M": M, "N": N, "K": K, "seed": seed, "rtl_cycles": cycles_rtl, "rtl_done_state": s,
           "model_cycles": model.total_cycles, "closed_form_cycles": timing.total_cycles,
           "rtl_fold_ends": ends, "model_fold_ends": list(model.fold_end_cycles),
           "outputs_equal": bool(np.array_equal(out, model.out)
                                 and np.array_equal(out, wrap(A @ B, AW))),
           "trace_checked": trace}
    if error is None and not res["outputs_equal"]:
        bad = np.argwhere(out != wrap(A @ B, AW))[0]
        error = f"output C[{bad[0]}][{bad[1]}] rtl={out[tuple(bad)]} expected={(A @ B)[tuple(bad)]}"
    if error is None and not (cycles_rtl == s == model.total_cycles == timing.total_cycles):
        error = (f"total cycles: rtl counter={cycles_rtl}, rtl done state={s}, "
                 f"model={model.total_cycles}, closed form={timing.total_cycles}")
    if error is None and ends != list(model.fold_end_cycles):
        k = next((i for i, (a, b) in enumerate(zip(ends, model.fold_end_cycles)) if a != b),
                 min(len(ends), len(model.fold_end_cycles)))
        error = f"fold {k} end: rtl={ends[k:k+1]} model={list(model.fold_end_cycles[k:k+1])}"
    res["error"] = error
    res["match"] = error is None
    return res


@cocotb.test()
async def gemm_cosim(dut):
    cfg = json.loads(os.environ["ARCHSIM_COSIM_CFG"])
    core, R, C = cfg["core"], cfg["R"], cfg["C"]
    size = cfg["size"]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for sig in ("start", "ld_we", "ld_sel", "ld_addr", "ld_data", "dim_m", "dim_n", "dim_k"):
        getattr(dut, sig).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    results = []
    for case in cfg["cases"]:
        results.append(await run_case(dut, core, R, C, case, cfg["trace"], size))
    with open(os.environ["ARCHSIM_COSIM_OUT"], "w") as fh:
        json.dump({"core": core, "R": R, "C": C, "cases": results}, fh, indent=1)
    errors = [r["error"] for r in results if r["error"]]
    assert not errors, "; ".join(errors)
