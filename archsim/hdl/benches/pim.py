"""cocotb bench of rtl/pim_bank.v, registered as `pim_bank` (family `pim`).

The core has a DRAM command port, not the GEMM port, so a co-simulated case (M, N, K, seed) is read as
one command stream: `seed` draws a legal random stream of 4(M + N + K) commands (rows opened and closed,
columns written, input-buffer loads, MACs, reads, sums; per-bank and all-bank forms) and one illegal
command after it. The models are the DRAM controller replaying the stream strictly under
memory/specs/PIM-BANK.yaml with its refresh on (every command it issues and its cycle: the stream's, and
the PRE, REF or REFsb and re-opening ACT of each refresh) and numpy (RD data, RDACC sums);
archsim/units/pim/rtl.py holds both. Even seeds refresh all-bank (REF), odd seeds per bank (REFsb), every
REFRESH_EVERY refresh times (tREFI = 2 tRFC, tREFIsb = 2 tRFCsb: refresh takes half the time): the spec's
3900 would leave most streams without a refresh, and the interval is the controller's schedule, not a
rule of the device, so the core is the same build.

Per stream: reset; each command is presented one cycle before the controller's issue cycle when that
cycle is free and a rule forbids it there (with the trace on: it must be refused; a refresh the controller
issues at its due time is not held by a rule) and at it (it must be accepted); RD data and RDACC
sums are read back. The illegal command is presented on 16 consecutive cycles and must be refused on
every one. `run_rtl` drives explicit streams through the same bench (cfg key `streams`).
"""
from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from archsim.hdl.gemm_port import OUT_ENV, bench_config, report
from archsim.hdl.registry import RtlCore, register_core
from archsim.units.pim.rtl import (DW, LANES, STANDARD, expected, illegal_command, open_row, random_stream,
                                   replay, rule_bound, verilog_params)
from memory.dram.spec import load_spec

ILLEGAL_PROBES = 16
REFRESH_EVERY = 2       # the bench controller's refresh interval, in refresh times (tRFC or tRFCsb)


def _params(R: int, C: int, size: int) -> dict[str, int | str]:
    """One bank whatever the array: the spec's compiled rules are the parameters."""
    return verilog_params(load_spec(STANDARD))


register_core(RtlCore(name="pim_bank", family="pim", top="pim_bank", sources=("pim_bank.v",), bench=__name__,
                      params=_params, model="DRAM controller (PIM-BANK rules) + numpy",
                      test_arrays=((1, 1),), lint_arrays=((1, 1),)))


def _pack(vals: list[int] | None) -> int:
    return sum((v & ((1 << DW) - 1)) << (DW * i) for i, v in enumerate(vals or []))


def _unpack(word: int) -> list[int]:
    out = []
    for i in range(LANES):
        v = (word >> (DW * i)) & ((1 << DW) - 1)
        out.append(v - (1 << DW) if v >> (DW - 1) else v)
    return out


async def _edge(dut) -> tuple[bool, bool, list[int], int]:
    """Clock one edge; (ok, err, RD data, RDACC sum) for the command presented before it."""
    await RisingEdge(dut.clk)
    await ReadOnly()
    res = (bool(dut.ok.value), bool(dut.err.value), _unpack(int(dut.rdata.value)),
           int(dut.acc_sum.value.to_signed()))
    await FallingEdge(dut.clk)
    return res


def _drive(dut, code: int, row: int, col: int, data: list[int] | None) -> None:
    dut.cmd_valid.value = 1
    dut.cmd.value = code
    dut.row.value = max(row, 0)
    dut.col.value = col
    dut.wdata.value = _pack(data)


async def _run_stream(dut, code: dict[str, int], s: dict, probe: bool = True) -> dict:
    """Reset, then present the stream's commands at their cycles (and one cycle early when `probe`)."""
    dut.rst.value, dut.cmd_valid.value = 1, 0
    await FallingEdge(dut.clk)
    await _edge(dut)
    await _edge(dut)
    dut.rst.value = 0
    await _edge(dut)
    base = int(dut.cycle.value)
    res: dict = {"accepted": [], "refused_early": [], "accepted_early": [], "reads": [], "sums": [], "errors": []}
    prev = -1
    early = s.get("early") or [True] * len(s["cmds"])
    for i, ((name, row, col, data), t) in enumerate(zip(s["cmds"], s["times"])):
        while int(dut.cycle.value) - base < t:
            now = int(dut.cycle.value) - base
            if probe and early[i] and now == t - 1 and now > prev:   # one cycle early: must be refused
                _drive(dut, code[name], row, col, data)
                ok = (await _edge(dut))[0]
                (res["accepted_early"] if ok else res["refused_early"]).append(i)
                if ok:
                    break
            else:
                dut.cmd_valid.value = 0
                await _edge(dut)
        taken = res["accepted_early"][-1:] == [i]
        if taken or int(dut.cycle.value) - base != t:
            res["errors"].append(f"command {i} ({name}) accepted at cycle {t - 1}, one before the controller "
                                 "issues it" if taken else f"command {i} ({name}): the bench lost cycle alignment")
            break
        _drive(dut, code[name], row, col, data)
        ok, _err, rdata, acc = await _edge(dut)
        if ok and name == "RD":
            res["reads"].append(rdata)
        if ok and name == "RDACC":
            res["sums"].append(acc)
        if ok:
            res["accepted"].append(t)
        else:
            res["errors"].append(f"command {i} ({name} row {row} col {col}) refused at cycle {t}, where the "
                                 "controller issues it")
        prev = t
    dut.cmd_valid.value = 0
    if s.get("illegal"):
        name, row, col, data = s["illegal"]
        refused = 0
        for _ in range(ILLEGAL_PROBES):
            _drive(dut, code[name], row, col, data)
            ok, err, _d, _s = await _edge(dut)
            refused += err and not ok
        res["illegal_refused"] = refused
        dut.cmd_valid.value = 0
    return res


def case_stream(M: int, N: int, K: int, seed: int) -> tuple[dict, tuple[list, list]]:
    """The commands a GEMM-shaped case stands for (with the controller's refreshes), their issue cycles,
    the illegal command after them, and the values they must produce."""
    mode, interval, rfc = ("all_bank", "tREFI", "tRFC") if seed % 2 == 0 else ("per_bank", "tREFIsb", "tRFCsb")
    spec = load_spec(STANDARD)
    spec = load_spec(STANDARD, {interval: REFRESH_EVERY * spec.timing[rfc]})
    rng = np.random.default_rng(seed)
    legal = random_stream(spec, rng, 4 * (M + N + K))
    issued = replay(spec, legal, mode)
    cmds = [c for _t, c, _by in issued]
    illegal = illegal_command(spec, rng, open_row(legal), open_row(cmds))
    return ({"cmds": cmds, "times": [t for t, _c, _by in issued], "early": rule_bound(spec, issued),
             "illegal": illegal}, expected(spec, cmds))


def _judge(case: dict, s: dict, want: tuple[list, list], r: dict, trace: bool) -> dict:
    reads, sums = want
    outputs_equal = r["reads"] == reads and r["sums"] == sums
    timing = r["accepted"] == s["times"] and not r["accepted_early"]
    refused = r.get("illegal_refused") == ILLEGAL_PROBES
    error = (r["errors"][0] if r["errors"] else
             None if timing else "accepted cycles differ from the controller's issue cycles")
    if error is None and not outputs_equal:
        error = "RD data or RDACC sums differ from numpy"
    if error is None and not refused:
        error = (f"illegal {s['illegal'][0]} accepted on {ILLEGAL_PROBES - r.get('illegal_refused', 0)} of "
                 f"{ILLEGAL_PROBES} cycles; the controller refuses it")
    return {**case, "match": error is None, "error": error, "outputs_equal": outputs_equal,
            "rtl_cycles": r["accepted"][-1] + 1 if r["accepted"] else 0, "model_cycles": s["times"][-1] + 1,
            "trace_checked": trace, "commands": len(s["cmds"]), "refused_early": len(r["refused_early"]),
            "refreshes": sum(c[0] in ("REF", "REFsb") for c in s["cmds"]),
            "illegal_refused": r.get("illegal_refused", 0)}


@cocotb.test()
async def pim_bank_streams(dut):
    cfg = bench_config()
    code = load_spec(STANDARD).cmd
    cocotb.start_soon(Clock(dut.clk, 2, unit="ns").start())
    if "streams" in cfg:                                    # run_rtl: explicit streams, raw results
        out = [await _run_stream(dut, code, s) for s in cfg["streams"]]
        with open(os.environ[OUT_ENV], "w") as f:
            json.dump({"streams": out}, f)
        return
    results = []
    for case in cfg["cases"]:
        s, want = case_stream(case["M"], case["N"], case["K"], case["seed"])
        r = await _run_stream(dut, code, s, probe=cfg["trace"])
        results.append(_judge(case, s, want, r, cfg["trace"]))
    report(cfg, results)
