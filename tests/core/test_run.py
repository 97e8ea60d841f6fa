"""End to end: config -> run -> report; JSON contract; totals are sums of rows; CLI errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import archsim
from archsim.cli import main
from archsim.report import OP_FIELDS

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "configs" / "default.yaml"


def test_api_run_matches_fields_and_sums():
    design = archsim.load_config(DEFAULT, overrides={"units.sa.rows": 16})
    rep = archsim.run(design, {"gemm": ["a=64x96x80", "200x30x17"]})
    d = rep.to_dict()
    assert set(d) >= {"config", "ops", "totals"}
    for op in d["ops"]:
        assert set(OP_FIELDS) <= set(op)
        assert op["macs"] == {"a": 64 * 96 * 80}.get(op["name"], 200 * 30 * 17)
        assert op["cycles"] >= op["stall_cycles"] >= 0
        assert 0 < op["utilization"] <= 1
        assert op["energy_pj"] == pytest.approx(sum(op["energy_breakdown_pj"].values()))
    tot = d["totals"]
    for k in ("cycles", "macs", "energy_pj", "dram_read_bytes", "dram_write_bytes", "sram_reads", "stall_cycles"):
        assert tot[k] == pytest.approx(sum(op[k] for op in d["ops"]))
    assert tot["energy_pj"] == pytest.approx(sum(tot["energy_breakdown_pj"].values()))


def test_cycle_and_fast_agree_on_simple_memory():
    design = archsim.load_config(DEFAULT, overrides={"units.sa.rows": 8, "units.sa.cols": 8})
    wl = {"gemm": ["40x24x36", "9x17x33"]}
    fast = archsim.run(design, wl, fidelity="fast").to_dict()
    cyc = archsim.run(design, wl, fidelity="cycle").to_dict()
    for a, b in zip(fast["ops"], cyc["ops"]):
        assert a["cycles"] == b["cycles"] and a["dram_read_bytes"] == b["dram_read_bytes"]


def test_short_bandwidth_shows_up_as_stalls():
    wl = {"gemm": ["128x768x768"]}
    fat = archsim.run(archsim.load_config(DEFAULT), wl).ops[0]
    thin = archsim.run(archsim.load_config(DEFAULT, overrides={"memory.offchip.bandwidth": "1 GB/s"}), wl).ops[0]
    assert thin["stall_cycles"] > 10 * max(1, fat["stall_cycles"])
    # first-principles bound: at 1 GB/s and 1 GHz, every byte costs a cycle of the port
    assert thin["cycles"] >= thin["dram_read_bytes"] + thin["dram_write_bytes"]


def test_deterministic():
    d = archsim.load_config(DEFAULT)
    a = json.dumps(archsim.run(d, None).to_dict(), sort_keys=True)
    b = json.dumps(archsim.run(d, None).to_dict(), sort_keys=True)
    assert a == b


def test_cli_run_json_stdout(capsys):
    assert main(["run", str(DEFAULT), "--gemm", "32x32x32", "--json", "-"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ops"][0]["macs"] == 32**3


@pytest.mark.parametrize("argv,needle", [
    (["run", "--gemm", "0x3x4"], "M, N and K"),
    (["run", "--gemm", "12by4"], "expected MxNxK"),
    (["run", "--set", "units.sa.dataflow=xy", "--gemm", "8x8x8"], "units.sa.dataflow"),
    (["run", "--set", "units.sa.rowz=3", "--gemm", "8x8x8"], "did you mean 'rows'"),
    (["run", "--set", "memory.offchip.bandwidth=12", "--gemm", "8x8x8"], "memory.offchip.bandwidth"),
    (["run", "--conv", "H=5,W=5,R=7,S=7,C=1,F=1"], "does not fit"),
])
def test_cli_bad_input_exits_nonzero_without_traceback(argv, needle):
    p = subprocess.run([sys.executable, "-m", "archsim.cli", *argv], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr and "Traceback" not in p.stderr


def test_bare_run_prints_a_table():
    p = subprocess.run([sys.executable, "-m", "archsim.cli", "run"], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "gpt2_qkv" in p.stdout and "total" in p.stdout


def test_config_show_resolves_overrides(capsys):
    assert main(["config", "show", str(DEFAULT), "--set", "units.sa.rows=64"]) == 0
    out = capsys.readouterr().out
    assert "rows: 64" in out and "source:" in out


@pytest.mark.parametrize("design", ["default.yaml", "edge_ddr4.yaml"])
def test_cycle_mode_conserves_bytes_at_the_offchip_level(design):
    # run() raises if the level's byte counters differ from the ops' traffic; check the rows too
    d = archsim.load_config(ROOT / "configs" / design)
    rep = archsim.run(d, {"gemm": ["48x80x200"], "conv": ["H=10,W=10,R=3,S=3,C=4,F=8,pad=1"]}, fidelity="cycle")
    assert all(op["dram_read_bytes"] > 0 and op["dram_write_bytes"] > 0 for op in rep.ops)


def test_conservation_check_catches_a_leak():
    from archsim.runner import _check_conservation

    class Level:
        name, bytes_read, bytes_written = "offchip", 100, 10

    _check_conservation(Level, [{"dram_read_bytes": 100, "dram_write_bytes": 10, "count": 1}])
    with pytest.raises(RuntimeError, match="conservation"):
        _check_conservation(Level, [{"dram_read_bytes": 64, "dram_write_bytes": 10, "count": 1}])


def test_narrow_sram_ports_slow_the_array():
    # a 32x32 WS array reads one 8-bit ifmap element per row per cycle: 32 B/cycle; 8 B/cycle is 4x short
    wl = {"gemm": ["256x256x256"]}
    wide = archsim.run(archsim.load_config(DEFAULT), wl).ops[0]
    narrow = archsim.run(archsim.load_config(DEFAULT, overrides={"memory.sram.ifmap.bytes_per_cycle": 8}), wl).ops[0]
    assert narrow["compute_cycles"] >= 3.5 * wide["compute_cycles"]
    # first principles: WS reads every ifmap element once per column fold, at 8 B/cycle
    assert narrow["compute_cycles"] >= 256 * 256 * (256 // 32) / 8


def test_offchip_level_energy_overrides_the_design_table():
    wl = {"gemm": ["64x64x64"]}
    base = archsim.run(archsim.load_config(DEFAULT), wl).ops[0]
    own = archsim.run(archsim.load_config(DEFAULT, overrides={"memory.offchip.energy_per_byte": "1 pJ"}), wl).ops[0]
    moved = own["dram_read_bytes"] + own["dram_write_bytes"]
    assert own["energy_breakdown_pj"]["offchip"] == pytest.approx(moved * 1.0)
    assert base["energy_breakdown_pj"]["offchip"] == pytest.approx(moved * 162.0)


def test_a_link_in_front_of_the_offchip_level_slows_transfers_and_keeps_fidelities_equal():
    wl = {"gemm": ["64x300x200", "1x1024x1024"]}
    direct = archsim.run(archsim.load_config(DEFAULT), wl)
    linked = archsim.load_config(DEFAULT, overrides={"memory.links.pcie.bandwidth": "4 GB/s",
                                                     "memory.links.pcie.latency": "500 ns"})
    fast, cyc = archsim.run(linked, wl, fidelity="fast"), archsim.run(linked, wl, fidelity="cycle")
    assert [o["cycles"] for o in fast.ops] == [o["cycles"] for o in cyc.ops]
    for a, b in zip(direct.ops, fast.ops):
        assert b["cycles"] > a["cycles"]
        # first principles: every byte crosses the 4 GB/s link (at 1 GHz: 4 B per cycle)
        assert b["cycles"] >= (b["dram_read_bytes"] + b["dram_write_bytes"]) / 4


def test_tidy_rows_one_per_op_and_memory_level():
    rep = archsim.run(archsim.load_config(DEFAULT), {"gemm": ["64x64x64", "32x96x128"]})
    tidy = rep.tidy()
    assert len(tidy) == 2 * len(rep.ops) and {r["level"] for r in tidy} == {"sram", "offchip"}
    off = [r for r in tidy if r["level"] == "offchip"]
    assert sum(r["read_bytes"] for r in off) == rep.totals["dram_read_bytes"]
    assert sum(r["energy_pj"] for r in off) == pytest.approx(rep.totals["energy_breakdown_pj"]["offchip"])
