"""`cycle` GEMV: per-command events on one representative channel of the flash level.

Weights stripe uniformly over channels, so one channel (its dies, planes, page registers, cores and
its arbitrated bus) stands for all. Each plane senses into its data register (tR, retries, ECC),
hands the page to its cache register and senses the next (cache-read pipelining, `page_buffers`);
a read-compute command first broadcasts the request's input vector over the channel, then senses
(t_rc = tR + vector, Cambricon-LLM's sequence); a core computes a page once its output buffer has
sent the previous partial sums; an NPU page leaves the cache register over the bus in slices. So
an unsliced page transfer ahead of a vector or a result in the queue stalls the dies, which is what
the arbitration policy decides. With `steady_state` a window of
requests is simulated twice (W and W/2) and the rest extrapolated at the measured period.
"""
from __future__ import annotations

from collections import deque

from archsim.engine import Engine
from archsim.units.flash_compute.gemv import GemvCost, finish, split_work
from archsim.units.flash_compute.tiling import Plan
from memory.flash.channel import ArbitratedChannel


class _Plane:
    __slots__ = ("ops", "held", "busy", "staged", "sensed")

    def __init__(self) -> None:
        self.ops: deque = deque()      # ("c", tile, core) or ("r", 0, 0), in issue order
        self.held = 0                  # pages in its registers (sensing, sensed or staged)
        self.busy = False              # the array runs one command (command, vector, tR) at a time
        self.staged = False            # the cache register is in use
        self.sensed: deque = deque()   # sensed pages waiting for the cache register


class _Core:
    __slots__ = ("queue", "busy", "pages")

    def __init__(self) -> None:
        self.queue: deque = deque()    # planes whose cache register holds this core's next page
        self.busy = False              # computing, or its output buffer still holds partial sums
        self.pages = 0                 # pages computed (a request's result leaves after `feed` of them)


def feeders(spec, core_per: str, per_core: int = 1) -> tuple[list[list[int]], list[int]]:
    """(planes feeding each core, planes serving NPU reads) on one channel; planes numbered die-major.
    A core takes `per_core` consecutive planes (its die's or chip's multi-plane read)."""
    pl, dies = spec.planes_per_die, spec.dies_per_channel
    if core_per == "plane":
        every = list(range(dies * pl))
        return [[p] for p in every], every
    step = spec.dies_per_chip if core_per == "chip" else 1
    feed = [[d * pl + i for i in range(per_core)] for d in range(0, dies, step)]
    fed = {p for f in feed for p in f}
    readers = [p for p in range(dies * pl) if p not in fed]
    return feed, readers or sorted(fed)


def simulate(plan: Plan, spec, cfg, tiles: int, pages: int, batch: int, clock_hz: float) -> tuple[int, int]:
    """(end ps, bus-busy ps) of `tiles` requests and `pages` NPU page reads on one channel."""
    engine = Engine()
    arb = cfg.arbitration
    bus = ArbitratedChannel(engine, spec.channel_bandwidth, arb.policy, arb.slice)
    feed, readers = feeders(spec, cfg.core_per, plan.feed)
    planes = [_Plane() for _ in range(spec.dies_per_channel * spec.planes_per_die)]
    cores = [_Core() for _ in feed]
    for t in range(tiles):
        for c, ps in enumerate(feed):
            for p in ps:
                planes[p].ops.append(("c", t, c))
    for i in range(pages):
        planes[readers[i % len(readers)]].ops.append(("r", 0, 0))
    if plan.shared_planes:     # shared planes: spread reads between compute ops, staggered plane by plane
        for i, pln in enumerate(planes):    # so their pages do not all wait for the channel at once
            pln.ops = _spread(pln.ops, (i + 0.5) / len(planes))
    vec_ready = [False] * tiles
    vec_sent = [False] * tiles
    vec_wait: list[list] = [[] for _ in range(tiles)]
    bufs, cmd = spec.page_buffers, plan.cmd_bytes
    t_sense, core_ps = plan.t_sense, int(round(plan.core_ps * batch / plan.feed))     # per page
    vec_b, res_b = plan.vec_bytes * batch, plan.res_bytes * batch

    def start(p: int) -> None:
        pln = planes[p]
        if not pln.busy and pln.held < bufs and pln.ops:
            op = pln.ops.popleft()
            pln.held += 1
            pln.busy = True
            if cmd:
                bus.send(cmd, "command", lambda p=p, op=op: issued(p, op))
            else:
                issued(p, op)

    def issued(p: int, op: tuple) -> None:
        t = op[1]
        if op[0] == "r" or vec_ready[t]:
            engine.after(t_sense, sensed, p, op)
            return
        vec_wait[t].append((p, op))
        if not vec_sent[t]:
            vec_sent[t] = True
            bus.send(vec_b, "vector", lambda: vector_in(t))

    def vector_in(t: int) -> None:
        vec_ready[t] = True
        for p, op in vec_wait[t]:
            engine.after(t_sense, sensed, p, op)
        vec_wait[t].clear()

    def sensed(p: int, op: tuple) -> None:
        pln = planes[p]
        pln.busy = False
        pln.sensed.append(op)
        stage(p)
        start(p)

    def stage(p: int) -> None:
        pln = planes[p]
        if pln.staged or not pln.sensed:
            return
        op = pln.sensed.popleft()
        pln.staged = True
        if op[0] == "r":
            bus.send(plan.page_bytes, "data", lambda: unstage(p))
        else:
            cores[op[2]].queue.append(p)
            run_core(op[2])

    def unstage(p: int) -> None:
        pln = planes[p]
        pln.staged = False
        pln.held -= 1
        stage(p)
        start(p)

    def run_core(c: int) -> None:
        core = cores[c]
        if core.busy or not core.queue:
            return
        core.busy = True
        engine.after(core_ps, core_done, c, core.queue.popleft())

    def core_done(c: int, p: int) -> None:
        core = cores[c]
        core.pages += 1
        if core.pages % plan.feed:          # more of this request's pages to add in before the result
            unstage(p)
            result_out(c)
            return
        bus.send(res_b, "result", lambda: result_out(c))
        unstage(p)

    def result_out(c: int) -> None:
        cores[c].busy = False
        run_core(c)

    for p in range(len(planes)):
        start(p)
    end = engine.run()
    return end, bus.busy_ps


def _spread(ops: deque, phase: float = 0.5) -> deque:
    """A plane's compute ops and reads interleaved evenly (stable within each kind); `phase` (0..1)
    places each read within its share of the compute ops. Keyed by position: reads are equal tuples."""
    counts: dict[str, int] = {}
    keys = []
    for i, o in enumerate(ops):
        k = o[0]
        n = counts.get(k, 0)
        counts[k] = n + 1
        keys.append((n + (phase if k == "r" else 0.5), k, i))
    order = sorted(range(len(ops)), key=lambda i: (keys[i][0] / counts[keys[i][1]], keys[i][1], i))
    return deque(ops[i] for i in order)


def gemv_cycle(plan: Plan, spec, cfg, n_out: int, n_in: int, batch: int, clock_hz: float) -> GemvCost:
    """Event-timed GEMV; traffic counts are the same exact counts `fast` reports."""
    work = split_work(plan, n_out, n_in, batch)
    pages = -(-work.npu_pages // plan.ch)
    units = max(work.tiles, pages / max(1, plan.cc))
    win = cfg.window_tiles
    if cfg.steady_state and units > win:
        f1, f2 = win / units, win / (2 * units)
        t1, _ = simulate(plan, spec, cfg, round(work.tiles * f1), round(pages * f1), batch, clock_hz)
        t2, _ = simulate(plan, spec, cfg, round(work.tiles * f2), round(pages * f2), batch, clock_hz)
        end = t1 + (t1 - t2) * (1 - f1) / (f1 - f2)
    else:
        end, _ = simulate(plan, spec, cfg, work.tiles, pages, batch, clock_hz)
    steady = end - plan.t_sense if cfg.overlap else end
    return finish(plan, work, steady, 0, cfg.npu_macs_per_s)
