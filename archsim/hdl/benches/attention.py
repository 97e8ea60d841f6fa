"""cocotb bench of rtl/fusemax_mini.v, registered as `fusemax_mini` (FuseMax's interleaved epochs) and
`fusemax_mini_arch` (interleaving off: the +Architecture ablation), family `attention`.

A GEMM case (M, N, K, seed) is read as one attention head: P = M queries, N keys, E = F = K. Q and K are
drawn in [-2, 2) with 4 fraction bits, V as 8-bit integers. The bench checks, against
archsim.units.attention.epochs.resident (the Level 1 model with Q, K, V resident): the total cycles, and
every cycle which slot of the epoch schedule runs (or that none does); and the outputs against
softmax(Q K^T) V in float64 within the fixed-point budget below.
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from archsim.hdl.gemm_port import bench_config, load, report, reset, unpack
from archsim.hdl.registry import RtlCore, register_core
from archsim.units.attention.config import AttentionConfig
from archsim.units.attention.epochs import resident
from archsim.units.attention.shape import AttentionShape

AW, DW, FRAC = 32, 8, 16
SOURCES = ("fusemax_mini.v",)


def _params(interleave: int):
    def params(R: int, C: int, size: int) -> dict[str, int]:
        return {"R": R, "C": C, "MAXP": size, "MAXM": size, "MAXE": size, "INTERLEAVE": interleave}
    return params


for _name, _il in (("fusemax_mini", 1), ("fusemax_mini_arch", 0)):
    register_core(RtlCore(name=_name, family="attention", top="fusemax_mini", sources=SOURCES, bench=__name__,
                          params=_params(_il), model="attention Level 1 (resident operands) + numpy",
                          test_arrays=((4, 4), (2, 3)), lint_arrays=((1, 1), (2, 3), (4, 4))))


def budget(V: np.ndarray, key_tiles: int) -> float:
    """Fixed-point error budget of an output: about four Q.16 rounding steps (exp fit and fraction, SLN, PRM,
    the running sums) per key tile, relative to values as large as max |V|."""
    return float(np.abs(V).max() + 1) * (key_tiles + 2) * 2.0**-14


async def run_case(dut, R: int, C: int, case: dict, trace: bool, size: int, interleave: bool) -> dict:
    P, M, E, seed = case["M"], case["N"], case["K"], case["seed"]
    rng = np.random.default_rng(seed)
    Q = rng.integers(-32, 32, (P, E))
    K = rng.integers(-32, 32, (M, E))
    V = rng.integers(-128, 128, (M, E))
    cfg = AttentionConfig(variant="fusemax" if interleave else "architecture", rows=R, cols=C, width_1d=C)
    model_cycles, record = resident(AttentionShape(B=1, H=1, P=P, M=M, E=E, F=E), cfg, interleave)
    slot_at = np.zeros(model_cycles + 1, dtype=np.int64)
    for start, end, _k, slot in record:
        slot_at[start:end] = slot
    await load(dut, (Q, K, V), size, DW)
    dut.dim_m.value, dut.dim_n.value, dut.dim_k.value = P, M, E
    dut.start.value = 1
    out = np.full((-(-P // C) * C, E), np.nan)
    beat, error, n = 0, None, 0
    limit = 20 * model_cycles + 100 * (P * M + 50)
    while True:
        await RisingEdge(dut.clk)
        await ReadOnly()
        n += 1
        if trace and error is None and int(dut.dbg_run.value):
            s, slot = int(dut.dbg_now.value), int(dut.dbg_slot.value)
            want = int(slot_at[s]) if s < len(slot_at) else 0
            if slot != want:
                error = f"cycle {s}: slot rtl={slot} model={want}"
        if int(dut.out_valid.value):
            vals = unpack(int(dut.out_data.value), C, AW)
            tile, f = divmod(beat, E)
            out[tile * C:(tile + 1) * C, f] = vals / 2.0**FRAC
            beat += 1
        if int(dut.done.value) or n > limit:
            break
        await FallingEdge(dut.clk)
        dut.start.value = 0
    rtl_cycles = int(dut.cycles.value)
    await FallingEdge(dut.clk)
    s = (Q / 16.0) @ (K / 16.0).T
    w = np.exp(s - s.max(axis=1, keepdims=True))
    ref = (w / w.sum(axis=1, keepdims=True)) @ V
    err = float(np.nanmax(np.abs(out[:P] - ref))) if not np.isnan(out[:P]).any() else float("inf")
    tol = budget(V, -(-M // R))
    res = {"M": P, "N": M, "K": E, "seed": seed, "rtl_cycles": rtl_cycles, "model_cycles": model_cycles,
           "max_abs_error": err, "budget": tol, "outputs_equal": err <= tol, "trace_checked": trace}
    if error is None and not res["outputs_equal"]:
        bad = np.unravel_index(int(np.nanargmax(np.abs(out[:P] - ref))), ref.shape)
        error = f"output AV[{bad[0]}][{bad[1]}] rtl={out[bad]:.5f} ref={ref[bad]:.5f} (budget {tol:.4g})"
    if error is None and rtl_cycles != model_cycles:
        error = f"total cycles: rtl={rtl_cycles} model={model_cycles}"
    res["error"] = error
    res["match"] = error is None
    return res


@cocotb.test()
async def attention_cosim(dut):
    cfg = bench_config()
    await reset(dut)
    interleave = cfg["core"] == "fusemax_mini"
    results = [await run_case(dut, cfg["R"], cfg["C"], case, cfg["trace"], cfg["size"], interleave)
               for case in cfg["cases"]]
    report(cfg, results)
