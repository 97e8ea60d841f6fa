"""Write-behind: outputs drain in the port's idle time, loads first; fast equals cycle exactly."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.config.loader import load_config
from archsim.engine import Engine
from archsim.errors import ConfigError
from archsim.tile_events import FastPortLevel, TilePipeline, WriteBehind
from dataflows.schedule import FifoPort, Tile, pipeline_time
from memory.pipe import Pipe
from tests.core.test_pipeline import tile_st


def run_fast(tiles, slots, bw, lat, wb):
    eng = Engine()
    return TilePipeline(eng, FastPortLevel(eng, FifoPort(Pipe("p", Engine(), bw, lat)), bw), tiles, slots,
                        write_behind=wb).run()


def run_cycle(tiles, slots, bw, lat, wb, record=None):
    eng = Engine()
    pipe = Pipe("p", eng, bw, lat)
    p = TilePipeline(eng, pipe, tiles, slots, write_behind=wb, record=record)
    return p.run(), pipe, p


@settings(max_examples=150, deadline=None)
@given(st.lists(tile_st, min_size=1, max_size=25), st.integers(1, 3), st.sampled_from([1e9, 25.6e9, 3.3e9]),
       st.integers(0, 20_000), st.integers(0, 8000), st.integers(1, 3000))
def test_fast_equals_cycle_with_write_behind(tiles, slots, bw, lat, limit, chunk):
    wb = WriteBehind(limit, chunk)
    res, pipe, _ = run_cycle(tiles, slots, bw, lat, wb)
    assert run_fast(tiles, slots, bw, lat, wb) == res
    assert pipe.bytes_written == sum(n for t in tiles for _, n in t.stores)   # every output byte goes out once
    assert res.total_ps >= res.compute_ps


# 1 B/ps, no latency. Tile 0 computes 1000 ps after a 500 ps load and leaves 1500 B of outputs;
# three more tiles of the same compute and load follow.
HAND = [Tile(1000, ((0, 500),), ((0, 1500),))] + [Tile(1000, ((0, 500),), ()) for _ in range(3)]


def test_a_large_write_back_no_longer_holds_loads_back():
    # FIFO: the 1500 B store (1500-3000 ps) goes ahead of tile 2's load, which lands at 3500; tile 3
    # follows at 4500-5500. Write-behind: the store goes out in 100 B chunks while the port is idle
    # and ends before tile 3's load is issued at 2500 (2000-2500), the rest after it (3000-4000); every
    # tile starts on time: 500 + 4 x 1000.
    assert pipeline_time(HAND, FifoPort(Pipe("p", Engine(), 1e12, 0)), 2).total_ps == 5500
    rec: list = []
    res, pipe, p = run_cycle(HAND, 2, 1e12, 0, WriteBehind(1 << 20, 100), rec)
    assert res.total_ps == 4500 and res.stall_ps == 500
    done = sorted(e for kind, _i, _s, e in rec if kind == "store")
    assert done == list(range(2100, 2600, 100)) + list(range(3100, 4100, 100))
    assert [(s, e) for kind, _i, s, e in rec if kind == "load"][-1] == (2500, 3000)   # not delayed
    assert p.peak_backlog_bytes == 1500


def test_the_watermark_forces_outputs_out():
    # limit 0: the whole store goes out at once, behind tile 2's same-time load: FIFO order again
    res, _, p = run_cycle(HAND, 2, 1e12, 0, WriteBehind(0, 100))
    assert res.total_ps == 5000      # tile 2's load 1500-2000, store 2000-3500, tile 3's load 3500-4000
    assert run_fast(HAND, 2, 1e12, 0, WriteBehind(0, 100)) == res


def _design(**ofmap):
    return {"name": "wb", "clock": "1 GHz",
            "units": {"sa": {"kind": "systolic", "rows": 8, "cols": 8, "dataflow": "ws", "timing": "pipelined"}},
            "memory": {"sram": {"ifmap": {"capacity": "16 KiB", "bytes_per_cycle": 64, "double_buffered": True},
                                "filter": {"capacity": "16 KiB", "bytes_per_cycle": 64, "double_buffered": True},
                                "ofmap": {"capacity": "64 KiB", "bytes_per_cycle": 64, "double_buffered": True,
                                          **ofmap}},
                       "offchip": {"kind": "simple", "bandwidth": "4 GB/s", "latency": "20 ns"}}}


def test_runner_fast_equals_cycle_and_write_behind_helps():
    import archsim

    wl = {"gemm": ["64x512x256", "200x96x300"], "bits": 8}
    fifo = archsim.run(load_config(_design()), wl, fidelity="fast")
    d = load_config(_design(write_behind=True, write_chunk="1 KiB"))
    fast, cycle = archsim.run(d, wl, fidelity="fast"), archsim.run(d, wl, fidelity="cycle")
    assert [o["cycles"] for o in fast.ops] == [o["cycles"] for o in cycle.ops]
    assert sum(o["cycles"] for o in fast.ops) <= sum(o["cycles"] for o in fifo.ops)


def test_write_behind_only_on_the_output_buffer():
    d = _design()
    d["memory"]["sram"]["ifmap"]["write_behind"] = True
    with pytest.raises(ConfigError, match="ifmap.*write_behind|write_behind.*ifmap"):
        load_config(d)
