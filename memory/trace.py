"""Trace front end: DRAMSim3 trace files (`0xADDR READ|WRITE cycle`) and the driver that replays
a trace (or a generated pattern) through any MemoryLevel and collects its stats."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from archsim.errors import WorkloadError
from memory.request import MemoryLevel, Request

_KINDS = {"READ": False, "RD": False, "R": False, "WRITE": True, "WR": True, "W": True}


def read_trace(path: str | Path):
    """Parse a DRAMSim3-format trace; malformed lines are reported with their line number."""
    addrs, writes, cycles = [], [], []
    p = Path(path)
    if not p.is_file():
        raise WorkloadError(f"trace file {str(path)!r} not found")
    with p.open() as f:
        for lineno, line in enumerate(f, 1):
            s = line.split("#", 1)[0].strip()
            if not s:
                continue
            parts = s.split()
            try:
                if len(parts) != 3:
                    raise ValueError("expected 3 fields")
                a = int(parts[0], 0)
                w = _KINDS[parts[1].upper()]
                c = int(parts[2])
                if a < 0 or c < 0:
                    raise ValueError("negative value")
            except (ValueError, KeyError):
                raise WorkloadError(
                    f"{path}:{lineno}: malformed trace line {line.rstrip()!r}; expected "
                    "'<hex address> READ|WRITE <arrival cycle>' (DRAMSim3 format), e.g. '0x1F40 READ 12'"
                ) from None
            addrs.append(a)
            writes.append(w)
            cycles.append(c)
    return np.asarray(addrs, dtype=np.int64), np.asarray(writes, dtype=bool), np.asarray(cycles, dtype=np.int64)


def replay(level: MemoryLevel, addrs, writes, arrive_cycles, tx_bytes: int, clock) -> dict:
    """Submit every entry at its arrival cycle (in `clock`), run to completion, return stats.
    A DRAM level admits them through its trace front end (in trace order, a few per cycle, by default).

    A fresh cycle-mode DRAM level whose clock is `clock` replays in the compiled core
    (memory/dram/native.py, bit-identical stats) unless ARCHSIM_NATIVE=0 or a command log is kept."""
    engine = level.engine
    if len(addrs) and int(np.max(addrs)) + tx_bytes > (level.capacity_bytes or 1 << 62):
        bad = int(np.argmax(addrs + tx_bytes > level.capacity_bytes))
        raise WorkloadError(f"trace entry {bad + 1}: address {int(addrs[bad]):#x} is beyond the "
                            f"{level.name} capacity of {level.capacity_bytes:#x} bytes")
    start = getattr(level, "start_trace_frontend", None)
    if start is not None:
        start()                            # DRAM: admit in trace order (the configured front end)
    if getattr(level, "clock", None) is not None and level.clock.period_ps == clock.period_ps:
        from memory.dram.native import replay_native      # level-local clock: events on its edges
        stats = replay_native(level, addrs, writes, arrive_cycles, tx_bytes)
        if stats is not None:
            return stats
    order = np.argsort(arrive_cycles, kind="stable")
    a_l, w_l, c_l = addrs[order].tolist(), writes[order].tolist(), arrive_cycles[order].tolist()
    k = 0
    n = len(a_l)
    while k < n and c_l[k] <= 0:
        level.submit(Request(a_l[k], tx_bytes, w_l[k], "trace"))
        k += 1

    def arrive(j: int) -> None:
        level.submit(Request(a_l[j], tx_bytes, w_l[j], "trace"))

    for j in range(k, n):
        engine.at(clock.cycles_to_ps(c_l[j]), arrive, j)
    engine.run()
    return level.stats()
