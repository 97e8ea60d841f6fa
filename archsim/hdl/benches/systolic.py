"""cocotb bench of the systolic core (rtl/systolic.v), registered as `os` (WS=0) and `ws` (WS=1), and
with multi-MAC PEs as `os_mac3` and `ws_mac4` (KP = 3, 4 MACs per PE along the reduction).

Runs GEMMs on the core and checks it against `simulate()` of archsim.units.systolic.pipelined cycle
for cycle. Inputs are driven on the falling edge and every register is read after the rising edge
settles (ReadOnly), so state s of the RTL is compared with state s of the model.
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from archsim.hdl.gemm_port import bench_config, first_mismatch, load, report, reset, unpack
from archsim.hdl.registry import FaultInjection, GemmCase, RtlCore, register_core
from archsim.settings import settings
from archsim.units.systolic.pipelined import pipelined_cycles, simulate, wrap

AW, DW = 32, 8


def _params(ws: int, kpe: int):
    def params(R: int, C: int, size: int) -> dict[str, int]:
        return {"R": R, "C": C, "WS": ws, "KP": kpe, "MAXM": size, "MAXN": size, "MAXK": size}
    return params


def _skew_fault_mismatch(dataflow: str):
    def first(R: int, C: int, g: GemmCase) -> str:
        """Row 1 is one cycle late, so PE[1][0] misses its first valid input: the state in which
        the model first holds one there is where RTL and model must first differ."""
        A, B = np.zeros((g.M, g.K)), np.zeros((g.K, g.N))
        valid = np.asarray(simulate(A, B, R, C, dataflow, record=True).trace["valid"])
        s = int(np.argmax(valid[:, 1, 0]))
        return rf"cycle {s}: signal valid PE\[1\]\[0\] differs first: rtl=False model=True"
    return first


SOURCES = ("gemm_ctrl.v", "delay_line.v", "gemm_buf.v", "gemm_operands.v", "pe_dot.v", "pe_os.v", "pe_ws.v",
           "systolic.v")
for _df in ("os", "ws"):
    register_core(RtlCore(
        name=_df, family="systolic", top="systolic", bench=__name__, params=_params(int(_df == "ws"), 1),
        sources=SOURCES, model="pipelined model", options={"dataflow": _df, "kpe": 1},
        fault=FaultInjection(what="row 1's input skew one register too long", min_rows=2,
                             first_mismatch=_skew_fault_mismatch(_df))))
for _df, _kpe in (("os", 3), ("ws", 4)):      # multi-MAC PEs: the same core with KP multipliers a PE
    register_core(RtlCore(
        name=f"{_df}_mac{_kpe}", family="systolic", top="systolic", bench=__name__,
        params=_params(int(_df == "ws"), _kpe), sources=SOURCES, model=f"pipelined model, kpe={_kpe}",
        options={"dataflow": _df, "kpe": _kpe}, test_arrays=((2, 3), (3, 2)), lint_arrays=((1, 1), (2, 3))))


def assemble(dataflow: str, emitted: list[list[int]], M: int, N: int, R: int, C: int) -> np.ndarray:
    """Rebuild C[M,N] from each column's output stream (order documented in docs/rtl.md)."""
    out = np.zeros((M, N), dtype=np.int64)
    col_folds = -(-N // C)
    for j, vals in enumerate(emitted):
        for k, v in enumerate(vals):
            if dataflow == "os":   # R results per fold, bottom row first
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


async def run_case(dut, dataflow: str, R: int, C: int, case: dict, trace: bool, size: int, kpe: int = 1) -> dict:
    M, N, K, seed = case["M"], case["N"], case["K"], case["seed"]
    rng = np.random.default_rng(seed)
    A = rng.integers(-128, 128, (M, K))
    B = rng.integers(-128, 128, (K, N))
    model = simulate(A, B, R, C, dataflow, acc_bits=AW, record=trace, kpe=kpe)
    timing = pipelined_cycles(M, N, K, R, C, dataflow, kpe)
    fault = settings().bench_fault
    if trace and fault.startswith("acc:"):   # self-test of the checker: corrupt one model register
        fs, fi, fj = (int(x) for x in fault.split(":")[1:])
        model.trace["acc"][fs, fi, fj] += 1
    await load(dut, (A, B), size, DW)
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
        od = unpack(int(dut.out_data.value), C, AW)
        done = bool(int(dut.done.value))
        if trace and error is None:
            ref = {k: model.trace[k][min(s, len(model.trace[k]) - 1)] for k in model.trace}
            rtl = {"done": done, "out_valid": unpack(ov, C, 1) != 0, "out_data": od,
                   "valid": unpack(int(dut.dbg_valid.value), R * C, 1).reshape(R, C) != 0,
                   "acc": unpack(int(dut.dbg_acc.value), R * C, AW).reshape(R, C)}
            error = first_mismatch(s, rtl, ref)
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
    out = assemble(dataflow, emitted, M, N, R, C)
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
    cfg = bench_config()
    await reset(dut)
    results = []
    opt = cfg["options"]
    for case in cfg["cases"]:
        results.append(await run_case(dut, opt["dataflow"], cfg["R"], cfg["C"], case, cfg["trace"], cfg["size"],
                                      opt.get("kpe", 1)))
    report(cfg, results)
