"""Sweep spec validation and expansion: axes, constraints, dedup, and failing before any point runs."""
from __future__ import annotations

import pytest

from archsim.errors import ConfigError
from archsim.sweep.spec import expand


def test_grid_zip_points_product_and_workload_axes(write_spec):
    sweep = expand(write_spec({
        "workloads": [{"gemm": "64x64x64"}, {"name": "two", "gemm": ["32x32x32", "16x16x16"]}],
        "axes": [{"grid": {"units.sa.rows": [8, 16], "units.sa.dataflow": ["os", "ws", "is"]}},
                 {"zip": {"memory.sram.ifmap.capacity": ["128 KiB", "256 KiB"],
                          "memory.sram.filter.capacity": ["128 KiB", "256 KiB"]}},
                 {"points": [{"workload.bits": 8}, {"workload.bits": 16}]}]}))
    assert len(sweep.points) == 2 * (2 * 3) * 2 * 2
    p = sweep.points[0]
    assert p.params == {"workload": "64x64x64", "units.sa.rows": 8, "units.sa.dataflow": "os",
                        "memory.sram.ifmap.capacity": "128 KiB", "memory.sram.filter.capacity": "128 KiB",
                        "workload.bits": 8}
    assert p.workload == {"gemm": ["64x64x64"], "bits": 8}
    assert p.design["units"]["sa"]["rows"] == 8
    assert p.design["memory"]["sram"]["ifmap"]["capacity"] == "128 KiB"
    assert sweep.points[-1].params["workload"] == "two"
    assert len({q.point_id for q in sweep.points}) == len(sweep.points)


def test_equal_designs_spelled_differently_are_one_point(write_spec):
    sweep = expand(write_spec({"workloads": [{"gemm": "64x64x64"}],
                               "axes": [{"grid": {"memory.sram.ifmap.capacity": ["512 KiB", "524288 B", "1 MiB"]}}]}))
    assert len(sweep.points) == 2 and sweep.duplicates == 1


def test_random_axes_are_seeded(write_spec):
    spec = {"workloads": [{"gemm": "64x64x64"}],
            "axes": [{"random": {"samples": 6, "seed": 3, "params": {
                "units.sa.rows": {"choices": [8, 16, 32]},
                "energy.mac.value": {"low": 0.1, "high": 0.5, "unit": "pJ"},
                "units.sa.cols": {"low": 4, "high": 64, "log": True, "integer": True}}}}]}
    a, b = expand(write_spec(spec, "a.yaml")), expand(write_spec(spec, "b.yaml"))
    assert [p.params for p in a.points] == [p.params for p in b.points]
    for p in a.points:
        assert 4 <= p.params["units.sa.cols"] <= 64 and p.params["energy.mac.value"].endswith(" pJ")


def test_constraints_skip_with_reason(write_spec):
    sweep = expand(write_spec({"workloads": [{"gemm": "64x64x64"}],
                               "axes": [{"grid": {"units.sa.rows": [8, 64], "units.sa.cols": [8, 64]}}],
                               "constraints": ["units.sa.rows * units.sa.cols < 512", "memory.sram.ifmap.banks >= 1"]}))
    skipped = [p for p in sweep.points if p.skip_reason]
    assert [(p.params["units.sa.rows"], p.params["units.sa.cols"]) for p in skipped] == [(8, 64), (64, 8), (64, 64)]
    assert "units.sa.rows * units.sa.cols < 512" in skipped[0].skip_reason


@pytest.mark.parametrize("spec, needle", [
    ({"workloads": [{"gemm": "8x8x8"}], "axez": []}, "axez"),
    ({"workloads": [{"gemm": "8x8x8"}], "axes": [{"grid": {"units.sa.rows": []}}]}, "units.sa.rows"),
    ({"workloads": [{"gemm": "8x8x8"}], "axes": [{"grid": {"units.sa.rows": [8, 0]}}]}, "units.sa.rows"),
    ({"workloads": [{"gemm": "8x8x8"}], "axes": [{"grid": {"units.sa.dataflw": ["os"]}}]}, "dataflw"),
    ({"workloads": [{"gemm": "8x8x8"}], "axes": [{"zip": {"units.sa.rows": [8, 16], "units.sa.cols": [8]}}]},
     "equal lengths"),
    ({"workloads": [{"gemm": "8x8"}]}, "MxNxK"),
    ({"workloads": [{"gemm": "8x8x8"}], "constraints": ["units.sa.rowz > 1"]}, "units.sa.rowz"),
    ({"workloads": [{"gemm": "8x8x8"}], "constraints": ["open('f')"]}, "not allowed"),
    ({"workloads": []}, "workloads"),
])
def test_bad_specs_fail_up_front_naming_the_key(write_spec, spec, needle):
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        expand(write_spec(spec))


def test_unknown_key_error_carries_the_line(write_spec):
    path = write_spec({"workloads": [{"gemm": "8x8x8"}], "fidelty": "fast"})
    with pytest.raises(ConfigError) as exc:
        expand(path)
    assert f"{path}:" in str(exc.value) and "fidelty" in str(exc.value) and "did you mean 'fidelity'" in str(exc.value)
