"""SystolicArray as a ComputeUnit: both timings, both fidelities, batch, SRAM counts, energy."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archsim.units.systolic import SystolicConfig
from archsim.errors import WorkloadError
from archsim.units.base import GemmShape
from archsim.units.systolic import SystolicArray, physical_sram_counts, scalesim_cycles


def _unit(R=8, C=8, df="ws", timing="scalesim", energy=None, **kw):
    cfg = SystolicConfig(rows=R, cols=C, dataflow=df, timing=timing, **kw)
    return SystolicArray("sa", cfg, 1e9, energy)


class _Op:
    def __init__(self, kind):
        self.kind = kind


def test_supports_gemm_and_conv_only():
    u = _unit()
    assert u.supports(_Op("gemm")) and u.supports(_Op("conv"))
    assert not u.supports(_Op("softmax"))
    import dataflows.ir as ir
    assert u.supports(ir.gemm_op("q", 4, 4, 4)) and u.supports(ir.conv_op("c", 8, 8, 3, 3, 2, 4))
    softmax = ir.Op("sm", "softmax", "mn->mn", {"m": 4, "n": 4},
                    (ir.Operand("X", "activation", ("m", "n"), 16), ir.Operand("Y", "output", ("m", "n"), 16)))
    assert not u.supports(softmax)


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_scalesim_fast_equals_cycle(df):
    u = _unit(6, 5, df)
    g = GemmShape(11, 7, 13, batch=2)
    fast, cyc = u.compute(g), u.compute(g, "cycle")
    assert cyc.detail["output_matches_reference"] is True
    assert (fast.cycles, fast.folds, fast.sram_reads, fast.sram_writes) == \
        (cyc.cycles, cyc.folds, cyc.sram_reads, cyc.sram_writes)


def test_batch_multiplies_everything():
    u = _unit(8, 8, "os", energy={"mac": 0.5, "sram_byte": 2.0})
    one, three = u.compute(GemmShape(7, 5, 3)), u.compute(GemmShape(7, 5, 3, batch=3))
    t = scalesim_cycles(7, 5, 3, 8, 8, "os")
    assert one.cycles == t.compute_cycles
    assert three.cycles == 3 * t.folds * t.fold_cycles - 1     # folds stay serial across the batch
    assert three.occupancy_cycles is None                       # SCALE-Sim never overlaps (Q2)
    assert three.macs == 3 * one.macs and three.folds == 3 * one.folds
    assert three.sram_reads == {k: 3 * v for k, v in one.sram_reads.items()}
    assert three.sram_writes == {k: 3 * v for k, v in one.sram_writes.items()}
    assert three.energy_pj == pytest.approx({k: 3 * v for k, v in one.energy_pj.items()})


def test_energy_is_macs_plus_bytes_at_operand_widths():
    u = _unit(8, 8, "ws", energy={"mac": 0.25, "sram_byte": 1.5}, input_bits=8, weight_bits=4, acc_bits=32)
    r = u.compute(GemmShape(7, 5, 3))
    assert r.energy_pj["mac"] == pytest.approx(105 * 0.25)
    rd = r.sram_reads["ifmap"] * 1 + r.sram_reads["filter"] * 0.5 + r.sram_reads["ofmap"] * 4
    assert r.energy_pj["sram_read"] == pytest.approx(rd * 1.5)
    assert r.energy_pj["sram_write"] == pytest.approx(r.sram_writes["ofmap"] * 4 * 1.5)
    assert _unit().compute(GemmShape(7, 5, 3)).total_energy_pj == 0.0   # missing keys are 0


def _count_by_folds(M, N, K, R, C, df):
    """Walk the folds one by one and count what each one moves: an independent tally."""
    rd = {"ifmap": 0, "filter": 0, "ofmap": 0}
    wr = {"ofmap": 0}
    if df == "os":
        for m0 in range(0, M, R):
            for n0 in range(0, N, C):
                mr, nc = min(R, M - m0), min(C, N - n0)
                rd["ifmap"] += mr * K
                rd["filter"] += K * nc
                wr["ofmap"] += mr * nc
        return rd, wr
    cols_dim = N if df == "ws" else M
    for k0 in range(0, K, R):
        for c0 in range(0, cols_dim, C):
            kr, cc = min(R, K - k0), min(C, cols_dim - c0)
            stream = M if df == "ws" else N
            rd["ifmap" if df == "ws" else "filter"] += stream * kr
            rd["filter" if df == "ws" else "ifmap"] += kr * cc
            wr["ofmap"] += stream * cc
            if k0:
                rd["ofmap"] += stream * cc                     # partial sums read back
    return rd, wr


@settings(max_examples=80, deadline=None)
@given(M=st.integers(1, 40), N=st.integers(1, 40), K=st.integers(1, 40), R=st.integers(1, 9),
       C=st.integers(1, 9), df=st.sampled_from(["os", "ws", "is"]))
def test_physical_sram_counts_match_fold_walk(M, N, K, R, C, df):
    assert physical_sram_counts(M, N, K, R, C, df) == _count_by_folds(M, N, K, R, C, df)


def test_run_returns_real_product():
    u = _unit(4, 4, "is", acc_bits=16)
    rng = np.random.default_rng(3)
    A, B = rng.integers(-128, 128, (9, 6)), rng.integers(-128, 128, (6, 5))
    out, res = u.run(A, B)
    ref = (A @ B + 2**15) % 2**16 - 2**15
    assert np.array_equal(out, ref) and res.detail["output_matches_reference"]


def test_bad_fidelity_is_a_clear_error():
    with pytest.raises(WorkloadError, match="fidelity"):
        _unit().compute(GemmShape(2, 2, 2), "exact")


# -- pipelined timing -----------------------------------------------------------------------------
@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_pipelined_fast_equals_cycle(df):
    u = _unit(5, 4, df, timing="pipelined")
    g = GemmShape(9, 7, 11)
    fast, cyc = u.compute(g), u.compute(g, "cycle")
    assert cyc.detail["output_matches_reference"] is True
    assert fast.cycles == cyc.cycles
    assert (fast.sram_reads, fast.sram_writes) == _count_by_folds(9, 7, 11, 5, 4, df)
    assert fast.occupancy_cycles <= fast.cycles


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_pipelined_batch_is_more_folds_in_the_same_stream(df):
    """A batch of b GEMMs costs what one GEMM with b times the folds costs (shape stacked on a
    fold-aligned dimension), and occupies the array for b * folds * period."""
    from archsim.units.systolic import pipelined
    R, C, b = 4, 3, 3
    u = _unit(R, C, df, timing="pipelined")
    M, N, K = (8, 5, 7) if df == "os" else (5, 6, 7) if df == "ws" else (6, 5, 7)
    res = u.compute(GemmShape(M, N, K, batch=b))
    stacked = {"os": (b * M, N, K), "ws": (M, b * N, K), "is": (b * M, N, K)}[df]
    t = pipelined.pipelined_cycles(*stacked, R, C, df)
    assert res.cycles == t.total_cycles and res.folds == t.folds
    assert res.occupancy_cycles == t.folds * t.fold_period


@settings(max_examples=25, deadline=None)
@given(M=st.integers(1, 10), N=st.integers(1, 10), K=st.integers(1, 10), R=st.integers(1, 5),
       C=st.integers(1, 5), df=st.sampled_from(["os", "ws", "is"]), batch=st.integers(1, 3),
       timing=st.sampled_from(["scalesim", "pipelined"]))
def test_unit_fast_equals_cycle_random(M, N, K, R, C, df, batch, timing):
    u = _unit(R, C, df, timing=timing)
    g = GemmShape(M, N, K, batch)
    fast, cyc = u.compute(g), u.compute(g, "cycle")
    assert cyc.detail["output_matches_reference"] is True
    assert (fast.cycles, fast.folds, fast.sram_reads, fast.sram_writes, fast.utilization) == \
        (cyc.cycles, cyc.folds, cyc.sram_reads, cyc.sram_writes, cyc.utilization)


def test_float_operands_run_too():
    u = _unit(3, 3, "ws")
    A, B = np.linspace(-1, 1, 20).reshape(4, 5), np.linspace(0, 2, 15).reshape(5, 3)
    out, res = u.run(A, B)
    assert np.allclose(out, A @ B) and res.detail["output_matches_reference"]
