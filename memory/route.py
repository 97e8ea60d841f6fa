"""Several off-chip back-ends behind one port: the address says which one (HBM for the KV cache, a
flash drive behind PCIe for the weights, ...).

Address bits from `LEVEL_SHIFT` up pick the level; the rest is the address inside it. Each level
keeps its own timing, queues and counters; the router only forwards, so requests to different
levels proceed in parallel and requests to one level contend as they would alone.
"""
from __future__ import annotations

from typing import Any, Sequence

from archsim.engine import Engine
from archsim.errors import ArchsimError
from memory.request import MemoryLevel, Request

LEVEL_SHIFT = 48                      # 256 TiB of address space per level
LOCAL_MASK = (1 << LEVEL_SHIFT) - 1


def routed_addr(level_index: int, local: int) -> int:
    """The router's address of byte `local` of level number `level_index`."""
    return (level_index << LEVEL_SHIFT) | local


class Router(MemoryLevel):
    """`levels` in a fixed order; a request goes to `levels[addr >> LEVEL_SHIFT]`."""

    def __init__(self, name: str, engine: Engine, levels: Sequence[MemoryLevel]):
        super().__init__(name, engine, None, 0.0)
        self.levels = list(levels)

    def _pick(self, addr: int) -> tuple[MemoryLevel, int]:
        i = addr >> LEVEL_SHIFT
        if not 0 <= i < len(self.levels):
            raise ArchsimError(f"memory router {self.name!r}: address {addr:#x} names level {i}, "
                               f"but there are {len(self.levels)} levels")
        return self.levels[i], addr & LOCAL_MASK

    def submit(self, req: Request) -> None:
        req.issue_ps = self.engine.now
        self._account(req)
        level, local = self._pick(req.addr)
        level.submit(Request(local, req.nbytes, req.is_write, req.requester,
                             lambda r: self._finish_at(req, r.done_ps)))

    def stream_time_ps(self, nbytes: int, is_write: bool = False, addr: int = 0) -> int:
        level, local = self._pick(addr)
        return level.stream_time_ps(nbytes, is_write, local)

    def prices_any(self) -> bool:
        return any(lv.prices_any() for lv in self.levels)

    def request_energy_pj(self, addr: int, nbytes: int, is_write: bool) -> dict[str, float]:
        level, local = self._pick(addr)
        return level.request_energy_pj(local, nbytes, is_write)

    @property
    def peak_bytes_per_s(self) -> float:
        return sum(float(lv.peak_bytes_per_s) for lv in self.levels)

    def fast_port(self) -> "RouterPort":
        from dataflows.schedule import fast_port

        return RouterPort([fast_port(lv) for lv in self.levels])

    def level_stats(self) -> dict:
        return {"levels": {lv.name: lv.stats() for lv in self.levels}}


class RouterPort:
    """Closed form of a Router: each level's own port, picked by the address."""

    uses_addresses = True
    exact_when_merged = False        # merging loads would mix levels

    def __init__(self, ports: Sequence[Any]):
        self.ports = list(ports)

    def issue(self, at_ps: int, nbytes: int, is_write: bool, addr: int = 0) -> int:
        return self.ports[addr >> LEVEL_SHIFT].issue(at_ps, nbytes, is_write, addr & LOCAL_MASK)
