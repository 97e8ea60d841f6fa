"""The compiled DRAM core (csrc/*.c): built on first use, loaded with ctypes.

Why: the Python controller costs ~8 us per DRAM command in interpreter overhead. The C core mirrors
`Controller`, `DramLevel` and the engine's event order line for line, so its statistics are
bit-identical to the Python model's. Two drivers: `replay_native` replays a whole trace;
`attach` hands a cycle-mode level's controllers to the core for the event-driven runner (`NativeDram`:
a request is decoded and queued in C, the core's wake-ups run between the engine's own events, and
completions come back as engine events with the sequence numbers Python would have given them).

Nothing about timing is re-encoded: the controller's own flattened rule table (`Controller.upd`),
next-allowed tables, command bus, windows and refresh schedule are handed over as int64 arrays.
`ARCHSIM_NATIVE=0` turns the core off; no C compiler on PATH turns it off too. A compiler named by
`$CC` that is missing, or a failing compile, is an error, never a silent fallback. A command set other
than the one the core knows (`C_COMMANDS`) runs on the Python controller.
"""
from __future__ import annotations

import ctypes
import heapq
import logging
from pathlib import Path

import numpy as np

from archsim import native_build
from archsim.errors import ArchsimError
from archsim.settings import settings
from memory.dram.commands import INF
from memory.dram.level import DramLevel
from memory.dram.scheduler import pick_fcfs
from memory.request import Request

SOURCE_DIR = Path(__file__).with_name("csrc")
SOURCES = ("controller.c", "level.c")          # plus core.h, which both include
# slots of the parameter array, in core.h's P_* order
PARAMS = ("channels", "ranks", "banks", "read_queue", "write_queue", "hi", "lo", "closed_page", "fcfs",
          "per_bank_refresh", "t_refi", "rd_lat", "wr_lat", "split_bus", "windows", "in_order", "per_cycle")
# core.h's command enum and what each command does there (name, scope, row effect, data)
C_COMMANDS = (("ACT", "bank", "open", "none"), ("PRE", "bank", "close", "none"), ("RD", "bank", "none", "read"),
              ("WR", "bank", "none", "write"), ("RDA", "bank", "close", "read"), ("WRA", "bank", "close", "write"),
              ("REF", "rank", "none", "none"), ("REFsb", "bank", "none", "none"))
log = logging.getLogger(__name__)
_I64P = ctypes.POINTER(ctypes.c_int64)


def enabled() -> bool:
    return settings().native


LABEL, FALLBACK = "native DRAM core", "the Python controller"


def compiler() -> list[str] | None:
    """argv of the C compiler (archsim/native_build.py), or None."""
    return native_build.compiler(LABEL, FALLBACK)


def library() -> ctypes.CDLL | None:
    """The compiled core (compiled into the cache on first use by archsim/native_build.py), or None
    when disabled or no compiler exists."""
    lib = native_build.load(LABEL, SOURCE_DIR, SOURCES, "dram-core", FALLBACK)
    if lib is None:
        return None
    lib.archsim_replay.restype = ctypes.c_int
    lib.archsim_replay.argtypes = [_I64P] * 9 + [ctypes.c_int64] + [_I64P] * 9
    lib.archsim_dram_new.restype = ctypes.c_void_p
    lib.archsim_dram_new.argtypes = [_I64P] * 9
    lib.archsim_dram_free.argtypes = [ctypes.c_void_p]
    lib.archsim_dram_submit.argtypes = [ctypes.c_void_p, _I64P] + [ctypes.c_int64] * 5 + [_I64P]
    lib.archsim_dram_run.argtypes = [ctypes.c_void_p, _I64P]
    for f in (lib.archsim_dram_completions, lib.archsim_dram_latencies):
        f.restype, f.argtypes = _I64P, [ctypes.c_void_p]
    lib.archsim_dram_stats.argtypes = [ctypes.c_void_p, _I64P, _I64P, _I64P]
    return lib


def command_set_mismatch(spec) -> str | None:
    """Why the compiled core cannot run this standard's command set (it knows the eight host commands with
    their JEDEC effects only), or None when it can. The bus each command uses and its cycles are
    handed over as data, so only the set and the row/data effects must match."""
    have = tuple((c.name, c.scope, c.row, c.data) for c in spec.commands)
    if have == C_COMMANDS:
        return None
    extra = [c.name for c in spec.commands if c.name not in {n for n, *_ in C_COMMANDS}]
    if extra:
        return (f"standard {spec.name} declares command(s) the compiled core does not know "
                f"({', '.join(extra)}); the Python controller runs it")
    diff = [h[0] for h, k in zip(have, C_COMMANDS) if h != k]
    return (f"standard {spec.name} declares host command(s) {', '.join(diff)} with effects other than "
            f"the compiled core's; the Python controller runs it")


def why_not(level: object) -> str | None:
    """Why the compiled core cannot replay on `level` (None: it can). It needs a fresh, untraced
    cycle-mode DRAM level (its state is what the compiled core starts from) whose command set it knows."""
    if not isinstance(level, DramLevel) or level.fidelity != "cycle":
        return "not a cycle-mode DRAM level"
    mismatch = command_set_mismatch(level.spec)
    if mismatch:
        return mismatch
    if not (level.reads == 0 and level.writes == 0 and not any(level.pending) and not level._fifo):
        return "the level has already served requests"
    if not all(c.log is None and c.idle and not any(c.cmd_counts) for c in level.ctrls):
        return "a controller keeps a command log, holds work or has issued commands"
    return None


def usable(level: object) -> bool:
    """The compiled core may replay a whole trace on `level` (see `why_not`): its engine has not started."""
    return why_not(level) is None and level.engine.now == 0 and level.engine.pending == 0


def _tables(level: DramLevel) -> dict[str, np.ndarray]:
    """The controllers' state and compiled rules as flat int64 arrays, in archsim_replay's argument
    order. Every next-allowed list and bus-free list gets an offset in one state array; each rule
    update becomes (offset + command, delay)."""
    ctrls = level.ctrls
    c0 = ctrls[0]
    nbanks, ncmd = len(c0.open_row), c0.ncmd
    lists, off, size = [], {}, 0
    for c in ctrls:
        for a in (*c.na_bank, *c.na_bg, *c.na_rank, c.na_ch, c.bus.free, c.own_bus):
            if id(a) not in off:
                off[id(a)] = size
                lists.append(a)
                size += len(a)
    state = np.fromiter((v for a in lists for v in a), dtype=np.int64, count=size)
    ptr, upd = [0], []
    for c in ctrls:
        for b in range(nbanks):
            for p in range(ncmd):
                upd.extend(x for a, n, d in c.upd[b][p] for x in (off[id(a)] + n, d))
                ptr.append(len(upd) // 2)
    par = dict(channels=len(ctrls), ranks=c0.ranks, banks=nbanks, read_queue=c0.rq.size,
               write_queue=c0.wq.size, hi=c0.hi, lo=c0.lo, closed_page=int(c0.closed_page),
               fcfs=int(c0.pick is pick_fcfs), per_bank_refresh=int(c0.refresh == "per_bank"),
               t_refi=c0.t_refi, rd_lat=c0.rd_lat, wr_lat=c0.wr_lat, split_bus=int(c0.split_bus),
               windows=len(c0.windows), in_order=int(level._fifo is not None), per_cycle=level.trace_per_cycle)
    arr = lambda xs: np.ascontiguousarray(xs, dtype=np.int64)   # noqa: E731
    return {
        "par": arr([par[k] for k in PARAMS]), "state": state, "upd_ptr": arr(ptr), "upd": arr(upd),
        "na_off": arr([off[id(a)] for c in ctrls for trio in c.na_of for a in trio]),
        "ch_bus_off": arr([off[id(a)] for c in ctrls for a in (c.na_ch, c.bus.free, c.own_bus)]),
        "bus_of": arr(c0.bus.bus_of),
        "win": arr([x for cmd, count, span, _h in c0.windows for x in (cmd, count, span)] or [0]),
        "ref_due": arr([d for c in ctrls for d in c.ref_due]),
    }


def _bursts(level: DramLevel, addrs: np.ndarray, writes: np.ndarray, tx_bytes: int):
    """Split requests into bursts as `DramLevel.submit` does: (request -> first burst offsets,
    per-burst channel, bank index, row, is_write)."""
    spec, bb = level.spec, level.spec.burst_bytes
    first = addrs // bb
    counts = (addrs + tx_bytes - 1) // bb - first + 1
    req_burst = np.zeros(len(addrs) + 1, dtype=np.int64)
    np.cumsum(counts, out=req_burst[1:])
    within = np.arange(req_burst[-1], dtype=np.int64) - np.repeat(req_burst[:-1], counts)
    ch, ra, bg, ba, ro, _co = level.mapping.decode_array((np.repeat(first, counts) + within) * bb)
    bank = ra * spec.banks + bg * spec.banks_per_group + ba
    return req_burst, ch, bank, ro, np.repeat(writes, counts).astype(np.int64)


def replay_native(level: object, addrs: np.ndarray, writes: np.ndarray, arrive_cycles: np.ndarray,
                  tx_bytes: int) -> dict | None:
    """Replay a trace (arrival times in the level's cycles) through the compiled core and return
    `level.stats()`, or None when the native core is off or the level is not `usable`.

    The level's counters (commands, hits, latencies, bytes, ...) and each rank's next refresh due
    time are filled as the Python run would leave them, so `stats()` is computed by the same code; its
    controllers' timing state is not, so the level is finished once replayed."""
    addrs = np.asarray(addrs, dtype=np.int64)
    if isinstance(level, DramLevel):
        level.start_trace_frontend()       # a trace is admitted through the level's trace front end
    reason = why_not(level)
    if reason is None and (level.engine.now or level.engine.pending):
        reason = "the engine has already run"
    if reason is not None and isinstance(level, DramLevel):
        level.native_skipped = reason      # the Python path serves it; say why (logged too)
        log.info("native DRAM core not used: %s", reason)
    if reason is not None or tx_bytes <= 0 or (len(addrs) and int(addrs.min()) < 0):
        return None                        # the Python path serves (or reports) these
    lib = library()
    if lib is None:
        return None
    cycles = np.asarray(arrive_cycles, dtype=np.int64)
    order = np.argsort(cycles, kind="stable")
    w = np.asarray(writes, dtype=bool)[order]
    req_burst, *per_burst = _bursts(level, addrs[order], w, tx_bytes)
    t = _tables(level)
    lat = np.zeros(max(int(req_burst[-1]), 1), dtype=np.int64)
    ncmd = level.ctrls[0].ncmd                        # == the compiled core's NCMD (why_not checked the set)
    cmd_counts = np.zeros((len(level.ctrls), ncmd + 3), dtype=np.int64)
    tot = np.zeros(5, dtype=np.int64)
    inputs = [np.ascontiguousarray(x, dtype=np.int64) for x in (cycles[order], req_burst, *per_burst)]
    ptrs = [x.ctypes.data_as(_I64P) for x in (*t.values(), *inputs, lat, cmd_counts, tot)]
    if lib.archsim_replay(*ptrs[:9], len(addrs), *ptrs[9:]) != 0:
        raise ArchsimError(f"native DRAM core: out of memory replaying {len(addrs)} requests")
    ref_due = t["ref_due"].tolist()                  # the compiled core leaves each rank's next due time there
    for k, (c, row) in enumerate(zip(level.ctrls, cmd_counts.tolist())):
        c.cmd_counts = row[:ncmd]
        c.hits, c.misses, c.conflicts = row[ncmd:]
        c.ref_due = ref_due[k * c.ranks:(k + 1) * c.ranks]
    nread, nwrite, last_cycle, nlat, last_event = tot.tolist()
    level.read_latencies = lat[:nlat].tolist()
    level.bursts_read, level.bursts_written, level.last_cycle = nread, nwrite, last_cycle
    nw = int(w.sum())
    level.writes, level.reads = nw, len(addrs) - nw
    level.bytes_written, level.bytes_read = nw * tx_bytes, (len(addrs) - nw) * tx_bytes
    level.engine.now = level.clock.cycles_to_ps(last_event)
    return level.stats()


def attach(level: DramLevel) -> "NativeDram | None":
    """The compiled core for a level the event-driven runner is about to use, or None (core off, no
    compiler, a command log kept, the in-order trace front end, a command set the core does not know,
    or a level already used)."""
    if why_not(level) is not None or level._fifo is not None:
        return None
    lib = library()
    return NativeDram(level, lib) if lib is not None else None


class NativeDram:
    """A cycle-mode level's controllers and per-channel FIFOs in the compiled core, driven by its engine.

    The core's wake-ups are the events the Python level would schedule, numbered from the engine's own
    sequence counter; the earliest one always has a stand-in entry in the engine heap with its (time,
    sequence), so the engine runs it exactly when Python would have run that wake-up, and `engine.run`
    does not end while the core has work. Completions go into the heap as the engine events
    `MemoryLevel._finish_at` schedules, with the sequence numbers they would have had."""

    def __init__(self, level: DramLevel, lib: ctypes.CDLL) -> None:
        self.level, self.lib, self.engine, self.clock = level, lib, level.engine, level.clock
        self._t = _tables(level)                        # the core keeps pointers into these arrays
        self.h = lib.archsim_dram_new(*(a.ctypes.data_as(_I64P) for a in self._t.values()))
        if not self.h:
            raise ArchsimError("native DRAM core: out of memory creating the controllers")
        self._free = lib.archsim_dram_free
        self.io = (ctypes.c_int64 * 8)()
        self._io = ctypes.cast(self.io, _I64P)
        m, spec = level.mapping, level.spec
        self._map = ctypes.cast((ctypes.c_int64 * 18)(
            *(x for sm in m._sm for x in sm), int(m.xor_bank_hash), m.widths["bg"], spec.burst_bytes,
            spec.bankgroups, spec.banks_per_group, spec.banks), _I64P)
        self._reqs: dict[int, Request] = {}
        self._proxied: set[int] = set()

    def __del__(self) -> None:
        if getattr(self, "h", None):
            self._free(self.h)
            self.h = None

    @property
    def wakeups(self) -> int:
        """Controller wake-ups the core has run (each one an engine event on the Python path)."""
        return self.io[7]

    def submit(self, req: Request) -> None:
        eng, io = self.engine, self.io
        io[0] = eng._seq
        if self.lib.archsim_dram_submit(self.h, self._map, self.clock.ps_to_cycles(eng.now), req.addr, req.nbytes,
                                        int(req.is_write), int(req.on_done is not None), self._io):
            raise ArchsimError("native DRAM core: out of memory queueing a request")
        eng._seq = io[0]
        self._reqs[io[6]] = req
        self._stand_in()

    def _run(self, seq: int) -> None:
        """The stand-in for the core's earliest wake-up came up: run every wake-up before the engine's next event."""
        self._proxied.discard(seq)
        eng, io, clk = self.engine, self.io, self.clock
        heap = eng._heap
        io[0] = eng._seq
        if heap:
            t, nxt = heap[0][0], heap[0][1]
            c = clk.ps_to_cycles(t)
            io[1], io[2] = c, (nxt if clk.cycles_to_ps(c) == t else -1)   # -1: between edges, before cycle c
        else:
            io[1], io[2] = INF, 0
        if self.lib.archsim_dram_run(self.h, self._io):
            raise ArchsimError("native DRAM core: out of memory")
        eng._seq = io[0]
        if io[6] >= 0:                                  # the engine's clock is at the last event run
            eng.now = max(eng.now, clk.cycles_to_ps(io[6]))
        n = io[5]
        if n:
            done, reqs, now = self.lib.archsim_dram_completions(self.h)[:3 * n], self._reqs, eng.now
            for k in range(0, 3 * n, 3):
                req = reqs.pop(done[k])
                req.done_ps = max(now, clk.cycles_to_ps(done[k + 1]))
                if done[k + 2]:
                    heapq.heappush(heap, (req.done_ps, done[k + 2], req.on_done, (req,)))
        self._stand_in()

    def _stand_in(self) -> None:
        io = self.io
        if io[3] >= 0 and io[4] not in self._proxied:
            self._proxied.add(io[4])
            heapq.heappush(self.engine._heap, (self.clock.cycles_to_ps(io[3]), io[4], self._run, (io[4],)))

    def sync(self, latencies: bool = True) -> None:
        """Fill the level's counters (commands, hits, latencies, bytes, refresh due times) as the
        Python controllers would hold them, so `level_stats` is computed by the same code
        (`latencies=False`: all but the read-latency list, which grows with the run)."""
        level = self.level
        nch, ranks = len(level.ctrls), level.ctrls[0].ranks
        ncmd = level.ctrls[0].ncmd
        counts = np.zeros((nch, ncmd + 3), dtype=np.int64)
        ref_due = np.zeros(nch * ranks, dtype=np.int64)
        tot = np.zeros(4, dtype=np.int64)
        self.lib.archsim_dram_stats(self.h, *(a.ctypes.data_as(_I64P) for a in (counts, ref_due, tot)))
        due = ref_due.tolist()
        for k, (c, row) in enumerate(zip(level.ctrls, counts.tolist())):
            c.cmd_counts = row[:ncmd]
            c.hits, c.misses, c.conflicts = row[ncmd:]
            c.ref_due = due[k * ranks:(k + 1) * ranks]
        nread, nwrite, last_cycle, nlat = tot.tolist()
        if latencies:
            level.read_latencies = self.lib.archsim_dram_latencies(self.h)[:nlat] if nlat else []
        level.bursts_read, level.bursts_written, level.last_cycle = nread, nwrite, last_cycle
