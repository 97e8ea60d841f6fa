"""The compiled register model (archsim/units/systolic/csrc/pipelined.c) against the Python one:
outputs, cycle counts, fold ends and every recorded per-PE register, bit for bit."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim import native_build
from archsim.units.systolic import native
from archsim.units.systolic.pipelined import simulate, simulate_python

HAVE_CC = native_build.compiler() is not None
needs_cc = pytest.mark.skipif(not HAVE_CC, reason="no C compiler (cc/gcc) on PATH")


def _same(a, b):
    assert np.array_equal(a.out, b.out) and a.out.dtype == b.out.dtype
    assert a.total_cycles == b.total_cycles and a.fold_end_cycles == b.fold_end_cycles
    assert (a.trace is None) == (b.trace is None)
    for k in b.trace or {}:
        assert a.trace[k].dtype == b.trace[k].dtype and np.array_equal(a.trace[k], b.trace[k]), k


@needs_cc
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(M=st.integers(1, 20), N=st.integers(1, 20), K=st.integers(1, 20), R=st.integers(1, 7),
       C=st.integers(1, 7), df=st.sampled_from(["os", "ws", "is"]), bits=st.sampled_from([8, 16, 32, 64]),
       wide=st.booleans(), record=st.booleans(), seed=st.integers(0, 2**32 - 1), kpe=st.sampled_from([1, 1, 2, 3, 4]))
def test_compiled_equals_python(monkeypatch, M, N, K, R, C, df, bits, wide, record, seed, kpe):
    monkeypatch.setenv("ARCHSIM_NATIVE", "1")
    rng = np.random.default_rng(seed)
    lim = 2**31 if wide else 128          # wide operands overflow int64 products: both wrap alike
    A = rng.integers(-lim, lim, (M, K))
    B = rng.integers(-lim, lim, (K, N))
    _same(simulate(A, B, R, C, df, bits, record, kpe), simulate_python(A, B, R, C, df, bits, record, kpe))


@needs_cc
@pytest.mark.parametrize("df,M,N,K,kpe", [("ws", 3, 40, 70, 1), ("ws", 40, 9, 33, 1), ("os", 37, 21, 19, 1),
                                          ("is", 5, 30, 17, 1), ("ws", 3, 40, 70, 4), ("os", 37, 21, 19, 3)])
def test_compiled_equals_python_on_larger_arrays(monkeypatch, df, M, N, K, kpe):
    """Streams shorter and longer than the array (ws skips PEs on invalid diagonals: T < R)."""
    monkeypatch.setenv("ARCHSIM_NATIVE", "1")
    rng = np.random.default_rng([M, N, K])
    A, B = rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))
    _same(simulate(A, B, 16, 12, df, 32, True, kpe), simulate_python(A, B, 16, 12, df, 32, True, kpe))


def test_native_off_runs_the_python_model(monkeypatch):
    monkeypatch.setenv("ARCHSIM_NATIVE", "0")
    assert native.library() is None
    calls = []
    monkeypatch.setattr(native, "run", lambda *a, **k: calls.append(a))
    A = np.arange(6).reshape(2, 3)
    B = np.arange(12).reshape(3, 4)
    assert np.array_equal(simulate(A, B, 2, 2, "ws").out, A @ B) and not calls
