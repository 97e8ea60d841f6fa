"""The vectorised bounds behind the best-first search: never above the true cost, traffic exact."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from archsim.units.systolic import SystolicConfig
from archsim.units.base import GemmShape
from archsim.units.systolic import SystolicArray
from dataflows.bounds import bound_rows, dram_bytes, innermost_index
from dataflows.cost import CostModel, EnergySpec
from dataflows.mapper import _orders_with_innermost
from dataflows.mapspace import DIMS, ORDERS, MapSpace, Mapping, MemorySpec, OperandBits

ENERGY = EnergySpec(mac_pj=0.2, sram_byte_pj=1.0, offchip_byte_pj=20.0)
BITS = OperandBits(ifmap=8, filter=4, psum=32, ofmap=16)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40), st.integers(1, 3),
       st.sampled_from(["os", "ws", "is"]), st.sampled_from(["scalesim", "pipelined"]), st.booleans(),
       st.sampled_from([0, 50_000]), st.integers(1, 6), st.booleans(), st.sampled_from([0, 30_000]),
       st.sampled_from([1, 3]))
def test_bounds_never_exceed_true_cost(M, N, K, batch, df, timing, db, lat_ps, r, wb, overhead_ps, kpe):
    kpe = kpe if timing == "pipelined" else 1       # multi-MAC PEs: pipelined arrays only
    unit = SystolicArray("sa", SystolicConfig(rows=r, cols=4, dataflow=df, timing=timing, macs_per_pe=kpe), 1e9,
                         {"mac": 0.2, "sram_byte": 1.0})
    mem = MemorySpec.make({"ifmap": 512, "filter": 512, "ofmap": 2048}, 2e9, lat_ps, double_buffered=db,
                          write_behind=wb, request_overhead_ps=overhead_ps)
    g = GemmShape(M, N, K, batch)
    space = MapSpace(g, mem, BITS, (df,), unit.tile_quanta(), limit=6)
    tiles = space.tile_array()
    model = CostModel({df: unit}, mem, ENERGY, 1e9)
    rows = bound_rows({df: unit}, tiles, g, BITS, ORDERS, model)
    exact = dram_bytes(tiles, g, BITS)[0]
    seen = 0
    for i in range(len(rows.tile)):
        tile = tuple(tiles[rows.tile[i]].tolist())
        for o in _orders_with_innermost(ORDERS, tile, (M, N, K), int(rows.inner[i])):
            m = Mapping(g, tile, o, df, BITS)
            c = model.evaluate(m)
            seen += 1
            assert rows.cycles_lb[i] <= c.cycles and rows.energy_lb[i] <= c.total_energy_pj
            cyc_lb, energy = model.bound(m)
            assert cyc_lb <= c.cycles and abs(energy - c.total_energy_pj) <= 1e-9 * max(1.0, energy)
            assert exact[rows.tile[i], rows.inner[i]] == m.totals()["dram_bytes"]
    assert seen == space.size(tiles) == sum(1 for _ in space)   # rows cover the space, each mapping once


def test_innermost_index_follows_the_iterating_loops():
    g = GemmShape(64, 64, 64)
    tiles = MapSpace(g, MemorySpec.make({"ifmap": 1 << 20, "filter": 1 << 20, "ofmap": 1 << 20}, 1e9),
                     BITS, ("ws",)).tile_array()
    for o in ORDERS:
        inner = innermost_index(tiles, g, o)
        for t, i in zip(tiles.tolist(), inner.tolist()):
            want = Mapping(g, tuple(t), o, "ws", BITS).innermost()
            assert DIMS[i] == (want or "k")
