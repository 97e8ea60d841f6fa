"""The bitweight unit through the seam: registers, validates, runs GEMMs and models on the bundled designs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import archsim
from archsim.errors import ConfigError, WorkloadError

CONFIGS = sorted(Path("configs/bitweight").glob("*.yaml"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archsim.cli", *args], capture_output=True, text=True)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_bundled_designs_run_both_fidelities_close(path):
    design = archsim.load_config(path)
    gemm = "g=128x96x200"
    bits = 4 if path.stem == "bitmod" else 8
    vals = {"weight": "normal:20" if bits == 8 else "normal:2", "activation": "laplace:12"}
    wl = {"gemm": [gemm], "bits": bits}
    if path.stem == "bitmod":   # weights 4-bit, activations 16-bit
        from dataflows.ir import Op, Operand
        wl = [Op("g", "gemm", "mk,kn->mn", {"m": 128, "n": 96, "k": 200},
                 (Operand("A", "activation", ("m", "k"), 16), Operand("B", "weight", ("k", "n"), 4),
                  Operand("C", "output", ("m", "n"), 16)))]
    fast = archsim.run(design, wl, fidelity="fast", values=vals, seed=1).ops[0]
    cyc = archsim.run(design, wl, fidelity="cycle", values=vals, seed=1).ops[0]
    assert fast["unit"] == "tpe" and fast["macs"] == 128 * 96 * 200
    d = cyc["detail"]
    assert d["values"] == "given" and d["bit_parallel_cycles"] > 0 and 0 <= d["sync_stall_share"] < 1
    assert fast["detail"]["engine_cycles"] == pytest.approx(d["engine_cycles"], rel=0.03)
    assert cyc["compute_cycles"] >= d["engine_cycles"]
    assert cyc["levels"]["offchip"]["read_bytes"] == cyc["dram_read_bytes"] >= 128 * 200 * bits // 8


def test_values_change_cycles_of_a_sparse_design_only():
    pr = archsim.load_config("configs/bitweight/pragmatic.yaml")
    bp = archsim.load_config("configs/bitweight/bit_parallel_int8.yaml")
    wl = {"gemm": ["256x64x256"]}
    dense = archsim.run(pr, wl, fidelity="cycle", values={"activation": "uniform"}).ops[0]["cycles"]
    sparse = archsim.run(pr, wl, fidelity="cycle", values={"activation": "sparse:0.8,normal:4"}).ops[0]["cycles"]
    assert sparse < 0.8 * dense     # a max over 256 lanes: zeros help only where whole groups are small
    assert (archsim.run(bp, wl, values={"activation": "uniform"}).ops[0]["cycles"]
            == archsim.run(bp, wl, values={"activation": "sparse:0.8,normal:4"}).ops[0]["cycles"])


def test_cycle_counts_the_given_array_exactly(tmp_path):
    from archsim.units.bitweight.encodings import encoding

    rng = np.random.default_rng(2)
    a = rng.integers(-128, 128, (16, 64))
    np.save(tmp_path / "a.npy", a)
    design = archsim.load_config("configs/bitweight/opt4c_column.yaml")
    row = archsim.run(design, {"gemm": ["g=16x32x64"]}, fidelity="cycle",
                      values={"activation": str(tmp_path / "a.npy")})
    nz = encoding("ent", 8).nz
    per_row = [sum(max(1, int(nz[r[g:g + 4] + 128, b].sum())) for b in range(4) for g in range(0, 64, 4)) for r in a]
    # 8 columns take 8 rows a round and meet at its end
    want = max(per_row[:8]) + max(per_row[8:])
    assert row.ops[0]["detail"]["engine_cycles"] == want


def test_model_workload_sets_values_per_role_and_bits_are_checked():
    design = archsim.load_config("configs/bitweight/opt4c_column.yaml")
    rep = archsim.run(design, {"model": "gpt2", "phase": "decode", "kv": 64, "bits": 8,
                               "values": {"weight": "normal:20", "activation": "normal:10"}, "seed": 3})
    gemms = [r for r in rep.ops if r["unit"] == "tpe"]
    assert gemms and all(r["detail"]["values"] == "given" for r in gemms)
    with pytest.raises(WorkloadError, match="wider than the unit's act_bits"):
        archsim.run(design, {"gemm": ["64x64x64"], "bits": 16})
    with pytest.raises(WorkloadError, match="not a distribution"):
        archsim.run(design, {"gemm": ["64x64x64"], "values": {"weight": "gauss:3"}})


@pytest.mark.parametrize("bad, match", [
    ({"sync_rows": 3}, "sync_rows 3 must divide rows 8"),
    ({"encoding": "booth2"}, "unknown"),
    ({"encoding": "csd"}, "not one this PE can run"),
    ({"bricks": 4}, "skip_zeros: false"),
])
def test_bad_designs_name_the_key(bad, match):
    cfg = {"name": "x", "units": {"tpe": {"kind": "bitweight", "serial": "activation", "encoding": "ent",
                                          "encodings": ["ent", "booth"], "rows": 8, "cols": 32, "lane_k": 4,
                                          "per_digit_pass": True, **bad}}}
    with pytest.raises(ConfigError, match=match) as exc:
        archsim.load_config(cfg)
    assert "units.tpe" in str(exc.value)


def test_cli_run_map_and_bits():
    r = _cli("run", "configs/bitweight/pragmatic.yaml", "--gemm", "64x64x64", "--acts", "normal:10",
             "--fidelity", "cycle", "--json", "-")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ops"][0]["detail"]["values"] == "given"
    assert _cli("run", "configs/bitweight/pragmatic.yaml", "--gemm", "64x64x64", "--acts", "normal").returncode == 2
    m = _cli("map", "configs/bitweight/pragmatic.yaml", "--gemm", "64x64x64", "--acts", "sparse:0.9,uniform",
             "--no-cache", "--json", "-")
    m0 = _cli("map", "configs/bitweight/pragmatic.yaml", "--gemm", "64x64x64", "--no-cache", "--json", "-")
    assert m.returncode == 0 and m0.returncode == 0, m.stderr + m0.stderr
    assert json.loads(m.stdout)["top"][0]["cycles"] < json.loads(m0.stdout)["top"][0]["cycles"]
    b = _cli("bits", "--values", "normal:20", "--encoding", "ent", "--json", "-")
    out = json.loads(b.stdout)
    assert out["encodings"][0]["mean_nonzero"] == pytest.approx(2.115, abs=0.01)
    col = next(d for d in out["designs"] if d["design"] == "opt4c-column")
    assert col["encoding"] == "ent" and 2.3 < col["cycles_per_mac"] < 2.5
    bad = _cli("bits", "--values", "normal:20", "--encoding", "csd", "--design", "configs/bitweight/opt4c_column.yaml")
    assert bad.returncode == 2 and "encoding" in bad.stderr


def test_without_values_operands_are_uniform_over_the_ops_width_in_both_fidelities():
    design = archsim.load_config("configs/bitweight/bitfusion.yaml")
    lac = archsim.load_config("configs/bitweight/laconic.yaml")
    wl = {"gemm": ["g=64x64x256"], "bits": 4}
    f = archsim.run(lac, wl, fidelity="fast").ops[0]["detail"]
    c = archsim.run(lac, wl, fidelity="cycle").ops[0]["detail"]
    assert f["values"].startswith("uniform") and c["values"].startswith("uniform")
    assert f["engine_cycles"] == pytest.approx(c["engine_cycles"], rel=0.03)
    # Bit Fusion at 4x4 fuses 4 MACs a unit-cycle: a quarter of the 8x8 cycles
    c4 = archsim.run(design, wl).ops[0]["detail"]["engine_cycles"]
    c8 = archsim.run(design, {"gemm": ["g=64x64x256"], "bits": 8}).ops[0]["detail"]["engine_cycles"]
    assert c8 == 4 * c4


def test_ops_of_one_shape_with_different_values_are_not_reused(tmp_path):
    rng = np.random.default_rng(4)
    dense = rng.integers(-128, 128, (64, 128))
    sparse = np.where(rng.random((64, 128)) < 0.9, 0, dense)
    np.savez(tmp_path / "acts.npz", **{"a.A": dense, "b.A": sparse})
    design = archsim.load_config("configs/bitweight/opt4c_column.yaml")
    rep = archsim.run(design, {"gemm": ["a=64x32x128", "b=64x32x128"]}, fidelity="fast",
                      values={"activation": str(tmp_path / "acts.npz")})
    a, b = (r["detail"]["engine_cycles"] for r in rep.ops)
    assert b < 0.7 * a


def test_block_width_follows_the_values():
    design = archsim.load_config("configs/bitweight/pragmatic.yaml")
    wl = {"gemm": ["g=64x4096x1024"]}
    dense = archsim.run(design, wl, values={"activation": "uniform"}).ops[0]
    sparse = archsim.run(design, wl, values={"activation": "sparse:0.95,normal:3"}).ops[0]
    blocks = [int(r["mapping"].split("(")[1].split()[0]) for r in (dense, sparse)]
    assert blocks[1] > blocks[0]          # less compute to hide the weights' loads behind: narrower blocks
    assert sparse["cycles"] < dense["cycles"]


def test_stationary_weight_blocks_pay_their_load_cycles():
    design = archsim.load_config("configs/bitweight/opt2_tree.yaml")
    row = archsim.run(design, {"gemm": ["g=1x256x64"]}).ops[0]
    blocks = (64 // 16) * (256 // 32)           # k_lanes x cols weight blocks
    assert row["detail"]["weight_load_cycles"] == 16 * blocks
    assert row["detail"]["engine_cycles"] == blocks   # one row: one cycle per block
    assert row["compute_cycles"] >= 17 * blocks + 39
