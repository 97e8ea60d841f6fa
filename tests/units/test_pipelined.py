"""The pipelined array's register-level model against numpy and against its own closed form."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archsim.units.systolic.pipelined import pipelined_cycles, simulate, wrap

dims = st.integers(1, 13)
arr = st.integers(1, 6)


@settings(max_examples=60, deadline=None)
@given(M=dims, N=dims, K=dims, R=arr, C=arr, df=st.sampled_from(["os", "ws", "is"]),
       seed=st.integers(0, 2**32 - 1))
def test_simulate_matches_numpy_and_closed_form(M, N, K, R, C, df, seed):
    rng = np.random.default_rng(seed)
    A = rng.integers(-128, 128, (M, K))
    B = rng.integers(-128, 128, (K, N))
    run = simulate(A, B, R, C, df)
    t = pipelined_cycles(M, N, K, R, C, df)
    assert np.array_equal(run.out, A @ B)
    assert run.total_cycles == t.total_cycles
    assert run.fold_end_cycles == t.fold_end_cycles
    assert len(run.fold_end_cycles) == t.folds


def test_hand_computed_os_and_ws():
    # os 2x3 array, 5x7x4: folds = ceil(5/2)*ceil(7/3) = 9, P = max(4, 2) = 4,
    # latency = K + 2R + C - 2 = 4 + 4 + 3 - 2 = 9, total = 8*4 + 9 + 1 = 42
    t = pipelined_cycles(5, 7, 4, 2, 3, "os")
    assert (t.folds, t.fold_period, t.total_cycles) == (9, 4, 42)
    # ws 4x4, M=2 streamed, K=9 on rows: folds = 3*1, P = max(2, 4) = 4, latency = 2+4+4-1 = 9
    t = pipelined_cycles(2, 3, 9, 4, 4, "ws")
    assert (t.folds, t.fold_period, t.total_cycles) == (3, 4, 2 * 4 + 9 + 1)
    assert pipelined_cycles(3, 5, 7, 2, 2, "is") == pipelined_cycles(5, 3, 7, 2, 2, "ws")


def test_fold_period_hides_reload_and_drain():
    # streaming longer than R: folds follow back to back, one per T cycles
    t = pipelined_cycles(64, 8, 100, 8, 8, "ws")
    assert t.fold_period == 64 and t.total_cycles - t.fold_end(0) - 1 == (t.folds - 1) * 64


def test_huge_fold_count_is_cheap():
    t = pipelined_cycles(1, 4096 * 64, 4096 * 64, 1, 1, "os")
    assert t.folds == 4096 * 64 and t.fold_end_cycles == ()
    assert t.fold_end(t.folds - 1) + 1 == t.total_cycles


def test_accumulator_wraps_like_the_register():
    A = np.full((1, 4), 127)
    B = np.full((4, 1), 127)
    run = simulate(A, B, 2, 2, "os", acc_bits=16)
    assert run.out[0, 0] == wrap(np.array(4 * 127 * 127), 16) == 4 * 127 * 127 - 65536


def test_trace_shapes_and_done():
    A = np.arange(6).reshape(2, 3)
    B = np.arange(12).reshape(3, 4)
    run = simulate(A, B, 2, 3, "ws", record=True)
    tr = run.trace
    assert tr["acc"].shape == (run.total_cycles + 1, 2, 3)
    assert tr["done"][-1] and not tr["done"][:-1].any()
    assert tr["valid"].sum() == 4 * 2 * (2 * 3)  # 4 folds x T=2 valid elements x 6 PEs


@pytest.mark.parametrize("bad", [dict(M=0), dict(R=-1)])
def test_rejects_bad_dims(bad):
    kw = dict(M=2, N=2, K=2, R=2, C=2) | bad
    with pytest.raises(ValueError):
        pipelined_cycles(**kw, dataflow="os")
