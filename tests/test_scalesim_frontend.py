"""`archsim scalesim`: SCALE-Sim's own .cfg and topology files in, its COMPUTE_REPORT.csv out."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from archsim.cli import main
from archsim.errors import ArchsimError
from archsim.frontends import scalesim as fe

CASES = Path(__file__).resolve().parents[1] / "validation" / "scalesim" / "cases.csv"



def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _report(outdir, name="COMPUTE_REPORT.csv"):
    (path,) = Path(outdir).glob(f"*/{name}")           # SCALE-Sim's layout: OUTDIR/<run_name>/
    with open(path) as f:
        rows = list(csv.reader(f, skipinitialspace=True))
    header = rows[0][:-1]                          # SCALE-Sim's trailing comma
    return [dict(zip(header, r[:-1])) for r in rows[1:]]


def _public_cases():
    with open(CASES, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("case", [c for c in _public_cases() if c["kind"] == "gemm"],
                         ids=lambda c: c["case_id"].split("|1024")[0])
def test_gemm_topology_reproduces_public_cases(tmp_path, case):
    cfg = _write(tmp_path, "a.cfg", fe.scalesim_cfg_text(case["rows"], case["cols"], case["dataflow"]))
    topo = _write(tmp_path, "t.csv", f"Layer,M,N,K,\nl0,{case['M']},{case['N']},{case['K']},\n")
    assert main(["scalesim", "-c", cfg, "-t", topo, "-i", "gemm", "-o", str(tmp_path / "out"),
                 "--no-memory"]) == 0
    (row,) = _report(tmp_path / "out")
    assert int(row["Total Cycles"]) == int(case["compute_cycles"])
    assert float(row["Overall Util %"]) == pytest.approx(float(case["overall_util_pct"]), rel=1e-12)
    assert float(row["Mapping Efficiency %"]) == pytest.approx(float(case["mapping_eff_pct"]), rel=1e-12)
    assert fe.PIPELINED_COLUMN in row


def test_conv_topology_and_depthwise_split(tmp_path):
    cfg = _write(tmp_path, "a.cfg", fe.scalesim_cfg_text(128, 128, "ws"))
    topo = _write(tmp_path, "t.csv", "Layer name,H,W,R,S,C,F,stride,\n"
                  "conv1, 224, 224, 7, 7, 3, 64, 2,\n\nDP_conv, 14, 14, 3, 3, 4, 4, 1,\n")
    assert main(["scalesim", "-c", cfg, "-t", topo, "-o", str(tmp_path / "o")]) == 0
    rows = _report(tmp_path / "o")
    assert int(rows[0]["Total Cycles"]) == 24963       # resnet18 conv1, 128x128 WS, SCALE-Sim v3
    assert len(rows) == 5 and [r["LayerID"] for r in rows] == ["0", "1", "2", "3", "4"]
    layers = fe.read_topology(topo, "conv")
    assert [layer.name for layer in layers[1:]] == [f"DP_convChannel_{c}" for c in range(4)]
    assert all((layer.gemm.M, layer.gemm.N, layer.gemm.K) == (144, 4, 9) for layer in layers[1:])


def test_dw_marker_splits_like_dp(tmp_path):
    """A trailing `#dw` field (dropped by SCALE-Sim like any last field) marks a depthwise row."""
    topo = _write(tmp_path, "t.csv", "Layer name,H,W,R,S,C,F,stride,\n"
                  "conv_dw, 14, 14, 3, 3, 4, 4, 1, #dw\nconv_pw, 12, 12, 1, 1, 4, 8, 1,#DW\n"
                  "plain, 8, 8, 1, 1, 2, 2, 1,\n")
    layers = fe.read_topology(topo, "conv")
    assert [la.name for la in layers] == ([f"conv_dwChannel_{c}" for c in range(4)]
                                          + [f"conv_pwChannel_{c}" for c in range(4)] + ["plain"])
    assert (layers[0].gemm.M, layers[0].gemm.N, layers[0].gemm.K) == (144, 4, 9)
    bad = _write(tmp_path, "b.csv", "h,\nx, 8, 8, 1, 1, 2, 2, 1, dw\n")
    with pytest.raises(ArchsimError, match="trailing comma .* or a `#dw` marker"):
        fe.read_topology(bad, "conv")


def test_ignored_cfg_keys_are_listed(tmp_path, capsys):
    text = fe.scalesim_cfg_text(8, 8, "os").replace("UseRamulatorTrace: False", "UseRamulatorTrace: True")
    cfg = fe.read_config(_write(tmp_path, "a.cfg", text))
    assert "UseRamulatorTrace=True" in cfg.ignored and "IfmapOffset=0" in cfg.ignored
    used = ("ArrayHeight", "Dataflow", "InterfaceBandwidth", "IfmapSramSzkB", "Bandwidth", "IfmapSRAMBankBandwidth")
    assert not any(k.split("=")[0] in used for k in cfg.ignored)
    topo = _write(tmp_path, "t.csv", "Layer,M,N,K,\ng0,8,8,8,\n")
    assert main(["scalesim", "-c", str(tmp_path / "a.cfg"), "-t", topo, "-i", "gemm", "-o", str(tmp_path / "o")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "ignored .cfg keys" in out and "UseRamulatorTrace=True" in out


def test_missing_key_names_it(tmp_path):
    cfg = _write(tmp_path, "a.cfg", fe.scalesim_cfg_text(8, 8, "os").replace("Bandwidth: 10\n", ""))
    with pytest.raises(ArchsimError, match=r"a\.cfg.*architecture_presets.*'Bandwidth'"):
        fe.read_config(cfg)


def test_bad_values_name_file_line_and_field(tmp_path, capsys):
    cfg = _write(tmp_path, "a.cfg", fe.scalesim_cfg_text(8, "eight", "os"))
    with pytest.raises(ArchsimError, match=r"a\.cfg, line 6: field 'ArrayWidth'"):
        fe.read_config(cfg)
    cfg = _write(tmp_path, "b.cfg", fe.scalesim_cfg_text(8, 8, "rs"))
    with pytest.raises(ArchsimError, match="Dataflow"):
        fe.read_config(cfg)
    topo = _write(tmp_path, "t.csv", "h,\ng0,4,4,4,\ng1,4,x,4,\n")
    with pytest.raises(ArchsimError, match=r"t\.csv, line 3: field 'N'"):
        fe.read_topology(topo, "gemm")
    topo = _write(tmp_path, "u.csv", "h,\ng0,4,4,4\n")
    with pytest.raises(ArchsimError, match=r"u\.csv, line 2: .*trailing comma"):
        fe.read_topology(topo, "gemm")
    topo = _write(tmp_path, "v.csv", "h,\ng0,4,4,4,2:4,\n")
    with pytest.raises(ArchsimError, match="sparsity"):
        fe.read_topology(topo, "gemm")
    topo = _write(tmp_path, "w.csv", "h,\nc0,4,4,3,3,1,\n")
    with pytest.raises(ArchsimError, match=r"w\.csv, line 2: a conv row needs"):
        fe.read_topology(topo, "conv")
    # through the CLI: exit code 2, message on stderr, no traceback
    assert main(["scalesim", "-c", cfg, "-t", topo, "-o", str(tmp_path)]) == 2
    assert "Dataflow" in capsys.readouterr().err


def test_cli_subprocess_prints_table(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    cfg = _write(tmp_path, "a.cfg", fe.scalesim_cfg_text(32, 32, "is"))
    topo = _write(tmp_path, "t.csv", "Layer,M,N,K,\nqkv,64,64,64,\n")
    lay = _write(tmp_path, "l.csv", "Layer,\n")
    done = subprocess.run([sys.executable, "-m", "archsim.cli", "scalesim", "-c", cfg, "-t", topo,
                           "-i", "gemm", "-l", lay, "-p", str(tmp_path / "o")],
                          cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "qkv" in done.stdout and "631" in done.stdout      # 64^3 on 32x32 IS: SCALE-Sim 631
    assert int(_report(tmp_path / "o")[0]["Total Cycles"]) == 631


def test_validation_script_runs_and_reports_every_case_exact():
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "validation" / "scalesim" / "compare.py"
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env={
        **__import__("os").environ, "COLUMNS": "200"})
    assert p.returncode == 0, p.stderr
    n = len(list(csv.DictReader(open(CASES))))
    assert "cases exact on every compared field" in p.stdout
    exact, total = p.stdout.split(" cases exact")[0].rsplit("\n", 1)[-1].split("/")
    assert exact == total and int(total) >= n


def test_cli_user_mode_is_writes_scalesims_stalls_and_dram_counts(tmp_path):
    """An is layer in USER mode through the CLI: the three reports, with SCALE-Sim 3.0.0's stall
    cycles and DRAM counts (validation/cnn/scalesim_ws_is.csv, case c, l2)."""
    mem = fe.UserMemory(4, 2, 1, 7, 4, 3)
    cfg = _write(tmp_path, "c.cfg", fe.scalesim_cfg_text(8, 16, "is", mode="USER", memory=mem))
    topo = _write(tmp_path, "t.csv", "Layer,H,W,R,S,C,F,stride,\nl2,17,23,3,2,5,19,2,\n")
    assert main(["scalesim", "-c", cfg, "-t", topo, "-p", str(tmp_path / "o")]) == 0
    (row,) = _report(tmp_path / "o")
    assert (int(row[fe.PREFETCH_COLUMN]), int(row["Total Cycles"]), int(row["Stall Cycles"])) == (2649, 2146, 971)
    (detail,) = _report(tmp_path / "o", "DETAILED_ACCESS_REPORT.csv")
    dram = [int(float(detail[f"DRAM {n}"])) for n in ("IFMAP Reads", "Filter Reads", "OFMAP Writes")]
    assert dram == [4102, 608, 7296]
    assert len(_report(tmp_path / "o", "BANDWIDTH_REPORT.csv")) == 1
