"""The tile pipeline's closed form equals its event-driven twin on a bandwidth + latency level."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.engine import Engine
from archsim.tile_events import TilePipeline
from dataflows.schedule import FifoPort, Tile, pipeline_time
from memory.pipe import Pipe

tile_st = st.builds(
    Tile,
    st.integers(0, 50_000),
    st.lists(st.tuples(st.just(0), st.integers(1, 5000)), max_size=3).map(tuple),
    st.lists(st.tuples(st.just(0), st.integers(1, 5000)), max_size=2).map(tuple),
    st.integers(0, 30_000),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(tile_st, min_size=1, max_size=25), st.integers(1, 3),
       st.sampled_from([1e9, 25.6e9, 3.3e9]), st.integers(0, 20_000))
def test_closed_form_equals_events(tiles, slots, bw, lat):
    fast = pipeline_time(tiles, FifoPort(Pipe("p", Engine(), bw, lat)), slots)
    eng = Engine()
    ev = TilePipeline(eng, Pipe("p", eng, bw, lat), tiles, slots).run()
    assert fast == ev


def test_double_buffering_hides_transfers():
    # 10 tiles, 1000 ps compute each, loads of 500 ps: only the first load is exposed
    tiles = [Tile(1000, ((0, 500),), ()) for _ in range(10)]
    port = lambda: FifoPort(Pipe("p", Engine(), 1e12, 0))  # 1 B/ps  # noqa: E731
    assert pipeline_time(tiles, port(), 2).total_ps == 500 + 10 * 1000
    assert pipeline_time(tiles, port(), 1).total_ps == 10 * (500 + 1000)


def test_bandwidth_bound_pipeline():
    # loads of 3000 ps behind 1000 ps of compute: the port sets the pace
    tiles = [Tile(1000, ((0, 3000),), ()) for _ in range(10)]
    r = pipeline_time(tiles, FifoPort(Pipe("p", Engine(), 1e12, 0)), 2)
    assert r.total_ps == 10 * 3000 + 1000
    assert r.stall_ps == r.total_ps - 10 * 1000


def test_pipelined_unit_overlaps_drain_with_next_tile():
    # issue 1000 ps, drain 700 ps: tiles follow each other every 1000 ps; only the last drain shows
    tiles = [Tile(1000, (), ((0, 10),), tail_ps=700) for _ in range(5)]
    r = pipeline_time(tiles, FifoPort(Pipe("p", Engine(), 1e12, 0)), 2)
    assert r.total_ps == 5 * 1000 + 700 + 10
    assert r.compute_ps == 5 * 1000 + 700
