"""cocotb bench of rtl/pim_bank.v (run by archsim.units.pim.rtl.run_rtl; see that module).

Per stream: reset; each command is presented one cycle before the controller's issue cycle (when that
cycle is free: it must be refused) and at it (it must be accepted); RD data and RDACC sums are read
back. An illegal stream's last command is presented on 16 consecutive cycles and must be refused on
every one. The report lists, per stream, the accepted cycles, refused probes, reads and sums.
"""
from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

LANES, DW = 16, 16


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


@cocotb.test()
async def pim_bank_streams(dut):
    cfg = json.loads(os.environ["ARCHSIM_PIMBANK_CFG"])
    code = cfg["spec"]
    cocotb.start_soon(Clock(dut.clk, 2, unit="ns").start())
    report = []
    for s in cfg["streams"]:
        dut.rst.value, dut.cmd_valid.value = 1, 0
        await FallingEdge(dut.clk)
        await _edge(dut)
        await _edge(dut)
        dut.rst.value = 0
        await _edge(dut)
        base = int(dut.cycle.value)
        res = {"accepted": [], "refused_early": [], "accepted_early": [], "reads": [], "sums": [], "errors": []}
        prev = -1
        for i, ((name, row, col, data), t) in enumerate(zip(s["cmds"], s["times"])):
            while int(dut.cycle.value) - base < t:
                now = int(dut.cycle.value) - base
                if now == t - 1 and now > prev:                # one cycle early: must be refused
                    _drive(dut, code[name], row, col, data)
                    ok = (await _edge(dut))[0]
                    (res["accepted_early"] if ok else res["refused_early"]).append(i)
                    if ok:
                        break
                else:
                    dut.cmd_valid.value = 0
                    await _edge(dut)
            if int(dut.cycle.value) - base != t:
                res["errors"].append(f"command {i} ({name}): the bench lost cycle alignment")
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
            for _ in range(16):
                _drive(dut, code[name], row, col, data)
                ok, err, _d, _s = await _edge(dut)
                refused += err and not ok
            res["illegal_refused"] = refused
            dut.cmd_valid.value = 0
        report.append(res)
    with open(os.environ["ARCHSIM_PIMBANK_OUT"], "w") as f:
        json.dump({"streams": report}, f)
