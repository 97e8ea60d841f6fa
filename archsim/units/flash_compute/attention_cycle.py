"""`cycle` CSD attention: one phase (K or V) per command on one representative channel of the drive.

KV groups stripe uniformly over the channels, so one channel (its array units and their page
registers, its bus) and its share of the engine (rate / channels) stand for all. A dense read
senses a page once and moves its page/group groups over the bus one by one; a scattered group
(SparF's picks) costs a sense of its own. Each array unit senses into its data register and, with
`page_buffers` registers, senses the next page while the last one leaves over the bus (cache-read
pipelining); the DRAM buffer's page programs take a page in over the bus, then hold their unit for
tPROG. The engine scores each group as it arrives (a serial server at its per-channel share of the
GeMV rate), so the phase ends with the last group's score: fill, stream and drain come out of the
events rather than the closed form's max(flash, engine) + one sense.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

from archsim.engine import Engine
from memory.flash.channel import ArbitratedChannel
from memory.flash.timing import PROG_CMD_BYTES, READ_CMD_BYTES


@dataclass(frozen=True)
class PhaseWork:
    """One phase's work on one channel."""

    dense_groups: int       # groups read page by page (page/group of them share a sense)
    lone_groups: int        # groups that cost a sense each
    programs: float         # page programs of the DRAM buffer's flush sharing the phase (amortised: a fraction
                            # is the chance that a flush falls in this step)
    engine_ps: float        # the engine's time for this channel's groups (per-channel share of its rate)

    @property
    def groups(self) -> int:
        return self.dense_groups + self.lone_groups

    def scaled(self, f: float, programs: float, per_page: int) -> "PhaseWork":
        """A share `f` of the phase: whole pages of the dense groups (a partial page costs a whole sense),
        lone groups and `programs` programs, each rounded; the engine's work in proportion."""
        dense = self.dense_groups if f == 1 else round(self.dense_groups / per_page * f) * per_page
        return PhaseWork(dense, round(self.lone_groups * f), round(programs * f), self.engine_ps * f)


def _ops(spec, group: int, w: PhaseWork) -> list[list]:
    """Operations in issue order: dense senses (with their group counts), lone senses and programs, each
    kind spread evenly over the phase (SparF's picks and the flush are interspersed with the stream)."""
    per_page = max(1, spec.page_size // group)
    full, rest = divmod(w.dense_groups, per_page)
    kinds = ([["s", per_page]] * full + ([["s", rest]] if rest else []), [["s", 1]] * w.lone_groups,
             [["p", 0]] * int(w.programs))
    ops = [((i + 0.5) / len(ks), k, op) for k, ks in enumerate(kinds) for i, op in enumerate(ks)]
    return [op for _, _, op in sorted(ops, key=lambda x: (x[0], x[1]))]


def simulate_phase(spec, group: int, w: PhaseWork) -> tuple[int, int]:
    """(end ps, bus-busy ps) of one phase on one channel. It ends with the last group's score: a program
    still running on a unit with no reads left finishes in the background."""
    engine = Engine()
    bus = ArbitratedChannel(engine, spec.channel_bandwidth, "priority", None)
    over = spec.command_overhead
    t_sense = spec.t_read * (1 + spec.read_retries) + spec.t_ecc + (spec.t_wb + spec.t_rr if over else 0)
    t_prog = spec.t_prog + (spec.t_wb + spec.t_adl if over else 0)
    units = spec.units_per_channel
    queues: list[deque] = [deque() for _ in range(units)]
    for i, op in enumerate(_ops(spec, group, w)):
        queues[i % units].append(op)
    held, busy, staged = [0] * units, [False] * units, [False] * units
    sensed: list[deque] = [deque() for _ in range(units)]
    bufs = spec.page_buffers
    per_group = w.engine_ps / w.groups if w.groups else 0.0
    eng = {"queue": 0, "busy": False, "owed": 0.0, "last": 0}

    def command(nbytes: int, then: Callable[[], None]) -> None:
        if over:
            bus.send(nbytes, "command", then)
        else:
            then()

    def start(u: int) -> None:
        if busy[u] or held[u] >= bufs or not queues[u]:
            return
        op = queues[u].popleft()
        held[u] += 1
        busy[u] = True
        if op[0] == "s":
            command(READ_CMD_BYTES, lambda: engine.after(t_sense, done_sense, u, op[1]))
        else:
            command(PROG_CMD_BYTES, lambda: bus.send(spec.page_size, "data",
                                                     lambda: engine.after(t_prog, done_prog, u)))

    def done_sense(u: int, n: int) -> None:
        busy[u] = False
        sensed[u].append(n)
        stage(u)
        start(u)

    def done_prog(u: int) -> None:
        busy[u] = False
        held[u] -= 1
        start(u)

    def stage(u: int) -> None:
        if staged[u] or not sensed[u]:
            return
        n = sensed[u].popleft()
        staged[u] = True
        for k in range(n):
            bus.send(group, "data", (lambda: arrived(u, True)) if k == n - 1 else (lambda: arrived(u, False)))

    def arrived(u: int, last: bool) -> None:
        eng["queue"] += 1
        score()
        if last:
            staged[u] = False
            held[u] -= 1
            stage(u)
            start(u)

    def score() -> None:
        if eng["busy"] or not eng["queue"]:
            return
        eng["queue"] -= 1
        eng["busy"] = True
        eng["owed"] += per_group                     # integer steps, no drift over many groups
        step = int(eng["owed"])
        eng["owed"] -= step
        engine.after(step, scored)

    def scored() -> None:
        eng["busy"] = False
        eng["last"] = engine.now
        score()

    for u in range(units):
        start(u)
    engine.run()
    return int(eng["last"]), bus.busy_ps


def phase_cycle(spec, group: int, w: PhaseWork, steady_state: bool = True, window: int = 24) -> tuple[int, int]:
    """(ps, bus-busy ps) of a phase. A fractional flush is an expectation: the phase with the whole programs,
    plus the fraction of what one more program costs. With `steady_state`, a window of `window` senses per
    array unit (with at least 16 of each kind of operation, so the mix keeps its proportions) is simulated
    twice (W and W/2) and the rest extrapolated at the measured period; a phase shorter than four windows runs
    whole."""
    whole = int(w.programs)
    t, b = _phase(spec, group, w, whole, steady_state, window)
    if w.programs > whole:
        t1, b1 = _phase(spec, group, w, whole + 1, steady_state, window)
        frac = w.programs - whole
        t, b = t + (t1 - t) * frac, b + (b1 - b) * frac
    return int(round(t)), int(round(b))


def _load(spec, group: int, w: PhaseWork) -> float:
    """The phase's first-order time (the array's, the bus's or the engine's, whichever is most): the
    measure the steady-state windows are extrapolated in, so rounding a window's counts does not bend it."""
    per_page = max(1, spec.page_size // group)
    senses = -(-w.dense_groups // per_page) + w.lone_groups
    array = (senses * spec.t_read + w.programs * spec.t_prog) / spec.units_per_channel
    bus = (w.groups * group + w.programs * spec.page_size) * spec.channel_ps_per_byte
    return max(array, bus, w.engine_ps)


def _phase(spec, group: int, w: PhaseWork, programs: int, steady_state: bool, window: int) -> tuple[float, float]:
    per_page = max(1, spec.page_size // group)
    kinds = (-(-w.dense_groups // per_page), w.lone_groups, programs)
    # each kind present keeps >= 8 in the half window, so rounding does not bend the mix
    f1 = max([window * spec.units_per_channel / max(1, kinds[0] + kinds[1])] + [16 / n for n in kinds if n])
    # extrapolate only where the phase is several windows long: from a window that is a large share of
    # a short phase the start-up does not scale out, and the whole phase is cheap to simulate anyway
    if steady_state and f1 <= 0.25:
        w1, w2 = w.scaled(f1, programs, per_page), w.scaled(f1 / 2, programs, per_page)
        (t1, b1), (t2, b2) = simulate_phase(spec, group, w1), simulate_phase(spec, group, w2)
        full = w.scaled(1.0, programs, per_page)
        l1, l2, lf = _load(spec, group, w1), _load(spec, group, w2), _load(spec, group, full)
        k = (lf - l1) / (l1 - l2)
        return t1 + (t1 - t2) * k, b1 + (b1 - b2) * k
    t, b = simulate_phase(spec, group, w.scaled(1.0, programs, per_page))
    return float(t), float(b)
