"""End-to-end `archsim mem`: patterns, DRAMSim3 traces, --set, config files, flash, errors."""
import json

import pytest

from archsim.cli import main

KEYS = ["reads", "writes", "total_cycles", "tck_ns", "bandwidth_gbps", "avg_read_latency_cycles",
        "p50_read_latency_cycles", "p99_read_latency_cycles", "row_hit_rate", "activates", "refreshes"]


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_pattern_json_has_required_keys_and_is_deterministic(capsys):
    argv = ["mem", "--standard", "DDR4-3200", "--pattern", "rand_mix", "--n", "500", "--seed", "7", "--json", "-"]
    a, b = _json(capsys, argv), _json(capsys, argv)
    assert all(k in a for k in KEYS) and a == b
    assert a["reads"] + a["writes"] == 500 and a["tck_ns"] == 0.625


def test_trace_file_and_set_overrides(tmp_path, capsys):
    trace = tmp_path / "t.trc"
    trace.write_text("".join(f"0x{i * 64:X} READ {i * 10}\n" for i in range(200)) + "# comment\n0x40 WRITE 5000\n")
    s = _json(capsys, ["mem", "--trace", str(trace), "--set", "mapping=rorabacobgch", "--set", "page_policy=closed",
                       "--set", "scheduler=fcfs", "--set", "read_queue_entries=8", "--set", "timing.tRFC=576",
                       "--json", "-"])
    assert s["reads"] == 200 and s["writes"] == 1
    assert s["commands"]["RDA"] > 0                  # closed page auto-precharges


def test_design_config_offchip(tmp_path, capsys):
    cfg = tmp_path / "d.yaml"
    cfg.write_text("name: x\nunits:\n  sa: {kind: systolic, rows: 4, cols: 4}\n"
                   "memory:\n  offchip:\n    kind: dram\n    standard: HBM2\n    channels: 2\n")
    s = _json(capsys, ["mem", str(cfg), "--pattern", "seq_rd", "--n", "300", "--json", "-"])
    assert s["standard"] == "HBM2" and s["channels"] == 2 and s["reads"] == 300


def test_fast_fidelity_and_flash(capsys):
    s = _json(capsys, ["mem", "--standard", "DDR4-3200", "--pattern", "seq_rd", "--n", "1000", "--fidelity", "fast",
                       "--json", "-"])
    assert s["fidelity"] == "fast" and s["total_cycles"] > 0
    f = _json(capsys, ["mem", "--flash", "cambricon_llm", "--set", "channels=16", "--pattern", "seq_rd", "--n", "64",
                       "--json", "-"])
    assert f["page_reads"] == 64 and f["peak_channel_bandwidth_gbps"] == 16


@pytest.mark.parametrize("argv,msg", [
    (["--standard", "DDR9", "--pattern", "seq_rd"], "unknown DRAM standard"),
    (["--set", "mapping=rochra", "--pattern", "seq_rd"], "exactly once"),
    (["--set", "timing.tRC=10", "--pattern", "seq_rd"], "tRC >= tRAS"),
    (["--set", "page_policy=sometimes", "--pattern", "seq_rd"], "page_policy"),
    (["--set", "channels", "--pattern", "seq_rd"], "KEY=VALUE"),
])
def test_bad_input_is_a_clear_error(argv, msg, capsys):
    assert main(["mem", *argv, "--n", "10"]) == 2
    assert msg in capsys.readouterr().err


def test_malformed_trace_and_out_of_range_address(tmp_path, capsys):
    bad = tmp_path / "bad.trc"
    bad.write_text("0x40 READ 0\n0x80 FETCH 3\n")
    assert main(["mem", "--trace", str(bad)]) == 2
    assert "bad.trc:2" in capsys.readouterr().err
    big = tmp_path / "big.trc"
    big.write_text("0x400000000 READ 0\n")            # 16 GiB: one past the end of 2 ranks of 8 GiB
    assert main(["mem", "--trace", str(big)]) == 2
    assert "beyond" in capsys.readouterr().err
