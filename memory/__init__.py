"""Memory hierarchy: one `Request`/`MemoryLevel` interface for SRAM, links, DRAM and flash."""
from __future__ import annotations

from memory.build import build_level_path, build_link, build_memory, build_offchip, build_offchip_path, build_sram
from memory.pipe import LINK_PRESETS, Pipe
from memory.request import MemoryLevel, Request
from memory.sram import SramBuffer

__all__ = ["Request", "MemoryLevel", "Pipe", "SramBuffer", "LINK_PRESETS",
           "build_offchip", "build_offchip_path", "build_level_path", "build_sram", "build_link", "build_memory"]
