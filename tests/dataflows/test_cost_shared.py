"""The mapper's cost tables shared across design points (dataflows/cost.py `_shared_tables`): a point
costed after others gives the report it gives alone, bit for bit."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import archsim
from archsim.units.base import GemmShape
from archsim.units.systolic import SystolicArray, SystolicConfig
from dataflows.cost import CostModel, EnergySpec, clear_shared
from dataflows.mapspace import MemorySpec

ROOT = Path(__file__).resolve().parents[2]


def _report(rows: int, gbps: float, gemm: str) -> str:
    design = archsim.load_config(ROOT / "configs" / "default.yaml", overrides={
        "units.sa.rows": rows, "units.sa.cols": rows, "memory.offchip.bandwidth": f"{gbps} GB/s",
        "mapper.cache": False})
    rep = archsim.run(design, {"gemm": [gemm]}, fidelity="fast").to_dict()
    for op in rep["ops"]:
        op.pop("mapper_wall_s", None)
    return json.dumps(rep, sort_keys=True, default=str)


POINTS = [(r, bw, g) for g in ("96x384x256", "1x2048x512") for r in (8, 16) for bw in (12.8, 51.2, 128.0)]


def test_points_costed_in_sequence_equal_points_costed_alone():
    clear_shared()
    in_sequence = [_report(*p) for p in POINTS]
    for p, got in zip(POINTS, in_sequence):
        clear_shared()
        assert got == _report(*p), p


def _model(gbps: float, unit: SystolicArray | None = None) -> CostModel:
    unit = unit or SystolicArray("sa", SystolicConfig(rows=4, cols=4), 1e9)
    mem = MemorySpec.make({"ifmap": 4096, "filter": 4096, "ofmap": 4096}, gbps * 1e9)
    return CostModel({"ws": unit}, mem, EnergySpec(0.2, 1.0, 100.0), 1e9)


def test_tables_are_shared_only_between_equal_contexts(monkeypatch):
    clear_shared()
    a, b = _model(10.0), _model(80.0)
    assert a._traffic is b._traffic and a._compute is b._compute       # only the link differs
    other = SystolicArray("sa", SystolicConfig(rows=8, cols=4), 1e9)
    assert _model(10.0, other)._traffic is not a._traffic
    monkeypatch.setattr(SystolicArray, "shape_cost_key", lambda self: None)   # a unit with hidden state
    c, d = _model(10.0), _model(10.0)
    assert c._traffic is not d._traffic and c._compute is not d._compute


@pytest.mark.parametrize("gbps", [4.0, 64.0])
def test_memoised_bound_equals_a_fresh_one(gbps):
    from dataflows.mapspace import Mapping

    clear_shared()
    m = Mapping(GemmShape(37, 50, 61), (16, 8, 32), "nmk", "ws")
    first = _model(gbps).bound(m)
    assert _model(gbps).bound(m) == first              # second model: from the shared table
    clear_shared()
    assert _model(gbps).bound(m) == first
