"""SCALE-Sim v3's double-buffered memory (USER and CALC mode): stalls and the prefetch-inclusive total.

SCALE-Sim's USER mode (`InterfaceBandwidth: USER`) puts a double-buffered SRAM in front of each
operand. What it documents and does, modelled here in our own terms:

* Read side (ifmap, filter). The operand is fetched from DRAM in a fixed *prefetch order*: the
  per-fold operand blocks stacked fold after fold, rolled out along anti-diagonals for a streamed
  operand and in row order for the tile ws / is hold in the array (scalesim_schedule.py). That stream
  is cut into *sets* of ceil(SRAM words / 100) valid words. Half the SRAM is the active window
  (a run of sets), the rest the prefetch half. The active half is filled before cycle 0 (not a
  stall: DRAM start = -lines). A demand for a word in no active set slides the window forward by
  a prefetch half, wrapping round the stream, until the word is in; each slide is a DRAM burst of
  ceil(prefetch words / bw) lines starting one cycle after the previous burst, answered a cycle
  later. A row's stall is the burst end minus its cycle, added twice when positive and once
  (negative) otherwise: SCALE-Sim's own arithmetic (reference Q6), kept so the counts match.
* Write side (ofmap). Outputs fill lines of `Bandwidth` words. Once less than the active half is
  free, everything written so far (the open line closed early) drains at a line per cycle; a write
  that finds no space while a drain runs waits for it. After the last cycle the rest drains.
* A row's stall is the largest of the three; later rows move by the running stall total.
* "Total Cycles (incl. prefetch)" is the last ofmap DRAM write minus the first DRAM read.

When an operand's whole prefetch stream fits in its active half there are no slides, so most
layers cost nothing beyond closed forms; only layers whose operands overflow are walked, and then
window slides (not cycles) are the sequential steps.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from archsim.units.systolic.folds import cdiv
from archsim.units.systolic.scalesim_schedule import SCHEDULES, ConvGeometry, Schedule, schedule

__all__ = ["SCHEDULES", "ConvGeometry", "MemoryRun", "UserMemory", "memory_run"]

ACTIVE_FRACTION = 0.5        # SCALE-Sim's fixed split of every SRAM into active and prefetch halves
SETS_PER_SRAM = 100          # a prefetch set is 1% of the SRAM's words
READ_LATENCY = 1             # DRAM read port latency, cycles (write port: 0)
CALC_READ_BW = 10            # CALC mode's nominal ifmap/filter fetch rate, words per cycle


@dataclass(frozen=True)
class UserMemory:
    """The .cfg numbers that shape USER-mode memory: SRAM sizes in kB of 1-byte words, and the
    DRAM bandwidths in words per cycle (ifmap/filter from [layout], ofmap from `Bandwidth`)."""

    ifmap_kb: int
    filter_kb: int
    ofmap_kb: int
    ifmap_bw: int
    filter_bw: int
    ofmap_bw: int


@dataclass
class MemoryRun:
    """SCALE-Sim's per-layer memory report: cycles, stalls and per-operand SRAM/DRAM windows."""

    total_cycles: int
    stall_cycles: int
    total_with_prefetch: int
    sram: dict[str, tuple[int, int]] = field(default_factory=dict)        # (start, stop)
    dram: dict[str, tuple[int, int, int]] = field(default_factory=dict)   # (start, stop, words)


class ReadBuffer:
    """One operand's active window over its prefetch stream (see module docstring)."""

    def __init__(self, size: int, valid: int, sram_words: int, bw: int):
        """size: words in the prefetch stream (padding included); valid: real words in it."""
        self.bw = bw
        self.lines = cdiv(size, bw)                        # DRAM lines in the whole stream
        active = math.ceil(sram_words * ACTIVE_FRACTION)
        prefetch = sram_words - active
        self.per_set = math.ceil(sram_words / SETS_PER_SRAM)
        self.n_sets = valid // self.per_set + 1            # a trailing (possibly empty) set
        self.n_active = min(math.ceil(active / self.per_set), self.n_sets)
        self.n_slide = min(math.ceil(prefetch / self.per_set), self.n_sets - self.n_active)
        self.first_lines = min(math.ceil(active / bw), self.lines)
        self.slide_lines = math.ceil(prefetch / bw)

    @property
    def fits(self) -> bool:
        return self.n_slide == 0

    def slides(self, stream: np.ndarray, demand: np.ndarray, chunk: int = 1 << 15) -> np.ndarray:
        """Index into `demand` (valid ids, in demand order) of every window slide, one entry per
        slide, for the prefetch `stream`."""
        if self.fits:
            return np.zeros(0, np.int64)
        valid = stream[stream >= 0]
        sets = np.arange(valid.size) // self.per_set
        order = np.lexsort((sets, valid))
        occ_ids, occ_sets = valid[order], sets[order]
        ptr = np.flatnonzero(np.diff(occ_ids, prepend=-1))   # each id's first occurrence (np.unique's
        keys = occ_ids[ptr]                                  # hash path is slow on big streams)
        ptr = np.append(ptr, occ_ids.size)
        dense = np.searchsorted(keys, demand)
        start, pos, out = 0, 0, []
        while pos < demand.size:
            idx = dense[pos:pos + chunk]
            lo, hi = ptr[idx], ptr[idx + 1]
            counts = hi - lo
            offs = np.cumsum(counts) - counts
            flat = np.repeat(lo - offs, counts) + np.arange(counts.sum())
            inside = ((occ_sets[flat] - start) % self.n_sets) < self.n_active
            hit = np.maximum.reduceat(inside, offs)
            miss = np.flatnonzero(~hit)
            if miss.size == 0:
                pos += idx.size
                continue
            j = pos + int(miss[0])
            mine = occ_sets[ptr[dense[j]]:ptr[dense[j] + 1]]
            while not np.any(((mine - start) % self.n_sets) < self.n_active):
                start = (start + self.n_slide) % self.n_sets
                out.append(j)
            pos = j + 1
        return np.asarray(out, np.int64)


class WriteBuffer:
    """The ofmap SRAM and its drain to DRAM (see module docstring)."""

    def __init__(self, sram_words: int, bw: int):
        self.total = sram_words
        self.active = math.ceil(sram_words * ACTIVE_FRACTION)
        self.drain_lines = math.ceil((sram_words - self.active) / bw)
        self.bw = bw
        self.free = sram_words
        self.lines = 0               # closed lines
        self.open = 0                # words in the open line
        self.partial: dict[int, int] = {}    # line -> valid words, for lines closed early
        self.drained = 0             # lines sent to DRAM
        self.drain_end = 0
        self.first_drain: int | None = None
        self.words = 0               # DRAM words written

    def _store(self, n: int) -> None:
        self.free -= n
        total = self.open + n
        self.lines += total // self.bw
        self.open = total % self.bw

    def _drain(self, cycle: int) -> int:
        if self.open:
            self.partial[self.lines] = self.open
            self.lines += 1
            self.open = 0
        n = min(self.drain_lines, self.lines - self.drained)
        last = self.drained + n - 1
        words = n * self.bw - (self.bw - self.partial.get(last, self.bw))
        self.words += words
        self.free += words
        self.drained += n
        if self.first_drain is None:
            self.first_drain = cycle
        return cycle + n - 1

    def write(self, cycle: int, n: int) -> int:
        """n words arriving at `cycle`; returns the cycle the row is done (later if it waited)."""
        cur = cycle
        while n > 0:
            if cur < self.drain_end:
                if n < self.free:
                    self._store(n)
                    return cur
                k = max(self.free, 1)
                self._store(k)
                n -= k
                cur = self.drain_end
            else:
                k = max(self.free - self.active + 1, 1)
                if n < k:
                    self._store(n)
                    return cur
                self._store(k)
                n -= k
                self.drain_end = self._drain(cur)
        return cur

    def finish(self, cycle: int) -> int | None:
        """Drain what is left after the last cycle; the last DRAM write cycle (None: nothing written)."""
        end = self.drain_end if self.first_drain is not None else None
        while self.open or self.lines > self.drained:     # a drain still running may end later
            last = self._drain(cycle)
            end = last if end is None else max(end, last)
            cycle = last + 1
        return end


def estimate_reads(rows: np.ndarray, ids: np.ndarray, sram_words: int, bw: int) -> tuple[int, int, int]:
    """CALC mode's read side: (DRAM start, stop, words) of one operand.

    CALC mode has no bandwidth limit; it fetches what the array asks for, in sets of
    floor(SRAM words / 100) distinct words. Once 50 sets (the active half) have been fetched, the
    next epoch starts empty, so a word comes from DRAM once per epoch that asks for it. The first
    fetch ends just before the first demand at `bw` words a cycle (all of it before cycle 0 when
    the operand never fills an epoch); the last ends a cycle after the last epoch boundary."""
    per_set = sram_words // SETS_PER_SRAM
    epoch = round(ACTIVE_FRACTION * SETS_PER_SRAM) * per_set
    pos, words, boundaries = 0, 0, []
    while pos < ids.size:
        span = 2 * epoch
        while True:
            chunk = ids[pos:pos + span]
            _, first = np.unique(chunk, return_index=True)
            if first.size >= epoch or pos + span >= ids.size:
                break
            span *= 2
        if first.size < epoch:
            words += first.size
            break
        q = pos + int(np.partition(first, epoch - 1)[epoch - 1])
        words += epoch
        boundaries.append(int(rows[q]))
        pos = q + 1
    if not boundaries:
        lead = math.ceil(cdiv(words, per_set) * per_set / bw)
        return -lead, -1, words
    return int(rows[0]) - math.ceil(epoch / bw), boundaries[-1] + 1, words


def _timeline(sched: Schedule, wb: WriteBuffer, events: dict[str, dict[int, int]],
              slide_lines: dict[str, int]) -> tuple[int, int, int | None, dict[str, int], list, dict]:
    """Walk the rows where something happens: read-window slides and ofmap writes.

    Returns the last row's finish cycle (SCALE-Sim's Total Cycles), the stall total, the last
    ofmap DRAM cycle, the last burst per operand, (row, stall before, stall after) marks, and per
    operand the cycle each such row was served (a read after its slides, which SCALE-Sim's
    arithmetic can put before the row's own cycle; a write once it found space)."""
    writes = sched.writes()
    last_burst = {name: -1 for name in events}
    stall, out = 0, 0
    marks: list[tuple[int, int, int]] = []
    served: dict[str, dict[int, int]] = {name: {} for name in ("ifmap", "filter", "ofmap")}
    for i in sorted(set(writes).union(*events.values(), {sched.rows - 1})):
        cycle = i + stall
        worst = 0
        for name, per_row in events.items():
            offset = READ_LATENCY
            for _ in range(per_row.get(i, 0)):
                last_burst[name] += slide_lines[name] + READ_LATENCY
                p = last_burst[name] - (cycle + offset)
                offset += 2 * p if p > 0 else p
            if i in per_row:
                served[name][i] = cycle + offset
            worst = max(worst, offset - READ_LATENCY)
        n = writes.get(i, 0)
        out = wb.write(cycle, n) if n else cycle
        if n:
            served["ofmap"][i] = out
        before = stall
        stall += max(worst, out - cycle)
        marks.append((i, before, stall))
    return out, stall, wb.finish(out), last_burst, marks, served


def _sram_windows(sched: Schedule, marks: list,
                  served: dict[str, dict[int, int]]) -> dict[str, tuple[int, int]]:
    """First and last SRAM access cycle per operand: when that row was served, or its cycle
    shifted by the stalls before it (plus the read latency) where nothing happened."""
    keys = [m[0] for m in marks]

    def at(row: int) -> int:
        j = int(np.searchsorted(keys, row, side="right")) - 1
        if j < 0:
            return row
        return row + (marks[j][1] if keys[j] == row else marks[j][2])

    out = {}
    for name in ("ifmap", "filter"):
        lo, hi = sched.demand_span(name)
        first, last = (served[name].get(r, at(r) + READ_LATENCY) for r in (lo, hi))
        out[name] = (first, last)
    writes = served["ofmap"]
    out["ofmap"] = (writes[min(writes)], writes[max(writes)])
    return out


def memory_run(geo: ConvGeometry, R: int, C: int, dataflow: str, mem: UserMemory,
               mode: str) -> MemoryRun:
    """SCALE-Sim's memory timing of one layer in CALC or USER mode (see the module docstring)."""
    if mode == "USER":
        return user_memory_run(geo, R, C, dataflow, mem)
    sched = schedule(geo, R, C, dataflow)
    dram = {}
    for name, kb in (("ifmap", mem.ifmap_kb), ("filter", mem.filter_kb)):
        rows, ids = sched.demand(name)
        dram[name] = estimate_reads(rows, ids, kb * 1024, CALC_READ_BW)
    wb = WriteBuffer(mem.ofmap_kb * 1024, C)              # CALC drains a full array row a cycle
    out, stall, end, _, marks, served = _timeline(sched, wb, {}, {})
    dram["ofmap"] = (wb.first_drain or 0, end or 0, wb.words)
    first = min(dram["ifmap"][0], dram["filter"][0])
    return MemoryRun(total_cycles=out, stall_cycles=stall, total_with_prefetch=(end or 0) - first,
                     sram=_sram_windows(sched, marks, served), dram=dram)


def user_memory_run(geo: ConvGeometry, R: int, C: int, dataflow: str, mem: UserMemory) -> MemoryRun:
    """SCALE-Sim's USER-mode timing of one layer: stalls, total, and the prefetch-inclusive total."""
    sched = schedule(geo, R, C, dataflow)
    spec = {"ifmap": (mem.ifmap_kb, mem.ifmap_bw), "filter": (mem.filter_kb, mem.filter_bw)}
    bufs = {k: ReadBuffer(*sched.prefetch_size(k), kb * 1024, bw) for k, (kb, bw) in spec.items()}
    events: dict[str, dict[int, int]] = {}
    for name, buf in bufs.items():
        per_row: dict[int, int] = {}
        if not buf.fits:
            rows, ids = sched.demand(name)
            for j in buf.slides(sched.prefetch(name), ids):
                per_row[int(rows[j])] = per_row.get(int(rows[j]), 0) + 1
        events[name] = per_row
    wb = WriteBuffer(mem.ofmap_kb * 1024, mem.ofmap_bw)
    out, stall, end, last_burst, marks, served = _timeline(
        sched, wb, events, {k: b.slide_lines for k, b in bufs.items()})
    dram = {}
    for name, buf in bufs.items():
        slides = sum(events[name].values())
        dram[name] = (-buf.first_lines, last_burst[name],
                      (buf.first_lines + slides * buf.slide_lines) * buf.bw)
    first = min(d[0] for d in dram.values())
    dram["ofmap"] = (wb.first_drain if wb.first_drain is not None else 0, end or 0, wb.words)
    return MemoryRun(total_cycles=out, stall_cycles=stall, total_with_prefetch=(end or 0) - first,
                     sram=_sram_windows(sched, marks, served), dram=dram)
