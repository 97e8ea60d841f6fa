"""The tile pipeline every op runs: load tile i+1 while tile i computes, store tile i when it is done.

One off-chip port serves transfers in the order they are issued. A
tile's loads may start once a buffer slot is free: with `slots` buffers (2 = double buffering),
tile i's loads are issued when tile i-slots finishes computing. A pipelined unit takes the next
tile after the issue interval (`compute_ps`) while the previous tile's results still drain for
`tail_ps`; stores are issued when their tile's results are complete. At equal times stores are
issued before loads.

`pipeline_time` is the closed form (the `fast` fidelity) of exactly what the runner's event-driven
pipeline does, given a per-transfer time function; on a bandwidth + latency level the two agree to
the picosecond (a property test holds them together). On a DRAM model the event pipeline sees real
bank timing, so the two differ by what the DRAM adds beyond its streaming bandwidth.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol, Sequence

from archsim.engine import PS_PER_S


@dataclass(frozen=True)
class Tile:
    """One step of a mapping: compute time, and the transfers before (loads) and after (stores) it."""

    compute_ps: int                           # issue interval: the next tile may start after it
    loads: tuple[tuple[int, int], ...] = ()   # (address, bytes) per load request
    stores: tuple[tuple[int, int], ...] = ()  # (address, bytes) per store request
    tail_ps: int = 0                          # results drain this long after the issue interval


@dataclass(frozen=True)
class PipelineResult:
    total_ps: int
    compute_ps: int          # the unit's stall-free time: issue intervals plus the last tile's drain
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

    uses_addresses = False     # only bytes matter
    exact_when_merged = True   # same-time requests may be merged into one (busy-period timing)

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
        if self._den:               # _xfer_ps inlined: this runs once per transfer of every `fast` op
            xfer = -((-self._period_bytes * self._num) // self._den)
        else:
            xfer = self._xfer_ps(self._period_bytes, is_write)
        self._busy_until = self._period_start + xfer
        return self._busy_until + self.latency_ps


def fast_port(level: Any) -> Port:
    """The level's own closed-form port if it has one (DRAM, flash), else the FIFO bandwidth model."""
    make = getattr(level, "fast_port", None)
    return make() if callable(make) else FifoPort(level)


def pipeline_time(tiles: Sequence[Tile], port: Port, slots: int = 2,
                  record: list | None = None, gates: dict[int, int] | None = None) -> PipelineResult:
    """Closed-form schedule of `tiles` through one off-chip `port` with `slots` tile buffers.

    The port serves requests in arrival order. Loads arrive when a buffer frees (at an issue-interval
    end, in tile order); stores arrive when their results are complete, which with a drain tail can
    be after later loads, so stores wait in a small heap until the port's clock passes them.
    With `record`, appends ("compute" | "load" | "store", tile index, start_ps, end_ps) per activity.
    `gates` {tile: ps}: the tile also needs data that lands then (fetched ahead: archsim.prefetch).
    """
    n = len(tiles)
    if n == 0:
        return PipelineResult(0, 0, 0, 0)
    slots = max(1, slots)
    issue, push, pop = port.issue, heapq.heappush, heapq.heappop
    load_ready = [0] * n          # time all of tile i's loads have arrived
    pending: list[tuple[int, int, int, int, int]] = []   # stores: (arrival, seq, tile, addr, bytes)
    last_store = seq = 0

    def flush_stores(until: int) -> None:
        """Serve every store that arrives at or before `until` (stores first at equal times)."""
        nonlocal last_store
        while pending and pending[0][0] <= until:
            at, _seq, i, addr, nbytes = pop(pending)
            done = issue(at, nbytes, True, addr)
            if done > last_store:
                last_store = done
            if record is not None:
                record.append(("store", i, at, done))

    def issue_loads(i: int, at: int) -> None:
        if pending and pending[0][0] <= at:
            flush_stores(at)
        ready = at
        for addr, nbytes in tiles[i].loads:
            done = issue(at, nbytes, False, addr)
            if done > ready:
                ready = done
            if record is not None:
                record.append(("load", i, at, done))
        load_ready[i] = max(ready, gates.get(i, 0)) if gates else ready

    issued = 0                    # tiles whose loads are issued
    while issued < min(slots, n):
        issue_loads(issued, 0)
        issued += 1
    prev_end = total_compute = first_start = last_result = 0
    for i, t in enumerate(tiles):
        start = load_ready[i]
        if prev_end > start:
            start = prev_end
        if i == 0:
            first_start = start
        end = start + t.compute_ps
        total_compute += t.compute_ps
        prev_end = end
        results = end + t.tail_ps
        if results > last_result:
            last_result = results
        if record is not None:
            record.append(("compute", i, start, results))
        for addr, nbytes in t.stores:
            seq += 1
            push(pending, (results, seq, i, addr, nbytes))
        if issued < n:            # tile i's buffer is free: tile i+slots may load
            issue_loads(issued, end)
            issued += 1
    flush_stores(1 << 62)
    total = max(last_result, last_store)
    busy = total_compute + tiles[-1].tail_ps  # the unit's own time: issue intervals plus the final drain
    return PipelineResult(total, busy, total - busy, first_start)
