"""Design-specific mechanisms of the bundled PIM designs: Duplex's wider TSVs."""
from pathlib import Path

import pytest

import archsim
from archsim.errors import ArchsimError
from archsim.units.pim.kernels import gemv, run_kernel
from memory.dram.spec import load_spec

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "pim"


def design_fp16_npu(name: str) -> dict:
    """The design with its NPU computing FP16 natively (the bundled NPUs are INT8 arrays, which run an FP16
    GEMM as 4 passes and so barely load the memory): the NPU then reads as fast as an LLM accelerator's."""
    raw = archsim.load_config(str(CONFIGS / f"{name}.yaml")).model_dump(mode="json")
    raw["units"]["npu"].update(input_bits=16, weight_bits=16)
    return raw


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


def test_neupims_dual_row_buffers_cut_the_contention():
    """A PIM GEMV beside an NPU GEMM on NeuPIMs' banks in cycle: with one row buffer per bank they take turns
    at row granularity (the host waits for banks whose row the PIM holds, and its ACT/PRE close the PIM's
    rows, which the stream reopens); with two, only bank timing and the command bus are shared."""
    raw = design_fp16_npu("neupims")
    assert raw["units"]["pim"]["row_buffers"] == 2
    wl = {"gemm": ["1x1024x2048", "16x512x1024"], "bits": 16}
    runs = {}
    for rb in (1, 2):
        raw["units"]["pim"]["row_buffers"] = rb
        runs[rb] = archsim.run(archsim.load_config(raw), wl, fidelity="cycle")
    (pim1, npu1), (pim2, npu2) = runs[1].ops, runs[2].ops
    assert (pim1["unit"], npu1["unit"]) == ("pim", "npu") and pim1["start_ns"] == npu1["start_ns"] == 0
    assert pim2["time_ns"] < 0.85 * pim1["time_ns"]              # measured 2,614 vs 3,482 ns
    assert npu2["time_ns"] <= npu1["time_ns"]
    assert runs[2].makespan_ns <= runs[1].makespan_ns
    alone = archsim.run(archsim.load_config(raw), {"gemm": ["1x1024x2048"], "bits": 16}, fidelity="cycle").ops[0]
    assert pim2["time_ns"] > alone["time_ns"]                      # still sharing the bus and bank timing


@pytest.mark.parametrize("name", ["hbm_pim", "aim_gddr6"])
def test_fast_pim_beside_the_npu_takes_its_bank_time_from_it(name):
    """fast (archsim/concurrency.py): the PIM op asks for the port's rate while it holds the banks
    (detail.memory_busy_ps), so beside an NPU GEMM both slow by the same factor. Held to cycle: the makespan
    within 15%, the NPU's time within 20% (measured 0.86-1.05 and 1.02-1.16 on hbm_pim, aim_gddr6, neupims);
    cycle gives queued host requests priority between the PIM's rows, so there the PIM absorbs more of it."""
    d = archsim.load_config(design_fp16_npu(name))
    wl = {"gemm": ["1x1024x2048", "16x512x1024"], "bits": 16}
    fast, cyc = archsim.run(d, wl, fidelity="fast"), archsim.run(d, wl, fidelity="cycle")
    (pim, npu), (pim_c, npu_c) = fast.ops, cyc.ops
    assert (pim["unit"], npu["unit"]) == ("pim", "npu")
    busy = pim["detail"]["memory_busy_ps"] / 1000
    assert 0 < busy <= pim["alone_ns"]
    assert npu["alone_ns"] < npu["time_ns"] <= npu["alone_ns"] + busy       # slowed, by at most the bank time
    assert fast.makespan_ns / cyc.makespan_ns == pytest.approx(1, abs=0.15)
    assert npu["time_ns"] / npu_c["time_ns"] == pytest.approx(1, abs=0.20)
    assert pim_c["time_ns"] >= pim["time_ns"]                  # cycle's host priority: the PIM absorbs more
