"""A System is a validated design made concrete: engine, clocks, compute units, memory levels."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from archsim.config.schema import DesignConfig
from archsim.engine import Engine
from archsim.errors import ConfigError
from archsim.units.base import ComputeUnit
from archsim.units.registry import build_unit

ROLES = ("ifmap", "filter", "ofmap")


class System:
    """Everything one run needs. Built fresh per run so runs never share state."""

    def __init__(self, design: DesignConfig):
        self.design = design
        self.engine = Engine()
        self.energy = design.energy.table()
        self.units: dict[str, ComputeUnit] = {}
        for name, ucfg in design.units.items():
            clock_hz = design.unit_clock_hz(name)
            self.engine.clock(name, clock_hz)
            self.units[name] = build_unit(name, ucfg, clock_hz, self.energy)
        from memory import build_offchip

        self.offchip = build_offchip(design.memory.offchip, self.engine)

    # -- memory as the mapper sees it -------------------------------------------------------------
    def sram(self, role: str) -> Any | None:
        """The SRAM config for an operand role (`ifmap`, `filter`, `ofmap`), or None if not declared."""
        return self.design.memory.sram.get(role)

    @cached_property
    def double_buffered(self) -> bool:
        """Tile transfers overlap compute only when every operand buffer is double-buffered."""
        srams = [self.sram(r) for r in ROLES]
        return all(s is not None and s.double_buffered for s in srams)

    def sram_capacity_bytes(self) -> dict[str, int]:
        out = {}
        for role in ROLES:
            s = self.sram(role)
            if s is None:
                raise ConfigError(f"{self.design.source}: memory.sram.{role}: missing; a GEMM unit needs "
                                  "ifmap, filter and ofmap buffers (capacity, bytes_per_cycle)")
            out[role] = s.capacity
        return out

    @property
    def offchip_bandwidth_bytes_per_s(self) -> float:
        """Sustained off-chip bandwidth the mapper plans with (the level's own figure)."""
        bw = getattr(self.offchip, "bandwidth_bytes_per_s", None)
        if bw is None:  # derive it from the level's closed form for a long stream (DRAM, flash)
            n = 1 << 24
            t = self.offchip.stream_time_ps(n) - self.offchip.stream_time_ps(1)
            bw = n * 1e12 / max(1, t)
        return float(bw)

    @property
    def offchip_peak_bytes_per_s(self) -> float:
        """The off-chip level's peak (data-bus) bandwidth: the roofline's slanted roof."""
        peak = getattr(self.offchip, "peak_bytes_per_s", None)
        return float(peak) if peak else self.offchip_bandwidth_bytes_per_s

    @property
    def offchip_latency_ps(self) -> int:
        return int(getattr(self.offchip, "latency_ps", 0))

    def clock_of(self, unit: ComputeUnit):
        return self.engine.clocks[unit.name]
