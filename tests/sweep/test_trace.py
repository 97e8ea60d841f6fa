"""Chrome/Perfetto trace export: structure per the Trace Event Format, and exact ps round trips."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.trace import Trace, read_trace, write_trace


def test_tracks_metadata_and_units(tmp_path):
    path = write_trace(tmp_path / "t.json", [
        ("sa", "gemm0", 0, 1_500_000, {"macs": 123}),
        ("dram.ch0", "rd", 250, 1_000),
        ("sa", "gemm1", 1_500_000, 1),
        ("vec", "softmax", 2_000_000, 3_000),
    ], memory_tracks=["dram.ch0"])
    data = json.loads(path.read_text())
    evs = data["traceEvents"]
    meta = {(e["pid"], e["tid"]): e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
    procs = {e["pid"]: e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "process_name"}
    assert procs == {1: "compute units", 2: "memory channels"}
    assert meta == {(2, 1): "dram.ch0", (1, 1): "sa", (1, 2): "vec"}
    x = [e for e in evs if e["ph"] == "X"]
    assert len(x) == 4
    g0 = next(e for e in x if e["name"] == "gemm0")
    assert g0["ts"] == 0.0 and g0["dur"] == 1.5 and g0["args"] == {"macs": 123}  # us
    assert next(e for e in x if e["name"] == "rd")["ts"] == 0.00025
    back = read_trace(path)
    assert back["sa"] == [("gemm0", 0, 1_500_000, {"macs": 123}), ("gemm1", 1_500_000, 1, {})]


def test_rejects_float_or_negative_times():
    t = Trace()
    with pytest.raises(ValueError):
        t.add("sa", "x", 1.5, 10)
    with pytest.raises(ValueError):
        t.add("sa", "x", 0, -1)
    with pytest.raises(ValueError):
        t.track("nic", group="network")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["sa", "vec", "ch0", "ch1"]), st.integers(0, 10**14),
                          st.integers(0, 10**12)), min_size=1, max_size=30))
def test_integer_ps_survive_the_round_trip(tmp_path_factory, events):
    path = tmp_path_factory.mktemp("tr") / "t.json"
    write_trace(path, [(trk, f"e{i}", s, d) for i, (trk, s, d) in enumerate(events)], memory_tracks=["ch0", "ch1"])
    back = read_trace(path)
    got = sorted((trk, n, s, d) for trk, evs in back.items() for n, s, d, _ in evs)
    assert got == sorted((trk, f"e{i}", s, d) for i, (trk, s, d) in enumerate(events))
