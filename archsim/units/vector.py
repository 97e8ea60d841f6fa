"""SIMD vector unit for the ops a matrix engine does not run: softmax, norms, activations, elementwise."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from archsim.config.base import StrictModel
from archsim.config.quantities import Frequency
from archsim.units.base import ComputeResult, ComputeUnit, GemmShape
from archsim.units.registry import register_unit



class VectorConfig(StrictModel):
    """A SIMD unit for softmax, norms, activations and elementwise ops: `lanes` element-ops per cycle."""

    kind: Literal["vector"] = "vector"
    lanes: int = Field(ge=1, description="element operations per cycle")
    bits: int = Field(16, ge=1, le=64)
    pipeline_depth_cycles: int = Field(4, ge=0, description="latency of one vector instruction")
    depthwise: bool = Field(False, description="also run depthwise convolutions (channels across lanes, "
                                               "2 element operations per MAC); placement may then choose it")
    clock: Frequency | None = None


VECTOR_KINDS = frozenset({"elementwise", "softmax", "norm", "activation", "rope", "residual", "embedding", "pool",
                          "router", "topk"})


class VectorUnit(ComputeUnit):
    """`lanes` element-operations per cycle after a fixed pipeline latency.

    An op's element-operation count is its `flops` (the IR counts one flop per elementary operation
    for non-contraction ops), so softmax's exp/sum/divide and a norm's mean/variance/scale are priced
    by the same table the FLOP report shows.
    """

    kind = "vector"
    config_model = VectorConfig
    side = "compute"
    energy_actions = {"vector_op": "one element operation", "mac": "one MAC of a GEMM pinned here"}
    maps_gemms = False       # a depthwise conv or pinned GEMM streams through its lanes

    def __init__(self, name: str, cfg: VectorConfig, clock_hz: float, energy_pj: dict[str, float]):
        super().__init__(name, cfg, clock_hz, energy_pj)
        self.cfg: VectorConfig = cfg

    def gemm_macs_per_cycle(self) -> int:
        return self.cfg.lanes

    def supports(self, op: Any) -> bool:
        if self.cfg.depthwise and getattr(op, "kind", None) == "conv" and "depthwise" in getattr(op, "tags", ()):
            return True
        return getattr(op, "kind", None) in VECTOR_KINDS

    def elementwise(self, element_ops: int) -> ComputeResult:
        """Cost of `element_ops` independent element operations (closed form; exact for this unit)."""
        lanes = self.cfg.lanes
        beats = -(-element_ops // lanes) if element_ops > 0 else 0
        cycles = beats + (self.cfg.pipeline_depth_cycles if beats else 0)
        util = element_ops / (cycles * lanes) if cycles else 0.0
        return ComputeResult(cycles=cycles, macs=0, folds=beats, utilization=util,
                             energy_pj={"vector_op": element_ops * self.energy.get("vector_op", 0.0)},
                             detail={"element_ops": element_ops, "lanes": lanes}, occupancy_cycles=beats)

    def stream_compute(self, op: Any) -> ComputeResult:
        if getattr(op, "macs", 0):        # a contraction here: one MAC is two element operations
            g = op.as_gemm()
            return self.compute(g)
        return self.elementwise(op.flops)

    def compute(self, g: GemmShape, fidelity: str = "fast") -> ComputeResult:
        """A GEMM on the vector unit: one MAC is two element operations (used only when pinned here)."""
        res = self.elementwise(2 * g.macs)
        res.macs = g.macs
        res.energy_pj = {"mac": g.macs * self.energy.get("mac", 0.0)}
        return res


register_unit(VectorUnit)
