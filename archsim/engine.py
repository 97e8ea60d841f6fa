"""Event kernel: integer-picosecond time, clock domains, deterministic ordering, a stats registry.

Events are (time_ps, sequence, callback, args) on a binary heap. The sequence number breaks ties
in scheduling order, so two runs of the same inputs execute callbacks in the same order and give
bit-identical results. Callbacks, not generator processes, keep the hot path to one heappush and
one heappop per event.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from fractions import Fraction
from typing import Any, Callable

PS_PER_S = 10**12


class ClockDomain:
    """A clock of a given frequency. Edge n falls at ceil(n * period) ps, exact for any frequency."""

    __slots__ = ("name", "freq_hz", "period_ps", "_int_period")

    def __init__(self, name: str, freq_hz: float | int | Fraction):
        if freq_hz <= 0:
            raise ValueError(f"clock {name!r}: frequency must be positive, got {freq_hz}")
        self.name = name
        self.freq_hz = Fraction(freq_hz).limit_denominator(10**9)
        self.period_ps = Fraction(PS_PER_S) / self.freq_hz
        self._int_period = int(self.period_ps) if self.period_ps.denominator == 1 else None

    def cycles_to_ps(self, cycles: int) -> int:
        """Time of clock edge `cycles` (cycle 0 at t = 0), rounded up to a whole picosecond."""
        if self._int_period is not None:
            return cycles * self._int_period
        q = cycles * self.period_ps
        return -((-q.numerator) // q.denominator)

    def ps_to_cycles(self, ps: int) -> int:
        """Index of the first clock edge at or after `ps` (edge n is at ceil(n * period))."""
        if self._int_period is not None:
            return -((-ps) // self._int_period)
        if ps <= 0:
            return 0
        # smallest n with ceil(n * period) >= ps, i.e. n * period > ps - 1
        q = Fraction(ps - 1) / self.period_ps
        return q.numerator // q.denominator + 1

    def next_edge(self, ps: int) -> int:
        return self.cycles_to_ps(self.ps_to_cycles(ps))

    def ns(self, cycles: int) -> float:
        return float(cycles * self.period_ps) / 1000.0

    def __repr__(self) -> str:
        return f"ClockDomain({self.name!r}, {float(self.freq_hz) / 1e9:g} GHz)"


class Stats:
    """Named counters (`unit.sub.metric`) that any component adds to; cheap and ordered."""

    def __init__(self) -> None:
        self._values: dict[str, int | float] = defaultdict(int)

    def add(self, name: str, value: int | float = 1) -> None:
        self._values[name] += value

    def set(self, name: str, value: int | float) -> None:
        self._values[name] = value

    def get(self, name: str, default: int | float = 0) -> int | float:
        return self._values.get(name, default)

    def prefixed(self, prefix: str) -> dict[str, int | float]:
        p = prefix.rstrip(".") + "."
        return {k[len(p):]: v for k, v in sorted(self._values.items()) if k.startswith(p)}

    def as_dict(self) -> dict[str, int | float]:
        return dict(sorted(self._values.items()))


class Engine:
    """Discrete-event kernel. `now` is integer picoseconds."""

    __slots__ = ("now", "_heap", "_seq", "stats", "events_run", "clocks")

    def __init__(self) -> None:
        self.now = 0
        self._heap: list[tuple[int, int, Callable[..., Any], tuple]] = []
        self._seq = 0
        self.stats = Stats()
        self.events_run = 0
        self.clocks: dict[str, ClockDomain] = {}

    def clock(self, name: str, freq_hz: float | int | Fraction) -> ClockDomain:
        """Declare (or fetch) a clock domain by name."""
        clk = self.clocks.get(name)
        if clk is None:
            clk = self.clocks[name] = ClockDomain(name, freq_hz)
        return clk

    def at(self, time_ps: int, callback: Callable[..., Any], *args: Any) -> None:
        """Run `callback(*args)` at absolute time `time_ps` (never in the past)."""
        if time_ps < self.now:
            raise ValueError(f"cannot schedule at {time_ps} ps, before now ({self.now} ps)")
        self._seq += 1
        heapq.heappush(self._heap, (time_ps, self._seq, callback, args))

    def after(self, delay_ps: int, callback: Callable[..., Any], *args: Any) -> None:
        """Run `callback(*args)` `delay_ps` picoseconds from now (delay must be >= 0)."""
        if delay_ps < 0:
            raise ValueError(f"cannot schedule {delay_ps} ps in the past")
        self._seq += 1
        heapq.heappush(self._heap, (self.now + delay_ps, self._seq, callback, args))

    def run(self, until_ps: int | None = None) -> int:
        """Process events in (time, sequence) order; returns the time of the last event run."""
        heap = self._heap
        pop = heapq.heappop
        n = 0
        if until_ps is None:
            while heap:
                t, _seq, cb, args = pop(heap)
                self.now = t
                cb(*args)
                n += 1
        else:
            while heap and heap[0][0] <= until_ps:
                t, _seq, cb, args = pop(heap)
                self.now = t
                cb(*args)
                n += 1
        self.events_run += n
        return self.now

    def advance(self, delay_ps: int) -> None:
        """Let `delay_ps` pass: run the events due by then and move `now` to its end (something timed
        beside the engine, e.g. an op a unit runs whole, took that long while the rest went on)."""
        end = self.now + delay_ps
        self.run(until_ps=end)
        self.now = end

    def peek_time(self) -> int | None:
        """Time of the next pending event, or None. Lets a component run ahead in place while its own
        next step comes before everything else (it must then not pass a `run(until_ps=...)` limit)."""
        return self._heap[0][0] if self._heap else None

    @property
    def pending(self) -> int:
        return len(self._heap)
