"""The event-driven twin of dataflows.schedule.pipeline_time: the same tile pipeline on the engine.

Loads and stores are real requests to the off-chip `MemoryLevel`, so a DRAM model answers with its
bank timing, refresh and queueing; compute steps are events of the tile's compute time. With a
bandwidth + latency level the result equals the closed form to the picosecond.
"""
from __future__ import annotations

from typing import Sequence

from archsim.engine import Engine
from dataflows.schedule import PipelineResult, Tile
from memory.request import MemoryLevel, Request


class TilePipeline:
    """Run `tiles` through `level` with `slots` tile buffers, starting at the engine's current time."""

    def __init__(self, engine: Engine, level: MemoryLevel, tiles: Sequence[Tile], slots: int = 2,
                 requester: str = "unit", record: list | None = None):
        self.engine, self.level, self.tiles = engine, level, tiles
        self.slots = max(1, slots)
        self.requester = requester
        n = len(tiles)
        self._pending = [len(t.loads) for t in tiles]   # loads still in flight per tile
        self._ready = [not t.loads for t in tiles]
        self._next = 0            # next tile to compute
        self._busy = False
        self._issued = 0
        self._stores_open = 0
        self._t0 = engine.now
        self._end = engine.now
        self._first_start: int | None = None
        self._compute_ps = 0
        self.n = n
        self.record = record

    def run(self) -> PipelineResult:
        if self.n == 0:
            return PipelineResult(0, 0, 0, 0)
        while self._issued < min(self.slots, self.n):
            self._issue_loads(self._issued)
            self._issued += 1
        self._try_start()
        self.engine.run()
        total = self._end - self._t0
        first = (self._first_start or self._t0) - self._t0
        busy = self._compute_ps + self.tiles[-1].tail_ps
        return PipelineResult(total, busy, total - busy, first)

    # -- events ---------------------------------------------------------------------------------
    def _issue_loads(self, i: int) -> None:
        for addr, nbytes in self.tiles[i].loads:
            self.level.submit(Request(addr, nbytes, False, self.requester, self._load_done_cb(i)))

    def _load_done_cb(self, i: int):
        def done(req: Request) -> None:
            if self.record is not None:
                self.record.append(("load", i, req.issue_ps - self._t0, req.done_ps - self._t0))
            self._pending[i] -= 1
            if self._pending[i] == 0:
                self._ready[i] = True
                self._try_start()
        return done

    def _try_start(self) -> None:
        i = self._next
        if self._busy or i >= self.n or not self._ready[i]:
            return
        self._busy = True
        now = self.engine.now
        if self._first_start is None:
            self._first_start = now
        dt = self.tiles[i].compute_ps
        self._compute_ps += dt
        if self.record is not None:
            self.record.append(("compute", i, now - self._t0, now + dt + self.tiles[i].tail_ps - self._t0))
        self.engine.after(dt, self._compute_done, i)

    def _compute_done(self, i: int) -> None:
        self._busy = False
        self._next = i + 1
        tail = self.tiles[i].tail_ps
        if tail:   # results still drain: their stores go out when complete (before same-time loads)
            self.engine.after(tail, self._results_done, i)
        else:
            self._results_done(i)
        if self._issued < self.n:
            self._issue_loads(self._issued)
            self._issued += 1
        self._try_start()

    def _results_done(self, i: int) -> None:
        self._end = max(self._end, self.engine.now)
        for addr, nbytes in self.tiles[i].stores:
            self._stores_open += 1
            self.level.submit(Request(addr, nbytes, True, self.requester, self._store_done_cb(i)))

    def _store_done_cb(self, i: int):
        def done(req: Request) -> None:
            if self.record is not None:
                self.record.append(("store", i, req.issue_ps - self._t0, req.done_ps - self._t0))
            self._stores_open -= 1
            self._end = max(self._end, req.done_ps)
        return done
