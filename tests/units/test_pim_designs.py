"""Design-specific mechanisms of the bundled PIM designs: Duplex's wider TSVs."""
from pathlib import Path

import pytest

import archsim
from archsim.errors import ArchsimError
from archsim.units.pim.kernels import gemv, run_kernel
from memory.dram.spec import load_spec

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "pim"


def duplex():
    d = archsim.load_config(str(CONFIGS / "duplex.yaml"))
    off = d.memory.offchip
    return d.units["pim"], load_spec(off.standard, off.timing), off.channels


@pytest.mark.parametrize("fidelity,refresh,tol", [("fast", "all_bank", 0.01), ("cycle", "none", 0.05)])
def test_duplex_logic_die_is_fed_at_its_tsv_bandwidth(fidelity, refresh, tol):
    """tsv_width 4 (validation/pim/design_figures.csv): the logic die reads each pseudo-channel 4x faster than
    through its data bus, so a memory-bound GEMV takes a quarter of the time; the energy per byte is kept.
    (cycle without refresh: on a run this short, whether a refresh falls inside it would dominate the ratio.)"""
    cfg, spec, ch = duplex()
    assert cfg.tsv_width == 4
    op = gemv(1024, 4096)
    wide = run_kernel(cfg, spec, ch, op, fidelity, refresh)
    narrow = run_kernel(cfg.model_copy(update={"tsv_width": 1}), spec, ch, op, fidelity, refresh)
    assert narrow.detail["dram_cycles"] / wide.detail["dram_cycles"] == pytest.approx(4, rel=tol)
    assert wide.energy_pj["RD"] == pytest.approx(narrow.energy_pj["RD"], rel=1e-9)


def test_tsv_width_needs_a_logic_die_unit():
    raw = archsim.load_config(str(CONFIGS / "neupims.yaml")).model_dump(mode="json")
    raw["units"]["pim"]["tsv_width"] = 4
    with pytest.raises(ArchsimError, match=r"tsv_width: 4 widens the TSVs to a logic-die unit; unit_scope is 'bank'"):
        archsim.load_config(raw)
