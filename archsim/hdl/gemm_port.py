"""The GEMM core port (docs/rtl.md, "Core interface"): what every bench of such a core does alike.

Load operands, start, reset, read packed buses, find the first differing register, and the
JSON handshake with `archsim.hdl.cosim.run_cosim` ($ARCHSIM_COSIM_CFG in, $ARCHSIM_COSIM_OUT out).
A bench for a new core with this port list imports these and writes only its model comparison.
"""
from __future__ import annotations

import json
import os
from typing import Sequence

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

CFG_ENV, OUT_ENV = "ARCHSIM_COSIM_CFG", "ARCHSIM_COSIM_OUT"
INPUTS = ("start", "ld_we", "ld_sel", "ld_addr", "ld_data", "dim_m", "dim_n", "dim_k")


def unpack(value: int, n: int, width: int) -> np.ndarray:
    """Split a packed bus into n signed fields of `width` bits (field 0 = least significant)."""
    mask = (1 << width) - 1
    raw = np.array([(value >> (k * width)) & mask for k in range(n)], dtype=np.int64)
    return np.where(raw >= 1 << (width - 1), raw - (1 << width), raw)


async def reset(dut) -> None:
    """Start the 100 MHz clock, drive every input low and hold `rst` for two edges."""
    import cocotb

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for sig in INPUTS:
        getattr(dut, sig).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0


async def load(dut, operands: Sequence[np.ndarray], size: int, dw: int) -> None:
    """Write operand i's element [r][c] at r*size+c with ld_sel=i, one per clock: (A, B) for a GEMM core,
    A[m][k] at m*size+k and B[k][n] at k*size+n."""
    dut.ld_we.value = 1
    for sel, X in enumerate(operands):
        dut.ld_sel.value = sel
        for (r, c), v in np.ndenumerate(X):
            dut.ld_addr.value = r * size + c
            dut.ld_data.value = int(v) & ((1 << dw) - 1)
            await FallingEdge(dut.clk)
    dut.ld_we.value = 0


def first_mismatch(s: int, rtl: dict, ref: dict) -> str | None:
    """The first signal (in `rtl`'s order) whose value differs in state s, located to the PE/column."""
    for name in rtl:
        a, b = np.asarray(rtl[name]), np.asarray(ref[name])
        if not np.array_equal(a, b):
            idx = tuple(int(x) for x in np.argwhere(a != b)[0]) if a.ndim else ()
            where = {2: "PE[{}][{}]", 1: "col {}", 0: ""}[a.ndim].format(*idx)
            return (f"cycle {s}: signal {name} {where} differs first: rtl={a[idx] if idx else a}"
                    f" model={b[idx] if idx else b}")
    return None


def bench_config() -> dict:
    """What run_cosim asked for: core, R, C, trace, size (buffer side), cases."""
    return json.loads(os.environ[CFG_ENV])


def report(cfg: dict, results: list[dict]) -> None:
    """Write the cases back for run_cosim, then fail the cocotb test if any case mismatched."""
    with open(os.environ[OUT_ENV], "w") as fh:
        json.dump({"core": cfg["core"], "R": cfg["R"], "C": cfg["C"], "cases": results}, fh, indent=1)
    errors = [r["error"] for r in results if r["error"]]
    assert not errors, "; ".join(errors)
