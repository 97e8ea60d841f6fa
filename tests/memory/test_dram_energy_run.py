"""`archsim run` prices DRAM with the memory model: the same energy `archsim mem` reports for the
same request stream (cycle), a closed form within 10 % of it (fast), per byte only for kind: simple."""
from __future__ import annotations

import numpy as np
import pytest

import archsim
from archsim.engine import Engine
from memory import build_offchip
from memory.dram.level import DramLevel
from memory.trace import replay

CASES = [("configs/edge_ddr4.yaml", "256x512x384"), ("configs/tpu_like_hbm2.yaml", "8x4096x1024"),
         ("configs/tpu_like_hbm2.yaml", "512x512x512")]


def _dram_pj(report) -> float:
    return sum(v for k, v in report.totals["energy_breakdown_pj"].items() if k.startswith("offchip"))


@pytest.mark.parametrize("cfg,gemm", CASES)
def test_run_dram_energy_is_mem_energy_for_the_same_stream(cfg, gemm, monkeypatch):
    design = archsim.load_config(cfg)
    seen: list[tuple[int, int, int, bool]] = []
    submit = DramLevel.submit

    def record(self, req):
        if self.name != "profile":       # not the fast model's calibration runs on levels of their own
            seen.append((self.engine.now, req.addr, req.nbytes, req.is_write))
        submit(self, req)

    monkeypatch.setattr(DramLevel, "submit", record)
    cyc = archsim.run(design, {"gemm": [gemm]}, fidelity="cycle")
    monkeypatch.setattr(DramLevel, "submit", submit)
    fast = archsim.run(design, {"gemm": [gemm]}, fidelity="fast")

    level = build_offchip(design.memory.offchip, Engine())      # what `archsim mem` drives
    bb = level.spec.burst_bytes
    addrs, writes, cycles = [], [], []
    for now, addr, nbytes, is_write in seen:                    # each request as its bursts, on arrival
        for burst in range(addr // bb, (addr + nbytes - 1) // bb + 1):
            addrs.append(burst * bb)
            writes.append(is_write)
            cycles.append(level.clock.ps_to_cycles(now))
    mem = replay(level, np.array(addrs, np.int64), np.array(writes), np.array(cycles, np.int64), bb, level.clock)
    run_pj = _dram_pj(cyc)
    assert run_pj == pytest.approx(mem["energy_pj"], rel=0.02)
    assert _dram_pj(fast) == pytest.approx(run_pj, rel=0.10)
    assert "offchip" not in cyc.totals["energy_breakdown_pj"]         # no flat per-byte figure on DRAM


def test_simple_offchip_keeps_its_per_byte_energy():
    rep = archsim.run(archsim.load_config("configs/default.yaml"), {"gemm": ["64x64x64"]})
    moved = rep.totals["dram_read_bytes"] + rep.totals["dram_write_bytes"]
    assert rep.totals["energy_breakdown_pj"]["offchip"] == pytest.approx(162.0 * moved)
