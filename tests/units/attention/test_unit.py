"""The attention unit through the platform seam: registration, the CLI target of issue 14, variants by --set."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import archsim
from archsim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
BERT_1K = "B=64,H=12,P=1024,M=1024,E=64,F=64"


def _cli(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "archsim.cli", "run", *args, "--json", "-"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_cli_bert_1k_fusemax_and_flat():
    row = _cli("configs/fusemax/fusemax.yaml", "--attention", BERT_1K)["ops"][0]
    assert row["unit"] == "attn" and row["kind"] == "attention"
    assert abs(row["time_ns"] - 2013140.4255) < 1e-3
    assert round(row["detail"]["util_2d"], 4) == 0.8896 and row["detail"]["util_1d"] == 1.0
    assert row["dram_read_bytes"] + row["dram_write_bytes"] == 402_653_184
    flat = _cli("configs/fusemax/fusemax.yaml", "--attention", BERT_1K, "--set", "units.attn.variant=flat")["ops"][0]
    assert abs(flat["time_ns"] - 13386076.5957) < 1e-3 and flat["detail"]["util_2d"] == 0.125


@pytest.mark.parametrize("name", ["fusemax", "flat", "unfused", "edge"])
def test_bundled_designs_run_attention_in_both_fidelities(name):
    design = archsim.load_config(f"configs/fusemax/{name}.yaml")
    fast = archsim.run(design, {"attention": ["B=2,H=4,P=512,M=512,E=64,F=64"]}, fidelity="fast").ops[0]
    assert fast["unit"] == "attn" and fast["time_ns"] > 0 and fast["energy_pj"] > 0
    cyc = archsim.run(design, {"attention": ["B=2,H=4,P=512,M=512,E=64,F=64"]}, fidelity="cycle").ops[0]
    assert cyc["time_ns"] >= fast["time_ns"]


def test_gemms_go_to_the_systolic_unit():
    design = archsim.load_config("configs/fusemax/fusemax.yaml")
    rep = archsim.run(design, {"gemm": ["65536x768x768"], "attention": [BERT_1K]})
    assert [r["unit"] for r in rep.ops] == ["linear", "attn"]


@pytest.mark.parametrize("name", ["fusemax", "flat", "unfused", "edge"])
def test_linear_unit_output_port_feeds_every_column(name):
    """A weight-stationary array whose K spans several folds reads a partial sum back and writes one per
    column per cycle, at accumulator width: a port narrower than that held BERT's linear layers to 0.60."""
    design = archsim.load_config(f"configs/fusemax/{name}.yaml")
    lin = design.units["linear"]
    assert design.memory.sram["ofmap"].bytes_per_cycle >= 2 * lin.cols * lin.acc_bits // 8


def test_bert_linear_layer_runs_at_the_artifacts_ideal_time():
    """The artifact maps the encoder's linear layers on the 256x256 array at 100%: ours within 1% of it."""
    design = archsim.load_config("configs/fusemax/fusemax.yaml")
    row = archsim.run(design, {"gemm": ["65536x768x3072"]}).ops[0]
    ideal = 65536 * 768 * 3072 / 256**2
    assert row["unit"] == "linear" and ideal <= row["cycles"] < 1.01 * ideal


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="units.attn.variant"):
        archsim.load_config({"units": {"attn": {"kind": "attention", "variant": "flash"}}})
    with pytest.raises(ConfigError, match="units.attn.rows"):
        archsim.load_config({"units": {"attn": {"kind": "attention", "rows": 0}}})


def test_bert_encoder_end_to_end_fused():
    design = archsim.load_config("configs/fusemax/fusemax.yaml")
    rep = archsim.run(design, {"model": "bert-base", "phase": "prefill", "batch": 64, "seq": 1024,
                               "attention": "fused", "allow_long": True})
    att = next(r for r in rep.ops if r["kind"] == "attention")
    assert att["unit"] == "attn" and att["count"] == 12
    assert abs(att["time_ns"] / 12 - 2013140.4255) < 1e-2
    assert {r["unit"] for r in rep.ops if r["kind"] == "gemm"} == {"linear"}


def test_cycle_fidelity_causal_gqa_and_a_stream_too_long_for_level1():
    design = archsim.load_config("configs/fusemax/fusemax.yaml")
    row = archsim.run(design, {"attention": ["B=2,H=8,kv_heads=2,P=1500,M=1500,E=64,F=64,causal=1"]},
                      fidelity="cycle").ops[0]      # the runner checks byte conservation at `cycle`
    fast = archsim.run(design, {"attention": ["B=2,H=8,kv_heads=2,P=1500,M=1500,E=64,F=64,causal=1"]}).ops[0]
    assert row["time_ns"] >= fast["time_ns"] and row["detail"]["level1_cycles"] > 0
    big = archsim.run(design, {"attention": ["B=1,H=1,P=1048576,M=1048576,E=64,F=64,causal=1"]},
                      fidelity="cycle").ops[0]
    assert "not run" in big["detail"]["level1"]


def test_cli_errors_are_clear():
    bad = subprocess.run([sys.executable, "-m", "archsim.cli", "run", "configs/fusemax/fusemax.yaml", "--attention",
                          "B=1,H=1,P=1000,M=1024,E=64,F=64", "--set", "units.attn.padding=refuse"], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "padding: refuse" in bad.stderr and "Traceback" not in bad.stderr
    tiny = subprocess.run([sys.executable, "-m", "archsim.cli", "run", "configs/fusemax/fusemax.yaml", "--attention",
                           BERT_1K, "--set", "units.attn.buffer=32 KiB"], cwd=ROOT, capture_output=True, text=True)
    assert tiny.returncode == 2 and "too small for one K/V tile" in tiny.stderr
