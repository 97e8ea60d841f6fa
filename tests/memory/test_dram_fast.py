"""`fast` DRAM fidelity against `cycle`: equal on regular streams, within the stated refresh bound.
`fast` models the level as the runner's DMA drives it, so `cycle` replays with the per-channel front end."""
import pytest
from hypothesis import given, settings, strategies as st

from archsim.config.memory_schema import DramConfig
from archsim.engine import Engine
from memory import Request, build_offchip
from dram_helpers import make
from memory.patterns import generate
from memory.trace import replay

CASES = [("DDR4-3200", "rochrababgco"), ("DDR4-3200", "rorabacobgch"), ("HBM2", "rorababgcoch"),
         ("LPDDR5-6400", "robabgrachco"), ("GDDR6", "rorabgbacoch")]


def _cycle(lvl, n):
    a, w, c = generate("seq_rd", lvl.mapping, n)
    return replay(lvl, a, w, c, lvl.spec.burst_bytes, lvl.clock)["total_cycles"]


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(CASES), st.integers(1, 2500))
def test_fast_equals_cycle_on_streams_without_refresh(case, n):
    std, mapping = case
    cyc = _cycle(make(std, mapping=mapping, refresh="none", trace_frontend="per_channel"), n)
    lvl = make(std, mapping=mapping, refresh="none")
    fast = lvl.clock.ps_to_cycles(lvl.stream_time_ps(n * lvl.spec.burst_bytes))
    assert fast == pytest.approx(cyc, rel=0.01, abs=2)


@pytest.mark.parametrize("std,mapping", CASES[:2])
def test_fast_with_refresh_within_refresh_bound(std, mapping):
    n = 30_000
    cyc = _cycle(make(std, mapping=mapping, trace_frontend="per_channel"), n)
    lvl = make(std, mapping=mapping)
    fast = lvl.clock.ps_to_cycles(lvl.stream_time_ps(n * lvl.spec.burst_bytes))
    t = lvl.spec.timing
    assert fast == pytest.approx(cyc, rel=t["tRFC"] / t["tREFI"] + 0.01)


def test_fast_level_from_config_streams_as_a_pipe():
    e = Engine()
    cfg = DramConfig(standard="DDR4-3200", mapping="rorabacobgch", fidelity="fast")
    lvl = build_offchip(cfg, e)
    done = []
    for i in range(4):
        lvl.submit(Request(i * 4096, 4096, False, "t", done.append))
    e.run()
    s = lvl.stats()
    assert s["fidelity"] == "fast" and s["bytes_read"] == 4 * 4096
    gaps = [b.done_ps - a.done_ps for a, b in zip(done, done[1:])]
    assert len(set(gaps)) <= 2 and all(g > 0 for g in gaps)      # steady pipe rate
    assert s["bandwidth_gbps"] < s["peak_bandwidth_gbps"]


def test_fast_pipe_has_no_rounding_drift():
    """1000 one-burst requests finish exactly when one 1000-burst request does."""
    def last(sizes):
        lvl = make(fidelity="fast")
        done, addr = [], 0
        for n in sizes:
            lvl.submit(Request(addr, n, False, "t", done.append))
            addr += n
        lvl.engine.run()
        return max(r.done_ps for r in done), lvl.stats()
    many, s = last([64] * 1000)
    one, _ = last([64_000])
    assert many == one
    assert s["reads"] == 1000 and s["activates"] == 8 and 0 < s["energy_pj"]


@pytest.mark.parametrize("std,mapping", CASES[:1] + CASES[2:4])
def test_fast_random_reads_within_stated_bound(std, mapping):
    """Random single-burst reads: fast charges the profiled random rate per jump (bound: 10 %)."""
    out = []
    for fid in ("cycle", "fast"):
        lvl = make(std, mapping=mapping, fidelity=fid)
        a, w, c = generate("rand_rd", lvl.mapping, 4000, seed=5)
        out.append(replay(lvl, a, w, c, lvl.spec.burst_bytes, lvl.clock)["total_cycles"])
    assert out[1] == pytest.approx(out[0], rel=0.10)
