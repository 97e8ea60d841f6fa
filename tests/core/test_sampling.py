"""Steady-state sampling in `cycle` (archsim/sampling.py): within 1% of `--exact` on GPT-2 prefill and
decode and on a ~1B model's decode, with an error bar that covers the true gap; fold extrapolation
equal to the full cycle model; per-op progress."""
import subprocess
import sys

import pytest

import archsim
from archsim.runner import run
from archsim.sampling import extrapolated_compute, repeat_period
from archsim.units.base import GemmShape
from dataflows.schedule import Tile

CASES = [
    ("configs/edge_ddr4.yaml", {"model": "gpt2", "phase": "prefill", "batch": 1, "seq": 128}),
    ("configs/edge_ddr4.yaml", {"model": "gpt2", "phase": "decode", "batch": 8, "kv": 512}),
    ("configs/edge_ddr4.yaml", {"model": "opt-1.3b", "phase": "decode", "batch": 8, "kv": 256}),
]


@pytest.mark.parametrize("cfg,wl", CASES, ids=["gpt2-prefill", "gpt2-decode", "opt1.3b-decode"])
def test_sampled_cycle_within_one_percent_of_exact_and_inside_its_error_bar(cfg, wl):
    design = archsim.load_config(cfg)
    sampled = run(design, wl, fidelity="cycle")
    exact = run(design, wl, fidelity="cycle", exact=True)
    ts, te = sampled.totals["time_ns"], exact.totals["time_ns"]
    cut = [op for op in sampled.ops if "tiles" in op.get("sampling", {})]
    assert cut, "the case must exercise sampling"
    assert sum(op["sampling"]["simulated_tiles"] for op in cut) < sum(op["sampling"]["tiles"] for op in cut)
    assert abs(ts - te) <= 0.01 * te
    assert abs(ts - te) <= sampled.totals["error_ns"]
    assert "error_ns" not in exact.totals and not any("sampling" in op for op in exact.ops)
    for s_op, e_op in zip(sampled.ops, exact.ops):      # bytes are the op's, sampled or not
        keys = ("dram_read_bytes", "dram_write_bytes")
        assert [s_op[k] for k in keys] == [e_op[k] for k in keys]


@pytest.mark.parametrize("rows,cols,dataflow,timing", [(16, 16, "ws", "pipelined"), (8, 16, "os", "pipelined"),
                                                       (8, 8, "is", "pipelined"), (8, 8, "ws", "scalesim")])
@pytest.mark.parametrize("shape", [(8, 200, 130), (70, 9, 100), (3, 48, 300)])
def test_fold_extrapolation_equals_the_full_cycle_model(rows, cols, dataflow, timing, shape):
    from archsim.units.registry import build_unit
    from archsim.config.loader import load_config

    design = load_config("configs/default.yaml", overrides={"units.sa.rows": rows, "units.sa.cols": cols,
                                                             "units.sa.dataflow": dataflow, "units.sa.timing": timing})
    unit = build_unit("sa", design.units["sa"], 1e9, design.energy.table())
    g = GemmShape(*shape)
    ext = extrapolated_compute(unit, g)
    full = unit.compute(g, "cycle")
    assert ext is not None
    assert (ext.cycles, ext.issue_cycles, ext.macs, ext.sram_reads, ext.sram_writes) == \
        (full.cycles, full.issue_cycles, full.macs, full.sram_reads, full.sram_writes)
    assert ext.detail["output_matches_reference"] and ext.detail["cycles_extrapolated_along"]


def test_small_shapes_are_not_extrapolated():
    from archsim.units.registry import build_unit

    design = archsim.load_config("configs/default.yaml")
    unit = build_unit("sa", design.units["sa"], 1e9, design.energy.table())
    assert extrapolated_compute(unit, GemmShape(32, 32, 32)) is None


def test_repeat_period_finds_the_block_and_the_periodic_stretch():
    block = [Tile(10, ((0, 64),)), Tile(10, ((0, 64), (0, 32))), Tile(12, (), ((0, 16),))]
    tiles = block * 20 + [Tile(5, ((0, 8),))] * 3
    p, end = repeat_period(tiles)
    assert p == 3 and end == 60
    assert repeat_period(tiles[:10]) == (0, 0)                # too few tiles to sample
    assert repeat_period([Tile(i, ()) for i in range(40)]) == (0, 0)   # nothing repeats


def test_progress_callback_sees_every_op_then_the_end():
    design = archsim.load_config("configs/edge_ddr4.yaml")
    calls = []
    rep = run(design, {"gemm": ["64x64x64", "32x128x64"]}, fidelity="cycle", progress=lambda i, ops: calls.append(
        (i, len(ops), ops[i].name if i < len(ops) else None)))
    assert [c[0] for c in calls] == [0, 1, 2] and calls[-1][2] is None and len(rep.ops) == 2


def test_cli_cycle_run_is_quiet_when_piped():
    out = subprocess.run([sys.executable, "-m", "archsim.cli", "run", "configs/edge_ddr4.yaml", "--gemm", "64x64x64",
                          "--fidelity", "cycle", "--json", "-"], capture_output=True, text=True, check=True)
    assert out.stderr == "" and '"totals"' in out.stdout
