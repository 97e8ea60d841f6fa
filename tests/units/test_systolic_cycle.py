"""The register-level array: real products, and cycle counts equal to the closed form."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archsim.units.systolic import (conv_to_gemm, depthwise_to_gemms, im2col, scalesim_cycles,
                                    simulate_scalesim, wrap_signed)

dims = st.integers(1, 12)


@settings(max_examples=60, deadline=None)
@given(M=dims, N=dims, K=dims, R=st.integers(1, 6), C=st.integers(1, 6),
       df=st.sampled_from(["os", "ws", "is"]), seed=st.integers(0, 2**31), acc=st.sampled_from([8, 16, 32]))
def test_cycle_model_matches_closed_form_and_product(M, N, K, R, C, df, seed, acc):
    rng = np.random.default_rng(seed)
    A = rng.integers(-128, 128, (M, K))
    B = rng.integers(-128, 128, (K, N))
    run = simulate_scalesim(A, B, R, C, df, acc_bits=acc)
    t = scalesim_cycles(M, N, K, R, C, df)
    assert run.compute_cycles == t.compute_cycles
    assert len(run.fold_cycles) == t.folds and set(run.fold_cycles) == {t.fold_cycles}
    assert np.array_equal(run.out, wrap_signed(A.astype(np.int64) @ B.astype(np.int64), acc))


def test_wrap_signed_is_twos_complement():
    x = np.array([127, 128, 255, 256, -129, -128], dtype=np.int64)
    assert wrap_signed(x, 8).tolist() == [127, -128, -1, 0, 127, -128]


def _direct_conv(x, w, stride, pad):
    """Plain loops over output pixels: the reference im2col must reproduce."""
    H, W, C = x.shape
    R, S, _, F = w.shape
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    eh, ew = (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1
    out = np.zeros((eh, ew, F), dtype=np.int64)
    for i in range(eh):
        for j in range(ew):
            patch = xp[i * stride:i * stride + R, j * stride:j * stride + S, :]
            out[i, j] = np.tensordot(patch, w, axes=([0, 1, 2], [0, 1, 2]))
    return out


@settings(max_examples=30, deadline=None)
@given(H=st.integers(3, 9), W=st.integers(3, 9), R=st.integers(1, 3), S=st.integers(1, 3),
       C=st.integers(1, 3), F=st.integers(1, 4), stride=st.integers(1, 3), pad=st.integers(0, 2),
       seed=st.integers(0, 1000))
def test_im2col_equals_direct_convolution(H, W, R, S, C, F, stride, pad, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-8, 8, (H, W, C))
    w = rng.integers(-8, 8, (R, S, C, F))
    cols = im2col(x, R, S, stride, pad)
    g = conv_to_gemm(H, W, R, S, C, F, stride, pad)
    assert cols.shape == (g.M, g.K)
    ref = _direct_conv(x, w, stride, pad)
    assert np.array_equal(cols @ w.reshape(-1, F), ref.reshape(-1, F))


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_cycle_model_runs_a_real_convolution(df):
    rng = np.random.default_rng(7)
    x = rng.integers(-8, 8, (7, 6, 3))
    w = rng.integers(-8, 8, (3, 3, 3, 5))
    run = simulate_scalesim(im2col(x, 3, 3, 2, 1), w.reshape(-1, 5), 4, 4, df)
    assert np.array_equal(run.out, _direct_conv(x, w, 2, 1).reshape(-1, 5))
    g = conv_to_gemm(7, 6, 3, 3, 3, 5, 2, 1)
    assert run.compute_cycles == scalesim_cycles(g.M, g.N, g.K, 4, 4, df).compute_cycles


def test_scalesim_output_size_quirk():
    # Q4: ceil((H-R+s)/s) is one more than PyTorch when (H-R) mod s != 0
    assert conv_to_gemm(224, 224, 7, 7, 3, 64, 2, convention="scalesim").M == 110 * 110
    assert conv_to_gemm(224, 224, 7, 7, 3, 64, 2).M == 109 * 109
    assert conv_to_gemm(230, 230, 7, 7, 3, 64, 2, convention="scalesim").M == 113 * 113
    assert conv_to_gemm(224, 224, 7, 7, 3, 64, 2, pad=3).M == 112 * 112
    # the extra edge row/column reads zeros beyond the input
    x = np.ones((5, 5, 1), dtype=np.int64)
    cols = im2col(x, 2, 2, 2, convention="scalesim")
    assert cols.shape == (9, 4) and cols[-1].tolist() == [1, 0, 0, 0]


def test_depthwise_split():
    sc = depthwise_to_gemms(14, 14, 3, 3, 8, 8, 1, convention="scalesim")
    assert len(sc) == 8 and all((g.N, g.K) == (8, 9) for g in sc)
    ex = depthwise_to_gemms(14, 14, 3, 3, 8, 16, 1, pad=1)
    assert len(ex) == 8 and all((g.M, g.N, g.K) == (196, 2, 9) for g in ex)


@pytest.mark.parametrize("timing", ["scalesim", "pipelined"])
def test_unit_runs_a_real_convolution(timing):
    from archsim.units.systolic import SystolicConfig
    from archsim.units.systolic import SystolicArray

    u = SystolicArray("sa", SystolicConfig(rows=4, cols=3, dataflow="ws", timing=timing), 1e9)
    rng = np.random.default_rng(5)
    x, w = rng.integers(-8, 8, (6, 7, 2)), rng.integers(-8, 8, (3, 2, 2, 4))
    out, res = u.run_conv(x, w, stride=2, pad=1)
    assert np.array_equal(out, _direct_conv(x, w, 2, 1))
    assert res.macs == out.shape[0] * out.shape[1] * 4 * 3 * 2 * 2
