"""Run a workload on a design: place each op on a unit, map it, run its tile pipeline, report.

Ops run one after another. Each op's tiles stream through the off-chip level with double
buffering (dataflows.schedule). `fidelity="fast"` uses the closed form of that pipeline;
`fidelity="cycle"` runs the same pipeline on the event engine against the memory model and runs
the compute model of each distinct tile shape at cycle level.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archsim.config.schema import DesignConfig
from archsim.engine import ClockDomain
from archsim.errors import ArchsimError, WorkloadError
from archsim.offchip_energy import dram_commands, offchip_energy_pj, stream_levels, tiles_energy_pj
from archsim.op_context import RunContext
from archsim.report import Report
from archsim.system import System
from archsim.units.base import ComputeResult, ComputeUnit, GemmShape
from archsim.workload import resolve_workload
from dataflows.conv_reuse import conv_geometry
from dataflows.mapper import design_energy_spec, op_bits
from dataflows.schedule import PipelineResult, Tile, fast_port, pipeline_time
from memory.route import LEVEL_SHIFT

FIDELITIES = ("fast", "cycle")
DATA_MOVEMENT_KINDS = frozenset({"kv_read", "kv_write", "copy"})  # moved by DMA, no compute unit
VECTOR_CHUNK_BYTES = 64 * 1024  # vector ops stream through the port in chunks this size
TRACE_TILE_LIMIT = 4096         # ops with more tiles are traced as one span
EXACT_STEP_LIMIT = 200_000      # `fast` walks at most this many tiles exactly, else uses the mapper's closed form

# Each operand role streams through its own quarter of the off-chip address space, so a DRAM model
# sees weights, activations and outputs as distinct sequential streams.
REGION = {"filter": 0, "ifmap": 1, "ofmap_in": 2, "ofmap": 3}


@dataclass
class _OpCost:
    pipe: PipelineResult
    compute: ComputeResult          # summed over tiles
    dram_read: int
    dram_write: int
    sram_read_bytes: int
    sram_write_bytes: int
    mapping: str
    record: list = field(default_factory=list)  # tile activity for the trace
    levels: dict = field(default_factory=dict)  # level -> (read B, written B), when a unit reports them
    detail: dict | None = None                  # a unit-owned op's own detail (shown in its report row)
    sample: Any = None                          # archsim.sampling.Sample when tiles were extrapolated
    requests: int = 0                           # off-chip transfers (the DRAM energy estimate opens a row each)
    offchip_pj: dict | None = None              # DRAM commands the op issued, measured (cycle)
    level_pj: dict = field(default_factory=dict)  # what self-pricing levels charged (archsim.offchip_energy)


def run(design: DesignConfig, workload: Any, fidelity: str = "fast", dedup: bool = True,
        trace: Any = None, values: dict | None = None, seed: int | None = None, exact: bool = False,
        progress: Any = None) -> Report:
    """Simulate `workload` (see archsim.workload) on `design`; returns a Report. `values` maps operand
    roles to value sources (dataflows.values), over the workload's own; `seed` seeds their draws.
    `cycle` samples repeated tiles and folds (archsim.sampling) unless `exact`; `progress(i, ops)` is
    called before op i runs and once more with i == len(ops) at the end."""
    if fidelity not in FIDELITIES:
        raise ArchsimError(f"fidelity must be one of {FIDELITIES}, got {fidelity!r}")
    wl = resolve_workload(workload, design)
    system = System(design)
    runner = _Runner(system, fidelity, trace, exact)
    if wl.values or values:
        from dataflows.values import OperandValues

        runner.operand_values = OperandValues.from_spec({**wl.values, **(values or {})},
                                                        wl.seed if seed is None else seed)
        runner.values = runner.operand_values.for_op
    ops = unfuse_unsupported(wl.ops, system.units)
    for u in system.units.values():
        u.check_workload(ops, system)
    ops = ops if dedup else [o.with_count(1) for o in ops for _ in range(o.count)]
    makespan = None
    if _concurrent(wl, ops, system):
        from archsim.concurrency import run_concurrent

        rows, makespan = run_concurrent(runner, ops)
    else:
        from archsim.prefetch import prefetcher

        rows, runner.prefetch = [], prefetcher(runner, ops)
        ops = runner.prefetch.ops if runner.prefetch is not None else ops   # heads of layers 2..N apart
        for i, op in enumerate(ops):
            if progress is not None:
                progress(i, ops)
            runner.op_index = i
            rows.extend(runner.op_rows(op))
        if progress is not None:
            progress(len(ops), ops)
    if fidelity == "cycle":
        _check_conservation(system.offchip, rows, runner.skipped_bytes)
    peak = sum(u.peak_macs_per_cycle * u.clock_hz for u in system.units.values()) / 1e9
    from archsim.area import design_area

    return Report(config=design.model_dump(mode="json"), ops=rows, peak_macs_per_ns=peak,
                  peak_offchip_bytes_per_ns=system.offchip_peak_bytes_per_s / 1e9, meta=wl.meta, tokens=wl.tokens,
                  makespan_ns=None if makespan is None else makespan / 1000.0,
                  makespan_cycles=None if makespan is None else
                  ClockDomain("design", float(design.clock)).ps_to_cycles(math.ceil(makespan)),
                  area=design_area(design).as_dict())


def _concurrent(wl: Any, ops: Sequence[Any], system: System) -> bool:
    """Independent ops (a standalone list) on a design with several units overlap (archsim.concurrency);
    repeated ops, and ops a unit runs whole unless it can start them on the shared engine
    (`start_op`, as the PIM unit does), keep the serial schedule."""
    if not getattr(wl, "independent", False) or len(ops) < 2 or len(system.units) < 2:
        return False
    if any(op.count != 1 for op in ops):
        return False
    from archsim.concurrency import twins

    placed = [_placed_unit(system, op) for op in ops]
    # a whole op overlaps others only when its unit can start it on the shared engine (`start_op`)
    if any(u is not None and u.owns(op) and not hasattr(u, "start_op") for op, u in zip(ops, placed)):
        return False
    used = {u.name for u in placed if u is not None}
    return len(used) > 1 or any(len(twins(system.units, u)) > 1 for u in placed if u is not None)


def _placed_unit(system: System, op: Any) -> ComputeUnit | None:
    from dataflows.placement import place_op

    if op.kind in DATA_MOVEMENT_KINDS:   # the DMA moves it, unless a unit runs it whole (a drive's KV append)
        return next((u for u in system.units.values() if u.owns(op)), None)
    return system.units[place_op(op, system.units, system.design.mapper.placement).unit]


def unfuse_unsupported(ops: Sequence[Any], units: dict[str, ComputeUnit]) -> list[Any]:
    """Ops with `parts` (a fused attention op) that no unit runs whole become their parts, in order."""
    out: list[Any] = []
    for op in ops:
        parts = getattr(op, "parts", ())
        if parts and not any(u.supports(op) for u in units.values()):
            out.extend(parts)
        else:
            out.append(op)
    return out


class _Runner:
    def __init__(self, system: System, fidelity: str, trace: Any, exact: bool = False):
        self.system = system
        self.fidelity = fidelity
        self.trace = trace
        self.sampling = fidelity == "cycle" and not exact
        self.skipped_bytes = [0, 0]   # read, written: tiles sampling left out (archsim.sampling)
        self._sample: Any = None      # the current op's archsim.sampling.Sample (or its state error)
        self._cut = False             # some op's tiles were cut: later ops meet another memory state
        self.energy_spec = design_energy_spec(system.design)
        self._compute_cache: dict[tuple, ComputeResult] = {}
        self._op_cache: dict[tuple, _OpCost] = {}
        self._cursor = dict.fromkeys(REGION, 0)
        self._mappers: dict[tuple, Any] = {}
        self._mem_spec: Any = None
        self._cost: Any = None        # the current op's cost model (SRAM limits, operand widths)
        self._clock_ps = 0            # start of the next op (ops run back to back)
        self._port: Any = None        # a probe of the fast port, for its declared properties
        self._last_record: list = []
        self._defer: list | None = None  # cycle-mode concurrency: pipelines collected, run together later
        self._last_requests = 0
        self.operand_values: Any = None   # dataflows.values.OperandValues when the run gives values
        self.values: Any = None           # (op, operand name) -> array | None, what OpContext.values asks
        self.prefetch: Any = None         # archsim.prefetch.WeightPrefetch when the design turns it on
        self.op_index = 0                 # the running op's place in the op list (for the prefetch)
        self._priced = system.offchip.prices_any()   # some level or link prices its own bytes
        self._level_pj: dict[str, float] = {}

    # -- placement -----------------------------------------------------------------------------
    def place(self, op) -> ComputeUnit | None:
        """The unit that runs `op` (None for pure data movement such as KV-cache reads)."""
        return _placed_unit(self.system, op)

    # -- one op --------------------------------------------------------------------------------
    def op_rows(self, op) -> list[dict[str, Any]]:
        """Rows of a (possibly repeated) op: one, simulated once, when the memory system is idle at its
        start (every instance then starts from that state); else each instance in turn."""
        if op.count > 1 and self.fidelity == "cycle" and self.system.engine.pending and self.prefetch is None:
            return [self.op_row(op.with_count(1)) for _ in range(op.count)]
        return [self.op_row(op)]

    def op_row(self, op) -> dict[str, Any]:
        unit = self.place(op)
        key = (_signature(op), unit.name if unit else None)
        if self.operand_values is not None:   # values are drawn per op: no reuse across ops
            key += (op.name, self.operand_values.key)
        if self.prefetch is not None:          # weights fetched during earlier ops: how many, and the wait
            key += self.prefetch.begin(self.op_index)
        # a repeated shape costs the same only where timing ignores addresses (not DRAM/flash pages)
        reuse = self.fidelity == "fast" and not self.port_flag("uses_addresses", True)
        cost = self._op_cache.get(key) if reuse else None
        if cost is None:
            self._last_record = []    # an op that skips the pipeline (closed-form estimate) has no tile activity
            self._sample = None
            self._last_requests = 0
            before = dram_commands(self.system, self.fidelity)
            cost = self._simulate(op, unit)
            cost.record, cost.sample = self._last_record, self._sample
            cost.requests = cost.requests or self._last_requests
            if before is not None:
                after = dram_commands(self.system, self.fidelity)
                cost.offchip_pj = {k: after[k] - v for k, v in before.items()}
            self._op_cache[key] = cost
        early = self.prefetch.end(cost) if self.prefetch is not None else None
        if self.trace is not None:
            self._trace_op(op, unit, cost)
        self._clock_ps += cost.pipe.total_ps * op.count
        row = self._row(op, unit, cost)
        if early:
            row["prefetch"] = early
        return row

    def _simulate(self, op, unit: ComputeUnit | None) -> _OpCost:
        self._level_pj = {}    # what the requests of this op's pipelines cost on self-pricing levels
        if unit is not None and unit.owns(op):
            cost = self._owned(op, unit)
        elif unit is not None and maps_gemm(op, unit):
            cost = self._gemm(op, unit)
        else:
            cost = self._stream(op, unit)
        cost.level_pj = self._level_pj
        return cost

    def _owned(self, op, unit: ComputeUnit) -> _OpCost:
        """A unit that runs the op whole (PIM command streams, in-flash GEMV, a fused attention cascade)."""
        ctx = RunContext(self, unit)
        return self.owned_cost(op, unit, unit.run_op(op, ctx), ctx)

    def owned_cost(self, op, unit: ComputeUnit, r: Any, ctx: Any) -> _OpCost:
        """The cost row of a whole op from the unit's OpResult `r`."""
        if r.time_ps < 0 or not 0 <= r.busy_ps <= max(r.time_ps, 0):
            raise ArchsimError(f"unit {unit.name!r} ({unit.kind}) reported time {r.time_ps} ps and busy "
                               f"{r.busy_ps} ps for op {op.name!r}; busy must lie within the op's time")
        clk = self.system.clock_of(unit)
        res = ComputeResult(cycles=clk.ps_to_cycles(r.busy_ps), macs=r.macs, folds=0, utilization=0.0,
                            energy_pj=dict(r.energy_pj), detail=dict(r.detail))
        rd = sum(t[0] for t in r.traffic.values())
        wr = sum(t[1] for t in r.traffic.values())
        pipe = PipelineResult(r.time_ps, r.busy_ps, r.time_ps - r.busy_ps, 0)
        cost = _OpCost(pipe, res, rd, wr, r.sram_read_bytes, r.sram_write_bytes, r.mapping or unit.kind)
        cost.levels = {k: tuple(v) for k, v in r.traffic.items()}
        cost.detail = dict(r.detail)
        cost.bypass = not getattr(ctx, "used_port", False)   # e.g. in-flash GEMV: timed beside the level
        return cost

    def context(self, unit: ComputeUnit) -> RunContext:
        return RunContext(self, unit)

    def _mapper(self, unit: ComputeUnit, bits: Any, homes: tuple | None = None):
        """One Mapper per (unit, operand widths, where each tile stream lives when the design has several
        back-ends), planning with this design's SRAM, off-chip levels and energies."""
        key = (unit.name, bits, homes)
        m = self._mappers.get(key)
        if m is None:
            from dataflows.cache import MapCache
            from dataflows.mapper import Mapper, design_memory_spec

            design = self.system.design
            if self._mem_spec is None:
                self._mem_spec = design_memory_spec(design)
            mem = self._mem_spec
            if homes is not None:
                from dataflows.mapper import with_stream_levels

                mem = with_stream_levels(mem, self.system.levels, dict(homes))
            cache = MapCache() if design.mapper.cache else None
            m = self._mappers[key] = Mapper(unit, mem, self.energy_spec, design.mapper, cache, bits)
        return m

    def _gemm(self, op, unit: ComputeUnit) -> _OpCost:
        """Map the GEMM, then run the mapping's tile schedule through the off-chip level."""
        homes = tuple(self._homes(op, unit).items()) if self.system.routed or unit.side == "memory" else None
        mapper = self._mapper(unit, op_bits(op, unit), homes)
        self._cost = mapper.cost
        result = mapper.map_gemm(op.as_gemm(), op.name, op.kind, conv_geometry(op))
        best = result.best
        mapping = best.mapping
        label = str(mapping) + (" (stopped by the time budget)" if result.truncated else "")
        unit = mapper.variants.get(mapping.dataflow, unit)  # the dataflow the mapper chose
        spatial = unit.spatial_use(op.as_gemm(), tuple(getattr(op, "tags", ())))   # PE occupancy, idle reason
        clk = self.system.clock_of(unit)
        d = best.dram_bytes
        res = ComputeResult(cycles=best.compute_cycles, macs=best.macs, folds=mapping.steps, utilization=0.0,
                            energy_pj=dict(best.energy_pj))
        traffic = (d["ifmap"] + d["filter"] + d["ofmap_in"], d["ofmap"], best.sram_read_bytes, best.sram_write_bytes)
        if self.fidelity == "fast" and mapping.steps > EXACT_STEP_LIMIT:
            # too many tiles to walk: the mapper's closed form of the same pipeline (see docs/report.md)
            total_ps = clk.cycles_to_ps(best.cycles)
            busy_ps = min(total_ps, clk.cycles_to_ps(best.compute_cycles))
            pipe = PipelineResult(total_ps, busy_ps, total_ps - busy_ps, 0)
            cost = _OpCost(pipe, res, *traffic, label + " (estimate)", requests=mapping.transfers(), detail=spatial)
            if self.system.routed:     # each stream's bytes where they live, priced there
                cost.levels = stream_levels(self.system, dict(homes), d, self._level_pj)
            return cost
        arr = mapping.step_arrays()
        shapes = list(zip(arr["m"].tolist(), arr["n"].tolist(), arr["k"].tolist(), arr["cont"].tolist()))
        step_ps = {}   # (shape, reads partial sums back) -> (issue interval, drain tail) in ps
        for s in set(shapes):
            r = self._compute(unit, GemmShape(*s[:3]), bool(s[3]))
            issue_ps = clk.cycles_to_ps(r.issue_cycles)
            step_ps[s] = (issue_ps, clk.cycles_to_ps(r.cycles) - issue_ps)
        stores = arr["store"].tolist()
        if self.fidelity == "fast" and self.port_flag("exact_when_merged", False):
            # a single FIFO port sees only bytes: one merged load per step is exact, and the batch
            # copies share one list of tiles
            loads = arr["load"].tolist()
            made: dict[tuple, Tile] = {}      # steps repeat a handful of (shape, load, store): one Tile each
            one = [made[k] if k in made else made.setdefault(k, Tile(
                       step_ps[k[0]][0], ((0, k[1]),) if k[1] else (), ((0, k[2]),) if k[2] else (), step_ps[k[0]][1]))
                   for k in zip(shapes, loads, stores)]
            tiles = one * mapping.gemm.batch
        else:
            roles = [(r, arr["load_" + r].tolist()) for r in ("ifmap", "filter", "ofmap_in")]
            home = dict(homes) if homes is not None else dict.fromkeys(REGION, 0)
            roles = [(r, v) for r, v in roles if home[r] is not None]
            out_lv = home["ofmap"]
            tiles = []
            for _ in range(mapping.gemm.batch):
                for i, s in enumerate(shapes):
                    ld = tuple((self._addr(r, v[i], home[r]), v[i]) for r, v in roles if v[i])
                    st = (((self._addr("ofmap", stores[i], out_lv), stores[i]),)
                          if stores[i] and out_lv is not None else ())
                    tiles.append(Tile(step_ps[s][0], ld, st, step_ps[s][1]))
            if home != dict.fromkeys(REGION, 0):
                traffic = (sum(n for t in tiles for _, n in t.loads), sum(n for t in tiles for _, n in t.stores),
                           *traffic[2:])
        cost = _OpCost(self._pipeline(tiles, self.system.write_behind), res, *traffic, label, detail=spatial)
        if self.system.routed:
            cost.levels = self._level_traffic(tiles)
        return cost

    def _level_traffic(self, tiles: Sequence[Tile]) -> dict[str, tuple[int, int]]:
        """Bytes each off-chip level moves for these tiles (read, written), from their addresses."""
        names = list(self.system.levels)
        rd, wr = [0] * len(names), [0] * len(names)
        for t in tiles:
            for a, n in t.loads:
                rd[a >> LEVEL_SHIFT] += n
            for a, n in t.stores:
                wr[a >> LEVEL_SHIFT] += n
        return {names[i]: (rd[i], wr[i]) for i in range(len(names)) if rd[i] or wr[i]}

    def _stream(self, op, unit: ComputeUnit | None) -> _OpCost:
        """Ops without a GEMM view: read inputs, run element ops on the vector unit, write outputs."""
        in_bytes, out_bytes = op.read_bytes, op.write_bytes
        if unit is not None:
            res = unit.stream_compute(op)
        else:   # pure data movement (KV-cache reads and writes): the DMA moves it, no unit computes
            res = ComputeResult(cycles=0, macs=0, folds=0, utilization=0.0)
        clk = self.system.clock_of(unit) if unit is not None else None
        total_ps = clk.cycles_to_ps(res.issue_cycles) if clk else 0
        tail_ps = clk.cycles_to_ps(res.cycles) - total_ps if clk else 0
        chunks = max(1, -(-max(in_bytes, out_bytes) // VECTOR_CHUNK_BYTES))
        ins, outs = self._stream_levels(op, in_bytes, out_bytes)
        tiles = []
        for c in range(chunks):
            ld = tuple((self._addr("ifmap", b, lv), b) for lv, n in ins.items() if (b := _share(n, chunks, c)))
            st = tuple((self._addr("ofmap", b, lv), b) for lv, n in outs.items() if (b := _share(n, chunks, c)))
            tiles.append(Tile(_share(total_ps, chunks, c), ld, st, tail_ps))
        pipe = self._pipeline(tiles)
        cost = _OpCost(pipe, res, in_bytes, out_bytes, in_bytes, out_bytes, "stream")
        if self.system.routed:
            cost.levels = self._level_traffic(tiles)
        return cost

    def _stream_levels(self, op, in_bytes: int, out_bytes: int) -> tuple[dict[int, int], dict[int, int]]:
        """Bytes a streamed op reads and writes per off-chip level number (all on level 0 unless the
        design has several back-ends)."""
        if not self.system.routed:
            return {0: in_bytes}, {0: out_bytes}
        outs_ops = set(op.outputs)
        ins: dict[int, int] = {}
        outs: dict[int, int] = {}
        for o in op.operands:
            side = outs if o in outs_ops else ins
            lv = self.system.level_index(o.role)
            side[lv] = side.get(lv, 0) + o.nbytes(op.dims)
        return ins, outs

    # -- helpers -------------------------------------------------------------------------------
    def _compute(self, unit: ComputeUnit, shape: GemmShape, readback: bool = False) -> ComputeResult:
        """The unit's result for one tile, held to the SRAM ports (the mapper's cost model does the
        same); `readback`: the tile continues its outputs' K loop and reads the partial sums back."""
        from dataflows.cost import at_widths, sram_limited

        cost = self._cost
        key = (unit.name, unit.dataflow, cost.bits, shape)
        raw = self._compute_cache.get(key)
        if raw is None:
            from archsim.sampling import extrapolated_compute

            widening = unit.widening(cost.bits.ifmap, cost.bits.filter)
            raw = extrapolated_compute(unit, shape) if self.sampling and widening.passes == 1 else None
            raw = self._compute_cache[key] = raw or at_widths(unit, shape, widening, self.fidelity)
        return sram_limited(raw, cost.bits, cost.mem, shape.M * shape.N * shape.batch if readback else 0)

    def port_flag(self, name: str, default: bool) -> bool:
        """What the `fast` port declares: `uses_addresses` (timing depends on where bytes live: DRAM
        pages, flash planes) and `exact_when_merged` (same-time requests may be merged into one)."""
        if self._port is None:
            self._port = fast_port(self.system.offchip)
        return bool(getattr(self._port, name, default))

    def _pipeline(self, tiles: Sequence[Tile], wb: Any = None) -> PipelineResult:
        """Run tiles through the off-chip level; `wb` (a WriteBehind) only for mapped GEMMs, whose
        outputs wait many steps in the output buffer: a streaming op writes as fast as it reads,
        so holding its outputs back hides nothing."""
        slots = 2 if self.system.double_buffered else 1
        if self.prefetch is not None:    # weights fetched while earlier ops ran (archsim.prefetch)
            tiles = self.prefetch.strip(tiles)
        if self._priced:                 # the op pays for its requests (and its prefetched ones) where they land
            early = self.prefetch.sent_for_op() if self.prefetch is not None else ()
            tiles_energy_pj(self.system.offchip, [*tiles, Tile(0, tuple(early), ())], self._level_pj)
        self._last_requests += sum(len(t.loads) + len(t.stores) for t in tiles)
        rec = [] if self.trace is not None and len(tiles) <= TRACE_TILE_LIMIT else None
        if self._defer is not None:      # archsim.concurrency runs it with the others, then fills it in
            self._defer.append((tiles, wb, slots, rec))
            self._last_record = rec or []
            return PipelineResult(0, 0, 0, 0)
        if self.fidelity == "fast" and wb is None:   # ops start on an idle port
            gates = self.prefetch.gate_times() if self.prefetch is not None else None
            port = self.prefetch.port() if self.prefetch is not None else fast_port(self.system.offchip)
            res = pipeline_time(tiles, port, slots, rec, gates)
        elif self.fidelity == "fast":
            # write-behind decides on port idleness: the event pipeline over the closed-form port
            from archsim.engine import Engine
            from archsim.tile_events import FastPortLevel, TilePipeline

            eng = Engine()
            port = self.prefetch.port() if self.prefetch is not None else fast_port(self.system.offchip)
            level = FastPortLevel(eng, port, self.system.offchip.peak_bytes_per_s)
            pipe = TilePipeline(eng, level, tiles, slots, record=rec, write_behind=wb)
            if self.prefetch is not None:
                self.prefetch.hold(pipe)
            res = pipe.run()
        else:
            from archsim.sampling import SampledPipeline
            from archsim.tile_events import TilePipeline

            pipe = (SampledPipeline if self.sampling else TilePipeline)(
                self.system.engine, getattr(self.prefetch, "dma", None) or self.system.offchip, tiles, slots,
                record=rec, write_behind=wb)      # with prefetch, through its DMA, which yields to these loads
            if self.prefetch is not None:    # tiles that need weights fetched ahead wait for them
                self.prefetch.hold(pipe)
            res = pipe.run(until_done=self.prefetch is not None)
            self._sample = getattr(pipe, "sample", None)
            if self._sample is None and self._cut:
                from archsim.sampling import state_error_ps

                self._sample = {"error_ns": state_error_ps(self.system.offchip) / 1000.0, "after_cut": True}
            elif self._sample is not None:
                self._cut = True
                self.skipped_bytes[0] += self._sample.skipped_read_bytes
                self.skipped_bytes[1] += self._sample.skipped_write_bytes
        self._last_record = rec or []
        return res

    def _trace_op(self, op, unit: ComputeUnit | None, c: _OpCost) -> None:
        """Op span on its unit's track, tile activity on the unit and the off-chip track."""
        t0, track = self._clock_ps, unit.name if unit else "dma"
        self.trace.add(track, op.name, t0, c.pipe.total_ps * op.count, {"count": op.count, "mapping": c.mapping})
        mem = self.system.offchip.name
        self.trace.track(mem, "memory")
        for what, i, start, end in c.record:
            tr = f"{track} tiles" if what == "compute" else mem
            self.trace.add(tr, f"{op.name} {what} {i}", t0 + start, end - start)

    def _addr(self, role: str, nbytes: int, level: int = 0) -> int:
        """Next address of the role's stream on off-chip level number `level` (designs with several
        back-ends); wraps to the start of its quarter of that level when it runs out."""
        span = self.stream_span(level)
        if nbytes > span:
            lv = list(self.system.levels)[level] if self.system.routed else self.system.offchip.name
            raise WorkloadError(f"a {nbytes}-byte transfer does not fit a quarter ({span} B) of the "
                                f"off-chip level {lv!r}")
        key = (level, role) if level else role
        off = self._cursor.get(key, 0)
        if off + nbytes > span:
            off = 0
        self._cursor[key] = off + nbytes
        return self.stream_addr(role, off, level)

    def stream_span(self, level: int = 0) -> int:
        """Bytes of each role's stream (a quarter of the level) on off-chip level number `level`."""
        lv = list(self.system.levels.values())[level] if self.system.routed else self.system.offchip
        return (getattr(lv, "capacity_bytes", None) or (1 << 36)) // 4

    def stream_addr(self, role: str, off: int, level: int = 0) -> int:
        """Address of byte `off` of the role's stream on off-chip level number `level`."""
        local = REGION[role] * self.stream_span(level) + off
        return (level << LEVEL_SHIFT) | local if self.system.routed else local

    def seek(self, role: str, off: int, level: int = 0) -> None:
        """The role's stream on `level` goes on from byte `off` (archsim.prefetch places op weights)."""
        self._cursor[(level, role) if level else role] = off

    def _homes(self, op, unit: ComputeUnit) -> dict[str, int | None]:
        """Per tile stream (ifmap, filter, ofmap_in, ofmap): the off-chip level number its operand lives
        on, or None when it lives on the level the unit sits beside (it never crosses that port)."""
        ir_role = {"ifmap": op.operands[0].role, "filter": op.operands[1].role, "ofmap_in": "output",
                   "ofmap": "output"}
        near = getattr(unit.cfg, "near", None) if unit.side == "memory" else None
        names = list(self.system.levels)
        out: dict[str, int | None] = {}
        for stream, role in ir_role.items():
            home = self.system.design.memory.home(role)
            out[stream] = None if home == near else names.index(home)
        return out

    def _row(self, op, unit: ComputeUnit | None, c: _OpCost) -> dict[str, Any]:
        n = op.count
        clk = self.system.clock_of(unit) if unit is not None else self.system.engine.clock(
            "design", self.system.design.clock)
        cycles = clk.ps_to_cycles(c.pipe.total_ps)
        busy = clk.ps_to_cycles(c.pipe.compute_ps)   # the unit's stall-free time in this schedule
        stall = max(0, cycles - busy)
        energy = {k: v for k, v in c.compute.energy_pj.items() if k != "offchip"}   # the mapper's estimate
        e = self.energy_spec
        energy.update(offchip_energy_pj(self.system, e, c))
        if c.mapping == "stream":   # GEMM costs price their SRAM traffic in the mapper's cost model
            energy["sram"] = (c.sram_read_bytes + c.sram_write_bytes) * e.sram_byte_pj
        energy["static"] = cycles * self.system.energy.get("static_pj_per_cycle", 0.0)
        peak = unit.peak_macs_per_cycle if unit is not None else 0
        util = c.compute.macs / (cycles * peak) if cycles and peak else 0.0
        return {
            "name": op.name, "unit": unit.name if unit else "dma", "count": n,
            "layer": getattr(op, "layer", None), "kind": op.kind, "mapping": c.mapping,
            "cycles": cycles * n, "time_ns": c.pipe.total_ps * n / 1000.0, "utilization": util,
            "macs": c.compute.macs * n, "compute_cycles": busy * n, "stall_cycles": stall * n,
            "sram_reads": c.sram_read_bytes * n, "sram_writes": c.sram_write_bytes * n,
            "dram_read_bytes": c.dram_read * n, "dram_write_bytes": c.dram_write * n,
            "flops": op.flops * n, "energy_pj": sum(energy.values()) * n,
            "energy_breakdown_pj": {k: v * n for k, v in energy.items()},
            **({"detail": c.detail} if c.detail is not None else {}),
            **({"port_bypass": True} if getattr(c, "bypass", False) else {}),
            **({"sampling": _sampling_row(c.sample, n)} if c.sample else {}),
            **({"levels": {k: {"read_bytes": r * n, "write_bytes": w * n} for k, (r, w) in c.levels.items()}}
               if c.levels else {}),
        }


def maps_gemm(op: Any, unit: ComputeUnit) -> bool:
    """The runner maps `op` on `unit` as a GEMM (tiles through the mapper), not as a streamed op."""
    return unit.maps_gemms and hasattr(op, "as_gemm") and op.kind in ("gemm", "conv")


def _sampling_row(sample: Any, n: int) -> dict[str, Any]:
    """The op row's `sampling` entry: what was cut and the error bar over all n instances."""
    if isinstance(sample, dict):
        return {**sample, "error_ns": sample["error_ns"] * n}
    return {**sample.as_dict(), "error_ns": sample.error_ps * n / 1000.0}


def _check_conservation(level, rows: list[dict], skipped: Sequence[int] = (0, 0)) -> None:
    """Bytes the ops asked the off-chip level to move == bytes the level moved (each op ran once),
    plus the bytes of tiles sampling left out."""
    rows = [r for r in rows if not r.get("port_bypass")]   # whole ops timed beside the level, not through its port
    want_r = sum(r["dram_read_bytes"] // r["count"] for r in rows) - skipped[0]
    want_w = sum(r["dram_write_bytes"] // r["count"] for r in rows) - skipped[1]
    if (level.bytes_read, level.bytes_written) != (want_r, want_w):
        raise RuntimeError(f"byte conservation broken at {level.name!r}: ops moved {want_r} B read / {want_w} B "
                           f"written, the level saw {level.bytes_read} / {level.bytes_written}")


def _signature(op) -> tuple:
    """What determines an op's cost: everything but its name, layer and count."""
    return (op.kind, op.einsum, tuple(sorted(op.dims.items())), op.operands,
            getattr(op, "flops_per_point", None))


def _share(total: int, parts: int, i: int) -> int:
    """Split `total` into `parts` integer shares that sum exactly to `total`."""
    return total * (i + 1) // parts - total * i // parts
