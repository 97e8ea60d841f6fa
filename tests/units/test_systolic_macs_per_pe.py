"""Multi-MAC PEs (`macs_per_pe: K`): a PE adds a K-term dot product a cycle along the reduction.

Held here: a rows x K-deep array of one-MAC PEs and a rows-deep array of K-MAC PEs do the same MACs
and give the same product, and their cycles differ by exactly the skew and period terms; the closed
form equals the register model (both twins); K=1 is the one-MAC array."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archsim.config.loader import load_config
from archsim.errors import ConfigError
from archsim.units.base import GemmShape
from archsim.units.systolic import SystolicArray, SystolicConfig
from archsim.units.systolic.folds import cdiv, fold_issue_lower_bound
from archsim.units.systolic.pipelined import pipelined_cycles, simulate, simulate_python

dims = st.integers(1, 14)


def _unit(R, C, df, kpe):
    return SystolicArray("sa", SystolicConfig(rows=R, cols=C, dataflow=df, macs_per_pe=kpe), 1e9,
                         {"mac": 1.0, "sram_byte": 1.0})


@settings(max_examples=40, deadline=None)
@given(M=dims, N=dims, K=st.integers(1, 40), R=st.integers(1, 5), C=st.integers(1, 5), kpe=st.integers(2, 5),
       df=st.sampled_from(["ws", "is"]), seed=st.integers(0, 2**31))
def test_k_mac_pes_equal_a_k_times_deeper_array_but_for_the_skew(M, N, K, R, C, kpe, df, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))
    deep, wide = simulate_python(A, B, R * kpe, C, df), simulate_python(A, B, R, C, df, kpe=kpe)
    assert np.array_equal(deep.out, A @ B) and np.array_equal(wide.out, A @ B)
    t_deep, t_wide = pipelined_cycles(M, N, K, R * kpe, C, df), pipelined_cycles(M, N, K, R, C, df, kpe)
    assert t_deep.folds == t_wide.folds and t_deep.total_cycles == deep.total_cycles
    assert t_wide.total_cycles == wide.total_cycles
    # total = (F - 1) * max(T, depth) + T + depth + C: the stationary depth R*K vs R
    T, F = t_wide.streamed, t_wide.folds
    assert t_deep.total_cycles - t_wide.total_cycles == (F - 1) * (max(T, R * kpe) - max(T, R)) + R * kpe - R
    assert _unit(R * kpe, C, df, 1).compute(GemmShape(M, N, K)).macs == _unit(R, C, df, kpe).compute(
        GemmShape(M, N, K)).macs == M * N * K


@settings(max_examples=30, deadline=None)
@given(M=dims, N=dims, K=st.integers(1, 40), R=st.integers(1, 5), C=st.integers(1, 5), kpe=st.integers(2, 5),
       seed=st.integers(0, 2**31))
def test_os_k_mac_pes_stream_k_terms_a_cycle(M, N, K, R, C, kpe, seed):
    """os keeps one output a PE and takes K terms of each operand a cycle: T = ceil(K / kpe)."""
    rng = np.random.default_rng(seed)
    A, B = rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))
    run = simulate_python(A, B, R, C, "os", kpe=kpe)
    assert np.array_equal(run.out, A @ B)
    assert run.total_cycles == pipelined_cycles(M, N, K, R, C, "os", kpe).total_cycles \
        == pipelined_cycles(M, N, cdiv(K, kpe), R, C, "os").total_cycles


@settings(max_examples=25, deadline=None)
@given(M=dims, N=dims, K=st.integers(1, 40), R=st.integers(1, 5), C=st.integers(1, 5), kpe=st.integers(1, 4),
       df=st.sampled_from(["os", "ws", "is"]), batch=st.integers(1, 3))
def test_fast_equals_cycle(M, N, K, R, C, kpe, df, batch):
    u, g = _unit(R, C, df, kpe), GemmShape(M, N, K, batch)
    fast, cyc = u.compute(g, "fast"), u.compute(g, "cycle")
    assert fast.cycles == cyc.cycles and cyc.detail["output_matches_reference"]
    assert fast.sram_reads == cyc.sram_reads and fast.sram_writes == cyc.sram_writes
    total, longest = fold_issue_lower_bound(u.cfg, np.array([[M, N, K]]), g)
    assert total[0] <= fast.occupancy_cycles and longest[0] <= fast.occupancy_cycles


def test_compiled_twin_runs_k_mac_pes():
    rng = np.random.default_rng(7)
    A, B = rng.integers(-128, 128, (9, 50)), rng.integers(-128, 128, (50, 11))
    for df in ("os", "ws", "is"):
        a, b = simulate(A, B, 4, 3, df, kpe=4, record=True), simulate_python(A, B, 4, 3, df, kpe=4, record=True)
        assert np.array_equal(a.out, A @ B) and a.total_cycles == b.total_cycles
        assert all(np.array_equal(a.trace[k], b.trace[k]) for k in b.trace)


def test_peak_quanta_occupancy_and_sram():
    u = _unit(16, 16, "ws", 4)
    assert u.peak_macs_per_cycle == 1024 and u.tile_quanta() == (16, 16, 64)
    assert _unit(16, 16, "ws", 1).tile_quanta() == (16, 16)
    occ = u.spatial_use(GemmShape(8, 1000, 128))
    assert occ["rows_used"] == 16 and occ["mapping_efficiency"] == round(1000 / 1008, 6)
    assert occ["array"] == "16x16 ws, 4 MACs/PE"
    r = u.compute(GemmShape(8, 16, 200))          # 200 terms: 4 passes of 64 deep, 3 partial-sum readbacks
    assert r.sram_writes["ofmap"] == 8 * 16 * 4 and r.sram_reads["ofmap"] == 8 * 16 * 3
    os_occ = _unit(4, 4, "os", 3).spatial_use(GemmShape(4, 4, 7))
    assert os_occ["mapping_efficiency"] == round(7 / 9, 6) and "2 of a PE's 3 MACs idle" in os_occ["idle_reason"]


def test_scalesim_timing_refuses_k_mac_pes():
    cfg = {"name": "x", "clock": "1 GHz",
           "units": {"sa": {"kind": "systolic", "rows": 4, "cols": 4, "timing": "scalesim", "macs_per_pe": 4}}}
    with pytest.raises(ConfigError, match=r"units\.sa\.macs_per_pe.*SCALE-Sim"):
        load_config(cfg)
    cfg["units"]["sa"]["timing"] = "pipelined"
    assert load_config(cfg).units["sa"].macs_per_pe == 4


def test_cli_run_fast_equals_cycle_and_reports_the_k_mac_array(tmp_path):
    """End to end through the runner (mapper, tile events): fast and cycle agree on a K-MAC array, and
    a 32x32 array of 4-MAC PEs is never slower than 128 rows x 32 one-MAC PEs (same MACs, less skew)."""
    import json

    from archsim.cli import main

    cycles = {}
    for fid in ("fast", "cycle"):
        for key, val in (("rows", 128), ("macs_per_pe", 4)):
            out = tmp_path / f"{fid}_{key}.json"
            assert main(["run", "--gemm", "48x96x300", "--set", f"units.sa.{key}={val}", "--fidelity", fid,
                         "--json", str(out)]) == 0
            cycles[fid, key] = json.loads(out.read_text())["ops"][0]["cycles"]
    assert cycles["fast", "macs_per_pe"] == cycles["cycle", "macs_per_pe"]
    assert cycles["fast", "rows"] == cycles["cycle", "rows"]
    assert cycles["fast", "macs_per_pe"] <= cycles["fast", "rows"]
