"""Convs move their input tensor (bands with halos, im2col on chip), not the im2col matrix."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

import archsim
from archsim.config.loader import load_config
from archsim.units.systolic import SystolicArray, SystolicConfig
from dataflows.bounds import bound_rows, dram_bytes, held_dram_bytes
from dataflows.conv_reuse import conv_geometry
from dataflows.cost import CostModel, EnergySpec, latency_from_tiles
from dataflows.ir import conv_op
from dataflows.mapper import _orders_with_innermost
from dataflows.mapspace import ORDERS, MapSpace, Mapping, MemorySpec, OperandBits
from dataflows.residency import HOLDABLE, effective

BITS = OperandBits(ifmap=8, filter=8, psum=16, ofmap=8)


def _mapping(op, tile, order, hold=("", "")):
    return Mapping(op.as_gemm(), tile, order, "ws", BITS, conv_geometry(op), hold)


def test_hand_computed_bytes_of_a_small_conv():
    """6x6x2 input, 3x3 kernel, pad 1, 4 filters; bands of 2 output rows (M12), one channel per K
    tile (K9), 2 filters per N tile. Bands need input rows [0,3), [1,5), [3,6): 3 + 4 + 3 = 10 rows
    of 6 columns per channel fetched whole, or 3 + 2 + 1 = 6 (the tensor once) sliding down."""
    op = conv_op("c", 6, 6, 3, 3, 2, 4, stride=1, pad=1)
    full, slide = 10 * 6 * 2, 6 * 6 * 2                  # both channel slices
    im2col = 36 * 18                                     # what the GEMM view would move per pass
    cases = {"nkm": 2 * slide,    # m innermost: slides, once per filter tile
             "kmn": slide,        # n innermost, k outside m: each band stays for both filter tiles
             "mkn": full,         # n innermost, k inside m: every band refetched whole
             "mnk": 2 * full}     # k innermost: whole bands, per filter tile
    for order, want in cases.items():
        m = _mapping(op, (12, 2, 9), order)
        assert m.totals()["ifmap"] == want < im2col, order
        assert sum(lo["ifmap"] for _, lo, _ in m.tiles()) == want, order
    first = [lo["ifmap"] for _, lo, _ in _mapping(op, (12, 2, 9), "nkm").tiles()][:3]
    assert first == [3 * 6, 2 * 6, 1 * 6]                # band 0 whole, then only the new rows
    assert conv_geometry(op).compulsory_bytes(8) == 72   # the input tensor


def test_input_held_across_the_k_loop_is_fetched_once():
    """The same conv, loops m > n > k (bands outermost, weights streaming inside). With one input
    tile per buffer, every step changes the channel slice, so each band (halo included) comes again
    for the second filter tile: 2 x 10 rows x 6 cols x 2 channels = 240 B. Holding the band's every
    channel (input residency across K), it crosses once and the bands slide: rows 3 + 2 + 1, 72 B.
    Weights (k, n) change every step either way, once per band (3 x 72 B), unless the filter
    buffer holds them all (72 B)."""
    op = conv_op("c", 6, 6, 3, 3, 2, 4, stride=1, pad=1)
    cases = {("", ""): (240, 216), ("k", ""): (72, 216), ("k", "kn"): (72, 72), ("mk", "kn"): (72, 72)}
    for hold, (ifmap, filt) in cases.items():
        m = _mapping(op, (12, 2, 9), "mnk", hold)
        walk = list(m.tiles())
        assert (m.totals()["ifmap"], m.totals()["filter"]) == (ifmap, filt), hold
        assert sum(lo["ifmap"] for _, lo, _ in walk) == ifmap and sum(lo["filter"] for _, lo, _ in walk) == filt
    # lazily filled: per band, channel 0 then 1 at the first filter tile, nothing at the second
    steps = [lo["ifmap"] for _, lo, _ in _mapping(op, (12, 2, 9), "mnk", ("k", "")).tiles()]
    assert steps == [18, 18, 0, 0, 12, 12, 0, 0, 6, 6, 0, 0]
    # what the buffer must hold: the tallest band (4 rows) of both channels, 48 B instead of 24 B
    geo = conv_geometry(op)
    assert (geo.held_bytes(12, 9, 8), geo.held_bytes(12, 9, 8, "k"), geo.held_bytes(12, 9, 8, "mk")) == (24, 48, 72)
    mem = MemorySpec.make({"ifmap": 80, "filter": 1 << 10, "ofmap": 1 << 10}, 1e9)   # 40 B per half
    space = MapSpace(op.as_gemm(), mem, BITS, ("ws",), conv=geo)
    assert space.fits(12, 2, 9) and not space.fits(12, 2, 9, ("k", ""))
    # a hold that does nothing in this order (k outside the band loop) is not a mapping of its own
    assert not effective("kmn", ("k", ""), m.counts) and effective("mnk", ("k", ""), m.counts)


def test_stride_and_clipping_follow_the_window_law():
    # 7x7 stride 2 pad 3 on 14 rows: P = 7; one band of 7 output rows needs rows [-3, 16) -> all 14
    op = conv_op("c", 14, 14, 7, 7, 3, 4, stride=2, pad=3)
    geo = conv_geometry(op)
    assert geo.cols == 14 and geo.band_rows(7).tolist() == [14]
    assert geo.band_rows(2).tolist() == [6, 9, 9, 5]     # [-3,6) [1,10) [5,14) [9,16), clipped to [0,14)
    assert geo.band_rows(2, slide=True).tolist() == [6, 4, 4, 0]   # the last band's rows are all on chip
    # a 2x2 kernel at stride 3 touches 2 rows of every 3: windows never overlap
    sparse = conv_geometry(conv_op("s", 11, 11, 2, 2, 1, 1, stride=3))
    assert sparse.compulsory_bytes(8) == 8 * 8


def test_one_by_one_conv_is_unchanged():
    """No halo: the GEMM view is exact, so a 1x1 conv maps and runs as its GEMM."""
    op = conv_op("pw", 14, 14, 1, 1, 32, 48, stride=2)
    assert conv_geometry(op) is None
    design = load_config("configs/default.yaml")
    conv = archsim.run(design, {"conv": ["H=14,W=14,R=1,S=1,C=32,F=48,stride=2"]}).ops[0]
    g = op.as_gemm()
    gemm = archsim.run(design, {"gemm": [f"{g.M}x{g.N}x{g.K}"]}).ops[0]
    for k in ("cycles", "dram_read_bytes", "dram_write_bytes", "mapping"):
        assert conv[k] == gemm[k], k


def _unit(r: int, df: str = "ws") -> SystolicArray:
    return SystolicArray("sa", SystolicConfig(rows=r, cols=4, dataflow=df, timing="pipelined"), 1e9,
                         {"mac": 0.2, "sram_byte": 1.0})


conv_shapes = st.tuples(st.integers(3, 12), st.integers(1, 5), st.integers(1, 3), st.integers(0, 3),
                        st.integers(1, 6), st.integers(1, 6), st.integers(1, 2))


@settings(max_examples=30, deadline=None)
@given(conv_shapes, st.data())
def test_walk_closed_form_arrays_and_bounds_agree(shape, data):
    H, R, stride, pad, C, F, N = shape
    if R > H + 2 * pad:
        return
    op = conv_op("c", H, H, R, R, C, F, stride=stride, pad=min(pad, R - 1), N=N)
    geo = conv_geometry(op)
    if geo is None:
        return
    g = op.as_gemm()
    tm = data.draw(st.sampled_from(geo.m_candidates()))
    tk = data.draw(st.sampled_from(geo.k_candidates()))
    tn = data.draw(st.integers(1, F))
    order = data.draw(st.sampled_from(ORDERS))
    hold = (data.draw(st.sampled_from(HOLDABLE["ifmap"])), data.draw(st.sampled_from(HOLDABLE["filter"])))
    m = Mapping(g, (tm, tn, tk), order, "ws", BITS, geo, hold)
    tot = m.totals()
    walk = [lo for _, lo, _ in m.tiles()]
    full, comp = m.step_arrays(), m.step_arrays(compressed=True)
    assert sum(lo["ifmap"] for lo in walk) == tot["ifmap"] == int(full["load_ifmap"].sum())
    assert int(np.sum(comp["load_ifmap"] * comp["weight"])) == tot["ifmap"]
    compulsory = geo.compulsory_bytes(8) + g.K * g.N + g.M * g.N
    assert tot["dram_bytes"] >= compulsory
    inner = {"m": 0, "n": 1, "k": 2}.get(m.innermost(), 2)
    tiles = np.array([[tm, tn, tk]])
    if hold == ("", ""):
        assert dram_bytes(tiles, g, BITS, geo)[0][0][inner] <= tot["dram_bytes"]
    elif effective(order, hold, m.counts):
        assert held_dram_bytes(tiles, g, BITS, geo, (order,), hold)[0][inner] == tot["dram_bytes"]
    mem = MemorySpec.make({"ifmap": 1 << 16, "filter": 1 << 16, "ofmap": 1 << 16}, 2e9, 20_000)
    model = CostModel({"ws": _unit(4)}, mem, EnergySpec(0.2, 1.0, 20.0), 1e9, BITS)
    c = model.evaluate(m)
    assert c.cycles == latency_from_tiles(model, m)
    assert model.bound(m)[0] <= c.cycles


DESIGN = {"name": "conv-reuse", "clock": "1 GHz",
          "units": {"sa": {"kind": "systolic", "rows": 8, "cols": 8, "dataflow": "ws", "timing": "pipelined"}},
          "memory": {"sram": {r: {"capacity": "8 KiB", "bytes_per_cycle": 64, "double_buffered": True}
                              for r in ("ifmap", "filter", "ofmap")},
                     "offchip": {"kind": "simple", "bandwidth": "4 GB/s", "latency": "20 ns"}}}


@settings(max_examples=6, deadline=None)
@given(st.integers(6, 16), st.sampled_from([3, 5]), st.integers(1, 2), st.integers(1, 12), st.integers(1, 12))
def test_fast_and_cycle_agree_on_conv_traffic(H, R, stride, C, F):
    design = load_config(DESIGN)
    spec = f"H={H},W={H},R={R},S={R},C={C},F={F},stride={stride},pad={R // 2}"
    fast = archsim.run(design, {"conv": [spec]}, fidelity="fast").ops[0]
    cyc = archsim.run(design, {"conv": [spec]}, fidelity="cycle", exact=True).ops[0]   # checks conservation
    assert (fast["dram_read_bytes"], fast["dram_write_bytes"]) == (cyc["dram_read_bytes"], cyc["dram_write_bytes"])
    assert fast["cycles"] == cyc["cycles"]                # a bandwidth + latency level: to the cycle
    op = conv_op("c", H, H, R, R, C, F, stride=stride, pad=R // 2)
    g = op.as_gemm()
    compulsory = conv_geometry(op).compulsory_bytes(8) + g.K * g.N + g.M * g.N
    assert fast["dram_read_bytes"] + fast["dram_write_bytes"] >= compulsory


@settings(max_examples=12, deadline=None)
@given(st.integers(4, 10), st.sampled_from([2, 3]), st.integers(1, 2), st.integers(1, 8), st.integers(1, 8),
       st.sampled_from([48, 96, 400]), st.booleans())
def test_search_bounds_never_exceed_any_held_mapping(H, R, stride, C, F, cap, wb):
    """Every mapping of a small conv space, holds included, costs at least its (tile, innermost,
    hold) row's bounds, and no mapping of the space is missing from the rows."""
    op = conv_op("c", H, H, R, R, C, F, stride=stride, pad=R // 2)
    geo, g = conv_geometry(op), op.as_gemm()
    mem = MemorySpec.make({"ifmap": cap, "filter": cap, "ofmap": 4 * cap}, 2e9, 20_000, write_behind=wb)
    space = MapSpace(g, mem, BITS, ("ws",), (4, 4), limit=5, conv=geo)
    model = CostModel({"ws": _unit(4)}, mem, EnergySpec(0.2, 1.0, 20.0), 1e9, BITS)
    tiles = space.tile_array()
    rows = bound_rows({"ws": _unit(4)}, tiles, g, BITS, ORDERS, model, geo, space.holds, space.hold_fit)
    seen = set()
    for i in range(len(rows.tile)):
        tile, hold = tuple(tiles[rows.tile[i]].tolist()), space.holds[rows.hold[i]]
        for o in _orders_with_innermost(ORDERS, tile, (g.M, g.N, g.K), int(rows.inner[i]), hold):
            c = model.evaluate(space.mapping(*tile, o, "ws", hold))
            assert rows.cycles_lb[i] <= c.cycles and rows.energy_lb[i] <= c.total_energy_pj
            assert model.bound(c.mapping)[0] <= c.cycles
            seen.add(str(c.mapping))
    assert seen == {str(m) for m in space}


def test_fast_and_cycle_agree_on_a_held_mapping():
    """2 KiB buffers: the mapper holds a band of every channel while weights stream; both
    fidelities run that schedule (Mapping.step_arrays) with the same bytes, to the cycle."""
    small = {**DESIGN, "memory": {**DESIGN["memory"], "sram": {r: {**v, "capacity": "2 KiB"}
                                                               for r, v in DESIGN["memory"]["sram"].items()}}}
    design = load_config(small)
    spec = "H=16,W=16,R=3,S=3,C=12,F=12,stride=1,pad=1"
    fast = archsim.run(design, {"conv": [spec]}, fidelity="fast").ops[0]
    cyc = archsim.run(design, {"conv": [spec]}, fidelity="cycle", exact=True).ops[0]
    assert "holds ifmap:K" in fast["mapping"]
    assert (fast["cycles"], fast["dram_read_bytes"], fast["dram_write_bytes"]) == \
        (cyc["cycles"], cyc["dram_read_bytes"], cyc["dram_write_bytes"])
