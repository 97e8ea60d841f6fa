"""The tile pipeline every op runs: load tile i+1 while tile i computes, store tile i when it is done.

One off-chip port serves transfers in the order they are issued. A
tile's loads may start once a buffer slot is free: with `slots` buffers (2 = double buffering),
tile i's loads are issued when tile i-slots finishes computing. Stores are issued when their tile
finishes. At equal times stores are issued before loads (they free the port for the next fold's
reads no later than a real controller would).

`pipeline_time` is the closed form (the `fast` fidelity) of exactly what the runner's event-driven
pipeline does, given a per-transfer time function; on a bandwidth + latency level the two agree to
the picosecond (a property test holds them together). On a DRAM model the event pipeline sees real
bank timing, so the two differ by what the DRAM adds beyond its streaming bandwidth.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol, Sequence

from archsim.engine import PS_PER_S


@dataclass(frozen=True)
class Tile:
    """One step of a mapping: compute time, and the transfers before (loads) and after (stores) it."""

    compute_ps: int
    loads: tuple[tuple[int, int], ...] = ()   # (address, bytes) per load request
    stores: tuple[tuple[int, int], ...] = ()  # (address, bytes) per store request


@dataclass(frozen=True)
class PipelineResult:
    total_ps: int
    compute_ps: int          # sum of tile compute times
    stall_ps: int            # total - compute: time the compute unit waited for data or the port
    first_compute_start_ps: int


class Port(Protocol):
    def issue(self, at_ps: int, nbytes: int, is_write: bool, addr: int = 0) -> int:
        """Issue a transfer at `at_ps` (non-decreasing across calls); returns when its data is usable."""


class FifoPort:
    """Closed form of a serialised bandwidth + latency level (memory.pipe.Pipe) as the recurrence sees it.

    Busy periods are timed from the bytes moved since the period began, as the level does, so the
    closed form and the event-driven level agree to the picosecond.
    """

    uses_addresses = False  # only bytes matter: same-time requests may be merged

    def __init__(self, level: Any):
        self.level = level
        self.latency_ps = int(getattr(level, "latency_ps", 0))
        self._busy_until = 0
        self._period_start = 0
        self._period_bytes = 0
        bw = getattr(level, "bandwidth_bytes_per_s", None)
        # exact ps per byte as the level computes it, kept as integers (Fractions are slow here)
        q = Fraction(PS_PER_S) / Fraction(bw).limit_denominator(10**6) if bw else None
        self._num, self._den = (q.numerator, q.denominator) if q is not None else (0, 0)

    def _xfer_ps(self, nbytes: int, is_write: bool) -> int:
        if self._den:
            return -((-nbytes * self._num) // self._den)
        return self.level.stream_time_ps(nbytes, is_write) - self.latency_ps

    def issue(self, at_ps: int, nbytes: int, is_write: bool, addr: int = 0) -> int:
        if at_ps >= self._busy_until:
            self._period_start, self._period_bytes = at_ps, 0
        self._period_bytes += nbytes
        xfer = self._xfer_ps(self._period_bytes, is_write)
        self._busy_until = self._period_start + xfer
        return self._busy_until + self.latency_ps


def fast_port(level: Any) -> Port:
    """The level's own closed-form port if it has one (DRAM, flash), else the FIFO bandwidth model."""
    make = getattr(level, "fast_port", None)
    return make() if callable(make) else FifoPort(level)


def pipeline_time(tiles: Sequence[Tile], port: Port, slots: int = 2,
                  record: list | None = None) -> PipelineResult:
    """Closed-form schedule of `tiles` through one off-chip `port` with `slots` tile buffers.

    With `record`, appends ("compute" | "load" | "store", tile index, start_ps, end_ps) per activity.
    """
    n = len(tiles)
    if n == 0:
        return PipelineResult(0, 0, 0, 0)
    slots = max(1, slots)
    load_ready = [0] * n          # time all of tile i's loads have arrived
    compute_end = [0] * n
    prev_end = 0
    total_compute = 0
    first_start = 0
    last_store = 0
    issued = 0                    # tiles whose loads are issued

    def issue_loads(i: int, at: int) -> None:
        ready = at
        for addr, nbytes in tiles[i].loads:
            done = port.issue(at, nbytes, False, addr)
            ready = max(ready, done)
            if record is not None:
                record.append(("load", i, at, done))
        load_ready[i] = ready

    while issued < min(slots, n):
        issue_loads(issued, 0)
        issued += 1
    for i, t in enumerate(tiles):
        start = max(load_ready[i], prev_end)
        if i == 0:
            first_start = start
        end = start + t.compute_ps
        compute_end[i] = end
        total_compute += t.compute_ps
        prev_end = end
        if record is not None:
            record.append(("compute", i, start, end))
        for addr, nbytes in t.stores:
            done = port.issue(end, nbytes, True, addr)
            last_store = max(last_store, done)
            if record is not None:
                record.append(("store", i, end, done))
        if issued < n:            # tile i's buffer is free: tile i+slots may load
            issue_loads(issued, end)
            issued += 1
    total = max(prev_end, last_store)
    return PipelineResult(total, total_compute, total - total_compute, first_start)
