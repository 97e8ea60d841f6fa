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


def _json(capsys, argv) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_map_and_run_agree_on_the_mapping_they_print(tmp_path, monkeypatch, capsys):
    """`map` shows the tile pipeline's cycles of its best mapping, which is what `run` reports; its
    own closed-form column is labelled an estimate, within 1% on a bandwidth + latency link."""
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    for cfg, gemms in (("configs/default.yaml", ("128x768x768", "128x3072x768", "4x64x256x128")),
                       ("configs/edge_ddr4.yaml", ("256x512x384",)),
                       ("configs/tpu_like_hbm2.yaml", ("8x4096x1024",))):
        for g in gemms:
            mapped = _json(capsys, ["map", cfg, "--gemm", g, "--json", "-"])
            if g.count("x") == 2:
                row = _json(capsys, ["run", cfg, "--gemm", g, "--json", "-"])["ops"][0]
                assert (mapped["run"]["cycles"], mapped["run"]["mapping"]) == (row["cycles"], row["mapping"])
            assert mapped["run"]["mapping"].startswith(mapped["best"]["mapping"])
            if "tpu" not in cfg:     # HBM2 is a DRAM model: the closed form sees bandwidth + latency only
                assert abs(mapped["best"]["cycles"] / mapped["run"]["cycles"] - 1) <= 0.01, (cfg, g)
    assert main(["map", "--gemm", "128x768x768"]) == 0
    out = capsys.readouterr().out
    assert "est. cycles" in out and "the estimate is" in out
