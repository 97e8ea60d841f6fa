"""Operand widths are real: wider operands than the PEs take run as native passes (cycles and MAC
energy x passes) or are refused; --bits accepts only what the design can run."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import archsim
from archsim.cli import main
from archsim.errors import WorkloadError
from archsim.units.widths import decompose, native_mac_pj

ROOT = Path(__file__).resolve().parents[2]
PIN = {"mapper.constraints": [{"tile": {"M": 128, "N": 128, "K": 128}, "loop_order": "mnk"}]}


def _op(bits: int, **over) -> dict:
    design = archsim.load_config("configs/default.yaml", overrides={**PIN, **over})
    return archsim.run(design, {"gemm": ["256x256x256"], "bits": bits}).ops[0]


def test_sixteen_bit_gemm_on_an_eight_bit_array_costs_four_passes(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    eight, sixteen = _op(8), _op(16)
    assert eight["mapping"] == sixteen["mapping"]
    assert sixteen["energy_breakdown_pj"]["unit.mac"] == pytest.approx(4 * eight["energy_breakdown_pj"]["unit.mac"])
    assert sixteen["compute_cycles"] >= 3.9 * eight["compute_cycles"]       # 4 passes, one drain tail
    assert sixteen["cycles"] > 3 * eight["cycles"]
    assert sixteen["macs"] == eight["macs"]
    native16 = _op(16, **{"units.sa.input_bits": 16, "units.sa.weight_bits": 16})
    assert native16["compute_cycles"] == eight["compute_cycles"]            # a 16-bit array: one pass


def test_widths_a_design_cannot_run_are_refused():
    assert decompose("sa", (8, 8, 32), 8, 8, "refuse").passes == 1
    assert decompose("sa", (8, 8, 32), 4, 8, "refuse").passes == 1         # narrower runs natively
    assert decompose("sa", (8, 8, 32), 16, 8, "multipass").passes == 2
    with pytest.raises(WorkloadError, match="refuses wider"):
        decompose("sa", (8, 8, 32), 16, 16, "refuse")
    with pytest.raises(WorkloadError, match="64-bit accumulator"):
        decompose("sa", (8, 8, 32), 32, 32, "multipass")


def test_bits_accepts_only_runnable_widths(capsys):
    assert main(["run", "--gemm", "64x64x64", "--bits", "32"]) == 2
    err = capsys.readouterr().err
    assert "acc_bits 32" in err and len(err.strip().splitlines()) == 1
    assert main(["run", "--gemm", "64x64x64", "--bits", "16", "--set", "units.sa.wide_operands=refuse"]) == 2
    assert "refuses wider" in capsys.readouterr().err
    assert main(["run", "--gemm", "64x64x64", "--bits", "16"]) == 0


def test_decomposition_energy_beside_a_datapath_built_for_the_width():
    """Passes x the native MAC against Horowitz's 45 nm multiply/add table through the width: never
    cheaper than the wide datapath (same partial products), at most 50% dearer (more accumulation)."""
    assert native_mac_pj(8, 8, 8) == pytest.approx(0.23) and native_mac_pj(32, 32, 32) == pytest.approx(3.2)
    spec = importlib.util.spec_from_file_location("widths_compare", ROOT / "validation/widths/compare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for r in mod.rows():
        assert 1.0 <= r["ratio"] <= 1.5, r
