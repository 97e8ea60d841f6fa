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
        from memory import build_level_path, build_offchip_path

        self.offchip = build_offchip_path(design.memory, self.engine)   # links (if any), then the level
        self.levels: dict[str, Any] = {"offchip": self.offchip}
        for name, lcfg in design.memory.levels.items():
            self.levels[name] = build_level_path(name, lcfg, self.engine)
        for unit in self.units.values():           # memory-side units learn the level they sit beside
            attach, near = getattr(unit, "attach_level", None), getattr(unit.cfg, "near", None)
            if attach is not None and near is not None:
                attach(self.level(near))
        self.routed = len(self.levels) > 1
        if self.routed:      # one port in front of every back-end; the address picks the level
            from memory.route import Router

            self.offchip = Router("offchip", self.engine, list(self.levels.values()))

    def level_index(self, role: str) -> int:
        """Index (in `levels` order) of the off-chip level an operand role lives on."""
        return list(self.levels).index(self.design.memory.home(role))

    def level(self, name: str) -> Any:
        """The off-chip level called `name` (`offchip` or one of `memory.levels`), links included."""
        try:
            return self.levels[name]
        except KeyError:
            raise ConfigError(f"memory: no off-chip level {name!r}; the design has: {', '.join(self.levels)}") from None

    # -- memory as the mapper sees it -------------------------------------------------------------
    def sram(self, role: str) -> Any | None:
        """The SRAM config for an operand role (`ifmap`, `filter`, `ofmap`), or None if not declared."""
        return self.design.memory.sram.get(role)

    @cached_property
    def double_buffered(self) -> bool:
        """Tile transfers overlap compute only when every operand buffer is double-buffered."""
        srams = [self.sram(r) for r in ROLES]
        return all(s is not None and s.double_buffered for s in srams)

    @cached_property
    def write_behind(self) -> Any | None:
        """The output buffer's write-behind policy (archsim.tile_events.WriteBehind), or None (FIFO)."""
        from archsim.tile_events import WriteBehind

        from dataflows.mapper import request_overhead_ps, stream_bytes_per_s

        s = self.sram("ofmap")
        if s is None or not s.write_behind:
            return None
        bw = stream_bytes_per_s(self.offchip)
        return WriteBehind(limit_bytes=s.capacity // 2 if s.double_buffered else 0, chunk_bytes=s.write_chunk,
                           bytes_per_s=bw, request_overhead_ps=request_overhead_ps(self.offchip, bw))

    @property
    def offchip_peak_bytes_per_s(self) -> float:
        """The off-chip level's peak (data-bus) bandwidth: the roofline's slanted roof."""
        return float(self.offchip.peak_bytes_per_s)

    def clock_of(self, unit: ComputeUnit):
        return self.engine.clocks[unit.name]
