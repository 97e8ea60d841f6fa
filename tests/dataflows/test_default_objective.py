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


def test_bundled_sram_sweep_shows_traffic_falling_with_sram(tmp_path, monkeypatch):
    """The bundled array x SRAM sweep exists to show the SRAM effect: at the default objective, more
    SRAM moves less DRAM traffic (here the 32x32 WS array; the measured table is in docs/sweeps.md)."""
    from archsim.sweep.evaluate import evaluate_point
    from archsim.sweep.spec import expand

    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    sweep = expand(ROOT / "configs/sweeps/gpt2_prefill_array_sram.yaml")
    traffic: dict[tuple, list[float]] = {}
    for p in sweep.points:
        if p.skip_reason or p.params["units.sa.rows"] != 32 or p.params["units.sa.dataflow"] != "ws":
            continue
        t = evaluate_point(p.design, p.workload)["totals"]
        key = (p.params["units.sa.rows"], p.params["units.sa.dataflow"])
        traffic.setdefault(key, []).append(t["dram_read_bytes"] + t["dram_write_bytes"])
    assert len(traffic) == 1 and len(traffic[(32, "ws")]) == 3
    for key, seq in traffic.items():        # points come in SRAM order: 128 KiB, 512 KiB, 2 MiB
        assert seq[0] > 1.3 * seq[1] and seq[1] >= seq[2], (key, seq)
