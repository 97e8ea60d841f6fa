"""End to end through the CLI with the real runner: sweep -> results -> export -> report; run JSON -> report."""
from __future__ import annotations

import csv
import json

import pytest

from archsim.cli import main

SPEC = {"workloads": [{"name": "pair", "gemm": ["64x128x96", "128x64x256"]}],
        "axes": [{"grid": {"units.sa.rows": [8, 16], "units.sa.dataflow": ["os", "ws"]}}],
        "constraints": ["not (units.sa.rows == 16 and units.sa.dataflow == 'os')"]}


def test_sweep_results_report(write_spec, tmp_path, capsys):
    spec, db = write_spec(SPEC), tmp_path / "r.sqlite"
    assert main(["sweep", str(spec), "--db", str(db), "--workers", "1", "--quiet"]) == 0
    assert "3 ok, 1 skipped, 0 failed" in capsys.readouterr().out

    from archsim import run
    from archsim.sweep.results import rows
    got = rows(db, where="status == 'ok' and units.sa.rows == 8 and units.sa.dataflow == 'ws'")
    assert len(got) == 1
    direct = run(_design({"units.sa.rows": 8, "units.sa.dataflow": "ws"}),
                 {"gemm": SPEC["workloads"][0]["gemm"]}).to_dict()["totals"]
    assert got[0]["time_ns"] == direct["time_ns"] and got[0]["energy_pj"] == pytest.approx(direct["energy_pj"])

    out_csv = tmp_path / "o.csv"
    assert main(["results", str(db), "--where", "status == 'ok'", "--export", str(out_csv)]) == 0
    table = list(csv.DictReader(out_csv.open()))
    assert len(table) == 3 and {"units.sa.rows", "units.sa.dataflow", "time_ns", "energy_pj"} <= set(table[0])
    assert main(["results", str(db)]) == 0
    assert "4 points" in capsys.readouterr().out

    pytest.importorskip("matplotlib", reason="the sweep report's figures need the plot extra")
    rep = tmp_path / "rep"
    assert main(["report", str(db), "--out", str(rep)]) == 0
    page = (rep / "index.html").read_text()
    for png in ("pareto.png", "best_roofline.png", "best_breakdowns.png", "best_utilisation.png"):
        assert (rep / png).stat().st_size > 5000 and png in page
    assert list(rep.glob("heat_*.png")) and "skipped" in page


def _design(overrides):
    from pathlib import Path

    from archsim import load_config
    return load_config(Path(__file__).resolve().parents[2] / "configs" / "default.yaml", overrides)


def test_report_from_run_json(tmp_path):
    pytest.importorskip("matplotlib", reason="the run report's figures need the plot extra")
    js = tmp_path / "run.json"
    assert main(["run", "--gemm", "256x256x256", "--gemm", "64x1024x512", "--json", str(js)]) == 0
    out = tmp_path / "rep"
    assert main(["report", str(js), "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    assert "roofline.png" in page and "gemm" in page
    assert json.loads(js.read_text())["totals"]["macs"] == 256 ** 3 + 64 * 1024 * 512


def test_bad_spec_fails_before_running(write_spec, tmp_path, capsys):
    db = tmp_path / "r.sqlite"
    bad = write_spec({"workloads": [{"gemm": "8x8x8"}], "axes": [{"grid": {"units.sa.rows": [8, -4]}}]})
    assert main(["sweep", str(bad), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "units.sa.rows" in err and "-4" in err
    assert not db.exists()
    assert main(["report", str(bad), "--out", str(tmp_path / "x")]) == 2
