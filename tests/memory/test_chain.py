"""Links in series in front of the off-chip level: closed form equals events; bandwidth and latency add up."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.engine import Engine
from archsim.tile_events import TilePipeline
from dataflows.schedule import Tile, fast_port, pipeline_time
from memory.chain import Chain
from memory.pipe import Pipe

tile_st = st.builds(
    Tile,
    st.integers(0, 40_000),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 6000)), max_size=3).map(tuple),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 6000)), max_size=2).map(tuple),
    st.integers(0, 20_000),
)


def chain(engine: Engine, bws, lats) -> Chain:
    pipes = [Pipe(f"hop{i}", engine, bw, lat) for i, (bw, lat) in enumerate(zip(bws, lats))]
    return Chain("offchip", engine, pipes[:-1], pipes[-1])


@settings(max_examples=120, deadline=None)
@given(st.lists(tile_st, min_size=1, max_size=20), st.integers(1, 2),
       st.lists(st.sampled_from([2e9, 8e9, 25.6e9, 64e9]), min_size=2, max_size=3),
       st.lists(st.integers(0, 20_000), min_size=3, max_size=3))
def test_chain_closed_form_equals_events(tiles, slots, bws, lats):
    fast = pipeline_time(tiles, fast_port(chain(Engine(), bws, lats)), slots)
    eng = Engine()
    level = chain(eng, bws, lats)
    ev = TilePipeline(eng, level, tiles, slots).run()
    assert fast == ev
    moved = sum(n for t in tiles for _, n in t.loads + t.stores)
    assert level.bytes_read + level.bytes_written == moved
    assert all(h.bytes_read + h.bytes_written == moved for h in level.hops)


def test_one_request_pays_every_latency_and_the_slowest_bandwidth():
    eng = Engine()
    c = chain(eng, [1e12, 0.5e12], [1000, 300])   # 1 B/ps then 0.5 B/ps
    port = fast_port(c)
    # 1000 B: 1000 ps on hop 0 + 1000 latency, then 2000 ps on hop 1 + 300 latency
    assert port.issue(0, 1000, False) == 1000 + 1000 + 2000 + 300
    assert c.peak_bytes_per_s == 0.5e12
    assert c.stream_time_ps(10**6) == 2 * 10**6 + 300 + 1000


@settings(max_examples=60, deadline=None)
@given(st.lists(tile_st, min_size=1, max_size=12), st.integers(1, 2),
       st.lists(st.sampled_from([2e9, 8e9, 25.6e9]), min_size=2, max_size=3),
       st.lists(st.integers(0, 20_000), min_size=3, max_size=3), st.sampled_from([512, 1024, 4096]))
def test_cut_through_chain_closed_form_equals_events(tiles, slots, bws, lats, chunk):
    def cut(engine):
        c = chain(engine, bws, lats)
        return Chain("offchip", engine, c.links, c.level, chunk)

    fast = pipeline_time(tiles, fast_port(cut(Engine())), slots)
    eng = Engine()
    ev = TilePipeline(eng, cut(eng), tiles, slots).run()
    assert fast == ev


def test_cut_through_hides_all_but_one_chunk_of_the_slow_hop():
    """Store and forward pays both hops in full; cut-through pays the slow hop plus one chunk of the other."""
    whole = fast_port(chain(Engine(), [1e12, 0.5e12], [0, 0])).issue(0, 64_000, False)
    c = chain(Engine(), [1e12, 0.5e12], [0, 0])
    cut = fast_port(Chain("offchip", Engine(), c.links, c.level, 1000)).issue(0, 64_000, False)
    assert whole == 64_000 + 128_000
    assert cut == 1000 + 128_000
