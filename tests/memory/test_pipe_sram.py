"""Simple off-chip / link pipe and SRAM buffer: exact timing against first-principles arithmetic."""
import pytest
from hypothesis import given, settings, strategies as st

from archsim.config.memory_schema import MemoryConfig
from archsim.engine import Engine
from archsim.errors import ArchsimError
from memory import Pipe, Request, SramBuffer, build_offchip, LINK_PRESETS, build_link


def _run(level, reqs):
    done = []
    for r in reqs:
        r.on_done = done.append
        level.submit(r)
    level.engine.run()
    return done


def test_simple_offchip_from_schema_back_to_back():
    e = Engine()
    cfg = MemoryConfig.model_validate({"offchip": {"kind": "simple", "bandwidth": "25.6 GB/s", "latency": "100 ns"}})
    lvl = build_offchip(cfg.offchip, e)
    done = _run(lvl, [Request(i * 64, 64, False, "t") for i in range(4)])
    # 64 B at 25.6 GB/s = 2.5 ns each, serialised, then 100 ns latency
    assert [r.done_ps for r in done] == [102_500, 105_000, 107_500, 110_000]
    assert lvl.stats()["bytes_read"] == 256


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=50), st.floats(1e8, 1e11))
def test_pipe_has_no_rounding_drift(sizes, bw):
    """n back-to-back requests finish exactly when one request of the summed size would."""
    e1, e2 = Engine(), Engine()
    a, b = Pipe("a", e1, bw, 7), Pipe("b", e2, bw, 7)
    last = _run(a, [Request(0, n, False, "t") for n in sizes])[-1].done_ps
    assert last == b.stream_time_ps(sum(sizes))


def test_link_presets_and_overrides():
    assert LINK_PRESETS["pcie4_x16"][0] == pytest.approx(31.5e9, rel=1e-3)
    assert LINK_PRESETS["pcie5_x4"][0] == pytest.approx(15.75e9, rel=1e-3)
    cfg = MemoryConfig.model_validate({"links": {"host": {"preset": "pcie5_x16", "latency": "1 us"}}})
    link = build_link("host", cfg.links["host"], Engine())
    assert link.latency_ps == 1_000_000 and link.bandwidth_bytes_per_s == pytest.approx(63e9, rel=1e-3)


def test_sram_streams_at_bytes_per_cycle_and_counts_conflicts():
    e = Engine()
    s = SramBuffer("ifmap", e, 1 << 16, 64, 1e9, banks=4, latency_cycles=1)
    done = _run(s, [Request(0, 640, False, "t")])
    assert done[0].done_ps == (10 + 1) * 1000          # 640 B / 64 B per cycle + 1 cycle latency
    assert s.bank_conflicts == 0
    done = _run(s, [Request(0, 16, False, "a"), Request(64, 16, False, "b")])   # same bank, same cycle
    assert s.bank_conflicts == 1 and done[1].done_ps == done[0].done_ps + 1000


def test_sram_double_buffer_and_capacity_errors():
    s = SramBuffer("w", Engine(), 1024, 16, 1e9, double_buffered=True)
    assert s.fits(512) and not s.fits(513)
    with pytest.raises(ArchsimError, match="beyond its capacity"):
        s.submit(Request(1000, 64, False, "t"))
