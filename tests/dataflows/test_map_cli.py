"""`archsim map` end to end on the bundled design."""
from __future__ import annotations

import json

from archsim.cli import main


def test_map_gemm_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    rc = main(["map", "--gemm", "64x256x128", "--objective", "edp", "--top", "3", "--budget", "5s", "--json", "-"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["objective"] == "edp" and len(d["top"]) == 3
    assert d["best"]["macs"] == 64 * 256 * 128
    assert d["best"]["cycles"] >= d["lower_bound"]["cycles"] and d["bound_ratio"] >= 1


def test_map_text_and_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    assert main(["map", "--gemm", "2x32x64x48", "--set", "mapper.constraints=[{tile: {K: 16}}]"]) == 0
    out = capsys.readouterr().out
    assert "roofline bound" in out and "K16" in out
    assert main(["map", "--gemm", "12x34"]) == 2
    assert main(["map", "--gemm", "32x32x32", "--set", "mapper.constraints=[{tile: {K: 64}}]"]) == 2
    assert "larger than" in capsys.readouterr().err


def test_map_model_op(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    assert main(["map", "--model", "gpt2", "--op", "qkv", "--seq", "64", "--json", "-"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["gemm"].endswith("x2304x768") and d["unit"] == "sa"
