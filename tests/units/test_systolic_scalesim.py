"""The scalesim closed form against SCALE-Sim v3's own numbers (no SCALE-Sim needed)."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from archsim.units.systolic import conv_to_gemm, scalesim_cycles

CASES = Path(__file__).resolve().parents[2] / "validation" / "scalesim"


def _rows(name: str) -> list[dict[str, str]]:
    with open(CASES / name, newline="") as f:
        return list(csv.DictReader(f))


def _shape(r: dict[str, str]) -> tuple[int, int, int]:
    if r["kind"] == "conv":    # rebuild the GEMM from the conv parameters, SCALE-Sim's convention
        g = conv_to_gemm(*(int(r[f"conv_{k}"]) for k in "HWRSCF"), stride=int(r["conv_stride"]),
                         convention="scalesim")
        assert (g.M, g.N, g.K) == (int(r["M"]), int(r["N"]), int(r["K"]))
        return g.M, g.N, g.K
    return int(r["M"]), int(r["N"]), int(r["K"])


@pytest.mark.parametrize("row", _rows("cases.csv"), ids=lambda r: r["case_id"].split("|1024")[0])
def test_public_case_exact(row):
    t = scalesim_cycles(*_shape(row), int(row["rows"]), int(row["cols"]), row["dataflow"])
    assert t.compute_cycles == int(row["compute_cycles"])
    assert math.isclose(t.overall_util_pct, float(row["overall_util_pct"]), rel_tol=1e-12)
    assert math.isclose(t.mapping_eff_pct, float(row["mapping_eff_pct"]), rel_tol=1e-12)
    assert t.sram_ifmap_reads == int(row["sram_ifmap_reads"])
    assert t.sram_filter_reads == int(row["sram_filter_reads"])
    assert t.sram_ofmap_writes == int(row["sram_ofmap_writes"])


@pytest.mark.parametrize("row", _rows("representative.csv"), ids=lambda r: r["case_id"])
def test_held_out_representative_rows(row):
    t = scalesim_cycles(*_shape(row), int(row["rows"]), int(row["cols"]), row["dataflow"])
    assert t.compute_cycles == int(row["compute_cycles"])
    assert round(t.overall_util_pct, 2) == pytest.approx(float(row["overall_util_pct"]), abs=0.006)
    assert round(t.mapping_eff_pct, 2) == pytest.approx(float(row["mapping_eff_pct"]), abs=0.006)


def test_is_equals_ws_transposed():
    for M, N, K in [(7, 5, 3), (33, 17, 9), (1, 4096, 11008)]:
        a = scalesim_cycles(M, N, K, 16, 64, "is")
        b = scalesim_cycles(N, M, K, 16, 64, "ws")
        assert a.compute_cycles == b.compute_cycles


def test_rejects_bad_dims():
    with pytest.raises(ValueError):
        scalesim_cycles(0, 1, 1, 8, 8, "os")
    with pytest.raises(ValueError):
        scalesim_cycles(1, 1, 1, 8, 8, "xs")


def _live_rows():
    return _rows("live_cases.csv")


@pytest.mark.parametrize("row", _live_rows(), ids=lambda r: f"{r['case_id']}-{r['layer']}")
def test_random_held_out_live_case_exact(row):
    """Random shapes (GEMM, strided and depthwise conv) recorded from SCALE-Sim 3.0.0 run live."""
    from archsim.frontends.scalesim import conv_layers

    if row["kind"] == "conv":
        layers = conv_layers(row["name"], *(int(row[f"conv_{k}"]) for k in
                                            ("H", "W", "R", "S", "C", "F", "stride")))
        g = layers[int(row["layer"])].gemm
        M, N, K = g.M, g.N, g.K
    else:
        M, N, K = int(row["M"]), int(row["N"]), int(row["K"])
    t = scalesim_cycles(M, N, K, int(row["rows"]), int(row["cols"]), row["dataflow"])
    assert t.compute_cycles == int(row["compute_cycles"])
    for k in ("overall_util_pct", "mapping_eff_pct", "compute_util_pct"):
        assert math.isclose(getattr(t, k), float(row[k]), rel_tol=1e-9), k
    for k in ("sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes"):
        assert getattr(t, k) == int(row[k]), k


def test_live_cases_cover_every_dataflow_and_depthwise():
    rows = _live_rows()
    assert {r["dataflow"] for r in rows} == {"os", "ws", "is"}
    assert any("DP" in r["name"] for r in rows) and any(int(r["conv_stride"] or 1) > 1 for r in rows)
