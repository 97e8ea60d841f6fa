"""Cambricon-LLM S against the paper (validation/flash/): Fig. 9 within 10% (Llama2-70B 25%), Fig. 16
channel bytes, the tiling ablation within 0.1x of 1.3-1.4x, and the read-slicing ablation in 1.5-1.9x."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "validation" / "flash" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


cam = _load("validate_cambricon")


@pytest.fixture(scope="module")
def rows():
    return {r["model"]: r for r in cam.rows("fast")}


def test_fig9_tokens_per_second(rows):
    assert len(rows) == 7
    for m, r in rows.items():
        tol = 0.25 if m == "llama-2-70b" else 0.10
        assert r["ours"]["tok_s"] == pytest.approx(float(r["ref"]["tok_s"]), rel=tol), m


def test_fig16_channel_bytes(rows):
    """Within 10% on five of seven; OPT-6.7B (+11%) and Llama2-70B (-10%) sit at the edge (see README)."""
    ratios = {m: r["ours"]["channel_gb"] / float(r["ref"]["channel_gb"]) for m, r in rows.items()}
    assert sum(abs(x - 1) <= 0.10 for x in ratios.values()) >= 5
    assert all(abs(x - 1) <= 0.12 for x in ratios.values())


def test_fig16_channel_share_is_shape_neutral(rows):
    """The split is set by the flash rates, not the model: every model puts the same share of its weights on
    the channel (the paper's Fig. 16 spreads 0.28-0.35; see README), and FlexGen moves 9-11x our bytes."""
    shares = [r["ours"]["channel_gb"] / float(r["ref"]["param_gb"]) for r in rows.values()]
    assert max(shares) - min(shares) < 0.01
    for r in rows.values():
        assert 9.0 < float(r["ref"]["flexgen_gb"]) / r["ours"]["channel_gb"] < 11.6


def test_fig16_bars_need_model_specific_shares(rows):
    """No change that scales every model's channel bytes alike (the split depends on the rates only) puts
    all seven within 10% of Fig. 16: OPT-6.7B needs less than Llama2-70B allows. The script prints the range."""
    (lo, lo_model), (hi, hi_model) = cam.share_bounds(list(rows.values()))
    assert lo > hi and {lo_model, hi_model} == {"llama-2-70b", "opt-6.7b"}
    (lo15, _), (hi15, _) = cam.share_bounds(list(rows.values()), tol=0.15)
    assert lo15 <= hi15


def test_fig11_w4a16_on_s():
    """4-bit weights halve the flash bytes: Fig. 11's tokens/s within 15% (Llama2-70B, as in Fig. 9, 25%) and
    the mean gain over W8A8 within 15% of the paper's +85.3%."""
    rs = cam.w4a16_rows("s")
    for r in rs:
        assert abs(r["w4a16"] / r["paper"] - 1) <= (0.25 if r["model"] == "llama-2-70b" else 0.15), r["model"]
    assert abs(sum(r["gain"] for r in rs) / len(rs) / cam.W4A16_MEAN_GAIN["s"] - 1) <= 0.15


@pytest.mark.parametrize("fidelity", ["fast", "cycle"])
def test_config_l_headlines_and_breakdown(fidelity):
    """Config L beside the abstract: OPT-6.7B's NPU attention runs at the KV stream (the 16x16 array of
    4-MAC PEs has a 64 B/cycle edge, above 40 GB/s); the NPU's DMA fetches the norms' gains during the
    in-flash GEMVs before them, so the 67 small weight reads cost ~0.1 ms (3.2 ms with no prefetch,
    1.6-1.9 ms while the GEMVs held the prefetch back); only the token's first embedding row waits."""
    h = {r["ref"]["model"]: r for r in cam.headline_rows(fidelity)}
    assert 0.95 < h["opt-6.7b"]["ratio"] < 1.05
    assert abs(h["llama-2-70b"]["ratio"] - 1) <= 0.30
    ms = h["opt-6.7b"]["ours"]["ms"]
    assert ms["attention"] == pytest.approx(ms["kv_stream"], rel=0.1)
    assert ms["small_reads"] >= 64 and ms["small_flash_reads"] < 0.2


def test_fig14_tiling_ablation(rows):
    for m, r in rows.items():
        assert 1.2 <= r["tiling_gain"] <= 1.5, m
        assert r["no_tiling"]["channel_util"] < 0.03


def test_fig12_read_slicing_ablation():
    gain, on, off = cam.slicing_gain("opt-6.7b")
    assert 1.5 <= gain <= 1.9
    assert on["channel_util"] > off["channel_util"]


inst = _load("validate_instinfer")


@pytest.fixture(scope="module")
def inst_rows():
    return inst.rows()


def test_instinfer_ratios(inst_rows):
    """(a) the drive beats the FlexGen-style path several times over (paper 6.85x; ours is bound by the
    page-cache path's readahead, and the runner's pipeline agrees with that closed form, see README);
    (b) at equal batch the 11.2 vs 31.5 GB/s ratio emerges;
    (c) SparF gains under 2.08x; (d) the KV share falls from FlexGen to one drive to two drives."""
    r = inst_rows
    assert 2.5 < r["a_insta_over_flexgen_ssd_bs64"] < 8.0
    assert r["_flexgen_kv_gbps"] == pytest.approx(r["_page_cache_gbps"], rel=0.3)   # pipeline ~ closed form
    assert r["_insta_vs_host_same_batch_bs16"] == pytest.approx(11.2 / 31.5, rel=0.1)
    assert 1.5 < r["c_sparf_over_dense_bs256"] <= 2.08
    assert r["d_kv_share_flexgen_bs64"] > r["d_kv_share_insta_bs64"] > r["d_kv_share_insta2_bs64"]
    assert r["sanity_dense_tok_s_bound_bs64"] == pytest.approx(8.9, rel=0.12)


def test_instinfer_implied_host_side(inst_rows):
    """The paper's ratios imply a FlexGen KV rate below ours and PCIe x4, non-KV seconds per step far above
    our GPU time, and a DeepSpeed KV rate below PCIe x16: printed, not fitted (README)."""
    imp = inst.implied(inst_rows, inst.reference())
    assert imp["flexgen_kv_gbps_table3"] < imp["flexgen_kv_gbps_ours"] < inst_rows["_flexgen_kv_gbps"] < 7
    assert imp["insta_non_kv_s_ours"] > imp["flexgen_non_kv_s_ours"] > 5 * inst_rows["_insta64_step_s"] * (
        1 - inst_rows["d_kv_share_insta_bs64"])
    assert 0 < imp["host_kv_gbps"] < 31.5
