"""flash_compute: tiling and split against the paper's closed forms, `fast` against `cycle`, arbitration,
bad input, the unit inside a design, and the CSD attention bound."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archsim
from archsim.errors import ArchsimError, ConfigError, WorkloadError
from archsim.units.flash_compute.attention import csd_attention_cost, kv_append_ps
from archsim.units.flash_compute.config import AttentionEngineConfig, FlashComputeConfig
from archsim.units.flash_compute.gemv import gemv_fast, split_work
from archsim.units.flash_compute.gemv_cycle import gemv_cycle
from archsim.units.flash_compute.tiling import make_plan
from memory.flash.level import load_flash_spec


@pytest.mark.parametrize("preset,h,w,r_f,r_c,chan", [("cambricon_llm_s", 256, 2048, 17.3, 7.86, 0.312),
                                                     ("cambricon_llm_m", 360, 5824, 69.1, 15.6, 0.184),
                                                     ("cambricon_llm_l", 512, 16384, 274.9, 30.9, 0.101)])
def test_tiling_and_byte_balanced_split_match_the_closed_forms(preset, h, w, r_f, r_c, chan):
    """H_req = sqrt(cc*P) (M rounds 362 down to a multiple of its 8 cores), W_req = ch*P/(H_req/cc); R_f, R_c
    and the channel's share of bytes as the reference derives them from Table II."""
    plan = make_plan(load_flash_spec(preset), FlashComputeConfig(), 1e9)
    assert (plan.h_req, plan.w_req) == (h, w)
    f, c, _ = plan.rates()
    assert f / 1e9 == pytest.approx(r_f, rel=0.01) and c / 1e9 == pytest.approx(r_c, rel=0.01)
    assert 1 - plan.flash_share() == pytest.approx(chan, abs=0.002)


def _case(policy="priority", sl="1 KiB", **over):
    spec = load_flash_spec("cambricon_llm_s", {"command_overhead": True, **over})
    cfg = FlashComputeConfig(arbitration={"policy": policy, "slice": sl})
    return spec, cfg, make_plan(spec, cfg, 1e9)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([1024, 4096, 5120, 16384, 28672]), st.sampled_from([1024, 4096, 8192]),
       st.sampled_from(["1 KiB", "2 KiB"]), st.sampled_from([2, 4, 8]), st.integers(1, 2))
def test_cycle_stays_near_the_l0_model_with_priority_slicing(n_out, n_in, sl, dies, batch):
    """Priority + small slices: vectors and results never wait long, so the per-command model of one
    channel lands within 6% of the closed form (the closed form charges the vector before each tR)."""
    spec, cfg, plan = _case(sl=sl, dies_per_channel=dies)
    fast = gemv_fast(plan, n_out, n_in, batch)
    exact = FlashComputeConfig(arbitration={"policy": "priority", "slice": sl}, steady_state=False)
    cyc = gemv_cycle(plan, spec, exact, n_out, n_in, batch, 1e9)
    assert cyc.time_ps == pytest.approx(fast.time_ps, rel=0.06)
    assert cyc.channel_bytes == fast.channel_bytes and cyc.work == fast.work


@pytest.mark.parametrize("policy,sl", [("priority", "1 KiB"), ("fifo", None)])
def test_steady_state_extrapolation_tracks_the_full_run(policy, sl):
    spec, _, plan = _case(policy, sl)
    full = gemv_cycle(plan, spec, FlashComputeConfig(arbitration={"policy": policy, "slice": sl}, steady_state=False),
                      16384, 4096, 1, 1e9)
    ext = gemv_cycle(plan, spec, FlashComputeConfig(arbitration={"policy": policy, "slice": sl}), 16384, 4096, 1, 1e9)
    assert ext.time_ps == pytest.approx(full.time_ps, rel=0.04)


def test_arbitration_policy_and_slices_decide_the_slicing_gain():
    spec, cfg, plan = _case()
    times = {}
    for policy, sl in (("priority", "1 KiB"), ("priority", "16 KiB"), ("fifo", "1 KiB"), ("fifo", None)):
        c = FlashComputeConfig(arbitration={"policy": policy, "slice": sl}, steady_state=False)
        times[policy, sl] = gemv_cycle(plan, spec, c, 16384, 4096, 1, 1e9).time_ps
    assert times["fifo", None] > 1.3 * times["priority", "1 KiB"]
    assert times["fifo", "1 KiB"] == times["fifo", None]          # slicing without priority changes nothing
    assert times["priority", "16 KiB"] >= times["priority", "1 KiB"]


def test_all_in_flash_uses_the_channel_little():
    spec, _, _ = _case()
    cfg = FlashComputeConfig(split="flash")
    plan = make_plan(spec, cfg, 1e9)
    work = split_work(plan, 16384, 4096)
    assert work.npu_pages == 0 and work.flash_weights == 16384 * 4096
    assert gemv_fast(plan, 16384, 4096).channel_util < 0.03        # Fig. 14: 2-3 % without tiling


@pytest.mark.parametrize("cfg,key", [({"tile": "512x4096"}, "larger than a page"),
                                     ({"tile": "256x2048", "core_buffer": "64 B"}, "core_buffer"),
                                     ({"split": "1.5"}, "split"), ({"tile": "wide"}, "tile")])
def test_bad_unit_input_names_the_key(cfg, key):
    with pytest.raises(ConfigError, match=key):
        make_plan(load_flash_spec("cambricon_llm_s"), FlashComputeConfig(**cfg), 1e9)


def test_unknown_arbitration_policy_is_a_clear_error():
    design = archsim.load_config("configs/flash/cambricon_llm_s.yaml",
                                 overrides={"units.flash.arbitration.policy": "round_robin"})
    with pytest.raises(ArchsimError, match="arbitration.policy.*round_robin"):
        archsim.run(design, {"gemm": ["1x4096x4096"]}, fidelity="fast")


def test_design_runs_decode_in_both_fidelities():
    design = archsim.load_config("configs/flash/cambricon_llm_s.yaml")
    wl = {"model": "opt-1.3b", "phase": "decode", "batch": 1, "kv": 128, "bits": 8}
    fast = archsim.run(design, wl, fidelity="fast").to_dict()
    cyc = archsim.run(design, wl, fidelity="cycle").to_dict()
    f_ops = [o for o in fast["ops"] if o["unit"] == "flash"]
    c_ops = [o for o in cyc["ops"] if o["unit"] == "flash"]
    assert {o["name"] for o in f_ops} >= {"qkv", "o_proj", "fc1", "fc2", "lm_head"}
    for a, b in zip(f_ops, c_ops, strict=True):
        assert b["time_ns"] == pytest.approx(a["time_ns"], rel=0.08)
        assert a["levels"]["flash"] == b["levels"]["flash"]
        assert 0 < a["detail"]["flash_share"] < 1


def _engine(**kw):
    return AttentionEngineConfig(flops=650e9, softmax_flops=650e9, **kw)


def test_csd_attention_dense_bound():
    """OPT-13B, batch 64, context 1536, 40 layers on one 11.2 GB/s drive: <= ~8.9 tok/s (reference bound)."""
    spec = load_flash_spec("instinfer_csd")
    c = csd_attention_cost(spec, _engine(), 64, 40, 40, 1536, 128, 128, 2)
    step_s = 40 * c.time_ps / 1e12
    assert 64 / step_s <= 8.9 * 1.02
    assert 64 / step_s > 0.85 * 8.9                                # the channels, not the engine, bound it
    assert c.channel_util > 0.9 and c.engine_ps < 0.05 * c.time_ps
    sparse = csd_attention_cost(spec, _engine(keep=0.125), 64, 40, 40, 1536, 128, 128, 2)
    assert 1.5 < c.time_ps / sparse.time_ps < 2.1                  # SparF: up to 2.08x (target c)
    slow_engine = AttentionEngineConfig(flops=5e9, softmax_flops=650e9)
    slow = csd_attention_cost(spec, slow_engine, 64, 40, 40, 1536, 128, 128, 2)
    assert slow.time_ps > 1.5 * c.time_ps                          # an engine slower than the flash binds
    with pytest.raises(WorkloadError, match="larger than the drive"):
        csd_attention_cost(spec, _engine(), 4096, 40, 40, 1 << 20, 128, 128, 2, layers=40)


def test_kv_append_buffers_decode_rows_and_programs_prefill_at_the_array_rate():
    """Decode's k/v rows fit the DRAM group buffers (P2P only); a prefill's KV streams at the program
    rate of 128 planes x 16 KiB / 700 us = 3.0 GB/s (Table III measures 3.78 GB/s prefill writes)."""
    spec = load_flash_spec("instinfer_csd")
    t, buffered = kv_append_ps(spec, _engine(), 1 << 20)
    assert buffered and t == pytest.approx((1 << 20) / 7e9 * 1e12 + 500_000, rel=1e-6)
    n = 1 << 30
    t, buffered = kv_append_ps(spec, _engine(dram_buffer="256 MiB"), n)
    assert not buffered and 2.5e9 < n / (t / 1e12) < 3.8e9


def _instinfer(wl, fidelity="fast", **over):
    design = archsim.load_config("configs/flash/instinfer.yaml", overrides=over)
    return archsim.run(design, wl, fidelity=fidelity).to_dict()


DECODE = {"model": "opt-1.3b", "phase": "decode", "batch": 8, "kv": 512, "attention": "fused"}


def test_instinfer_runs_decode_attention_in_the_drive_and_linear_layers_on_the_gpu():
    for fid in ("fast", "cycle"):
        ops = {o["name"]: o for o in _instinfer(DECODE, fid)["ops"]}
        assert ops["attention"]["unit"] == "csd" and ops["kv_write"]["unit"] == "csd"
        assert {ops[n]["unit"] for n in ("qkv", "o_proj", "fc1", "fc2")} == {"gpu"}
        d = ops["attention"]["detail"]
        assert d["flash_read_bytes"] >= 8 * 512 * 2 * 2048 * 2 // 4096 * 4096      # K and V of one layer
        assert ops["kv_write"]["detail"]["buffered"]
    unfused = {o["name"]: o["unit"] for o in _instinfer({**DECODE, "attention": "unfused"})["ops"]}
    assert unfused["qk"] == "gpu" and unfused["av"] == "gpu"       # no fused op: the GPU reads KV over P2P


def test_two_drives_halve_the_attention_and_kv_elsewhere_is_an_error():
    one = {o["name"]: o for o in _instinfer(DECODE)["ops"]}["attention"]
    two = {o["name"]: o for o in _instinfer(DECODE, **{"units.csd.attention.drives": 2})["ops"]}["attention"]
    assert 0.45 < two["time_ns"] / one["time_ns"] < 0.6
    with pytest.raises(ConfigError, match="placement.kv_cache"):
        _instinfer(DECODE, **{"memory.placement.kv_cache": "offchip"})


def test_cli_prints_the_flash_summary():
    """archsim run's text shows bytes over each channel, channel and die use and energy per token."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "archsim.cli", "run", "configs/flash/cambricon_llm_s.yaml",
                          "--model", "opt-1.3b", "--phase", "decode", "--batch", "1", "--kv", "128", "--bits", "8"],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("flash:"))
    assert "over each of 8 channels" in line and "channel use" in line and "die use" in line
    assert "J/token" in line and "energy/token" in out


def test_the_design_sets_the_precision_of_its_models_unless_the_command_line_does(tmp_path):
    """Cambricon-LLM is W8A8 with an INT8 KV cache: `--model` runs take the design's `workload.bits`
    (8) unless `--bits` says otherwise; a 16-bit KV cache doubles the attention's DRAM reads."""
    import json

    from archsim.cli import main as cli

    def run(*extra):
        out = tmp_path / f"r{len(extra)}.json"
        assert cli(["run", "configs/flash/cambricon_llm_s.yaml", "--model", "opt-1.3b", "--phase", "decode",
                    "--kv", "128", "--json", str(out), *extra]) == 0
        r = json.loads(out.read_text())
        return r["bits"], next(o for o in r["ops"] if o["name"] == "qk")["levels"]["offchip"]["read_bytes"]

    (b8, qk8), (b16, qk16) = run(), run("--bits", "16")
    assert (b8, b16) == (8, 16) and qk16 == 2 * qk8


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 8), st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(1, 40))
def test_plane_rtl_reference_is_the_cycle_model_in_whole_cycles(M, N, K, lanes, t_r):
    """What rtl/flash_plane_gemv.v is held to: gemv_cycle.simulate on one plane equals command, vectors,
    tR, ceil(MNK/lanes) MAC cycles and 4MN result bytes at one byte a cycle; a sliced read is command,
    tR and the page."""
    from archsim.units.flash_compute.plane_rtl import model_cycles, phases

    assert model_cycles(M, N, K, lanes, t_r, 4, "read_compute") == sum(n for _, n in phases(M, N, K, lanes, t_r))
    assert model_cycles(M, N, K, lanes, t_r, 4, "sliced_read") == 7 + t_r + N * K
