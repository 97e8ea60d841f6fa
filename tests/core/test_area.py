"""The area model: sourced 45 nm figures, per unit and SRAM buffer, in run's report and as a sweep metric."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import yaml

import archsim
from archsim.area import INT_UM2, REG_UM2_PER_BIT, design_area, int_mac_um2, sram_um2, systolic_um2
from archsim.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_table_points_and_scaling():
    assert int_mac_um2(8, 8, 8) == pytest.approx(INT_UM2["mult"][8] + INT_UM2["add"][8])
    assert int_mac_um2(32, 32, 32) == pytest.approx(3495 + 137)
    assert sram_um2(16 * 2**20) == pytest.approx(9.42e7)                  # the source's own buffer
    small, big = (sum(systolic_um2(n, n, 8, 8, 32).values()) for n in (16, 32))
    assert 4 <= big / small < 4.2            # PEs grow as n^2, skew registers slightly faster
    wide = sum(systolic_um2(16, 16, 16, 16, 32).values())
    assert wide > 1.5 * small                # 16-bit multipliers (3.5x) and registers


def test_multi_mac_pes_cost_multipliers_not_whole_pes():
    """16x16 PEs of 4 MACs (Cambricon-LLM's NPU): the same multipliers as 16 x 64 one-MAC PEs, but
    3 narrow adders instead of 3 accumulators and partial-sum registers, and 16-deep skew lines."""
    one, four, wide = (systolic_um2(16, c, 8, 8, 32, k) for c, k in ((16, 1), (16, 4), (64, 1)))
    assert one == systolic_um2(16, 16, 8, 8, 32)
    assert sum(one.values()) < sum(four.values()) < sum(wide.values())
    add16 = INT_UM2["add"][8] * 2 ** (math.log(137 / 36) / math.log(4))    # the power law at 16 bits
    per_pe = 3 * (INT_UM2["mult"][8] + add16 + REG_UM2_PER_BIT * 16)        # 3 more MACs, inputs, weights
    assert four["pes"] - one["pes"] == pytest.approx(256 * per_pe)
    assert four["skew"] - one["skew"] == pytest.approx(REG_UM2_PER_BIT * 120 * 8 * 3)


def test_run_reports_area_per_unit_and_total():
    design = archsim.load_config("configs/default.yaml")
    rep = archsim.run(design, {"gemm": ["64x64x64"]})
    area = rep.to_dict()["area"]
    assert area["node_nm"] == 45 and set(area["units_mm2"]) == {"sa", "vec"}
    assert area["total_mm2"] == pytest.approx(sum(area["units_mm2"].values()) + sum(area["sram_mm2"].values()))
    assert rep.totals["area_mm2"] == area["total_mm2"]
    bigger = design_area(archsim.load_config("configs/default.yaml", overrides={"units.sa.rows": 64}))
    assert bigger.units["sa"] > 1.9 * area["units_mm2"]["sa"]
    more_sram = design_area(archsim.load_config("configs/default.yaml",
                                                overrides={"memory.sram.ifmap.capacity": "2 MiB"}))
    assert more_sram.sram["ifmap"] == pytest.approx(4 * area["sram_mm2"]["ifmap"])


def test_area_is_a_sweep_metric(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    spec = {"name": "a", "base": str(ROOT / "configs/default.yaml"), "workloads": [{"gemm": ["64x64x64"]}],
            "axes": [{"grid": {"units.sa.rows": [8, 32]}}]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    db = tmp_path / "r.sqlite"
    assert main(["sweep", str(tmp_path / "s.yaml"), "--db", str(db), "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["results", str(db), "--columns", "area_mm2,macs_per_s_per_mm2,time_ns", "--sort", "area_mm2"]) == 0
    out = capsys.readouterr().out
    assert "area_mm2" in out or "area" in out


def test_beside_tpu_v1_floor_plan():
    """Datapath and storage only, so below the published floor-plan blocks, by less than 2x."""
    spec = importlib.util.spec_from_file_location("area_compare", ROOT / "validation/area/compare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for r in mod.rows():
        assert 0.5 <= r["ratio"] <= 1.0, r
