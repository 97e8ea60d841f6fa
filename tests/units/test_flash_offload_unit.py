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
