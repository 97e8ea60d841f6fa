"""The drive's attention per command (`cycle`) against its closed form (`fast`), and the physics each shows."""
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archsim
from archsim.units.flash_compute.attention import csd_attention_cost
from archsim.units.flash_compute.attention_cycle import PhaseWork, phase_cycle, simulate_phase
from archsim.units.flash_compute.config import AttentionEngineConfig
from archsim.units.flash_compute.unit import FlashComputeUnit
from archsim.workload import model_workload
from memory.flash.level import load_flash_spec


def _engine(flops=650e9, **kw):
    return AttentionEngineConfig(flops=flops, softmax_flops=650e9, **kw)


shapes = st.fixed_dictionaries({
    "dies_per_channel": st.sampled_from([1, 2, 4]), "planes_per_die": st.sampled_from([1, 2, 4]),
    "multi_plane": st.booleans()})


@settings(max_examples=40, deadline=None)
@given(over=shapes, b=st.integers(1, 8), h=st.sampled_from([1, 4, 8]), m=st.sampled_from([16, 64, 256, 1024]),
       e=st.sampled_from([64, 128]), keep=st.sampled_from([1.0, 0.125]), flops=st.sampled_from([2e9, 20e9, 650e9]))
def test_cycle_follows_fast(over, b, h, m, e, keep, flops):
    """Where every array unit senses a few pages the two agree within 15%; on tiny phases the closed form
    cannot follow which unit a page or the flush's program lands on, yet stays within 2x. Neither beats
    the channel's bytes or the engine's work."""
    spec = load_flash_spec("instinfer_csd", over)
    eng = _engine(flops, keep=keep)
    f = csd_attention_cost(spec, eng, b, h, h, m, e, e, 2)
    c = csd_attention_cost(spec, eng, b, h, h, m, e, e, 2, fidelity="cycle")
    per_unit = f.senses / (spec.channels * spec.units_per_channel)
    ratio = c.time_ps / f.time_ps
    assert (0.85 <= ratio <= 1.15) if per_unit >= 4 else (0.5 <= ratio <= 2.0)
    floor = max(f.flash_read_bytes / spec.channels * spec.channel_ps_per_byte, f.engine_ps)
    assert c.time_ps >= 0.99 * floor and f.time_ps >= 0.99 * floor


@settings(max_examples=15, deadline=None)
@given(over=shapes, dense=st.integers(800, 4000), lone=st.one_of(st.just(0), st.integers(64, 600)),
       flush=st.floats(0, 1), engine_us=st.floats(1, 3000))
def test_steady_state_extrapolation(over, dense, lone, flush, engine_us):
    """A window simulated twice and extrapolated lands within 5% of the whole phase (phases of four windows
    and more; shorter ones run whole). Search finds mixes of dense and scattered reads 3.4% off: the
    windows keep the kinds' proportions but not where the scattered senses fall among the pages. The flush
    programs one page per 64 read as at most (a step appends one token to contexts of 64 and more)."""
    spec = load_flash_spec("instinfer_csd", over)
    w = PhaseWork(dense, lone, flush * (dense / 4 + lone) / 64, engine_us * 1e6)
    whole, _ = phase_cycle(spec, 4096, w, steady_state=False)
    fast, _ = phase_cycle(spec, 4096, w, steady_state=True, window=8)
    assert fast == pytest.approx(whole, rel=0.05)


def test_cache_register_pipelining():
    """One register per plane: a plane cannot sense while its last page leaves, so scattered reads slow."""
    spec = load_flash_spec("instinfer_csd", {"dies_per_channel": 1, "planes_per_die": 1})
    w = PhaseWork(0, 64, 0, 0.0)
    two, _ = simulate_phase(spec, 4096, w)
    one, _ = simulate_phase(load_flash_spec("instinfer_csd", {"dies_per_channel": 1, "planes_per_die": 1,
                                                              "page_buffers": 1}), 4096, w)
    sense, xfer = spec.t_read, 4096 * spec.channel_ps_per_byte
    assert two == pytest.approx(64 * sense + xfer, rel=0.01)         # transfers hide under the next sense
    assert one == pytest.approx(64 * (sense + xfer), rel=0.01)       # sense, transfer, sense, ...


def test_program_blocks_its_unit():
    """The DRAM buffer's page program holds its unit for tPROG; the reads queued behind it wait."""
    spec = load_flash_spec("instinfer_csd", {"dies_per_channel": 1, "planes_per_die": 1})
    base, _ = simulate_phase(spec, 4096, PhaseWork(40, 0, 0, 0.0))
    flushed, _ = simulate_phase(spec, 4096, PhaseWork(40, 0, 1, 0.0))
    assert flushed - base == pytest.approx(spec.t_prog + 16384 * spec.channel_ps_per_byte, rel=0.05)
    half, _ = phase_cycle(spec, 4096, PhaseWork(40, 0, 0.5, 0.0), steady_state=False)
    assert half == pytest.approx((base + flushed) / 2, rel=1e-6)     # a fractional flush is an expectation


def test_engine_starts_with_the_first_group():
    """An engine slower than the flash still waits for the first sense and transfer."""
    spec = load_flash_spec("instinfer_csd")
    slow = 10e9 * 1e3                                                 # 10 ms of engine work on this channel
    t, _ = simulate_phase(spec, 4096, PhaseWork(64, 0, 0, slow))
    assert t == pytest.approx(spec.t_read + 4096 * spec.channel_ps_per_byte + slow, rel=0.01)


def test_unit_runs_attention_in_cycle():
    """The unit's attention op in both fidelities (InstInfer's design, OPT-13B at batch 8, context 512): the
    same bytes, times within 5%. (The whole design in `cycle` is the GPU's GEMMs' business and slow.)"""
    design = archsim.load_config("configs/flash/instinfer.yaml")
    unit = FlashComputeUnit("csd", design.units["csd"])
    op = next(o for o in model_workload("opt-13b", "decode", batch=8, kv=512, attention="fused").ops
              if o.name == "attention")
    spec = load_flash_spec("instinfer_csd")
    res = {f: unit.run_op(op, SimpleNamespace(fidelity=f, level=lambda _: SimpleNamespace(spec=spec),
                                              home=lambda _: "csd")) for f in ("fast", "cycle")}
    assert res["cycle"].time_ps == pytest.approx(res["fast"].time_ps, rel=0.05)
    assert res["cycle"].detail["flash_read_bytes"] == res["fast"].detail["flash_read_bytes"]
