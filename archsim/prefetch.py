"""Cross-op weight prefetch and resident small weights (`memory.prefetch`).

Ops run one after another and each op's first tile loads its weights when the op starts, so on a
slow level (a flash page sense is ~30 us) every op pays the level's latency once. Weights do not
depend on activations, so a DMA engine can fetch them early. `WeightPrefetch` takes op j's weight
bytes on their home level (at most `budget / depth` of them) out of op j's tiles and issues them
when op j-depth starts; op j starts once they have landed (the wait, if any, is a stall of op j).
The bytes stay charged to op j (its row; the level sees them once), so byte conservation holds;
op j's row says in `prefetch` how many bytes came early and how long it still waited.

- `cycle`: the requests go to the event-driven level when op j-depth starts (after that op's own
  first loads) and contend there with the running ops' traffic; pipelines stop at their own end,
  leaving the requests in flight, and op j steps the engine until its own have landed.
- `fast`: one closed-form port over the run serves the prefetches, each issued once the window's
  ops have moved their own bytes on that level (timed on an idle port from the window's start): a
  background DMA that yields to the running ops, the conservative view. On a level the window's ops
  do not use, the two agree to the picosecond (tests/core/test_prefetch.py).

`resident_weight_bytes`: ops whose weights are at most that size (norm gains, biases; not gathered
embedding or position rows) keep them on chip across decode steps: their tiles never load them, the
level never sees them, and the report counts them as resident; they must fit the weight buffer.

Limits: a repeated layer's ops (dedup) prefetch only within the layer, so its first ops get no head
start (conservative: from the second layer on, the previous layer's last ops would give one);
unit-owned ops (in-flash GEMV, PIM) schedule their own reads and are not prefetched; standalone op
lists that run concurrently are not prefetched; a prefetch still in flight when its op starts holds
the whole op, though the op's loads from other levels could start meanwhile (conservative); `fast`
times the window ops' own traffic as one transfer from the window's start (in `cycle` it interleaves).
"""
from __future__ import annotations

from typing import Any, Sequence

from archsim.errors import ConfigError
from dataflows.schedule import PipelineResult, Tile, fast_port
from memory.request import Request
from memory.route import LEVEL_SHIFT

ALIGN = 64 * 1024                     # prefetch requests start on this boundary (a few flash pages)
TOKEN_DIMS = frozenset({"b", "s"})    # dataflows.lowering: batch and sequence (token) dims


class WeightPrefetch:
    """The prefetch plan of one serial run and its state; the runner calls `begin`, `strip`, `end`."""

    def __init__(self, runner: Any, ops: Sequence[Any]) -> None:
        self.runner, self.ops = runner, list(ops)
        system = runner.system
        cfg = system.design.memory.prefetch
        budget = cfg.budget
        if budget is None and cfg.weights:
            wbuf = system.design.memory.sram.get("filter")
            if wbuf is None:
                raise ConfigError("memory.prefetch.budget: the design has no `filter` buffer to take half "
                                  "of; give the budget in bytes")
            budget = wbuf.capacity // 2
        self.depth, self.budget = cfg.depth, int(budget) if cfg.weights else 0
        self.names = list(system.levels)
        weights = [self._weights(op) for op in self.ops]     # op index -> {level index: bytes}
        keep = cfg.resident_weight_bytes
        self.resident = [w if w and sum(w.values()) <= keep and _step_invariant(op) else {}
                         for w, op in zip(weights, self.ops)]
        self._check_capacity(system.design.memory, cfg)
        self.window = _windows(self.ops, self.depth)         # op index -> op whose start issues its prefetch
        self.plan = [{lv: min(b, self.budget // self.depth) for lv, b in w.items()}
                     if cfg.weights and not k and self.window[j] < j else {}
                     for j, (w, k) in enumerate(zip(weights, self.resident))]
        self.hist: list[tuple[int, dict[int, int]]] = []     # fast: per op, its time and bytes per level
        self._issued = -1                                    # cycle: last window start issued
        self._start = 0
        self._out: dict[int, int] = {}                       # cycle: op index -> prefetch requests in flight
        self._landed: dict[int, int] = {}                    # cycle: op index -> when its prefetch landed
        self._at = 0                                         # fast: when the last prefetch was issued
        self._cursor: dict[int, int] = {}                    # level index -> next prefetch offset
        self._port: Any = None                               # fast: the closed-form port the prefetches use
        self.index = -1
        self.left: dict[int, int] = {}                       # the current op's bytes still to strip
        self.wait_ps = 0                                     # the current op's wait for its prefetch
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
        from archsim.runner import DATA_MOVEMENT_KINDS

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

    def _requests(self, j: int) -> list[tuple[int, int]]:
        """(address, bytes) of op j's prefetch, one request per level: in the upper half of the weight
        stream's quarter, aligned to ALIGN, so the ops' own streams keep their addresses (and a
        paged level its page alignment) whether or not the prefetch is on."""
        from archsim.runner import REGION
        from memory.route import routed_addr

        system, out = self.runner.system, []
        for lv, b in sorted(self.plan[j].items()):
            level = system.levels[self.names[lv]]
            half = (getattr(level, "capacity_bytes", None) or (1 << 36)) // 8
            off = self._cursor.get(lv, 0)
            off = 0 if off + b > half else off
            self._cursor[lv] = -(-(off + b) // ALIGN) * ALIGN
            addr = REGION["filter"] * 2 * half + half + off
            out.append((routed_addr(lv, addr) if system.routed else addr, b))
        self.sent[j] = out
        return out

    def sent_for_op(self) -> list[tuple[int, int]]:
        """The running op's prefetch requests once its tiles gave their bytes up (the op pays for them)."""
        return self.sent.pop(self.index, []) if self.applied and not self.kept else []

    # -- per op ----------------------------------------------------------------------------------
    def begin(self, i: int) -> tuple:
        """Op i starts: issue the prefetches whose window opens now (cycle) and work out how long op i
        waits for its own prefetched weights. Returns what its cost depends on (the runner's cache)."""
        r = self.runner
        first = i != self.index
        self.index, self.left, self.wait_ps, self.applied = i, {}, 0, None
        self.kept = sum(self.resident[i].values())
        if self.kept:                   # on chip since the first step: nothing to fetch, nothing to wait for
            self.left = dict(self.resident[i])
            return (self.kept,)
        if r.fidelity == "cycle":
            eng = r.system.engine
            start = eng.now
            if first:
                while self._issued + 1 < len(self.ops) and self.window[self._issued + 1] <= i:
                    self._issued += 1
                    if self._issued > i:
                        self._issue(self._issued)
            if first and self._out.get(i) is not None:
                while self._out[i] and eng.pending:      # still in flight: the op starts when it lands
                    eng.run(eng.peek_time())
                self.wait_ps = max(0, self._landed.pop(i) - start)
                self.left = dict(self.plan[i])
        elif first and self.plan[i]:
            self.wait_ps = self._fast_wait(i)
            self.left = dict(self.plan[i])
        return (sum(self.left.values()), self.wait_ps)

    def _issue(self, j: int) -> None:
        """Send op j's prefetch to the event-driven level now, after the running op's first loads (an
        event of this picosecond: the op's pipeline issues them as it starts); note when it lands."""
        eng = self.runner.system.engine
        level = self.runner.system.offchip
        for addr, b in self._requests(j) if self.plan[j] else ():
            self._out[j] = self._out.get(j, 0) + 1
            self._landed[j] = eng.now

            def landed(req: Request, j: int = j) -> None:
                self._landed[j] = max(self._landed[j], req.done_ps)
                self._out[j] -= 1

            eng.at(eng.now, level.submit, Request(addr, b, False, "prefetch", landed))

    def _fast_wait(self, j: int) -> int:
        """`fast`: how long op j waits after op j-1 ends for its prefetched weights. They go through one
        closed-form port over the run once the window's ops have moved their own bytes on that level
        (timed on an idle port from the window's start): a background DMA that yields to the ops."""
        w = self.window[j]
        issue = sum(t for t, _ in self.hist[:w])
        start = issue + sum(t for t, _ in self.hist[w:j])
        if self._port is None:
            self._port = fast_port(self.runner.system.offchip)
        wait = 0
        for addr, b in self._requests(j):
            lv = addr >> LEVEL_SHIFT if self.runner.system.routed else 0
            own = sum(by.get(lv, 0) for _, by in self.hist[w:j] if by.get(lv, 0) > 0)
            after = fast_port(self.runner.system.offchip).issue(issue, own, False, addr) if own else issue
            fetch = fast_port(self.runner.system.offchip).issue(0, b, False, addr)
            t = issue
            for dt, by in self.hist[w:j]:     # an op beside the level (in-flash GEMV) holds it while it runs:
                if by.get(lv, 0) < 0 and t < after + fetch and t + dt > after:   # a prefetch it meets waits
                    after = t + dt
                t += dt
            self._at = max(self._at, after)
            wait = max(wait, self._port.issue(self._at, b, False, addr) - start)
        return max(0, wait)

    def strip(self, tiles: Sequence[Tile]) -> list[Tile]:
        """Take the current op's prefetched (or resident) weight bytes out of its first tiles' loads on
        their level, from the first tile on."""
        if not self.left:
            return list(tiles)
        want = sum(self.left.values())
        routed = self.runner.system.routed
        out = []
        for t in tiles:
            loads = []
            for addr, n in t.loads:
                lv = addr >> LEVEL_SHIFT if routed else 0
                take = min(n, self.left.get(lv, 0))
                if take:
                    self.left[lv] -= take
                if n > take:
                    loads.append((addr + take, n - take))
            out.append(Tile(t.compute_ps, tuple(loads), t.stores, t.tail_ps) if len(loads) != len(t.loads)
                       or loads != list(t.loads) else t)
        self.applied = want - sum(self.left.values())
        self.left = {}
        return out

    def end(self, cost: Any) -> dict[str, Any] | None:
        """Op i simulated (or its cost reused): charge the wait for its weights to it (a stall), drop
        resident bytes from its traffic, remember its time and the bytes it moved on each level itself
        (the next windows); returns the row's `prefetch` entry."""
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
            p, w = cost.pipe, self.wait_ps
            cost.pipe = PipelineResult(p.total_ps + w, p.compute_ps, p.stall_ps + w, p.first_compute_start_ps + w)
            cost.prefetched = {"weight_bytes": self.applied, "wait_ns": w / 1000.0, "depth": self.depth}
        early = getattr(cost, "prefetched", None)
        if self.runner.fidelity == "fast" and self.index == len(self.hist):
            if cost.levels:
                by = {self.names.index(k): rd + wr for k, (rd, wr) in cost.levels.items()}
            else:
                by = {0: cost.dram_read + cost.dram_write}
            ahead = early["weight_bytes"] if early and "weight_bytes" in early else 0
            for lv in self.plan[self.index] if ahead else ():   # fetched ahead: moved during earlier ops
                by[lv] -= ahead
            if getattr(cost, "bypass", False):   # timed beside the level, holding its dies: marked -1
                by = {lv: -1 for lv in by}
            self.hist.append((cost.pipe.total_ps, by))
        return early


def _windows(ops: Sequence[Any], depth: int) -> list[int]:
    """Where each op's prefetch is issued: `depth` ops before it, but not before the start of the
    repeated block (consecutive ops of one count > 1, a model's layers) it belongs to. The ops before
    a layer are not the ops that precede it from the second layer on, and those (the previous layer's
    last ops) run later in the list: such a prefetch starts with the layer (conservative)."""
    out, start = [], 0
    for j, op in enumerate(ops):
        if j == 0 or op.count == 1 or op.count != ops[j - 1].count:
            start = j
        out.append(max(j - depth, start if op.count > 1 else 0, 0))
    return out


def _step_invariant(op: Any) -> bool:
    """Weights that are the same every decode step: not gathered rows (embeddings, position tables,
    whose weight carries the lowering's batch/sequence dims)."""
    return op.kind != "embedding" and not any(set(o.dims) & TOKEN_DIMS for o in op.operands if o.role == "weight")


def prefetcher(runner: Any, ops: Sequence[Any]) -> WeightPrefetch | None:
    """The run's WeightPrefetch when the design turns prefetch or resident weights on (serial runs
    only), else None."""
    cfg = runner.system.design.memory.prefetch
    return WeightPrefetch(runner, ops) if cfg.weights or cfg.resident_weight_bytes else None
