"""The default objective on a real workload: near-ties go to energy, so the default is as frugal as
EDP's choice for about the same time, and more SRAM never means more DRAM traffic."""
from __future__ import annotations

from pathlib import Path

import archsim

ROOT = Path(__file__).resolve().parents[2]
GPT2 = {"model": "gpt2", "phase": "prefill", "batch": 1, "seq": 128}


def _run(sram: str, **mapper) -> dict:
    over = {"units.sa.rows": 16, "units.sa.cols": 16, "memory.sram.ifmap.capacity": sram,
            "memory.sram.filter.capacity": sram, **{f"mapper.{k}": v for k, v in mapper.items()}}
    t = archsim.run(archsim.load_config(str(ROOT / "configs/default.yaml"), overrides=over), GPT2).totals
    return {"time": t["time_ns"], "energy": t["energy_pj"], "dram": t["dram_read_bytes"] + t["dram_write_bytes"]}


def test_gpt2_prefill_default_is_near_edp_for_little_time(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    traffic = []
    for sram in ("128 KiB", "2 MiB"):
        default, edp, fastest = _run(sram), _run(sram, objective="edp"), _run(sram, latency_tolerance=0)
        assert default["energy"] <= 1.05 * edp["energy"], sram
        assert default["dram"] <= 1.05 * edp["dram"], sram
        assert default["time"] <= 1.02 * fastest["time"], sram
        assert default["time"] <= 1.02 * edp["time"], sram
        traffic.append(default["dram"])
    assert traffic[1] < traffic[0]               # more SRAM, less DRAM traffic
