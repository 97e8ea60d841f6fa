"""Independent ops on different units at the same time, sharing the off-chip memory.

Which ops may overlap: the ops of a standalone list (`--gemm`, `--conv`, `--attention`: separate
problems) are independent; a model's ops form a chain and run one after another. Each op starts
when its unit is free (list order); among identical units (same kind, config and clock) an op takes
the one free first.

`fast` (`fluid_schedule`): each op alone takes `T` and moves `B` bytes over the shared off-chip
port, so it asks for B/T bytes per second. While several ops run and their requests add up to
more than the port's streaming rate, every running op slows by the same factor (processor sharing
of the port); an op never runs faster than alone. So the makespan is never below the busiest unit's
work nor below all bytes over the port's rate. A unit computing inside the memory (PIM) moves few bytes
over the port but holds its banks and buses for `detail["memory_busy_ps"]`: it asks for the port's rate
during that time (the bytes the port could have streamed meanwhile), so beside NPU ops that need the
port it takes its bank time from them. `cycle` runs the ops' tile pipelines on one event
engine against the one memory model, so contention is the memory model's own.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Job:
    """One op in a concurrent schedule: its unit, its time alone and the bytes it moves off chip."""

    unit: str
    alone_ps: int
    offchip_bytes: int
    start_ps: int = 0
    end_ps: int = 0


def fluid_schedule(jobs: list[Job], port_bytes_per_s: float) -> int:
    """Start and end times of `jobs` (list order per unit) with the port shared as the module says;
    returns the makespan in ps."""
    if not jobs:
        return 0
    queues: dict[str, list[Job]] = {}
    for j in jobs:
        queues.setdefault(j.unit, []).append(j)
    left = {id(j): float(j.alone_ps) for j in jobs}       # isolated ps of work still to do
    running: dict[str, Job] = {}
    now = 0.0
    cap = port_bytes_per_s / 1e12                          # bytes per ps
    while queues or running:
        for u in list(queues):                             # a free unit takes its next op
            if u not in running:
                j = queues[u].pop(0)
                if not queues[u]:
                    del queues[u]
                j.start_ps = int(round(now))
                running[u] = j
        demand = sum(j.offchip_bytes / j.alone_ps for j in running.values() if j.alone_ps)
        slow = max(1.0, demand / cap) if cap > 0 else 1.0
        u_next = min(running, key=lambda u: (left[id(running[u])], u))
        dt = left[id(running[u_next])] * slow
        now += dt
        for u, j in list(running.items()):
            left[id(j)] -= dt / slow
            if left[id(j)] <= 1e-6 or u == u_next:
                j.end_ps = int(round(now))
                del running[u]
    return max(j.end_ps for j in jobs)


def _bank_bytes(cost, port_bytes_per_s: float) -> int:
    """The bytes the port could stream while a memory-side op holds the banks (0 for other ops)."""
    busy = (cost.detail or {}).get("memory_busy_ps", 0)
    return round(busy * port_bytes_per_s / 1e12)


def twins(units: dict, unit) -> list:
    """Units identical to `unit` (kind, config, clock): an op placed on one may run on any."""
    return [u for u in units.values() if type(u) is type(unit) and u.cfg == unit.cfg and u.clock_hz == unit.clock_hz]


def run_concurrent(runner, ops: list) -> tuple[list[dict], int]:
    """Rows of `ops` run as independent problems on the design's units, and the makespan in ps."""
    from archsim.tile_events import TilePipeline
    from dataflows.mapper import stream_bytes_per_s

    system = runner.system
    free: dict[str, int] = {}
    placed = []
    for op in ops:                                      # each op on the twin free first (by `fast` estimates)
        unit = runner.place(op)
        if unit is not None:
            est = {u.name: free.get(u.name, 0) for u in twins(system.units, unit)}
            unit = system.units[min(est, key=lambda n: (est[n], list(system.units).index(n)))]
            free[unit.name] = free.get(unit.name, 0) + int(1e12 * (unit.estimate_s(op) or 0.0))
        placed.append((op, unit))
    if runner.fidelity == "fast":
        costs = [runner._simulate(op, u) for op, u in placed]
        port = stream_bytes_per_s(system.offchip)
        jobs = [Job(u.name if u else "dma", c.pipe.total_ps * op.count,
                    (c.dram_read + c.dram_write + _bank_bytes(c, port)) * op.count)
                for (op, u), c in zip(placed, costs)]
        makespan = fluid_schedule(jobs, port)
    else:
        runner._defer = []
        costs, deferred_of = [], {}
        for i, (op, u) in enumerate(placed):
            if u is not None and u.owns(op):        # started on the engine by the unit itself (start_op)
                costs.append(None)
                continue
            n = len(runner._defer)
            costs.append(runner._simulate(op, u))
            if len(runner._defer) > n:
                deferred_of[i] = n
        deferred, runner._defer = runner._defer, None
        jobs = _run_on_engine(runner, placed, costs, deferred, deferred_of, TilePipeline)
        makespan = max(j.end_ps for j in jobs)
    rows = []
    for (op, unit), cost, job in zip(placed, costs, jobs):
        row = runner._row(op, unit, cost)
        row.update(start_ns=job.start_ps / 1000.0, end_ns=job.end_ps / 1000.0)
        if runner.fidelity == "fast":       # cycle rows already hold the time the op took among the others
            span = job.end_ps - job.start_ps
            row["alone_ns"] = job.alone_ps / 1000.0
            row["time_ns"] = span / 1000.0
            if unit is not None and span > job.alone_ps:      # the wait for the shared port is a stall
                clk = system.clock_of(unit)
                extra = clk.ps_to_cycles(span) - clk.ps_to_cycles(job.alone_ps)
                row["cycles"] += extra
                row["stall_cycles"] += extra
                peak = unit.peak_macs_per_cycle
                row["utilization"] = row["macs"] / (row["cycles"] * peak) if row["cycles"] and peak else 0.0
        rows.append(row)
        if runner.trace is not None:
            runner._clock_ps = job.start_ps
            runner._trace_op(op, unit, cost)
    return rows, makespan


def _run_on_engine(runner, placed, costs, deferred, deferred_of, pipeline_cls) -> list[Job]:
    """Start each unit's ops one after another on the shared engine; ops on different units overlap
    and contend in the memory model. A whole op is started by its unit (`start_op(op, ctx, done)`,
    e.g. PIM command streams on the same DRAM controllers), which calls done(OpResult) at its end."""
    system = runner.system
    engine = system.engine
    t0 = engine.now
    jobs = [Job(u.name if u else "dma", 0, 0) for _op, u in placed]
    queues: dict[str, list[int]] = {}
    for i, j in enumerate(jobs):
        queues.setdefault(j.unit, []).append(i)

    def start(unit: str) -> None:
        if not queues.get(unit):
            return
        i = queues[unit].pop(0)
        jobs[i].start_ps = engine.now - t0
        op, u = placed[i]
        if costs[i] is None:
            ctx = runner.context(u)

            def finished(r, i=i, unit=unit, op=op, u=u, ctx=ctx) -> None:
                costs[i] = runner.owned_cost(op, u, r, ctx)
                jobs[i].end_ps = engine.now - t0
                start(unit)

            u.start_op(op, ctx, finished)
            return
        tiles, wb, slots, rec = deferred[deferred_of[i]]

        def done(res, i=i, unit=unit) -> None:
            costs[i].pipe = res
            jobs[i].end_ps = engine.now - t0
            start(unit)

        pipeline_cls(engine, system.offchip, tiles, slots, requester=unit, record=rec,
                     write_behind=wb).start(done)

    for unit in list(queues):
        engine.at(engine.now, start, unit)
    engine.run()
    return jobs
