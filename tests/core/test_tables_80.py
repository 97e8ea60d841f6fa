"""Every table of every command fits an 80-column terminal and never cuts a number."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from archsim.cli import main

REPO = Path(__file__).resolve().parents[2]
SMALL_SWEEP = {"name": "t", "base": str(REPO / "configs" / "default.yaml"),
               "workloads": [{"name": "pair", "gemm": ["64x128x96", "128x64x256"]}],
               "axes": [{"grid": {"units.sa.rows": [8, 16], "memory.sram.ifmap.capacity": ["128 KiB", "2 MiB"],
                                  "units.sa.dataflow": ["os", "ws"]}}]}


def _fits(text: str) -> None:
    lines = text.splitlines()
    assert lines, "the command printed nothing"
    for line in lines:
        words = line.split()
        if len(line) > 80 and "/" in words[-1] and len(" ".join(words[:-1])) <= 80:
            continue                                   # a long file path cannot wrap: not a table row
        assert len(line) <= 80, f"{len(line)} columns: {line!r}"
        assert "\u2026" not in line and "..." not in line.replace("... ", ""), line


COMMANDS = [
    ["run"],
    ["run", "--model", "gpt2", "--seq", "32"],
    ["run", "--gemm", "128x768x768", "--set", "units.sa.rows=16", "--set", "units.sa.cols=16",
     "--set", "memory.sram.ifmap.capacity=2 MiB"],
    ["run", str(REPO / "configs/tpu_like_hbm2.yaml"), "--model", "llama2-7b", "--phase", "decode", "--kv", "128"],
    ["model", "gpt2"],
    ["model", "mixtral-8x7b", "--phase", "decode", "--kv", "1024", "--batch", "4"],
    ["map", "--gemm", "128x768x768"],
    ["map", "--model", "gpt2", "--op", "lm_head", "--seq", "128", "--objective", "edp"],
    ["mem", "--standard", "DDR4-3200", "--pattern", "rand_mix", "--n", "300"],
    ["mem", "--flash", "cambricon_llm", "--pattern", "seq_rd", "--n", "32"],
    ["units"],
    ["bits", "--values", "normal:20"],
    ["validate", "rtl", "--list"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_command_output_fits_80_columns(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    assert main(argv) == 0
    _fits(capsys.readouterr().out)


def test_results_scalesim_and_diff_fit_80_columns(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    spec, db = tmp_path / "s.yaml", tmp_path / "r.sqlite"
    spec.write_text(yaml.safe_dump(SMALL_SWEEP))
    assert main(["sweep", str(spec), "--db", str(db), "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    for extra in ([], ["--columns", "cycles,energy_pj,dram_read_bytes,dram_write_bytes,utilization,macs"]):
        assert main(["results", str(db), *extra]) == 0
        out = capsys.readouterr().out
        _fits(out)
        assert "rows" in out and "capacity" in out and "dataflow" in out    # short parameter names
    assert main(["scalesim", "-c", str(REPO / "configs/scalesim/tpu_32x32_os.cfg"), "-t",
                 str(REPO / "configs/scalesim/gpt2_gemm.csv"), "-i", "gemm", "-o", str(tmp_path / "ss")]) == 0
    _fits(capsys.readouterr().out)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["run", "--model", "gpt2", "--seq", "32", "--json", str(a)]) == 0
    assert main(["run", "--model", "gpt2", "--seq", "32", "--set", "units.sa.rows=64", "--json", str(b)]) == 0
    capsys.readouterr()
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    _fits(out)
    assert "units.sa.rows" in out and "B/A" in out


def test_validate_table_fits_80_columns(capsys):
    from archsim.commands.validate import _print_table

    case = {"rtl_cycles": 1234567, "model_cycles": 1234567, "rtl_fold_ends": [1, 2], "model_fold_ends": [1, 2],
            "outputs_equal": True, "trace_checked": True, "match": True}
    g = type("G", (), {"M": 300, "N": 200, "K": 100, "seed": 0})
    _print_table([{"core": "pipelined_ws", "sim": "verilator", "R": 128, "C": 128, "cases": [case]}], g)
    _fits(capsys.readouterr().out)


def test_numbers_are_in_engineering_units():
    from archsim.textfmt import eng

    assert [eng(12.9e9), eng(1.04e9, "B"), eng(0.195, "J"), eng(77.1e-6, "s"), eng(999.7e3), eng(0), eng(42)] == \
        ["12.9 G", "1.04 GB", "195 mJ", "77.1 us", "1.00 M", "0", "42"]
