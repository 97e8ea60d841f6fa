"""Links in series in front of the off-chip level: PCIe to a computational SSD, a NoC, a TSV stack.

A read crosses every link and then the level; the data is usable when the last hop delivers it.
(Requests carry the data one way; the command's own trip is part of each hop's latency.) Each hop
serves requests in arrival order, so the chain's closed-form port is the hops' ports composed.

By default a hop forwards a request once it has all of it (store and forward). With `chunk_bytes`
a request travels as chunks of that size, each forwarded as soon as it arrives (cut-through at
chunk grain, as a drive streams pages over PCIe while later pages are still being read); the
request completes with its last chunk.
"""
from __future__ import annotations

from typing import Any, Sequence

from archsim.engine import Engine
from memory.request import MemoryLevel, Request


class Chain(MemoryLevel):
    """`links` (bandwidth + latency pipes) in order, then `level` (DRAM, flash, simple)."""

    def __init__(self, name: str, engine: Engine, links: Sequence[MemoryLevel], level: MemoryLevel,
                 chunk_bytes: int | None = None):
        super().__init__(name, engine, level.capacity_bytes, 0.0)
        self.links, self.level = list(links), level
        self.hops = self.links + [level]
        self.chunk_bytes = chunk_bytes
        self.prices_bytes = level.prices_bytes        # the device's bytes; links only add their own

    def prices_any(self) -> bool:
        return self.level.prices_any() or any(link.energy_per_byte_pj for link in self.links)

    def request_energy_pj(self, addr: int, nbytes: int, is_write: bool) -> dict[str, float]:
        """Each link's own pJ/byte (`<link>.transfer`), then the device's parts for the pieces it is sent."""
        out = {f"{link.name}.transfer": nbytes * link.energy_per_byte_pj for link in self.links
               if link.energy_per_byte_pj}
        for a, n in chunks(addr, nbytes, self.chunk_bytes):
            for k, v in self.level.request_energy_pj(a, n, is_write).items():
                out[k] = out.get(k, 0.0) + v
        return out

    def submit(self, req: Request) -> None:
        self._check(req)
        req.issue_ps = self.engine.now
        self._account(req)
        parts = chunks(req.addr, req.nbytes, self.chunk_bytes)
        left = [len(parts)]

        def part_done(r: Request) -> None:
            left[0] -= 1
            if left[0] == 0:
                self._finish_at(req, r.done_ps)
        for addr, n in parts:
            self._hop(Request(addr, n, req.is_write, req.requester, part_done), 0)

    def _hop(self, req: Request, i: int) -> None:
        def done(r: Request) -> None:
            if i + 1 < len(self.hops):
                self._hop(req, i + 1)
            elif req.on_done is not None:
                req.done_ps = r.done_ps
                req.on_done(req)
        self.hops[i].submit(Request(req.addr, req.nbytes, req.is_write, req.requester, done))

    def stream_time_ps(self, nbytes: int, is_write: bool = False, addr: int = 0) -> int:
        """A long stream moves at the slowest hop's rate; every other hop adds its latency."""
        times = [h.stream_time_ps(nbytes, is_write, addr) for h in self.hops]
        slow = max(range(len(times)), key=times.__getitem__)
        return times[slow] + sum(int(getattr(h, "latency_ps", 0)) for j, h in enumerate(self.hops) if j != slow)

    @property
    def peak_bytes_per_s(self) -> float:
        return min(float(h.peak_bytes_per_s) for h in self.hops)

    def fast_port(self) -> "ChainPort":
        from dataflows.schedule import fast_port

        return ChainPort([fast_port(h) for h in self.hops], self.chunk_bytes)

    def level_stats(self) -> dict:
        return {"hops": {h.name: h.stats() for h in self.hops}}


class ChainPort:
    """Closed form of a Chain: each hop's port, fed with the previous hop's delivery time."""

    def __init__(self, ports: Sequence[Any], chunk_bytes: int | None = None):
        self.ports = list(ports)
        self.chunk_bytes = chunk_bytes
        self.uses_addresses = any(getattr(p, "uses_addresses", True) for p in self.ports)

    def issue(self, at_ps: int, nbytes: int, is_write: bool, addr: int = 0) -> int:
        if self.chunk_bytes is None:
            t = at_ps
            for p in self.ports:
                t = p.issue(t, nbytes, is_write, addr)
            return t
        parts = [(at_ps, a, n) for a, n in chunks(addr, nbytes, self.chunk_bytes)]
        for p in self.ports:          # each hop takes the chunks in the order they reach it
            parts = sorted((p.issue(t, n, is_write, a), a, n) for t, a, n in parts)
        return parts[-1][0]


def chunks(addr: int, nbytes: int, size: int | None) -> list[tuple[int, int]]:
    """(address, bytes) pieces of a request, `size` bytes each (the last one shorter); one piece if None."""
    if not size or nbytes <= size:
        return [(addr, nbytes)]
    return [(addr + o, min(size, nbytes - o)) for o in range(0, nbytes, size)]
