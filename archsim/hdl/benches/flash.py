"""cocotb bench of rtl/flash_plane_gemv.v, registered as `flash_plane_gemv` (family `flash_compute`).

A GEMM case (M, N, K, seed) is read as one page of N x K INT8 weights and M input vectors of K. Per case
the bench writes the page, runs a read-compute command (command bytes and the vectors in over the
channel, tR, the MAC lanes, INT32 partial sums out) and a sliced read of the same page, and checks
against archsim.units.flash_compute.plane_rtl (the `cycle` model on one plane): every byte out bit for
bit, the cycle each byte leaves, both commands' totals, the slice boundaries, and with the trace on
the phase (command, vectors, tR, MACs, results) of every cycle. R is the MAC lanes, C the slice bytes.
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from archsim.hdl.gemm_port import bench_config, report, reset
from archsim.hdl.registry import FaultInjection, RtlCore, register_core
from archsim.units.flash_compute.plane_rtl import expected

TR = 20   # tR in cycles: long enough to see, short enough to simulate quickly


def _params(R: int, C: int, size: int) -> dict[str, int]:
    return {"MAXM": size, "MAXN": size, "MAXK": size, "LANES": R, "SLICE": C, "TR": TR}


def _swapped_first(R: int, C: int, case) -> str:
    """Where the byte-swapped results first show: the first result byte whose word read backwards differs."""
    rng = np.random.default_rng(case.seed)
    W = rng.integers(-128, 128, (case.N, case.K))
    X = rng.integers(-128, 128, (case.M, case.K))
    e = expected(W, X, R, TR, C)
    good = e["rc_bytes"]
    bad = good.reshape(-1, 4)[:, ::-1].reshape(-1)
    j = int(np.argmax(good != bad))
    return (f"cycle {e['rc_leave'][j]}: read-compute result byte {j} differs first: rtl={bad[j]} "
            f"model={good[j]}")


register_core(RtlCore(name="flash_plane_gemv", family="flash_compute", top="flash_plane_gemv",
                      sources=("flash_plane_gemv.v",), bench=__name__, params=_params,
                      model="flash_compute cycle model (one plane) + numpy",
                      fault=FaultInjection("partial sums leave most significant byte first", _swapped_first),
                      test_arrays=((2, 4), (3, 5), (1, 16)), lint_arrays=((1, 1), (2, 3), (4, 4))))


async def command(dut, op: int, dims: tuple[int, int, int], feed: list[int], limit: int):
    """Issue one command; feed its input bytes while in_ready; return (bytes out [(data, leave cycle,
    slice_last)], phase per cycle, cycles at done)."""
    dut.op.value = op
    dut.dim_m.value, dut.dim_n.value, dut.dim_k.value = dims
    dut.start.value = 1
    out, phase, pos = [], [], 0
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.start.value = 0
    for _ in range(limit):
        offer = int(dut.in_ready.value) and pos < len(feed)
        dut.bus_in_valid.value = 1 if offer else 0
        dut.bus_in_data.value = feed[pos] if offer else 0
        phase.append(int(dut.phase.value))
        if int(dut.out_valid.value):
            out.append((int(dut.out_data.value), int(dut.cycles.value) + 1, int(dut.slice_last.value)))
        await RisingEdge(dut.clk)
        await ReadOnly()
        pos += 1 if offer else 0
        if int(dut.done.value):
            break
        await FallingEdge(dut.clk)
    cycles = int(dut.cycles.value)
    await FallingEdge(dut.clk)
    dut.bus_in_valid.value = 0
    return out, phase, cycles


def _first_diff(name: str, got: list, want: list, leave=None) -> str | None:
    for j, (a, b) in enumerate(zip(got, want)):
        if a != b:
            at = f"cycle {leave[j]}: " if leave is not None else ""
            return f"{at}{name} byte {j} differs first: rtl={a} model={b}"
    if len(got) != len(want):
        return f"{name}: rtl sent {len(got)} bytes, model {len(want)}"
    return None


async def run_case(dut, R: int, C: int, case: dict, trace: bool, size: int) -> dict:
    M, N, K, seed = case["M"], case["N"], case["K"], case["seed"]
    rng = np.random.default_rng(seed)
    W = rng.integers(-128, 128, (N, K))
    X = rng.integers(-128, 128, (M, K))
    e = expected(W, X, R, TR, C)
    dut.ld_we.value, dut.ld_sel.value = 1, 0
    for (n, k), v in np.ndenumerate(W):
        dut.ld_addr.value = n * size + k
        dut.ld_data.value = int(v) & 0xFF
        await FallingEdge(dut.clk)
    dut.ld_we.value = 0
    cmd = [0x00, 0, 0, 0, 0, 0, 0x30][:e["cmd"]]
    limit = 4 * (e["rc_end"] + e["rd_end"]) + 100
    rc, ph, rc_cycles = await command(dut, 0, (M, N, K), cmd + [int(v) & 0xFF for v in X.reshape(-1)], limit)
    rd, _, rd_cycles = await command(dut, 1, (M, N, K), cmd, limit)
    error = None
    if trace:
        want = [p for p, n in e["phases"] for _ in range(n)]
        error = next((f"cycle {c}: phase rtl={a} model={b}" for c, (a, b) in enumerate(zip(ph, want)) if a != b),
                     None)
    outputs_equal = ([b for b, _, _ in rc] == e["rc_bytes"].tolist()
                     and [b for b, _, _ in rd] == e["rd_bytes"].tolist())
    error = error or _first_diff("read-compute result", [b for b, _, _ in rc], e["rc_bytes"].tolist(), e["rc_leave"])
    error = error or _first_diff("sliced read", [b for b, _, _ in rd], e["rd_bytes"].tolist(), e["rd_leave"])
    error = error or _first_diff("read-compute leave cycle of", [c for _, c, _ in rc], e["rc_leave"].tolist())
    error = error or _first_diff("sliced read leave cycle of", [c for _, c, _ in rd], e["rd_leave"].tolist())
    error = error or _first_diff("slice_last of", [bool(s) for _, _, s in rd], e["slice_last"])
    if error is None and (rc_cycles, rd_cycles) != (e["rc_end"], e["rd_end"]):
        error = f"total cycles: rtl={rc_cycles}/{rd_cycles} model={e['rc_end']}/{e['rd_end']} (read-compute/read)"
    return {"M": M, "N": N, "K": K, "seed": seed, "rtl_cycles": rc_cycles, "model_cycles": e["rc_end"],
            "rtl_fold_ends": [rc_cycles, rd_cycles], "model_fold_ends": [e["rc_end"], e["rd_end"]],   # per command
            "outputs_equal": outputs_equal,
            "trace_checked": trace, "error": error, "match": error is None}


@cocotb.test()
async def flash_plane_cosim(dut):
    cfg = bench_config()
    await reset(dut)
    dut.op.value = 0
    dut.bus_in_valid.value = 0
    dut.bus_in_data.value = 0
    results = [await run_case(dut, cfg["R"], cfg["C"], case, cfg["trace"], cfg["size"]) for case in cfg["cases"]]
    report(cfg, results)
