"""Level 1 (`cycle`) of the variants that run the cascade as array stages: FLAT, +Cascade and unfused.

A step is one query tile (P0 queries of one head, all its live key tiles) or, for unfused's QK phase, one
tile. Each step loads its operand share through the design's off-chip level (driven by the event engine),
then runs its stages on the arrays: FLAT and +Cascade run QK (2D), the tile's drain through the M0 rows,
the softmax work (1D), then AV or SLNV (2D), and store the output share; the 2D array interleaves QK of
step k with AV of step k - 2 (a software pipeline, so the 1D array is never starved for QK). Unfused runs
three phases one after another (QK on 2D, softmax on 1D, AV on 2D), each a load -> compute -> store
stream whose intermediate round-trips off chip. Loads run one step ahead (double buffering). Work per
stage and bytes per step are Level 0's totals spread evenly over the steps, so Level 1 differs from
Level 0 only by what the closed form leaves out: the first load, the drains, the last store, and the
stalls where a stage waits for data. Long non-causal streams are simulated on three prefixes and
extended along their period (every step of a head is the same).
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.engine import ClockDomain, Engine
from archsim.units.attention.cascade import Level0
from archsim.units.attention.config import AttentionConfig
from archsim.units.attention.epochs import REGION, Level1, TooLong
from archsim.units.attention.shape import AttentionShape
from memory.request import MemoryLevel, Request

PREFIXES = (64, 96, 128)    # steps simulated when a stream is extended


@dataclass(frozen=True)
class Phase:
    """`steps` identical steps: load and store their shares of `load` and `store` bytes (whole bytes, the
    totals exact), run `stages` [(array, cycles, gap before)]."""

    name: str
    steps: int
    load: int
    store: int
    stages: tuple[tuple[str, float, int], ...]

    def share(self, total: int, j: int) -> int:
        """Bytes of step j: the steps' shares add up to `total` exactly."""
        return total * (j + 1) // self.steps - total * j // self.steps


def phases(shape: AttentionShape, lv: Level0, cfg: AttentionConfig) -> list[Phase]:
    """The variant's phases from Level 0's busy cycles and traffic (bytes rounded per tensor, as the unit
    reports them)."""
    b, g = lv.busy, lv.geo
    rd = {t: round(r) for t, (r, _) in lv.traffic.tensors.items()}
    wr = {t: round(w) for t, (_, w) in lv.traffic.tensors.items()}
    heads = shape.B * shape.H
    rows = heads * g.Pt
    one_d = sum(b[n] for n in lv.arrays["1d"])
    if lv.variant == "unfused":
        tiles = heads * g.live_tiles
        qk = (b["QK"] + b["MASK"]) / tiles
        return [Phase("qk", tiles, rd["Q"] + rd["K"], wr["QK"], (("2d", qk, 0),)),
                Phase("softmax", rows, rd["QK"], wr["A"], (("1d", one_d / rows, 0),)),
                Phase("av", rows, rd["A"] + rd["V"], wr["O"], (("2d", b["AV"] / rows, 0),))]
    post = "AV" if lv.variant == "flat" else "SLNV"
    pre = sum(b[n] for n in lv.arrays["2d"] if n != post)
    return [Phase(lv.variant, rows, sum(rd.values()), sum(wr.values()),
                  (("2d", pre / rows, 0), ("1d", one_d / rows, cfg.rows), ("2d", b[post] / rows, 0)))]


def run_phase(ph: Phase, n: int, engine: Engine, level: MemoryLevel, clock_hz: float,
              base: int | None = None) -> tuple[int, int]:
    """(end cycle, stall cycles) of the first `n` steps of `ph`, started at `base` ps (default: now)."""
    clk = ClockDomain("attention", clock_hz)
    base = engine.now if base is None else base
    arrived: list[int | None] = [None] * n
    last_write = [0]
    addr = [0, 0]

    def submit(at: int, nb: int, write: bool, done) -> None:
        if nb <= 0:                              # nothing to move: done when asked
            done(at)
            return

        def go() -> None:
            level.submit(Request(int(write) * REGION + addr[write], nb, write, "attention",
                                 lambda r: done(clk.ps_to_cycles(r.done_ps - base))))
            addr[write] += nb
        engine.at(max(engine.now, base + clk.cycles_to_ps(at)), go)

    def load(j: int, at: int) -> None:
        if j < n:
            submit(at, ph.share(ph.load, j), False, lambda c, j=j: arrived.__setitem__(j, c))

    def wait(j: int) -> int:
        while (v := arrived[j]) is None:
            t = engine.peek_time()
            assert t is not None, "attention level 1: waiting for a load no request will deliver"
            engine.run(until_ps=t)
        return v

    S = len(ph.stages)
    free: dict[str, float] = {"2d": 0.0, "1d": 0.0}
    ends = [[0.0] * S for _ in range(n)]
    stall = 0.0
    load(0, 0)
    load(1, 0)
    for k in range(n + S - 1):
        for s in range(S):
            j = k - s
            if not 0 <= j < n:
                continue
            array, dur, gap = ph.stages[s]
            ready = wait(j) if s == 0 else ends[j][s - 1] + gap
            start = max(free[array], ready)
            stall += max(0.0, ready - free[array]) if s == 0 else 0.0
            ends[j][s] = free[array] = start + dur
            if s == 0:
                load(j + 2, int(start))          # this step's buffer half frees the one after next
            if s == S - 1:
                submit(int(ends[j][s] + 0.999999), ph.share(ph.store, j), True,
                       lambda c: last_write.__setitem__(0, max(last_write[0], c)))
    engine.run()
    end = max(ends[-1][-1], max(free.values()), last_write[0]) if n else 0
    return int(end + 0.999999), int(stall)


def period(ph: Phase, bandwidth: float, clock_hz: float) -> float:
    """Steady-state cycles a step of identical steps: its busiest array, or its bytes at the bandwidth."""
    per_array: dict[str, float] = {}
    for array, cycles, _ in ph.stages:
        per_array[array] = per_array.get(array, 0.0) + cycles
    return max(*per_array.values(), (ph.load + ph.store) / ph.steps / bandwidth * clock_hz)


def level1_stages(shape: AttentionShape, cfg: AttentionConfig, lv: Level0, port, bandwidth: float, live=None,
                  step_budget: int = 20_000) -> Level1:
    """Level 1 of flat, cascade or unfused: phases one after another, each simulated whole (on the run's
    own engine and level when given) or, when long, simulated on three prefixes whose growth must be the
    steady-state period (checked to a cycle over the prefixes) and extended by that period."""
    total, stalls, extended, simulated = 0, 0, False, 0
    clk = ClockDomain("attention", lv.clock_hz)
    base = live[0].now if live is not None else 0
    for ph in phases(shape, lv, cfg):
        if ph.steps <= step_budget:
            if live is not None:
                end, st = run_phase(ph, ph.steps, live[0], live[1], lv.clock_hz, base + clk.cycles_to_ps(total))
            else:
                eng = Engine()
                end, st = run_phase(ph, ph.steps, eng, port(eng), lv.clock_hz)
            total, stalls, simulated = total + end, stalls + st, simulated + ph.steps
            continue
        if shape.causal:
            raise TooLong(f"causal {ph.name} stream of {ph.steps} steps (steps differ, no period to extend)")
        runs = []
        for k in PREFIXES:
            eng = Engine()
            runs.append(run_phase(ph, k, eng, port(eng), lv.clock_hz))
        (t0, s0), (t1, _), (t2, s2) = runs
        d = PREFIXES[1] - PREFIXES[0]
        beta = period(ph, bandwidth, lv.clock_hz)
        if max(abs(t1 - t0 - d * beta), abs(t2 - t1 - d * beta)) > 2:
            raise TooLong(f"{ph.name} stream does not settle to its period {beta:.3f} cycles a step over "
                          f"{PREFIXES} steps ({t0}, {t1}, {t2} cycles)")
        total += round(t2 + (ph.steps - PREFIXES[2]) * beta)
        stalls += round(s2 + (ph.steps - PREFIXES[2]) * (s2 - s0) / (2 * d))
        extended, simulated = True, simulated + sum(PREFIXES)
        if live is not None:
            live[1].account_bulk(ph.load, False, "attention")
            live[1].account_bulk(ph.store, True, "attention")
    busy2 = int(sum(lv.busy[n] for n in lv.arrays["2d"]))
    busy1 = int(sum(lv.busy[n] for n in lv.arrays["1d"]))
    lag = (0, len(ph.stages) - 1)           # steps between a step's first and last stage
    return Level1(total, lv.clock_hz, busy2, busy1, stalls, lag, simulated, extended,
                  {"level1_model": "array stages", "level1_steps": {p.name: p.steps for p in phases(shape, lv, cfg)}})
