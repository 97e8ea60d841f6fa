"""DRAM as a `MemoryLevel`: channels of controllers behind an address mapping, cycle or fast.

Requests split into bursts; each burst is decoded to (channel, rank, bank group, bank, row,
column) and waits in a per-channel FIFO until its controller queue has room (back-pressure): the
front end of a DMA with many requests in flight, which the runner uses and trace replay uses by
default (every channel fed). With `trace_frontend="in_order"` trace replay (`start_trace_frontend`)
admits bursts strictly in trace order instead, at most `trace_per_cycle` per DRAM cycle, the head
blocking the rest while its channel's queue is full, as DRAMSim3's and Ramulator's trace drivers do
(the peer comparisons in validation/dram use it). Latency is counted from acceptance into the controller
queue to data return, as both count it.
"""
from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from archsim.engine import Engine
from archsim.errors import ConfigError
from memory.dram.commands import CommandBus, Txn
from memory.dram.controller import Controller
from memory.dram.mapping import AddressMapping
from memory.dram.spec import DramSpec, load_spec
from memory.request import MemoryLevel, Request


TRACE_FRONTENDS = ("in_order", "per_channel")


class _Parent:
    __slots__ = ("req", "remaining", "done_cycle")

    def __init__(self, req: Request, n: int) -> None:
        self.req, self.remaining, self.done_cycle = req, n, 0


class DramLevel(MemoryLevel):
    def __init__(self, name: str, engine: Engine, spec: DramSpec, *, channels: int = 1,
                 ranks: int | None = None, mapping: str = "rochrababgco", xor_bank_hash: bool = False,
                 page_policy: str = "open", scheduler: str = "frfcfs", read_queue: int = 32,
                 write_queue: int = 32, high_wm: float = 0.75, low_wm: float = 0.25,
                 refresh: str = "all_bank", fidelity: str = "cycle", frontend_latency_cycles: int = 0,
                 trace_frontend: str = "per_channel", trace_per_cycle: int = 1) -> None:
        if trace_frontend not in TRACE_FRONTENDS:
            raise ConfigError(f"dram: frontend {trace_frontend!r} is not one of {', '.join(TRACE_FRONTENDS)}")
        if not isinstance(trace_per_cycle, int) or trace_per_cycle < 0:
            raise ConfigError("dram: frontend_per_cycle must be an integer >= 0 (0: unlimited), "
                              f"got {trace_per_cycle!r}")
        self.trace_frontend, self.trace_per_cycle = trace_frontend, trace_per_cycle
        self.native_skipped: str | None = None   # why the compiled replay core did not run, when it did not
        self._fifo: deque | None = None      # the trace front end's (channel, burst) FIFO, once started
        self._fe_cycle = self._fe_used = 0    # admissions in cycle _fe_cycle so far
        self._fe_tick = -1                    # latest cycle an admission retry is scheduled for
        self.spec = spec
        self.channels = channels
        self.ranks = ranks or spec.ranks
        self.mapping = AddressMapping.for_spec(mapping, spec, channels, self.ranks, xor_bank_hash)
        super().__init__(name, engine, self.mapping.capacity_bytes)
        self.clock = engine.clock(f"dram.{name}", spec.clock_hz)
        self.fidelity = fidelity
        self.frontend_latency_cycles = frontend_latency_cycles
        self.page_policy, self.scheduler, self.refresh = page_policy, scheduler, refresh
        self._burst_bytes = spec.burst_bytes
        self._geometry = (spec.bankgroups, spec.banks_per_group, spec.banks)   # for bank indices
        buses = [CommandBus(spec)
                 for _ in range(-(-channels // spec.shared_by_channels))]
        self.ctrls = [Controller(spec, self.ranks, buses[ch // spec.shared_by_channels],
                                 read_queue=read_queue, write_queue=write_queue, high_wm=high_wm,
                                 low_wm=low_wm, page_policy=page_policy, scheduler=scheduler,
                                 refresh=refresh, frontend_latency_cycles=frontend_latency_cycles,
                                 wake=self._waker(ch))
                      for ch in range(channels)]
        self.pending = [deque() for _ in range(channels)]
        self._wake_at: list[int | None] = [None] * channels
        self._running = [False] * channels
        self.read_latencies: list[int] = []
        self.last_cycle = 0
        self.bursts_read = self.bursts_written = 0
        if fidelity == "fast":
            from memory.dram.fast import FastDram
            self.fast = FastDram(self)
        self._native: Any = False    # the compiled core driving this level (memory/dram/native.py), once decided

    @classmethod
    def from_config(cls, cfg, engine: Engine, name: str = "offchip") -> "DramLevel":
        spec = load_spec(cfg.standard, cfg.timing)
        return cls(name, engine, spec, channels=cfg.channels, ranks=cfg.ranks, mapping=cfg.mapping,
                   xor_bank_hash=cfg.xor_bank_hash, page_policy=cfg.page_policy,
                   scheduler=cfg.scheduler, read_queue=cfg.read_queue_entries,
                   write_queue=cfg.write_queue_entries, high_wm=cfg.write_high_watermark,
                   low_wm=cfg.write_low_watermark, refresh=cfg.refresh, fidelity=cfg.fidelity,
                   frontend_latency_cycles=cfg.frontend_latency_cycles, trace_frontend=cfg.frontend,
                   trace_per_cycle=cfg.frontend_per_cycle)

    # -- engine plumbing -----------------------------------------------------------------------
    def _waker(self, ch: int):
        def wake(cycle: int) -> None:
            cur = self._wake_at[ch]
            if cur is not None and cur <= cycle:
                return
            self._wake_at[ch] = cycle
            if not self._running[ch]:
                self.engine.at(self.clock.cycles_to_ps(cycle), self._on_wake, ch, cycle)
        return wake

    def wake_channel(self, ch: int, cycle: int) -> None:
        """Step channel ch's controller at `cycle` (after giving it a command stream)."""
        self.ctrls[ch].wake(cycle)                # type: ignore[misc]

    def _on_wake(self, ch: int, cycle: int) -> None:
        """Step the controller; while its next wake comes before every other pending event,
        keep stepping here (run-ahead) instead of round-tripping through the event heap."""
        if self._wake_at[ch] != cycle:
            return                                  # superseded by an earlier wake
        peek = self.engine.peek_time
        ctrl, to_ps = self.ctrls[ch], self.clock.cycles_to_ps
        pend, wake_at, fifo = self.pending[ch], self._wake_at, self._fifo
        rq, wq = ctrl.rq, ctrl.wq
        self._running[ch] = True
        while True:
            wake_at[ch] = ctrl.step(cycle)         # enqueue (in _admit) may bring it earlier
            if pend:
                q = wq if pend[0].is_write else rq
                if q.n < q.size:                   # else back-pressure: nothing to admit
                    self._admit(ch, cycle)
            elif fifo and fifo[0][0] == ch:        # the trace front end waits on this channel
                self._admit_in_order(cycle)
            nxt = wake_at[ch]
            if nxt is None:
                break
            nxt_other = peek()
            if nxt_other is not None and nxt_other <= to_ps(nxt):
                self.engine.at(to_ps(nxt), self._on_wake, ch, nxt)
                break
            cycle = nxt
        self._running[ch] = False

    def _admit(self, ch: int, cycle: int) -> None:
        pend, ctrl = self.pending[ch], self.ctrls[ch]
        rq, wq = ctrl.rq, ctrl.wq
        while pend:
            q = wq if pend[0].is_write else rq
            if q.n >= q.size:                       # controller queue full: back-pressure
                return
            t = pend.popleft()
            t.arrive = cycle
            ctrl.enqueue(t, cycle)

    def start_trace_frontend(self) -> None:
        """Serve later submissions through the trace front end configured for this level (trace
        replay calls this; the runner's DMA keeps the per-channel FIFOs)."""
        if self.trace_frontend == "in_order" and self._fifo is None:
            self._fifo = deque()

    def _admit_in_order(self, cycle: int) -> None:
        """Admit bursts in trace order, at most trace_per_cycle in a cycle (0: no limit); a full
        channel queue at the head blocks everything behind it until that channel frees a slot."""
        fifo, lim, ctrls = self._fifo, self.trace_per_cycle, self.ctrls
        if cycle != self._fe_cycle:
            self._fe_cycle, self._fe_used = cycle, 0
        while fifo:
            if lim and self._fe_used >= lim:       # this cycle's admissions are spent: retry next cycle
                if self._fe_tick < cycle + 1:
                    self._fe_tick = cycle + 1
                    self.engine.at(self.clock.cycles_to_ps(cycle + 1), self._admit_in_order, cycle + 1)
                return
            ch, t = fifo[0]
            ctrl = ctrls[ch]
            q = ctrl.wq if t.is_write else ctrl.rq
            if q.n >= q.size:                       # head-of-line blocking; ch's next step retries
                return
            fifo.popleft()
            t.arrive = cycle
            self._fe_used += 1
            ctrl.enqueue(t, cycle)

    # -- MemoryLevel ---------------------------------------------------------------------------
    def submit(self, req: Request) -> None:
        self._check(req)
        if self._native is False and self.fidelity == "cycle":   # decided at the first request: C or Python
            from memory.dram.native import attach
            self._native = attach(self)
        req.issue_ps = self.engine.now
        self._account(req)
        if self.fidelity == "fast":
            self.fast.submit(req)
            return
        if self._native is not None:
            self._native.submit(req)
            return
        bb = self._burst_bytes
        first, last = req.addr // bb, (req.addr + req.nbytes - 1) // bb
        parent = _Parent(req, last - first + 1)
        now = self.clock.ps_to_cycles(self.engine.now)
        nbg, bpg, bpr = self._geometry
        decode, pending, done, fifo = self.mapping.decode, self.pending, self._txn_done, self._fifo
        touched = set()
        for burst in range(first, last + 1):
            ch, ra, bg, ba, ro, co = decode(burst * bb)
            t = Txn(now, req.is_write, ra, ra * nbg + bg, ra * bpr + bg * bpg + ba, ro, co, done, parent)
            if fifo is None:
                pending[ch].append(t)
                touched.add(ch)
            else:
                fifo.append((ch, t))
        if fifo is not None:
            self._admit_in_order(now)
        for ch in sorted(touched) if len(touched) > 1 else touched:
            self._admit(ch, now)

    def _txn_done(self, t: Txn, done_cycle: int) -> None:
        if t.is_write:
            self.bursts_written += 1
        else:
            self.bursts_read += 1
            self.read_latencies.append(done_cycle - t.arrive)
        if done_cycle > self.last_cycle:
            self.last_cycle = done_cycle
        p = t.tag
        p.remaining -= 1
        if done_cycle > p.done_cycle:
            p.done_cycle = done_cycle
        if p.remaining == 0:
            self._finish_at(p.req, max(self.engine.now, self.clock.cycles_to_ps(p.done_cycle)))

    @property
    def refresh_interval_ps(self) -> int:
        """Time between refreshes of one rank (0 without refresh): the slowest regular disturbance of
        a stream, which steady-state sampling averages over (archsim.sampling)."""
        return 0 if self.refresh == "none" else self.clock.cycles_to_ps(self.ctrls[0].t_refi)

    @property
    def refresh_time_ps(self) -> int:
        """One refresh's time (tRFC, or tRFCsb per bank; 0 without refresh): how far a different
        refresh phase can move an op's time (archsim.sampling)."""
        t = self.spec.timing
        cyc = 0 if self.refresh == "none" else t["tRFCsb"] if self.refresh == "per_bank" else t["tRFC"]
        return self.clock.cycles_to_ps(cyc)

    @property
    def peak_bytes_per_s(self) -> float:
        """Data-bus peak over all channels (the roofline's slanted roof)."""
        return self.spec.peak_bytes_per_s * self.channels

    def stream_time_ps(self, nbytes: int, is_write: bool = False, addr: int = 0) -> int:
        from memory.dram.fast import stream_cycles
        return self.clock.cycles_to_ps(stream_cycles(self, addr, nbytes, is_write))

    # -- statistics ----------------------------------------------------------------------------
    def sync_commands(self) -> None:
        """Bring the controllers' command and row-hit counters up to date (the compiled core keeps
        its own while it drives the level)."""
        if self._native:
            self._native.sync(latencies=False)

    def level_stats(self) -> dict:
        if self.fidelity == "fast":
            return self.fast.stats()
        if self._native:
            self._native.sync()
        spec = self.spec
        spec_names = spec.command_names
        cc = [0] * len(spec_names)
        ref = spec_names.index("REFsb" if self.refresh == "per_bank" else "REF")
        for c in self.ctrls:
            cc = [a + b for a, b in zip(cc, c.cmd_counts)]
            cc[ref] += c.refreshes_owed(self.last_cycle)     # every channel and rank refreshes to the end
        hits = sum(c.hits for c in self.ctrls)
        misses = sum(c.misses for c in self.ctrls)
        conflicts = sum(c.conflicts for c in self.ctrls)
        n = hits + misses + conflicts
        cycles = self.last_cycle
        nbytes = (self.bursts_read + self.bursts_written) * spec.burst_bytes
        time_ns = cycles * spec.tck_ps / 1000
        lat = np.asarray(self.read_latencies, dtype=np.int64)
        by_cmd = {c: cc[i] * spec.energy_pj[c] for i, c in enumerate(spec_names)}
        background = spec.background_mw * self.ranks * self.channels * time_ns   # mW x ns = pJ
        self.energy_pj = sum(by_cmd.values()) + background
        return {
            "standard": spec.name, "fidelity": self.fidelity, "channels": self.channels,
            "reads": self.bursts_read, "writes": self.bursts_written, "tx_bytes": spec.burst_bytes,
            "total_cycles": cycles, "tck_ns": spec.tck_ps / 1000, "time_ns": time_ns,
            "bandwidth_gbps": nbytes / time_ns if time_ns else 0.0,
            "peak_bandwidth_gbps": spec.peak_bytes_per_s * self.channels / 1e9,
            "avg_read_latency_cycles": float(lat.mean()) if lat.size else 0.0,
            "p50_read_latency_cycles": float(np.percentile(lat, 50)) if lat.size else 0.0,
            "p99_read_latency_cycles": float(np.percentile(lat, 99)) if lat.size else 0.0,
            "row_hits": hits, "row_misses": misses, "row_conflicts": conflicts,
            "row_hit_rate": hits / n if n else 0.0,
            "activates": cc[0], "precharges": cc[1] + cc[4] + cc[5],
            "refreshes": cc[6] + cc[7], "commands": dict(zip(spec_names, cc)),
            "energy_by_command_pj": by_cmd, "energy_background_pj": background,
            "energy_pj": self.energy_pj,
        }
