"""End to end against first principles: a decode step moves every weight and KV byte once, and
cannot beat the off-chip peak bandwidth (decode is memory-bound: ~1 FLOP/B)."""
from __future__ import annotations

from pathlib import Path

import pytest

import archsim
from dataflows.lowering import lower

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("design,batch,slack", [
    ("default.yaml", 1, 1.01),         # simple 25.6 GB/s level: within 1% of bytes / bandwidth
    ("tpu_like_hbm2.yaml", 8, 1.20),   # HBM2 streams below its data-bus peak (refresh, row switches)
])
def test_decode_step_is_bounded_by_compulsory_traffic(design, batch, slack):
    d = archsim.load_config(ROOT / "configs" / design)
    wl = {"model": "llama2-7b", "phase": "decode", "batch": batch, "kv": 512}
    t = archsim.run(d, wl).totals
    compulsory = lower("llama2-7b", "decode", batch=batch, kv=512).total_bytes
    moved = t["dram_read_bytes"] + t["dram_write_bytes"]
    assert compulsory <= moved <= 1.001 * compulsory        # weights and KV cross the pins once
    floor_ns = compulsory / t["peak_offchip_bytes_per_ns"]
    assert floor_ns <= t["time_ns"] <= slack * floor_ns
    assert t["tokens_per_s"] == pytest.approx(batch / (t["time_ns"] * 1e-9))


def test_prefill_counts_every_prompt_token_including_the_default_length():
    """Prefill throughput is prompt tokens per second; without --seq the model's default length
    (GPT-2: min(1024, 1024 positions)) is what was simulated, so that is what is counted."""
    from archsim.workload import model_workload

    wl = model_workload("gpt2", "prefill", batch=2)
    assert wl.tokens == 2 * 1024 and wl.meta["seq"] == 1024
    assert model_workload("gpt2", "prefill", batch=3, seq=7).tokens == 21
    dec = model_workload("gpt2", "decode", batch=4)
    assert dec.tokens == 4 and dec.meta["kv"] == lower("gpt2", "decode", batch=4).meta["context"]
