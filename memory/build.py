"""Build memory levels from validated config objects (archsim/config/memory_schema.py)."""
from __future__ import annotations

from archsim.config.memory_schema import (DramConfig, FlashConfig, LinkConfig, SimpleOffchipConfig,
                                          SramConfig)
from archsim.engine import Engine
from archsim.errors import ConfigError
from memory.pipe import Pipe, link_from_preset
from memory.request import MemoryLevel
from memory.sram import SramBuffer


def build_offchip(cfg, engine: Engine, name: str = "offchip") -> MemoryLevel:
    """The configured off-chip level: simple pipe, DRAM (cycle or fast) or flash."""
    if isinstance(cfg, SimpleOffchipConfig):
        return Pipe(name, engine, cfg.bandwidth, cfg.latency, cfg.energy_per_byte or 0.0, cfg.capacity)
    if isinstance(cfg, DramConfig):
        from memory.dram.level import DramLevel
        return DramLevel.from_config(cfg, engine, name)
    if isinstance(cfg, FlashConfig):
        from memory.flash.level import FlashLevel
        return FlashLevel.from_config(cfg, engine, name)
    raise ConfigError(f"memory.offchip: unknown kind {getattr(cfg, 'kind', cfg)!r}; "
                      "expected simple, dram or flash")


def build_offchip_path(memory_cfg, engine: Engine) -> MemoryLevel:
    """What the chip's buffers see: the `memory.links` in the order given, then the off-chip level."""
    if not memory_cfg.links:
        return build_offchip(memory_cfg.offchip, engine)
    from memory.chain import Chain

    links = [build_link(name, cfg, engine) for name, cfg in memory_cfg.links.items()]
    return Chain("offchip", engine, links, build_offchip(memory_cfg.offchip, engine, memory_cfg.offchip.kind),
                 memory_cfg.forward_chunk)


def build_level_path(name: str, cfg, engine: Engine) -> MemoryLevel:
    """A named back-end of `memory.levels`: its links in order, then its device."""
    device = build_offchip(cfg.device, engine, name if not cfg.links else f"{name}.{cfg.device.kind}")
    if not cfg.links:
        return device
    from memory.chain import Chain

    return Chain(name, engine, [build_link(f"{name}.{n}", c, engine) for n, c in cfg.links.items()], device,
                 cfg.forward_chunk)


def build_sram(name: str, cfg: SramConfig, engine: Engine, default_clock_hz: float) -> SramBuffer:
    return SramBuffer(name, engine, cfg.capacity, cfg.bytes_per_cycle, cfg.clock or default_clock_hz,
                      cfg.banks, cfg.ports, cfg.latency_cycles, cfg.double_buffered,
                      cfg.energy_per_byte or 0.0)


def build_link(name: str, cfg: LinkConfig, engine: Engine) -> Pipe:
    energy = cfg.energy_per_byte or 0.0
    if cfg.preset is not None:
        link = link_from_preset(name, engine, cfg.preset)
        return Pipe(name, engine, cfg.bandwidth or link.bandwidth_bytes_per_s,
                    link.latency_ps if cfg.latency is None else cfg.latency, energy)
    return Pipe(name, engine, cfg.bandwidth, cfg.latency, energy)


def build_memory(cfg, engine: Engine, default_clock_hz: float) -> dict[str, MemoryLevel]:
    """Every level of a `MemoryConfig`: SRAM buffers by name, links by name, and `offchip`."""
    levels: dict[str, MemoryLevel] = {name: build_sram(name, s, engine, default_clock_hz)
                                      for name, s in cfg.sram.items()}
    for name, link in cfg.links.items():
        if name in levels or name == "offchip":
            raise ConfigError(f"memory.links.{name}: name already used by another memory level")
        levels[name] = build_link(name, link, engine)
    levels["offchip"] = build_offchip(cfg.offchip, engine)
    return levels
