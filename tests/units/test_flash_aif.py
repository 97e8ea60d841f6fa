"""AiF (ISCA 2025, reference 5.4, secondary): multi-plane in-flash GEMV per chip (`core_feed: all`), the
split when every plane feeds a core, fast against cycle, and the designs beside the paper's tokens/s
(validation/flash/validate_aif.py; the gaps are explained in validation/flash/README.md)."""
import importlib.util
from collections import deque
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.units.flash_compute.config import FlashComputeConfig
from archsim.units.flash_compute.gemv import gemv_fast
from archsim.units.flash_compute.gemv_cycle import _spread, gemv_cycle
from archsim.units.flash_compute.tiling import make_plan
from dataflows.models.config import get_model
from dataflows.models.params import param_counts
from memory.flash.level import load_flash_spec

ROOT = Path(__file__).resolve().parents[2]
AIF = dict(core_per="chip", core_feed="all", core_macs_per_cycle=8)


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "validation" / "flash" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _plan(preset="aif", **over):
    spec = load_flash_spec(preset, {"command_overhead": True, **over})
    cfg = FlashComputeConfig(**AIF)
    return spec, cfg, make_plan(spec, cfg, 1e9)


def test_multi_plane_core_takes_its_chips_four_pages_per_request():
    """A chip's core takes 4 x 16 KiB per tR: the dies read at 16 chips x 64 KiB / t_rc (~6.7 GB/s a chip)."""
    _, _, plan = _plan()
    assert plan.feed == 4 and plan.cc == 2 and (plan.h_req, plan.w_req) == (362, 2896)
    assert plan.page <= 4 * 16384
    r_f, _, _ = plan.rates()
    assert r_f / 1e9 == pytest.approx(16 * 4 * 16384 / (plan.t_sense + plan.vec_bytes * 500) * 1e3, rel=0.01)
    assert 6.5 < r_f / 16 / 1e9 < 6.8


def test_shared_planes_balance_weighs_the_npus_senses():
    """No plane is free, so an NPU page holds a compute plane max(tR, transfer): the share solves
    f/R_f + (1 - f)/R_s = (1 - f)/R_c, and the NPU's reads add little (the array bounds both)."""
    _, _, plan = _plan()
    r_f, r_c, _ = plan.rates()
    f, k = plan.flash_share(), plan.npu_die_s()
    assert f / r_f + (1 - f) * k == pytest.approx((1 - f) / r_c, rel=1e-9)
    assert r_f / (r_f + r_c) > f > 0.8      # less to the NPU than with planes of its own
    cost = gemv_fast(plan, 27648, 5120)
    all_dies = gemv_fast(make_plan(load_flash_spec("aif", {"command_overhead": True}),
                                   FlashComputeConfig(**AIF, split="flash"), 1e9), 27648, 5120)
    assert 0.97 < cost.time_ps / all_dies.time_ps <= 1.0


def test_npu_reads_dearer_than_computing_send_everything_to_the_dies():
    """A slow channel makes an NPU page hold a plane longer than a request takes: all in the dies."""
    _, _, plan = _plan(channel_bandwidth="0.2 GB/s")
    r_f, _, _ = plan.rates()
    assert plan.npu_die_s() >= 1 / r_f and plan.flash_share() == 1.0


def test_cambricon_keeps_its_own_reader_planes():
    spec = load_flash_spec("cambricon_llm_s")
    plan = make_plan(spec, FlashComputeConfig(), 1e9)
    assert plan.shared_planes == 0 and plan.npu_sense_ps() == 0 and plan.feed == 1


def test_reads_spread_evenly_between_compute_ops():
    """Reads are equal tuples: the spread must key them by position (they all sorted to the end before)."""
    ops = [("c", t, 0) for t in range(12)] + [("r", 0, 0)] * 3
    out = list(_spread(deque(ops)))
    where = [i for i, o in enumerate(out) if o[0] == "r"]
    assert where == [2, 7, 12] and [o for o in out if o[0] == "c"] == ops[:12]


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(["aif", "aif_minus"]), st.sampled_from([(5120, 5120), (27648, 5120), (5120, 13824)]),
       st.sampled_from(["auto", "flash"]))
def test_cycle_stays_near_fast_with_multi_plane_cores(preset, shape, split):
    """Per-command events on one channel within 9% of the closed form (all in the dies: 3%, the last
    request's drain on small matrices); the NPU's pages waiting for the channel in a compute plane's
    register cost cycle a little more than fast."""
    spec = load_flash_spec(preset, {"command_overhead": True})
    cfg = FlashComputeConfig(**AIF, split=split)
    plan = make_plan(spec, cfg, 1e9)
    fast = gemv_fast(plan, *shape)
    cyc = gemv_cycle(plan, spec, cfg, *shape, 1, 1e9)
    assert cyc.time_ps == pytest.approx(fast.time_ps, rel=0.03 if split == "flash" else 0.09)
    assert cyc.channel_bytes == fast.channel_bytes


def test_falcon_and_neox_presets_have_their_published_sizes():
    falcon, neox = get_model("falcon-40b"), get_model("gpt-neox-20b")
    assert (falcon.layers, falcon.hidden, falcon.heads, falcon.kv_heads, falcon.ffn) == (60, 8192, 128, 8, 32768)
    assert (neox.layers, neox.hidden, neox.heads, neox.ffn, neox.vocab) == (44, 6144, 64, 24576, 50432)
    assert param_counts(falcon)["total"] / 1e9 == pytest.approx(41.3, abs=0.1)
    assert param_counts(neox)["total"] / 1e9 == pytest.approx(20.55, abs=0.01)


aif = _load("validate_aif")


@pytest.fixture(scope="module")
def rows():
    return {(r["ref"]["design"], r["ref"]["model"]): r for r in aif.rows("fast")}


def test_aif_llama2_13b_and_falcon_40b_within_15_percent(rows):
    for key in (("aif", "llama-2-13b"), ("aif", "falcon-40b")):
        assert abs(rows[key]["ratio"] - 1) <= 0.15, key


def test_in_flash_rows_sit_on_the_array_bound(rows):
    """Every plane feeds a core, so tokens/s follow model bytes over the chips' array rate plus the other
    work; AiF-- (2.9) and GPT-NeoX-20B (5.74) need more than the array can sense (the README's gap)."""
    for (design, model), r in rows.items():
        if design == "ssd_offload":
            continue
        assert r["ours"]["tok_s"] == pytest.approx(r["fp"]["array"], rel=0.03), model
    for key in (("aif_minus", "llama-2-13b"), ("aif", "gpt-neox-20b")):
        assert float(rows[key]["ref"]["tok_s"]) > rows[key]["fp"]["array"] * 1.15, key
        assert rows[key]["ratio"] < 0.85


def test_ssd_offload_is_pcie_bound_and_the_paper_beats_pcie(rows):
    r = rows[("ssd_offload", "llama-2-13b")]
    assert r["ours"]["tok_s"] < r["fp"]["pcie"] and r["ours"]["tok_s"] > 0.85 * r["fp"]["pcie"]
    assert float(r["ref"]["tok_s"]) > r["fp"]["pcie"] * 1.1       # 13 GB at 0.7 tok/s is 9.1 GB/s > 8


def test_lincoln_iteration_gemvs_follow_bytes_over_the_dies():
    """Lincoln-4: a decode iteration's in-die GEMVs within 15% of model bytes / (16 x 34 GB/s) (our dies
    sense 38 GB/s, less the vector and the 32 planes' address cycles before each sense at 1.2 GB/s)."""
    (r,) = aif.lincoln_rows("fast")
    assert abs(r["gemv_ratio"] - 1) <= 0.15
    assert r["ours"]["other_ms"] > 0 and r["step_ratio"] > r["gemv_ratio"]
