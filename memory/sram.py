"""On-chip SRAM buffer: banks, ports, bank conflicts, capacity, bytes/cycle, double buffering.

Addresses interleave across banks word by word (word = bytes_per_cycle / banks), so a
contiguous access spreads evenly and two requests that land on the same bank in the same cycle
serialise (a bank conflict). Each bank serves `ports` words a cycle. Time is in the buffer's own
clock; completions are converted to picoseconds through its `ClockDomain`.
"""
from __future__ import annotations

from archsim.engine import Engine
from archsim.errors import ConfigError
from memory.request import MemoryLevel, Request


class SramBuffer(MemoryLevel):
    def __init__(self, name: str, engine: Engine, capacity_bytes: int, bytes_per_cycle: int,
                 clock_hz: float, banks: int = 1, ports: int = 1, latency_cycles: int = 1,
                 double_buffered: bool = False, energy_per_byte_pj: float = 0.0) -> None:
        if banks < 1 or ports < 1 or bytes_per_cycle < 1 or capacity_bytes < 1:
            raise ConfigError(f"sram {name!r}: capacity, bytes_per_cycle, banks and ports must be >= 1")
        if bytes_per_cycle % (banks * ports):
            raise ConfigError(f"sram {name!r}: bytes_per_cycle ({bytes_per_cycle}) must be a multiple "
                              f"of banks x ports ({banks} x {ports}) so each port moves a whole word")
        super().__init__(name, engine, capacity_bytes, energy_per_byte_pj)
        self.clock = engine.clock(f"sram.{name}", clock_hz)
        self.banks, self.ports = banks, ports
        # each bank moves word_bytes per port per cycle; banks x ports words make up bytes_per_cycle
        self.word_bytes = bytes_per_cycle // (banks * ports)
        self.bytes_per_cycle = bytes_per_cycle
        self.latency_cycles = latency_cycles
        self.double_buffered = double_buffered
        self._bank_free = [0] * banks      # first cycle each bank has a free port
        self.bank_conflicts = 0
        self.conflict_cycles = 0

    @property
    def tile_capacity_bytes(self) -> int:
        """Bytes one tile may use: half the buffer when double buffered (the other half fills)."""
        return self.capacity_bytes // 2 if self.double_buffered else self.capacity_bytes

    def fits(self, tile_bytes: int) -> bool:
        return tile_bytes <= self.tile_capacity_bytes

    def submit(self, req: Request) -> None:
        self._check(req)
        req.issue_ps = now = self.engine.now
        start = self.clock.ps_to_cycles(now)
        first = req.addr // self.word_bytes
        nwords = (req.addr + req.nbytes - 1) // self.word_bytes - first + 1
        nb, ports = self.banks, self.ports
        per, extra = divmod(nwords, nb)
        end = start
        delayed = False
        for k in range(min(nb, nwords)):
            b = (first + k) % nb
            count = per + (1 if k < extra else 0)
            s = self._bank_free[b]
            if s > start:
                delayed = True
                self.conflict_cycles += s - start
            else:
                s = start
            f = s + -(-count // ports)
            self._bank_free[b] = f
            end = max(end, f)
        if delayed:
            self.bank_conflicts += 1
        self._account(req)
        self._finish_at(req, self.clock.cycles_to_ps(end + self.latency_cycles))

    def stream_time_ps(self, nbytes: int, is_write: bool = False, addr: int = 0) -> int:
        cycles = -(-nbytes // self.bytes_per_cycle) + self.latency_cycles
        return self.clock.cycles_to_ps(cycles)

    def level_stats(self) -> dict:
        return {"bank_conflicts": self.bank_conflicts, "conflict_cycles": self.conflict_cycles,
                "capacity_bytes": self.capacity_bytes}
