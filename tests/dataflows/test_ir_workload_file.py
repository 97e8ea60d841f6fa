"""The YAML workload-file format for stand-alone GEMM and conv ops."""
from __future__ import annotations

import pytest

from archsim.errors import ArchsimError, WorkloadError
from archsim.units.base import GemmShape
from dataflows.ir import load_workload as ir_load_workload
from dataflows.workload_file import load_workload, parse_gemm


def _write(tmp_path, text):
    p = tmp_path / "w.yaml"
    p.write_text(text)
    return p


def test_loads_gemm_and_conv_ops_in_order(tmp_path):
    p = _write(tmp_path, "bits: 4\nops:\n  - {name: fc, gemm: 64x128x256}\n"
                         "  - name: c\n    conv: {H: 8, W: 8, R: 3, S: 3, C: 16, F: 32, pad: 1}\n    count: 2\n")
    g = load_workload(p)
    assert [o.name for o in g] == ["fc", "c"] and g.deps("c") == ["fc"]
    assert g["fc"].as_gemm() == GemmShape(64, 128, 256) and g["fc"].operands[0].bits == 4
    assert g["c"].as_gemm() == GemmShape(64, 32, 144) and g["c"].count == 2
    assert [o.name for o in ir_load_workload(p)] == ["fc", "c"]     # the re-export archsim/workload.py uses


@pytest.mark.parametrize("text, where", [
    ("ops:\n  - {name: a, gemm: 64x128}\n", ":2: ops[0].gemm"),
    ("ops:\n  - {name: a, gemm: 1x1x1}\n  - {name: b, conv: {H: 4, W: 4, R: 3, S: 3, C: 1}}\n",
     ":3: ops[1].conv: missing key 'F'"),
    ("ops:\n  - {name: a, gemm: 1x1x1, conv: {}}\n", "exactly one of"),
    ("ops:\n  - {name: a, gemm: 1x1x1, cnt: 2}\n", "unknown key 'cnt'"),
    ("ops:\n  - {name: a, gemm: 1x1x1}\n  - {name: a, gemm: 1x1x1}\n", ":3: ops[1]: duplicate op name"),
    ("opz: []\n", "'ops' list"),
    ("ops: []\n", "non-empty list"),
    ("ops:\n  - {name: c, conv: {H: 4, W: 4, R: 3, S: 3, C: 1, F: 1, stride: 0}}\n", "stride"),
])
def test_errors_name_the_line_and_key(tmp_path, text, where):
    with pytest.raises(ArchsimError, match=where.replace("[", r"\[").replace("]", r"\]")):
        load_workload(_write(tmp_path, text))


def test_parse_gemm():
    assert parse_gemm("3x4X5") == (3, 4, 5)
    with pytest.raises(WorkloadError, match="MxNxK"):
        parse_gemm("3x0x5")
