"""Bundled vision networks: published MAC and parameter counts (validation/cnn/published_counts.csv),
grouped and depthwise convolutions in the IR, network parameters from the CLI and their errors."""
import importlib.util
import json
from pathlib import Path

import pytest

from archsim.cli import main
from archsim.errors import WorkloadError
from dataflows.ir import conv_op
from dataflows.vision import NETWORKS, build_network

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("compare_counts", ROOT / "validation" / "cnn" / "compare_counts.py")
counts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(counts)
ROWS = counts.rows()


@pytest.mark.parametrize("row", [r for r in ROWS if r["rounding"] != "differs"],
                         ids=lambda r: f"{r['network']}-{r['params'] or 'default'}-{r['quantity']}-{r['convention']}")
def test_published_counts_are_reproduced(row):
    assert counts.agrees(row, counts.ours(row)), (row, counts.ours(row))


def test_every_network_has_published_macs_and_params():
    for name in NETWORKS:
        got = {r["quantity"] for r in ROWS if r["network"] == name and r["rounding"] in ("exact", "nearest")}
        assert got & {"macs", "flops"} and "params" in got, name


def test_the_checker_can_fail():
    row = dict(ROWS[0], published="570")           # 568.74 M does not round to 570
    assert counts.agrees(row, counts.ours(row)) is False
    assert counts.agrees(dict(row, rounding="down", published="568"), 568_740_352)
    assert not counts.agrees(dict(row, rounding="down", published="569"), 568_740_352)


def test_grouped_and_depthwise_convs_are_batched_gemms():
    dw = conv_op("dw", 112, 112, 3, 3, 32, 32, 1, 1, groups=32)
    g = dw.as_gemm()
    assert (g.batch, g.M, g.N, g.K) == (32, 112 * 112, 1, 9) and "depthwise" in dw.tags
    assert dw.macs == 112 * 112 * 9 * 32 and dw.bytes_by_role["weight"] == 9 * 32
    grp = conv_op("g", 8, 8, 3, 3, 8, 16, groups=4, pad=1)
    assert (grp.as_gemm().batch, grp.as_gemm().N, grp.as_gemm().K) == (4, 4, 18) and grp.tags == ("grouped",)
    dil = conv_op("d", 16, 16, 3, 3, 4, 4, dilation=2, pad=2)
    assert (dil.dims["p"], dil.dims["q"]) == (16, 16)
    with pytest.raises(WorkloadError, match="groups=3 must divide C=8"):
        conv_op("bad", 8, 8, 3, 3, 8, 16, groups=3)


def test_network_parameters_and_errors():
    assert build_network("mobilenet-v1", width="0.5").macs == 149_497_088   # CLI strings are coerced
    assert build_network("resnet-50", batch=2).graph.ops[0].dims["n"] == 2
    with pytest.raises(WorkloadError, match=r"unknown parameter\(s\) \['depth'\]; parameters: width"):
        build_network("mobilenet-v1", depth=2)
    with pytest.raises(WorkloadError, match="width must be positive"):
        build_network("mobilenet-v1", width=0)
    with pytest.raises(WorkloadError, match="resolution='big' is not a int"):
        build_network("resnet-18", resolution="big")
    with pytest.raises(WorkloadError, match="did you mean 'mobilenet-v2'"):
        build_network("mobilenet-v4")


def test_cli_runs_a_network_with_parameters(capsys):
    assert main(["run", "--model", "mobilenet-v1", "--set", "workload.width=0.5", "--json", "-"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["totals"]["macs"] == 149_497_088
    dw = [op for op in rep["ops"] if "_dw" in op["name"]]
    assert len(dw) == 13 and all(op["unit"] == "sa" for op in dw)
    assert main(["run", "--model", "mobilenet-v1", "--set", "workload.depth=2"]) == 2
    assert "unknown key(s) ['depth']" in capsys.readouterr().err


def test_run_accepts_batched_gemm(capsys):
    assert main(["run", "--gemm", "4x8x16x32", "--json", "-"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["totals"]["macs"] == 4 * 8 * 16 * 32 and rep["ops"][0]["name"] == "gemm0_4x8x16x32"


def test_model_command_prints_a_network(capsys):
    assert main(["model", "mobilenet-v1", "--param", "width=0.5", "--json", "-"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["totals"]["macs"] == 149_497_088 and s["totals"]["params"] == 1_320_648
    assert [la["type"] for la in s["layers"][:3]] == ["conv", "depthwise", "pointwise"]
    assert main(["model", "resnet-50"]) == 0
    assert "25,557,032 (+ batch-norm scale and shift)" in capsys.readouterr().out
    assert main(["model", "--list"]) == 0 and "imdn" in capsys.readouterr().out
    assert main(["model", "imdn", "--param", "scale=5x"]) == 2
