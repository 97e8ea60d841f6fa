"""Placement: pins win, capability filters, intensity splits compute- and memory-side units."""
from __future__ import annotations

import pytest

from archsim.config.mapper_schema import PlacementConfig
from archsim.units.systolic import SystolicConfig
from archsim.units.vector import VectorConfig
from archsim.errors import ArchsimError
from archsim.units.base import ComputeResult, ComputeUnit, GemmShape
from archsim.units.systolic import SystolicArray
from archsim.units.vector import VectorUnit
from dataflows.ir import Op, Operand, gemm_op
from dataflows.placement import MEMORY, place, place_op, unit_side


class NearMemoryGemv(ComputeUnit):
    """A memory-side unit of a kind placement has never heard of (PIM-like): registered, not if-chained."""

    kind = "test_pim"
    side = MEMORY

    def supports(self, op) -> bool:
        return op.kind == "gemm"

    def compute(self, g: GemmShape, fidelity: str = "fast") -> ComputeResult:
        return ComputeResult(cycles=g.macs // 16 + 1, macs=g.macs, folds=1, utilization=1.0)


def _units():
    return {"sa": SystolicArray("sa", SystolicConfig(rows=16, cols=16), 1e9, {}),
            "vec": VectorUnit("vec", VectorConfig(lanes=16), 1e9, {}),
            "pim": NearMemoryGemv("pim", None, 1e9)}


def _softmax():
    return Op("sm", "softmax", "mn->mn", {"m": 8, "n": 64},
              (Operand("X", "activation", ("m", "n"), 16), Operand("Y", "output", ("m", "n"), 16)))


def test_intensity_threshold_splits_gemv_from_gemm():
    units = _units()
    gemv, gemm = gemm_op("gemv", 1, 4096, 4096), gemm_op("gemm", 512, 512, 512)
    cfg = PlacementConfig(policy="intensity", intensity_threshold=8.0)
    assert gemv.intensity < 8 <= gemm.intensity
    out = place([gemv, gemm], units, cfg)
    assert out["gemv"].unit == "pim" and "intensity" in out["gemv"].reason
    assert out["gemm"].unit == "sa"
    assert unit_side(units["pim"]) == MEMORY


def test_softmax_goes_to_the_vector_unit():
    assert place_op(_softmax(), _units(), PlacementConfig()).unit == "vec"


def test_capability_policy_picks_fastest():
    units = _units()
    gemv = gemm_op("gemv", 1, 4096, 4096)
    placed = place_op(gemv, units, PlacementConfig(policy="capability"))
    times = {n: units[n].compute(gemv.as_gemm()).cycles for n in ("sa", "pim")}
    assert placed.unit == min(times, key=times.get)


def test_pins_win_and_bad_pins_are_errors():
    units = _units()
    g = gemm_op("layer0.qkv", 512, 512, 512)
    assert place_op(g, units, PlacementConfig(pin={"layer*.qkv": "pim"})).unit == "pim"
    with pytest.raises(ArchsimError, match="does not have"):
        place_op(g, units, PlacementConfig(pin={"*": "tpu"}))
    with pytest.raises(ArchsimError, match="cannot run"):
        place_op(g, units, PlacementConfig(pin={"*": "vec"}))


def test_no_capable_unit_is_an_error():
    units = {"sa": SystolicArray("sa", SystolicConfig(rows=4, cols=4), 1e9, {})}
    with pytest.raises(ArchsimError, match="no unit"):
        place_op(_softmax(), units, PlacementConfig())
