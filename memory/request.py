"""The one request interface every memory level speaks, and the base class that counts bytes.

A level is engine-driven: `submit` schedules the request's completion on the shared `Engine`
(integer picoseconds) and calls `req.on_done(req)` at `req.done_ps`. `stream_time_ps` answers the
same question in closed form for the mapper and sweeps (the `fast` fidelity).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from archsim.engine import Engine
from archsim.errors import ArchsimError


@dataclass(slots=True)
class Request:
    addr: int
    nbytes: int
    is_write: bool
    requester: str
    on_done: Callable[["Request"], None] | None = None
    issue_ps: int = 0
    done_ps: int = 0


class MemoryLevel:
    """Base of SRAM, links, simple off-chip, DRAM and flash: byte and energy accounting."""

    def __init__(self, name: str, engine: Engine, capacity_bytes: int | None = None,
                 energy_per_byte_pj: float = 0.0) -> None:
        self.name = name
        self.engine = engine
        self.capacity_bytes = capacity_bytes
        self.energy_per_byte_pj = energy_per_byte_pj
        self.bytes_read = 0
        self.bytes_written = 0
        self.reads = 0
        self.writes = 0
        self.energy_pj = 0.0

    # -- subclass API -------------------------------------------------------------------------
    def submit(self, req: Request) -> None:
        raise NotImplementedError

    def stream_time_ps(self, nbytes: int, is_write: bool = False, addr: int = 0) -> int:
        raise NotImplementedError

    @property
    def peak_bytes_per_s(self) -> float:
        """Peak data bandwidth of the level (each level says how it is limited)."""
        raise NotImplementedError

    def level_stats(self) -> dict:
        """Level-specific counters, merged into `stats()`."""
        return {}

    # -- energy a level prices itself (flash, links with their own pJ/byte) ----------------------
    prices_bytes = False     # True: the bytes this level serves pay its own energy, not the design's offchip_byte

    def prices_any(self) -> bool:
        """Whether `request_energy_pj` can return anything (a cheap test before walking requests)."""
        return self.prices_bytes

    def request_energy_pj(self, addr: int, nbytes: int, is_write: bool) -> dict[str, float]:
        """Energy one request spends here, by part, keyed `<level name>.<part>`; {} for levels whose
        bytes the design's `offchip_byte` (or the DRAM model) prices."""
        return {}

    # -- shared helpers -----------------------------------------------------------------------
    def stats(self) -> dict:
        out = {"bytes_read": self.bytes_read, "bytes_written": self.bytes_written,
               "reads": self.reads, "writes": self.writes, "energy_pj": self.energy_pj}
        out.update(self.level_stats())
        return out

    def _check(self, req: Request) -> None:
        """Reject requests no hardware could serve (the user's trace or mapping is wrong)."""
        if req.nbytes <= 0:
            raise ArchsimError(f"memory level {self.name!r}: request of {req.nbytes} bytes from "
                               f"{req.requester!r}; a request must move at least one byte")
        if req.addr < 0 or (self.capacity_bytes is not None
                            and req.addr + req.nbytes > self.capacity_bytes):
            raise ArchsimError(
                f"memory level {self.name!r}: request from {req.requester!r} at address "
                f"{req.addr:#x} (+{req.nbytes} B) is beyond its capacity of "
                f"{self.capacity_bytes} bytes ({self.capacity_bytes:#x})")

    def _account(self, req: Request) -> None:
        if req.is_write:
            self.writes += 1
            self.bytes_written += req.nbytes
        else:
            self.reads += 1
            self.bytes_read += req.nbytes
        self.energy_pj += req.nbytes * self.energy_per_byte_pj

    def account_bulk(self, nbytes: int, is_write: bool, requester: str) -> None:
        """Count bytes a closed-form model moved through this level without timing them here (a unit that
        simulates a periodic stream on a prefix and extends it: the bytes still cross the level)."""
        if nbytes > 0:
            self._account(Request(0, nbytes, is_write, requester))

    def _finish_at(self, req: Request, done_ps: int) -> None:
        """Record completion time and call the requester back at `done_ps`."""
        req.done_ps = done_ps
        if req.on_done is not None:
            self.engine.at(done_ps, req.on_done, req)
