"""Cross-op weight prefetch and resident small weights (`memory.prefetch`).

Ops run one after another and each op's first tile loads its weights when the op starts, so on a
slow level (a flash page sense is ~30 us) every op pays the level's latency once. Weights do not
depend on activations, so a DMA engine can fetch them early. `WeightPrefetch` takes op j's weight
bytes on their home level (at most `budget / depth` of them) out of op j's tiles and issues them
when op j-depth starts, in pieces (`PIECE`, or the level's flash page if larger). The pieces are the
head of op j's weight stream, at the addresses its tiles would load them from: each op's weights
start at an offset fixed when the op list is planned (`_bases`, one op's after another's on page
boundaries), the runner starts the op's stream there, and its loads go on where the prefetch
stopped (striped over a flash drive's dies as the op alone would read them). Op j starts at
once: its other loads (activations, KV, weights beyond the budget) go out as usual, and each tile
that took prefetched bytes computes only once the pieces carrying them have landed (a tile cannot
compute on weights that have not arrived). The bytes stay charged to op j (its row; the level sees
them once), so byte conservation holds; op j's row says in `prefetch` how many bytes came early and
`wait_ns`, how long after its start the last piece landed.

The pieces go through a DMA that yields to demand loads (`memory.dma`): per back-end it keeps at
most `slots` pieces outstanding (the level's bandwidth x one piece's trip) and issues the next only
while no demand request to that back-end is in flight. Pieces it has not issued when op j starts
are dropped from the prefetch: op j's tiles load those bytes themselves (promoted to demand).

- `cycle`: the pieces queue in the DMA (`PrefetchDma`, in front of the event-driven level, through
  which the ops' pipelines then load) when op j-depth starts; pipelines stop at their own end,
  leaving pieces in flight, and a tile of op j is held (`TilePipeline.hold`) until its pieces land.
- `fast`: one closed-form port over the run serves the prefetches, `slots` at a time, each once the
  window's ops have moved their own bytes on that level (timed on an idle port from the window's
  start); a tile's gate is when its pieces land (`pipeline_time(gates=)`), and the pieces still in
  flight at op j's start are queued on op j's port ahead of its loads (`port`). On a level the
  window's ops do not use, the two agree to the picosecond; prefetch on is never slower than off
  in `fast` but for one piece per late op (tests/core/test_prefetch.py).

Across layers (`layers`): a repeated block (a model's layers, deduplicated) has its first `depth`
ops costed twice, for layer 1 (after the ops before the block) and for layers 2..N (after the
block's last ops, whose window then prefetches them); the block's other ops keep one cost.

`resident_weight_bytes`: ops whose weights are at most that size (norm gains, biases; not gathered
embedding or position rows) keep them on chip across decode steps: their tiles never load them, the
level never sees them, and the report counts them as resident; they must fit the weight buffer.

Limits: the block's other ops are timed after layer 1's head, which in layers 2..N is shorter (its
weights came early), so the ops whose window lies in the head get up to that much more head start
than they would (GPT-2 decode on the flash/HBM platform: 0.3% optimistic at depth 2, exact at 1, 3
and 4, against the layer-major unrolled list); the ops after the block are windowed on the heads of
layers 2..N, not the last layer's last ops; unit-owned ops (in-flash GEMV, PIM) schedule their own
reads and are not prefetched; standalone op lists that run concurrently are not prefetched; a tile
waits for a whole piece although it may need only part of it; `fast` times the window ops' own
traffic as one transfer from the window's start (`cycle` slips pieces into its gaps: a demand load
may find up to `slots` pieces ahead of it, so `cycle` is never slower than off but for the prefetched
bytes over the level's bandwidth, and rarely by more than `fast`'s bound), and times an op's pieces
in flight at its start from that start (they left earlier); with prefetch on, an op's weights
start on a page boundary and the next op's right after its weight bytes, so a stream that also
carries other bytes (one level for everything) or reads its weights twice can overlap the next op's
first addresses (timing only, through DRAM rows or flash dies; the designs that prefetch keep their
weights on a level of their own and read each once); an op a unit runs whole beside the level (an
in-flash GEMV) does not hold the prefetch back: its time passes on the engine (`cycle`) and on the
closed form's clock with the level free, so a piece that meets it is served as on an idle level,
where the device would queue it behind at most one page read on its die (~tR) and take its bytes'
channel time from the GEMV (Cambricon-LLM L, OPT-6.7B: the norms' gains land during the GEMVs before
them either way; under 0.1% of a token).
LLaMA-2-7B b8 KV 2048 on the flash/HBM platform: `cycle` +0.14%
over `fast` (2.2% before the DMA yielded and the closed form stopped letting loads pass pieces).
"""
from __future__ import annotations

import heapq
from typing import Any, Sequence

from archsim.errors import ConfigError
from archsim.runner import DATA_MOVEMENT_KINDS, maps_gemm
from dataflows.schedule import Tile, fast_port
from memory.dma import PrefetchDma, queue_depth
from memory.request import Request
from memory.route import LEVEL_SHIFT

PIECE = 4 * 1024                      # the DMA moves a prefetch in pieces this size (or a flash page, if larger)
TOKEN_DIMS = frozenset({"b", "s"})    # dataflows.lowering: batch and sequence (token) dims


class WeightPrefetch:
    """The prefetch plan of one serial run and its state; the runner calls `begin`, `strip`, `end`."""

    def __init__(self, runner: Any, ops: Sequence[Any]) -> None:
        system = runner.system
        cfg = system.design.memory.prefetch
        self.runner, (self.ops, floor) = runner, layers(ops, cfg.depth) if cfg.weights else (list(ops), [0] * len(ops))
        budget = cfg.budget
        if budget is None and cfg.weights:
            wbuf = system.design.memory.sram.get("filter")
            if wbuf is None:
                raise ConfigError("memory.prefetch.budget: the design has no `filter` buffer to take half "
                                  "of; give the budget in bytes")
            budget = wbuf.capacity // 2
        self.depth, self.budget = cfg.depth, int(budget) if cfg.weights else 0
        self.names = list(system.levels)
        self.piece = [max(PIECE, getattr(getattr(getattr(lv, "level", lv), "spec", None), "page_size", 0) or 0)
                      for lv in system.levels.values()]     # level index -> piece bytes (behind its links)
        weights = [self._weights(op) for op in self.ops]     # op index -> {level index: bytes}
        self.base = self._bases(weights) if cfg.weights else [{}] * len(self.ops)   # op -> level -> (stream, offset)
        keep = cfg.resident_weight_bytes
        self.resident = [w if w and sum(w.values()) <= keep and _step_invariant(op) else {}
                         for w, op in zip(weights, self.ops)]
        self._check_capacity(system.design.memory, cfg)
        self.window = [max(j - self.depth, f) for j, f in enumerate(floor)]   # op -> op whose start issues it
        self.plan = [{lv: min(b, self.budget // self.depth) for lv, b in w.items()}
                     if cfg.weights and not k and self.window[j] < j else {}
                     for j, (w, k) in enumerate(zip(weights, self.resident))]
        self.slots = [queue_depth(lv, p) for lv, p in zip(system.levels.values(), self.piece)]
        self.dma = (PrefetchDma(system.engine, system.offchip, self.slots, system.routed)
                    if cfg.weights and runner.fidelity == "cycle" else None)   # cycle: the prefetch engine
        self._free: dict[int, list[int]] = {}                # fast: level -> when each DMA slot frees
        self.hist: list[tuple[int, dict[int, int]]] = []     # fast: per op, its time and bytes per level
        self._issued = -1                                    # cycle: last window start issued
        self._start = 0
        self._land: dict[int, dict] = {}                     # cycle: op -> level -> when each piece landed
        self._sizes: dict[int, dict] = {}                    # cycle: op -> level -> each piece's bytes
        self._waiting: dict[int, list] = {}                  # cycle: op -> tiles held for its pieces
        self._lands: dict[int, list[int]] = {}               # fast: the current op's pieces' landing, per level
        self._flight: list[tuple[int, int]] = []             # fast: its pieces in flight when it starts
        self.gates: list[tuple[int, int, int]] = []          # the current op's (tile, level, last piece it needs)
        self._at = 0                                         # fast: when the last prefetch was issued
        self._expect: dict[int, int] = {}                    # level -> address of the op's next weight byte
        self._port: Any = None                               # fast: the closed-form port the prefetches use
        self.index = -1
        self.left: dict[int, int] = {}                       # the current op's bytes still to strip
        self.wait_ps = 0                                     # the current op's last piece landed this after its start
        self.applied: int | None = None                      # bytes strip took out of the op's tiles
        self.kept = 0                                        # the current op's resident weight bytes
        self.sent: dict[int, list[tuple[int, int]]] = {}     # op index -> its prefetch requests (energy)

    def _check_capacity(self, mem: Any, cfg: Any) -> None:
        """Resident weights (every instance of every op) must fit the weight buffer beside the budget."""
        need = sum(sum(k.values()) * op.count for k, op in zip(self.resident, self.ops))
        if not need:
            return
        wbuf = mem.sram.get("filter")
        room = (wbuf.capacity if wbuf is not None else 0) - self.budget
        if need > room:
            raise ConfigError(f"memory.prefetch.resident_weight_bytes: the weights kept on chip need {need} B, but "
                              f"the `filter` buffer has {room} B beside the prefetch budget ({self.budget} B); "
                              f"lower resident_weight_bytes or the budget, or enlarge memory.sram.filter")

    # -- plan ------------------------------------------------------------------------------------
    def _weights(self, op: Any) -> dict[int, int]:
        """Op's weight bytes per off-chip level; {} for ops the runner does not stream or map itself."""
        r = self.runner
        if op.kind in DATA_MOVEMENT_KINDS:
            return {}
        unit = r.place(op)
        if unit is None or unit.owns(op):
            return {}
        near = getattr(unit.cfg, "near", None) if unit.side == "memory" else None
        home = r.system.design.memory.home("weight")
        if home == near:
            return {}
        outs = set(op.outputs)
        b = sum(o.nbytes(op.dims) for o in op.operands if o.role == "weight" and o not in outs)
        lv = r.system.level_index("weight") if r.system.routed else 0
        return {lv: b} if b else {}

    def _bases(self, weights: list[dict[int, int]]) -> list[dict[int, tuple[str, int]]]:
        """Per op and level, the runner stream that carries its weights and the offset they start at,
        fixed before any op's tiles are built: one op's after another's in op order, each on a piece
        (page) boundary, as a weight file lays out its tensors (where the running cursor puts them when
        each op reads its page-sized weights once). The runner starts the op's stream there (`seek`),
        so a prefetch fetches the very bytes the op's tiles would load first and their stream goes on
        where it stopped."""
        at: dict[tuple[int, str], int] = {}
        out: list[dict[int, tuple[str, int]]] = []
        for op, w in zip(self.ops, weights):
            here, unit = {}, self.runner.place(op) if w else None
            for lv, b in sorted(w.items()):
                role = "filter" if maps_gemm(op, unit) and op.operands[1].role == "weight" else "ifmap"
                off = -(-at.get((lv, role), 0) // self.piece[lv]) * self.piece[lv]   # a tensor starts a page
                here[lv] = (role, 0 if off + b > self.runner.stream_span(lv) else off)
                at[(lv, role)] = here[lv][1] + b
            out.append(here)
        return out

    def _requests(self, j: int) -> list[tuple[int, list[tuple[int, int]]]]:
        """Op j's prefetch per level: (level, [(address, bytes)] in pieces (`piece`)), the head of its
        weight stream in the order its tiles consume it."""
        out = []
        for lv, b in sorted(self.plan[j].items()):
            role, off = self.base[j][lv]
            start, step = self.runner.stream_addr(role, off, lv), self.piece[lv]
            out.append((lv, [(start + a, min(step, b - a)) for a in range(0, b, step)]))
        self.sent[j] = [p for _, pieces in out for p in pieces]
        return out

    def sent_for_op(self) -> list[tuple[int, int]]:
        """The running op's prefetch requests once its tiles gave their bytes up (the op pays for them)."""
        return self.sent.pop(self.index, []) if self.applied and not self.kept else []

    # -- per op ----------------------------------------------------------------------------------
    def begin(self, i: int) -> tuple:
        """Op i starts: issue the prefetches whose window opens now (cycle) and work out when op i's own
        prefetched weights land (fast). Returns what its cost depends on (the runner's cache)."""
        r = self.runner
        first = i != self.index
        self.index, self.left, self.wait_ps, self.applied, self.gates, self._lands = i, {}, 0, None, [], {}
        self._flight = [] if first else self._flight
        self.kept = sum(self.resident[i].values())
        if first:      # op i's weight stream starts where its prefetch (if any) fetched from
            merged = r.fidelity == "fast" and r.port_flag("exact_when_merged", False)   # loads at address 0
            self._expect = {}
            for lv, (role, off) in self.base[i].items():
                r.seek(role, off, lv)
                self._expect[lv] = -1 if merged else r.stream_addr(role, off, lv)
        if r.fidelity == "cycle" and first:      # the prefetches whose window opens now (a resident op's too)
            self._start = r.system.engine.now
            while self._issued + 1 < len(self.ops) and self.window[self._issued + 1] <= i:
                self._issued += 1
                if self._issued > i:
                    self._issue(self._issued)
        if self.kept:                   # on chip since the first step: nothing to fetch, nothing to wait for
            self.left = dict(self.resident[i])
            return (self.kept,)
        if r.fidelity == "cycle":
            if first and i in self._land:
                self._cut(i)
            return (sum(self.left.values()),)
        if first and self.plan[i]:
            self._fast_land(i)
        return (sum(self.left.values()), tuple(tuple(v) for _, v in sorted(self._lands.items())))

    def _issue(self, j: int) -> None:
        """Send op j's prefetch to the event-driven level now, after the running op's first loads (an
        event of this picosecond: the op's pipeline issues them as it starts); note when each piece lands."""
        if not self.plan[j] or self.dma is None:
            return
        land: dict[int, list[int | None]] = {}
        self._land[j], self._sizes[j] = land, {}
        for lv, pieces in self._requests(j):
            land[lv], self._sizes[j][lv] = [None] * len(pieces), [n for _, n in pieces]
            for c, (addr, b) in enumerate(pieces):
                def landed(req: Request, j: int = j, lv: int = lv, c: int = c) -> None:
                    self._land[j][lv][c] = req.done_ps
                    self._wake(j)

                self.dma.prefetch(j, Request(addr, b, False, "prefetch", landed))

    def _cut(self, i: int) -> None:
        """`cycle`: op i starts. The pieces of its prefetch still waiting in the DMA are dropped (its
        tiles load those bytes themselves, as demand); the ones already out stay prefetched (`left`)."""
        assert self.dma is not None
        land = self._land[i]
        for lv in list(land):
            kept = len(land[lv]) - self.dma.drop(i, lv if self.runner.system.routed else 0)
            del land[lv][kept:]
            if kept:
                self.left[lv] = sum(self._sizes[i][lv][:kept])
            else:
                del land[lv]
        self._sizes.pop(i)
        if not land:
            del self._land[i]

    def _wake(self, j: int) -> None:
        """`cycle`: release the held tiles of op j whose pieces have all landed."""
        waiting = self._waiting.get(j, [])
        for w in [w for w in waiting if self._arrived(j, w[0], w[1])]:
            waiting.remove(w)
            w[2].release(w[3])

    def _arrived(self, j: int, lv: int, c: int) -> bool:
        return all(t is not None for t in self._land[j][lv][:c + 1])

    def _fast_land(self, j: int) -> None:
        """`fast`: when each piece of op j's prefetch lands, from op j's start (`_lands`), and how many
        bytes came early (`left`). They go through one closed-form port over the run once the window's
        ops have moved their own bytes on that level (timed on an idle port from the window's start),
        at most `slots` at a time: a background DMA that yields to the ops. Pieces it has not issued
        when op j starts are op j's own loads again, as in `cycle`."""
        w = self.window[j]
        issue = sum(t for t, _ in self.hist[:w])
        start = issue + sum(t for t, _ in self.hist[w:j])
        if self._port is None:
            self._port = fast_port(self.runner.system.offchip)
        for lv, pieces in self._requests(j):
            own = sum(by.get(lv, 0) for _, by in self.hist[w:j])
            addr = pieces[0][0]
            after = fast_port(self.runner.system.offchip).issue(issue, own, False, addr) if own else issue
            self._at = max(self._at, after)
            free = self._free.setdefault(lv, [0] * self.slots[lv])
            lands = []
            for a, n in pieces:
                at = max(self._at, free[0])
                if at >= start:                # not issued before op j starts: its own load again
                    break
                lands.append(self._port.issue(at, n, False, a))
                heapq.heapreplace(free, lands[-1])
            if lands:
                self._lands[lv] = [t - start for t in lands]
                self._flight += [p for p, t in zip(pieces, lands) if t > start]
                self.left[lv] = sum(n for _, n in pieces[:len(lands)])
        self.wait_ps = max(0, max((max(v) for v in self._lands.values()), default=0))

    def strip(self, tiles: Sequence[Tile]) -> list[Tile]:
        """Take the current op's prefetched (or resident) weight bytes out of its first tiles' loads of
        its weight stream (the addresses the pieces were fetched from), from the first tile on; a tile
        that took prefetched bytes waits for the pieces that carry them (`gates`)."""
        if not self.left:
            return list(tiles)
        want = sum(self.left.values())
        taken: dict[int, int] = {}
        routed = self.runner.system.routed
        out, expect = [], dict(self._expect)
        for i, t in enumerate(tiles):
            loads = []
            for addr, n in t.loads:
                lv = addr >> LEVEL_SHIFT if routed else 0
                at = expect.get(lv, -1)       # the next byte of the op's weight stream (-1: any load on lv)
                take = min(n, self.left.get(lv, 0)) if at in (-1, addr) else 0
                if take:
                    expect[lv] = -1 if at == -1 else addr + take
                    self.left[lv] -= take
                    taken[lv] = taken.get(lv, 0) + take
                    if not self.kept:
                        self.gates.append((i, lv, (taken[lv] - 1) // self.piece[lv]))
                if n > take:
                    loads.append((addr + take, n - take))
            out.append(Tile(t.compute_ps, tuple(loads), t.stores, t.tail_ps) if len(loads) != len(t.loads)
                       or loads != list(t.loads) else t)
        self.applied = want - sum(self.left.values())
        self.left = {}
        return out

    def gate_times(self) -> dict[int, int]:
        """`fast`: tile -> when (from the op's start) the prefetched pieces it needs have all landed."""
        out: dict[int, int] = {}
        for i, lv, c in self.gates:
            t = max(self._lands[lv][:c + 1])
            if t > out.get(i, 0):
                out[i] = t
        return out

    def port(self) -> Any:
        """`fast`: the current op's closed-form port, its prefetch pieces still in flight when it starts
        queued first (in `cycle` they are in the level's queues ahead of its loads). Each is timed from
        the op's start, although it left earlier: the closed form does not carry the device's state over."""
        port = fast_port(self.runner.system.offchip)
        for addr, n in self._flight:
            port.issue(0, n, False, addr)
        return port

    def hold(self, pipe: Any) -> None:
        """Hold the tiles of the op's pipeline `pipe` (not started) that need prefetched pieces still in
        flight: until they land (cycle), or until the closed form says they land (fast)."""
        if self.runner.fidelity == "fast":
            for i, t in self.gate_times().items():
                pipe.hold(i, t)
            return
        j = self.index
        for i, lv, c in self.gates:
            if not self._arrived(j, lv, c):
                pipe.hold(i)
                self._waiting.setdefault(j, []).append((lv, c, pipe, i))

    def end(self, cost: Any) -> dict[str, Any] | None:
        """Op i simulated (or its cost reused): charge the wait for its weights to it (a stall), drop
        resident bytes from its traffic, remember its time and the bytes it moved on each level itself
        (the next windows); returns the row's `prefetch` entry. In `cycle` an op timed beside the
        engine (an in-flash GEMV) lets its time pass there, so pieces in flight move meanwhile."""
        if self.dma is not None and getattr(cost, "bypass", False):
            self.runner.system.engine.advance(cost.pipe.total_ps)
        if self.applied and self.kept:      # a freshly simulated op: the level never sees those bytes
            cost.dram_read -= self.kept
            for lv, b in self.resident[self.index].items():
                name = self.names[lv]
                if name in cost.levels:
                    rd, wr = cost.levels.pop(name)
                    if rd - b or wr:
                        cost.levels[name] = (rd - b, wr)
            cost.prefetched = {"resident_weight_bytes": self.kept}
        elif self.applied:      # a freshly simulated op (a cached cost keeps its entry)
            if self.runner.fidelity == "cycle":   # every piece has landed: a tile it held needed it
                land = self._land.pop(self.index)
                self.wait_ps = max(0, max(t for v in land.values() for t in v if t is not None) - self._start)
            cost.prefetched = {"weight_bytes": self.applied, "wait_ns": self.wait_ps / 1000.0, "depth": self.depth}
        early = getattr(cost, "prefetched", None)
        if self.runner.fidelity == "fast" and self.index == len(self.hist):
            if cost.levels:
                by = {self.names.index(k): rd + wr for k, (rd, wr) in cost.levels.items()}
            else:
                by = {0: cost.dram_read + cost.dram_write}
            ahead = early["weight_bytes"] if early and "weight_bytes" in early else 0
            for lv in self.plan[self.index] if ahead else ():   # fetched ahead: moved during earlier ops
                by[lv] -= ahead
            if getattr(cost, "bypass", False):   # timed beside the level (in-flash GEMV): not on its port
                by = {}
            self.hist.append((cost.pipe.total_ps, by))
        return early


def layers(ops: Sequence[Any], depth: int) -> tuple[list[Any], list[int]]:
    """The op list with a head start across layers, and per op the first op its window may reach.

    A repeated block (consecutive ops of one count N > 1: a model's layers, deduplicated) has its
    first d = min(depth, block length) ops (its head) run twice: as layer 1's (count 1, in place:
    the ops before the block are their window) and as layers 2..N's (count N-1, after the block's
    other ops: the previous layer's last ops are their window). The block's other ops keep one cost
    for all N layers, timed after layer 1's head, and no window reaches before that head."""
    out: list[Any] = []
    floor: list[int] = []
    j = 0
    while j < len(ops):
        n, e = ops[j].count, j + 1
        while e < len(ops) and ops[e].count == n:
            e += 1
        if n == 1:
            out += ops[j:e]
            floor += [0] * (e - j)
        else:
            d, start = min(depth, e - j), len(out)
            head = [o.with_count(1) for o in ops[j:j + d]] if n > 1 else []
            out += head + list(ops[j + d:e]) + [o.with_count(n - 1) for o in ops[j:j + d]]
            floor += [0] * d + [start] * (e - j)
        j = e
    return out, floor


def _step_invariant(op: Any) -> bool:
    """Weights that are the same every decode step: not gathered rows (embeddings, position tables,
    whose weight carries the lowering's batch/sequence dims)."""
    return op.kind != "embedding" and not any(set(o.dims) & TOKEN_DIMS for o in op.operands if o.role == "weight")


def prefetcher(runner: Any, ops: Sequence[Any]) -> WeightPrefetch | None:
    """The run's WeightPrefetch when the design turns prefetch or resident weights on (serial runs
    only), else None."""
    cfg = runner.system.design.memory.prefetch
    return WeightPrefetch(runner, ops) if cfg.weights or cfg.resident_weight_bytes else None
