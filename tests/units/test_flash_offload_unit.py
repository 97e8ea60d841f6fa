"""flash_offload (LLM in a flash as a design): the run's FFN I/O equals the offload model's, and the
DRAM budget and weight placement are checked."""
import pytest

import archsim
from archsim.errors import ConfigError
from dataflows.models import get_model
from memory.flash.host_offload import offload_io

DESIGN = "configs/flash/llm_in_a_flash.yaml"
TOKEN = {"model": "opt-6.7b", "phase": "decode", "batch": 1, "kv": 384}


def _run(**over):
    return archsim.run(archsim.load_config(DESIGN, overrides=over), TOKEN, fidelity="fast").to_dict()


def test_design_streams_the_windowed_bundled_ffn_like_the_offload_model():
    ops = _run()["ops"]
    ffn = [o for o in ops if o["name"] in ("fc1", "fc2")]
    assert {o["unit"] for o in ffn} == {"host"}
    io_s = sum(o["detail"]["io_ps"] * o["count"] for o in ffn) / 1e12
    m = get_model("opt-6.7b")
    ref = offload_io(0, m.layers * 2 * m.hidden * m.ffn, m.hidden, 2, predictor=0.10, window_new=0.024,
                     bundle=True, chunk_bytes=16 << 10)
    assert io_s == pytest.approx(ref.io_s, rel=0.01)
    assert io_s == pytest.approx(0.087, rel=0.06)                   # Table 2, bundling: 87 ms
    qkv = next(o for o in ops if o["name"] == "qkv")
    assert qkv["detail"]["flash_bytes"] == 0                         # attention weights resident in DRAM
    naive = _run(**{"units.host.predictor": None, "units.host.window_new": None, "units.host.window_cache": 0.0})
    io_naive = sum(o["detail"]["io_ps"] * o["count"] for o in naive["ops"] if o["name"] in ("fc1", "fc2")) / 1e12
    rate = m.layers * 2 * m.hidden * m.ffn * 2 / io_naive          # whole matrices: 268 MB reads on the curve
    assert 2.25e9 < rate < 6.1e9 and io_naive > 10 * io_s


def test_dram_budget_and_placement_errors_name_the_key():
    with pytest.raises(ConfigError, match="dram_budget"):
        _run(**{"units.host.dram_budget": "4 GB"})
    with pytest.raises(ConfigError, match="placement.weight"):
        _run(**{"memory.placement.weight": "offchip"})


FC1 = 4096 * 16384 * 2          # OPT-6.7B fc1 weights, fp16


def _fc1(batch: int, **over) -> dict:
    wl = {**TOKEN, "batch": batch}
    ops = archsim.run(archsim.load_config(DESIGN, overrides=over), wl, fidelity="fast").to_dict()["ops"]
    return next(o for o in ops if o["name"] == "fc1")


def test_batch_one_keeps_the_single_sequence_shares():
    d = _fc1(1)["detail"]
    assert d["flash_bytes"] == int(FC1 * 0.024) and d["active_share"] == 0.10
    assert d["resident_bytes"] == int(FC1 * 0.24) and "sequences" not in d


def test_batch_of_four_loads_the_union_by_hand():
    """No DRAM budget: 1 - 0.976^4 = 0.092598964224 of fc1 from flash, 1 - 0.9^4 = 0.3439 active; each
    32 KiB bundle senses two 16 KiB pages at 18.28 pJ/bit and moves them over the channel at 3.6 pJ/bit."""
    row = _fc1(4, **{"units.host.dram_budget": None})
    d = row["detail"]
    assert d["flash_bytes"] == pytest.approx(FC1 * 0.092598964224, abs=1)
    assert d["active_share"] == pytest.approx(0.3439) and d["sequences"] == 4
    assert d["resident_bytes"] == pytest.approx(FC1 * 0.66637824, abs=1)
    assert row["macs"] == pytest.approx(4 * 4096 * 16384 * 0.10 * row["count"], abs=row["count"])   # own rows
    e = row["energy_breakdown_pj"]
    chunks = d["flash_bytes"] / 32768 * row["count"]
    assert e["offchip.ssd.array_read"] == pytest.approx(chunks * 2 * 16384 * 8 * 18.28)
    assert e["offchip.ssd.channel"] == pytest.approx(chunks * 2 * 16384 * 8 * 3.6)
    assert e["offchip"] == pytest.approx(40.0 * row["count"] * (int(FC1 * d["active_share"]) + d["flash_bytes"]))


def test_batch_loads_grow_with_batch_within_the_ffn_and_the_budget():
    prev = None
    for b in (1, 2, 4, 16):
        d = _fc1(b)["detail"]
        if prev is not None:
            assert d["flash_bytes"] >= prev["flash_bytes"] and d["active_share"] >= prev["active_share"]
        assert d["flash_bytes"] <= FC1
        prev = d
    big = _fc1(64, **{"units.host.dram_budget": None})["detail"]      # 1 - 0.9^64: 99.9% of the rows active
    assert big["active_share"] == pytest.approx(1 - 0.9 ** 64) and big["flash_bytes"] <= FC1
    assert big["resident_bytes"] <= FC1
    # the window cache never outgrows the 7 GB budget: the resident weights plus every FFN cache fit
    rep = archsim.run(archsim.load_config(DESIGN), {**TOKEN, "batch": 16}, fidelity="fast").to_dict()
    held = sum(o["detail"]["resident_bytes"] * o["count"] for o in rep["ops"] if o["unit"] == "host")
    assert held <= 7e9


def test_cli_prints_the_batch_union():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "archsim.cli", "run", DESIGN, "--model", "opt-6.7b", "--phase",
                          "decode", "--batch", "4"], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("host:"))
    assert "4 sequences: 34.4% of the FFN rows active" in line and "loaded per step" in line


def test_cycle_runs_the_same_batch_law():
    """The host has no per-request model: `cycle` runs the closed form too, so the two agree exactly."""
    d = archsim.load_config(DESIGN)
    wl = {**TOKEN, "batch": 4}
    fast, cycle = (next(o for o in archsim.run(d, wl, fidelity=f).ops if o["name"] == "fc2") for f in ("fast", "cycle"))
    assert fast["detail"] == cycle["detail"] and fast["energy_breakdown_pj"] == cycle["energy_breakdown_pj"]
