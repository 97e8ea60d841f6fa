"""`archsim mem` says which front end ran, what bounds the bandwidth and the peak beside it; by
default every channel is fed, so more channels are faster."""
import json

from archsim.cli import main


def _mem(capsys, *argv) -> dict:
    assert main(["mem", *argv, "--json", "-"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eight_channels_beat_one_by_default(capsys):
    one = _mem(capsys, "--standard", "HBM2", "--pattern", "seq_rd", "--n", "4000")
    eight = _mem(capsys, "--standard", "HBM2", "--set", "channels=8", "--pattern", "seq_rd", "--n", "4000")
    assert eight["bandwidth_gbps"] > 6 * one["bandwidth_gbps"]
    assert eight["explain"]["front_end"].startswith("per_channel")
    assert eight["explain"]["bound"] == "data bus" and eight["explain"]["share_of_peak"] > 0.9
    in_order = _mem(capsys, "--standard", "HBM2", "--set", "channels=8", "--set", "frontend=in_order",
                    "--pattern", "seq_rd", "--n", "4000")
    assert in_order["explain"]["bound"] == "front end"         # DRAMSim3-style driver: 32 B a cycle at most
    assert in_order["explain"]["gain_if_lifted"]["front end"] > 5


def test_ddr4_bounds_name_the_timing_that_binds(capsys):
    seq = _mem(capsys, "--standard", "DDR4-3200", "--pattern", "seq_rd", "--n", "3000")
    rand = _mem(capsys, "--standard", "DDR4-3200", "--pattern", "rand_rd", "--n", "3000")
    # the default mapping keeps a row's columns in one bank group: tCCD_L = 2 x tCCD_S spaces them
    assert seq["explain"]["bound"].startswith("bank-group spacing")
    assert rand["explain"]["bound"].startswith("row opens")
    idle = _mem(capsys, "--standard", "DDR4-3200", "--pattern", "idle_rand", "--n", "300")
    assert idle["explain"]["bound"].startswith("the request stream")


def test_text_output_explains(capsys):
    assert main(["mem", "--standard", "DDR4-3200", "--pattern", "seq_rd", "--n", "500"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("front end") and "per_channel" in lines[0]
    assert "GB/s peak" in out and "\nbound " in out and max(len(line) for line in lines) <= 80
