"""The context a unit that runs an op whole is handed by the runner (archsim.units.base.OpContext):
the run's fidelity and system, named levels, operand homes, the unit's clock, the shared tile pipeline
and operand values."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archsim.units.base import ComputeUnit
from dataflows.schedule import PipelineResult, Tile


class RunContext:
    """What a unit that runs an op whole sees of the run (archsim.units.base.OpContext)."""

    def __init__(self, runner: Any, unit: ComputeUnit):
        self._runner, self._unit = runner, unit
        self.fidelity = runner.fidelity
        self.system = runner.system

    def level(self, name: str) -> Any:
        return self.system.level(name)

    def home(self, role: str) -> str:
        return self.system.design.memory.home(role)

    def clock_ps(self, cycles: int) -> int:
        return self.system.clock_of(self._unit).cycles_to_ps(cycles)

    def pipeline(self, tiles: Sequence[Tile]) -> PipelineResult:
        self.used_port = True
        return self._runner._pipeline(tiles)

    def values(self, op: Any, operand: str) -> Any:
        source = getattr(self._runner, "values", None)
        return source(op, operand) if callable(source) else None

    def value_pmf(self, op: Any, operand: str) -> Any:
        ov = self._runner.operand_values
        return ov.pmf_for(op, operand) if ov is not None else None
