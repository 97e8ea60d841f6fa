"""The event-driven tile pipeline: the twin of dataflows.schedule.pipeline_time, plus write-behind.

Loads and stores are real requests to the off-chip `MemoryLevel`, so a DRAM model answers with its
bank timing, refresh and queueing; compute steps are events of the tile's compute time. With a
bandwidth + latency level the result equals the closed form to the picosecond.

Write-behind (`WriteBehind`): finished outputs wait in the output buffer and go out only while no
load is in flight and the port is idle, in chunks sized to end before the next load is issued (the
pipeline knows when: at the running tile's compute end), so a large write-back no longer holds
later loads back on a FIFO port (reads first, as a DMA engine with separate read and write queues
does). The pipeline tracks when the port finishes what it was given, from its streaming rate and
per-request overhead (exact on a bandwidth + latency level; the mapper's view of a DRAM or flash
level). Once more than `limit_bytes` wait, the excess goes out at once (the buffer's watermark).
Decisions are taken after every other event of the same picosecond, so they do not depend on event
order; the `fast` fidelity runs this same class over the level's closed-form port (`FastPortLevel`).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Sequence

from archsim.engine import Engine
from dataflows.schedule import PipelineResult, Port, Tile
from memory.request import MemoryLevel, Request

MIN_CHUNK_BYTES = 64     # a gap shorter than one burst is left idle


@dataclass(frozen=True)
class WriteBehind:
    """Output write-back policy: `limit_bytes` may wait in the buffer; stores move in `chunk_bytes`.
    The pipeline times the port as `request_overhead_ps` per request plus bytes at `bytes_per_s`."""

    limit_bytes: int
    chunk_bytes: int = 4096
    bytes_per_s: float = 0.0            # 0: the level's peak
    request_overhead_ps: int = 0


class FastPortLevel(MemoryLevel):
    """A closed-form `Port` as a memory level, so the event pipeline can run in the `fast` fidelity."""

    def __init__(self, engine: Engine, port: Port, peak_bytes_per_s: float) -> None:
        super().__init__("fast_port", engine)
        self.port = port
        self._peak = float(peak_bytes_per_s)

    @property
    def peak_bytes_per_s(self) -> float:
        return self._peak

    def submit(self, req: Request) -> None:
        req.issue_ps = self.engine.now
        self._account(req)
        self._finish_at(req, self.port.issue(self.engine.now, req.nbytes, req.is_write, req.addr))


class TilePipeline:
    """Run `tiles` through `level` with `slots` tile buffers, starting at the engine's current time."""

    def __init__(self, engine: Engine, level: MemoryLevel, tiles: Sequence[Tile], slots: int = 2,
                 requester: str = "unit", record: list | None = None, write_behind: WriteBehind | None = None):
        self.engine, self.level, self.tiles = engine, level, tiles
        self.slots = max(1, slots)
        self.requester = requester
        n = len(tiles)
        self._pending = [len(t.loads) for t in tiles]   # loads still in flight per tile
        self._ready = [not t.loads for t in tiles]
        self._next = 0            # next tile to compute
        self._busy = False
        self._issued = 0
        self._t0 = engine.now
        self._end = engine.now
        self._first_start: int | None = None
        self._compute_ps = 0
        self.n = n
        self.record = record
        self.wb = write_behind
        self._backlog: deque[list[int]] = deque()     # [tile, address, bytes left] waiting to go out
        self._backlog_bytes = 0
        self._drain_at: set[int] = set()              # times a drain decision is posted for
        self._port_free = engine.now                  # when the port ends what this pipeline gave it
        self._next_addr = -1                          # where a continuing request would start
        self._loads_out = 0                           # load requests in flight
        self._compute_end: int | None = None          # end of the running tile's issue interval
        self._ps_per_byte = 1e12 / (write_behind.bytes_per_s or level.peak_bytes_per_s) if write_behind else 0.0
        self.peak_backlog_bytes = 0
        self._results_left = n                        # tiles whose results are not yet complete
        self._stores_out = 0                          # store requests in flight
        self._on_finish: Callable[[PipelineResult], None] | None = None
        self.held: set[int] = set()                   # tiles waiting for data fetched ahead (`hold`)

    def hold(self, i: int, at_ps: int | None = None) -> None:
        """Before `start`: tile i also needs data fetched ahead of the op (archsim.prefetch) that lands
        `at_ps` after the start, or, with None, when `release(i)` is called."""
        self._pending[i] += 1
        self._ready[i] = False
        self.held.add(i)
        if at_ps is not None:
            self.engine.at(self._t0 + at_ps, self.release, i)

    def release(self, i: int) -> None:
        """Data tile i was held for has landed."""
        self.held.discard(i)
        self._pending[i] -= 1
        if self._pending[i] == 0:
            self._ready[i] = True
            self._try_start()

    def run(self, until_done: bool = False) -> PipelineResult:
        """Run alone: start, then run the engine until nothing is left, or (`until_done`) only until this
        pipeline's last store completes, leaving others' later events (requests in flight) pending."""
        if self.n == 0:
            return PipelineResult(0, 0, 0, 0)
        if not until_done:
            self.start()
            self.engine.run()
            return self.result()
        done: list[PipelineResult] = []
        self.start(done.append)
        while not done and self.engine.pending:
            self.engine.run(self.engine.peek_time())
        return self.result()

    def start(self, on_finish: Callable[[PipelineResult], None] | None = None) -> None:
        """Issue the first loads now; `on_finish(result)` is called when the last store completes (for
        pipelines that run concurrently with others on one engine)."""
        self._on_finish = on_finish
        if self.n == 0:
            self._maybe_finish()
            return
        while self._issued < min(self.slots, self.n):
            self._issue_loads(self._issued)
            self._issued += 1
        self._try_start()

    def result(self) -> PipelineResult:
        if self.n == 0:
            return PipelineResult(0, 0, 0, 0)
        total = self._end - self._t0
        first = (self._first_start or self._t0) - self._t0
        busy = self._compute_ps + self.tiles[-1].tail_ps
        return PipelineResult(total, busy, total - busy, first)

    def _maybe_finish(self) -> None:
        if (self._on_finish is not None and self._results_left == 0 and self._stores_out == 0
                and not self._backlog):
            done, self._on_finish = self._on_finish, None
            done(self.result())

    # -- events ---------------------------------------------------------------------------------
    def _issue_loads(self, i: int) -> None:
        for addr, nbytes in self.tiles[i].loads:
            self._loads_out += 1
            self._occupy(addr, nbytes)
            self.level.submit(Request(addr, nbytes, False, self.requester, self._load_done_cb(i)))

    def _load_done_cb(self, i: int):
        def done(req: Request) -> None:
            if self.record is not None:
                self.record.append(("load", i, req.issue_ps - self._t0, req.done_ps - self._t0))
            self._loads_out -= 1
            self._pending[i] -= 1
            if self._pending[i] == 0:
                self._ready[i] = True
                self._try_start()
            if self._backlog and not self._loads_out:
                self._post_drain()
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
        self._compute_end = now + dt
        self._compute_ps += dt
        if self.record is not None:
            self.record.append(("compute", i, now - self._t0, now + dt + self.tiles[i].tail_ps - self._t0))
        self.engine.after(dt, self._compute_done, i)

    def _compute_done(self, i: int) -> None:
        self._busy = False
        self._compute_end = None
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
        self._results_left -= 1
        stores = self.tiles[i].stores
        if self.wb is not None:
            if stores:
                for addr, nbytes in stores:
                    self._backlog.append([i, addr, nbytes])
                    self._backlog_bytes += nbytes
                self.peak_backlog_bytes = max(self.peak_backlog_bytes, self._backlog_bytes)
                self._post_drain()
            self._maybe_finish()
            return
        for addr, nbytes in stores:
            self._stores_out += 1
            self.level.submit(Request(addr, nbytes, True, self.requester, self._store_done_cb(i)))
        self._maybe_finish()

    def _store_done_cb(self, i: int):
        def done(req: Request) -> None:
            if self.record is not None:
                self.record.append(("store", i, req.issue_ps - self._t0, req.done_ps - self._t0))
            self._end = max(self._end, req.done_ps)
            self._stores_out -= 1
            self._maybe_finish()
        return done

    # -- write-behind ---------------------------------------------------------------------------
    def _occupy(self, addr: int, nbytes: int) -> None:
        """Advance the port's estimated busy-until by a request; one that does not continue the
        previous request's addresses pays the per-request overhead (a jump, as the fast port has it)."""
        if self.wb is not None:
            jump = self.wb.request_overhead_ps if addr != self._next_addr else 0
            self._port_free = max(self._port_free, self.engine.now) + jump + int(nbytes * self._ps_per_byte)
            self._next_addr = addr + nbytes

    def _post_drain(self, at: int | None = None) -> None:
        at = self.engine.now if at is None else at
        if at not in self._drain_at:
            self._drain_at.add(at)
            self.engine.at(at, self._drain)

    def _drain(self) -> None:
        """Send outputs into the port's idle time, after every other event of this picosecond."""
        now = self.engine.now
        if self.engine.peek_time() == now:
            self.engine.at(now, self._drain)          # others at this time first: decide last
            return
        self._drain_at.discard(now)
        wb = self.wb
        while self._backlog_bytes > wb.limit_bytes:   # over the watermark: the excess goes now
            self._send(min(wb.chunk_bytes, self._backlog_bytes - wb.limit_bytes))
        if not self._backlog:
            return
        if self._loads_out and self._issued < self.n:
            return                                    # loads in flight: their arrival decides again
        if self._port_free > now:
            self._post_drain(self._port_free)         # busy: look again when it is idle
            return
        n = min(wb.chunk_bytes, self._backlog[0][2])
        if self._compute_end is not None and self._issued < self.n:   # loads follow at compute end
            jump = wb.request_overhead_ps if self._backlog[0][1] != self._next_addr else 0
            n = min(n, int((self._compute_end - now - jump) / self._ps_per_byte))
            if n < min(MIN_CHUNK_BYTES, self._backlog[0][2]):
                self._post_drain(self._compute_end)   # too short a gap: after those loads
                return
        self._send(n)
        self._post_drain(self._port_free)

    def _send(self, nbytes: int) -> None:
        """Issue the first `nbytes` of the backlog's head (one request)."""
        head = self._backlog[0]
        i, addr, left = head
        n = min(nbytes, left)
        head[1], head[2] = addr + n, left - n
        if head[2] == 0:
            self._backlog.popleft()
        self._backlog_bytes -= n
        self._occupy(addr, n)
        self._stores_out += 1
        self.level.submit(Request(addr, n, True, self.requester, self._store_done_cb(i)))
