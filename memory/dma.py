"""A prefetch DMA in front of an off-chip level: its requests yield to demand requests.

A prefetch engine fetches data nobody waits for yet, so it must not delay the loads that someone
does wait for. It keeps at most `slots` requests of its own outstanding per back-end and issues
the next one only while no demand request to that back-end is in flight; a demand request that
arrives finds at most `slots` prefetches ahead of it. The rule lives in front of the level and
watches only the requests that pass through it, so it holds for every level kind (links in front
of a flash drive, DRAM controllers, simple pipes), whose own queues stay as they are; a run
without prefetch never builds one.
"""
from __future__ import annotations

from collections import deque
from typing import Sequence

from archsim.engine import Engine
from memory.request import MemoryLevel, Request
from memory.route import LEVEL_SHIFT


class PrefetchDma(MemoryLevel):
    """Demand requests pass through to `level` (counted per back-end while in flight); `prefetch`
    queues a request tagged with the op it is for and issues it when the back-end has no demand in
    flight and a slot is free. `slots[i]` is back-end i's queue depth (`routed`: the address picks i)."""

    def __init__(self, engine: Engine, level: MemoryLevel, slots: Sequence[int], routed: bool) -> None:
        super().__init__(f"{level.name}.dma", engine)
        self.level, self.slots, self.routed = level, list(slots), routed
        self.demand = [0] * len(self.slots)                 # demand requests in flight, per back-end
        self.busy = [0] * len(self.slots)                   # prefetches in flight, per back-end
        self.queue: list[deque] = [deque() for _ in self.slots]   # (tag, request) waiting, per back-end
        self._poked = [False] * len(self.slots)

    def _index(self, addr: int) -> int:
        return addr >> LEVEL_SHIFT if self.routed else 0

    def _track(self, req: Request, count: list[int]) -> int:
        """Back-end of `req`; when it completes, `count` (demand or busy) drops by one and the queue
        there is looked at again."""
        i = self._index(req.addr)
        on_done = req.on_done

        def done(r: Request) -> None:
            count[i] -= 1
            if on_done is not None:
                on_done(r)
            self._poke(i)
        req.on_done = done
        return i

    def submit(self, req: Request) -> None:
        self.demand[self._track(req, self.demand)] += 1
        self.level.submit(req)

    def prefetch(self, tag: int, req: Request) -> None:
        """Queue a prefetch request for op `tag`; it goes out when the back-end has room for it."""
        i = self._track(req, self.busy)
        self.queue[i].append((tag, req))
        self._poke(i)

    def drop(self, tag: int, index: int) -> int:
        """Take the requests of op `tag` that have not gone out yet off back-end `index`'s queue (the
        op has started: its own loads fetch those bytes); returns how many were dropped."""
        q, n = self.queue[index], 0
        while q and q[0][0] == tag:
            q.popleft()
            n += 1
        return n

    def _poke(self, i: int) -> None:
        """Look at back-end i once the events of this picosecond have run (a demand load that a
        completion triggers at the same time goes first)."""
        if not self._poked[i] and self.queue[i]:
            self._poked[i] = True
            self.engine.at(self.engine.now, self._pump, i)

    def _pump(self, i: int) -> None:
        self._poked[i] = False
        q = self.queue[i]
        while q and not self.demand[i] and self.busy[i] < self.slots[i]:
            self.busy[i] += 1
            self.level.submit(q.popleft()[1])

    def stream_time_ps(self, nbytes: int, is_write: bool = False, addr: int = 0) -> int:
        return self.level.stream_time_ps(nbytes, is_write, addr)

    @property
    def peak_bytes_per_s(self) -> float:
        return self.level.peak_bytes_per_s


def queue_depth(level: MemoryLevel, piece: int) -> int:
    """Slots a DMA needs to keep `level` streaming in `piece`-byte requests: the pieces it moves at its
    peak rate while one piece makes its trip (bandwidth x latency, in pieces), at least one."""
    trip_ps = level.stream_time_ps(piece)
    return max(1, -(-int(trip_ps * level.peak_bytes_per_s) // (piece * 10**12)))

