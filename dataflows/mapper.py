"""Search the mapspace of one GEMM on one unit for the best mapping under the design's objective.

Best-first branch and bound: every (tile, innermost loop, dataflow) row of the space gets a
vectorised lower bound (bounds.py); rows are scored in bound order until the next bound cannot
enter the top-K, which makes the result the exact optimum while scoring a few hundred mappings.
Spaces above `exhaustive_limit` also stop at `max_evaluations` scores. The order of evaluations
depends only on the inputs; the wall-time budget is a safety cap (the result says if it cut in).
"""
from __future__ import annotations

import bisect
import dataclasses
import fnmatch
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from archsim.config.mapper_schema import MapperConfig
from archsim.errors import ArchsimError
from archsim.units.base import ComputeUnit, GemmShape
from dataflows.bounds import bound_rows
from dataflows.cache import MapCache, cache_key
from dataflows.conv_reuse import ConvGeometry
from dataflows.cost import CostModel, EnergySpec, MappingCost, peak_macs_per_cycle, roofline_cycles
from dataflows.mapspace import DIMS, MapSpace, Mapping, MemorySpec, OperandBits
from dataflows.residency import effective

# 7: conv buffers may hold whole dims (residency.py); 6: convs move their input tiles, not im2col;
# 5: latency near-ties go to energy; 4: write-behind; 3: energy breaks latency ties in the bound; 2: best-first
CACHE_VERSION = 7


@dataclass(frozen=True)
class Resolved:
    """The constraints that apply to one op, merged in config order (later entries win)."""

    tile: tuple[tuple[str, int], ...] = ()
    order: str | None = None
    dataflow: str | None = None


def resolve_constraints(cfg: MapperConfig, op_name: str, op_kind: str) -> Resolved:
    tile: dict[str, int] = {}
    order = df = None
    for c in cfg.constraints:
        if not fnmatch.fnmatchcase(op_name, c.match) or (c.kind is not None and c.kind != op_kind):
            continue
        tile.update(c.tile)
        order = c.loop_order or order
        df = c.dataflow or df
    return Resolved(tuple(sorted(tile.items())), order, df)


@dataclass
class MapResult:
    """Best mapping of one GEMM, the runners-up, and how close the best is to the roofline bound."""

    op_name: str
    unit: str
    gemm: GemmShape
    objective: str
    top: list[MappingCost]
    lower_bound: dict[str, float]
    method: str                      # exhaustive | sampled
    space_size: int                  # fitting mappings (after equivalent orders are merged)
    evaluated: int                   # full evaluations (pruned mappings not counted)
    truncated: bool                  # the time budget ended the search early
    wall_s: float
    from_cache: bool = False
    detail: dict[str, Any] = field(default_factory=dict)
    tolerance: float = 0.0           # latency near-tie window (see `rank`)

    @property
    def best(self) -> MappingCost:
        return self.top[0]

    @property
    def bound_ratio(self) -> float:
        """best cycles / roofline lower bound (1.0 = at the bound)."""
        return self.best.cycles / max(self.lower_bound["cycles"], 1e-12)

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op_name, "unit": self.unit, "gemm": str(self.gemm), "objective": self.objective,
                "latency_tolerance": self.tolerance if self.objective == "latency" else None,
                "best": self.best.as_dict(), "top": [c.as_dict() for c in self.top],
                "lower_bound": dict(self.lower_bound), "bound_ratio": self.bound_ratio,
                "method": self.method, "space_size": self.space_size, "evaluated": self.evaluated,
                "truncated": self.truncated, "wall_s": self.wall_s, "from_cache": self.from_cache}


def operand_bits(unit: ComputeUnit) -> OperandBits:
    w = unit.operand_widths()
    return OperandBits(ifmap=w.input, filter=w.weight, psum=w.acc, ofmap=w.input)


def op_bits(op: Any, unit: ComputeUnit) -> OperandBits:
    """Operand widths of a GEMM-like op: A, B and C from the op, partial sums from the unit's accumulator."""
    a, b = op.operands[0], op.operands[1]
    c = next(o for o in op.operands if o.role == "output")
    return OperandBits(ifmap=a.bits, filter=b.bits, psum=unit.operand_widths().acc, ofmap=c.bits)


def dataflow_variants(unit: ComputeUnit, allowed: Iterable[str] | None) -> dict[str, ComputeUnit]:
    """The unit once per dataflow it may run (`with_dataflow`); units without one map as-is."""
    own = unit.dataflow
    if own is None:
        return {unit.kind: unit}
    return {df: unit.with_dataflow(df) for df in (list(allowed) if allowed else [own])}


class Mapper:
    """Maps GEMMs onto one unit behind one memory, with the design's mapper settings."""

    def __init__(self, unit: ComputeUnit, mem: MemorySpec, energy: EnergySpec,
                 cfg: MapperConfig | None = None, cache: MapCache | None = None, bits: OperandBits | None = None):
        self.unit, self.mem, self.energy = unit, mem, energy
        self.cfg = cfg or MapperConfig()
        self.cache = cache
        self.variants = dataflow_variants(unit, self.cfg.dataflows)
        self.bits = bits or operand_bits(unit)   # the op's precisions when the runner knows them
        self.cost = CostModel(self.variants, mem, energy, unit.clock_hz, self.bits)
        self.quanta = unit.tile_quanta()

    @property
    def _passes(self) -> int:
        """Native passes per MAC at these operand widths (the roofline's compute roof divides by it)."""
        return max(self.cost.passes.values(), default=1)

    # -- the space for one op -----------------------------------------------------------------
    def space(self, gemm: GemmShape, rc: Resolved, conv: ConvGeometry | None = None) -> MapSpace:
        dfs = tuple(self.variants)
        if rc.dataflow is not None:
            if rc.dataflow not in self.variants:
                raise ArchsimError(
                    f"mapper.constraints: dataflow {rc.dataflow!r} is not available on unit {self.unit.name!r} "
                    f"(allowed: {', '.join(dfs)}); add it to mapper.dataflows or change the constraint")
            dfs = (rc.dataflow,)
        fixed = dict(rc.tile)
        dims = {"M": gemm.M, "N": gemm.N, "K": gemm.K}
        for d, t in fixed.items():
            if t > dims[d]:
                raise ArchsimError(f"mapper.constraints: tile {d}={t} is larger than the op's {d}={dims[d]} "
                                   f"(GEMM {gemm}); use a tile no larger than the dimension")
        space = MapSpace(gemm, self.mem, self.bits, dfs, self.quanta, fixed, rc.order, self.cfg.tile_candidates,
                         conv)
        if next(space.tiles(), None) is None:
            fp = {r: self.mem.usable_bytes(r) for r in ("ifmap", "filter", "ofmap")}
            raise ArchsimError(f"mapper: no tile of GEMM {gemm} with constraints {fixed or 'none'} fits the "
                               f"SRAM buffers (usable bytes per tile: {fp}); relax the tile constraint or "
                               "enlarge memory.sram")
        return space

    # -- search ------------------------------------------------------------------------------
    def map_gemm(self, gemm: GemmShape, op_name: str = "gemm", op_kind: str = "gemm",
                 conv: ConvGeometry | None = None) -> MapResult:
        """The best mappings of `gemm`; `conv` (dataflows/conv_reuse.py) when it is a conv's im2col
        view, so its input moves as input tiles with halos (im2col on chip)."""
        rc = resolve_constraints(self.cfg, op_name, op_kind)
        key = self._key(gemm, rc, conv)
        if self.cache is not None and self.cfg.cache:
            hit = self.cache.get(key)
            if hit is not None:
                return self._from_cache(hit, gemm, op_name, conv)
        t0 = time.perf_counter()
        space = self.space(gemm, rc, conv)
        result = self._search(space, gemm, op_name, t0)
        if self.cache is not None and self.cfg.cache and not result.truncated:
            self.cache.put(key, self._to_cache(result))
        return result

    def _search(self, space: MapSpace, gemm: GemmShape, op_name: str, t0: float) -> MapResult:
        """Best-first branch and bound over (tile, innermost loop, dataflow) rows.

        Rows are visited in order of their vectorised lower bound (bounds.py); each row's loop
        orders are checked against the unit's exact bound, then scored. The search stops when the
        next row's bound cannot enter the top-K, so the top-K is exact ("exhaustive"). Spaces
        above `exhaustive_limit` stop after `max_evaluations` scores ("best-first", not proven)."""
        cfg, obj = self.cfg, self.cfg.objective
        deadline = t0 + cfg.budget / 1e12
        tiles = space.tile_array()
        size = space.size(tiles)
        rows = bound_rows({df: self.variants[df] for df in space.dataflows}, tiles, gemm, self.bits,
                          space.orders, self.cost, space.conv, space.holds, space.hold_fit)
        primary, secondary = self._bound_keys(rows.cycles_lb, rows.energy_lb)
        visit = np.lexsort((secondary, primary)).tolist()
        cap = cfg.max_evaluations if size > cfg.exhaustive_limit else None
        top: list[tuple[tuple, MappingCost]] = []         # best first, at most top_k
        method, truncated, evaluated = "exhaustive", False, 0
        dims = (gemm.M, gemm.N, gemm.K)
        for r in visit:
            full = len(top) >= cfg.top_k
            if full and self._bound_key(rows.cycles_lb[r], rows.energy_lb[r]) >= top[-1][0]:
                break                                      # neither this row nor any later one can enter
            if cap is not None and evaluated >= cap:
                method = "best-first"
                break
            if top and time.perf_counter() > deadline:   # the budget may cut the search, never empty it
                truncated = True
                break
            tile = tuple(tiles[rows.tile[r]].tolist())
            df, hold = space.dataflows[rows.dataflow[r]], space.holds[rows.hold[r]]
            for o in _orders_with_innermost(space.orders, tile, dims, int(rows.inner[r]), hold):
                m = space.mapping(*tile, o, df, hold)
                if len(top) >= cfg.top_k and self._bound_key(*self.cost.bound(m)) >= top[-1][0]:
                    continue
                c = self.cost.evaluate(m)
                evaluated += 1
                k = c.objective(obj)
                if len(top) < cfg.top_k or k < top[-1][0]:
                    bisect.insort(top, (k, c), key=lambda e: e[0])
                    del top[cfg.top_k:]
        ranked = [c for _, c in top]
        if obj == "latency" and cfg.latency_tolerance > 0 and ranked and not truncated:
            left = None if cap is None else max(0, cap - evaluated)
            near, n_eval, stop = self._near_ties(space, tiles, rows, ranked, dims, deadline, left)
            evaluated += n_eval
            ranked = rank(near + ranked, obj, cfg.latency_tolerance)[:cfg.top_k]
            truncated = truncated or stop == "budget"
            method = "best-first" if stop == "cap" else method
        peak = peak_macs_per_cycle(self.unit)
        bound = roofline_cycles(gemm, peak / self._passes, self.mem, self.bits, self.unit.clock_hz, space.conv)
        return MapResult(op_name, self.unit.name, gemm, obj, ranked, bound, method, size, evaluated, truncated,
                         time.perf_counter() - t0, detail={"compute_shapes": len(self.cost._compute),
                                                           "bound_rows": len(visit)},
                         tolerance=cfg.latency_tolerance)

    def _near_ties(self, space: MapSpace, tiles: np.ndarray, rows: Any, fastest: list[MappingCost],
                   dims: tuple[int, int, int], deadline: float,
                   cap: int | None) -> tuple[list[MappingCost], int, str]:
        """Every mapping within `latency_tolerance` of the fastest that could be among the top-K by
        (energy, DRAM bytes): rows whose cycle bound is inside the window, in order of their energy
        bound, until the next bound exceeds the K-th least energy found (the bound is exact on
        energy, so this is the exact top-K of the window). `cap` bounds the scores (what the latency
        pass left of `max_evaluations`). Returns (mappings, scores, why it stopped)."""
        cfg = self.cfg
        limit = fastest[0].cycles * (1 + cfg.latency_tolerance)
        near = [c for c in fastest if c.cycles <= limit]
        seen = {str(c.mapping) for c in near}
        energies = sorted(c.total_energy_pj for c in near)
        inside = np.flatnonzero(rows.cycles_lb <= limit)
        visit = inside[np.lexsort((rows.cycles_lb[inside], rows.energy_lb[inside]))].tolist()
        evaluated = 0

        def worst() -> float:
            return energies[cfg.top_k - 1] if len(energies) >= cfg.top_k else float("inf")

        for r in visit:
            if rows.energy_lb[r] > worst():
                return near, evaluated, "exact"
            if cap is not None and evaluated >= cap:
                return near, evaluated, "cap"
            if time.perf_counter() > deadline:
                return near, evaluated, "budget"
            tile = tuple(tiles[rows.tile[r]].tolist())
            df, hold = space.dataflows[rows.dataflow[r]], space.holds[rows.hold[r]]
            for o in _orders_with_innermost(space.orders, tile, dims, int(rows.inner[r]), hold):
                m = space.mapping(*tile, o, df, hold)
                if str(m) in seen:
                    continue
                cycles_lb, energy = self.cost.bound(m)
                if cycles_lb > limit or energy > worst():
                    continue
                c = self.cost.evaluate(m)
                evaluated += 1
                if c.cycles <= limit:
                    near.append(c)
                    seen.add(str(m))
                    bisect.insort(energies, c.total_energy_pj)
        return near, evaluated, "exact"

    def _bound_key(self, cycles_lb: float, energy_lb: float) -> tuple:
        """A bound as a key comparable with `MappingCost.objective` (never above the true key)."""
        obj = self.cfg.objective
        if obj == "latency":   # ties on cycles are broken by energy, so the energy bound prunes them too
            return (cycles_lb, energy_lb)
        if obj == "energy":
            return (energy_lb, cycles_lb)
        return (energy_lb * cycles_lb, cycles_lb)

    def _bound_keys(self, cycles_lb: np.ndarray, energy_lb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`_bound_key` for every row at once, as (primary, secondary) sort columns."""
        obj = self.cfg.objective
        if obj == "latency":
            return cycles_lb, energy_lb
        if obj == "energy":
            return energy_lb, cycles_lb
        return energy_lb * cycles_lb, cycles_lb

    # -- cache ---------------------------------------------------------------------------------
    def _key(self, gemm: GemmShape, rc: Resolved, conv: ConvGeometry | None = None) -> str:
        return cache_key({
            "v": CACHE_VERSION, "gemm": [gemm.M, gemm.N, gemm.K, gemm.batch], "bits": self.bits.__dict__,
            "conv": None if conv is None else dataclasses.astuple(conv),
            "unit": {"kind": self.unit.kind, "clock_hz": self.unit.clock_hz,
                     "cfg": self.unit.config_key(), "energy": self.unit.energy},
            "memory": [list(self.mem.capacity_bytes), list(self.mem.double_buffered),
                       self.mem.offchip_bytes_per_s, self.mem.offchip_latency_ps, list(self.mem.sram_bytes_per_cycle),
                       self.mem.write_behind, self.mem.request_overhead_ps,
                       [list(x) for x in self.mem.stream_levels]],
            "energy": self.energy.__dict__, "objective": self.cfg.objective,
            "tolerance": self.cfg.latency_tolerance,
            "search": {"constraints": [list(rc.tile), rc.order, rc.dataflow], "dataflows": list(self.variants),
                       "seed": self.cfg.seed, "tiles": self.cfg.tile_candidates,
                       "max_evaluations": self.cfg.max_evaluations,
                       "exhaustive_limit": self.cfg.exhaustive_limit, "top_k": self.cfg.top_k}})

    def _to_cache(self, r: MapResult) -> dict:
        return {"top": [{"tile": list(c.mapping.tile), "order": c.mapping.order, "dataflow": c.mapping.dataflow,
                         "hold": list(c.mapping.hold)} for c in r.top],
                "method": r.method, "space_size": r.space_size, "evaluated": r.evaluated, "wall_s": r.wall_s}

    def _from_cache(self, hit: dict, gemm: GemmShape, op_name: str, conv: ConvGeometry | None = None) -> MapResult:
        """Re-score the cached top-K (a few evaluations) rather than trusting stored numbers."""
        t0 = time.perf_counter()
        top = [self.cost.evaluate(Mapping(gemm, tuple(e["tile"]), e["order"], e["dataflow"], self.bits, conv,
                                          tuple(e.get("hold", ("", "")))))
               for e in hit["top"]]
        top = rank(top, self.cfg.objective, self.cfg.latency_tolerance)
        bound = roofline_cycles(gemm, peak_macs_per_cycle(self.unit) / self._passes, self.mem, self.bits,
                                self.unit.clock_hz, conv)
        return MapResult(op_name, self.unit.name, gemm, self.cfg.objective, top, bound, hit["method"],
                         hit["space_size"], hit["evaluated"], False, time.perf_counter() - t0, from_cache=True,
                         tolerance=self.cfg.latency_tolerance)


def rank(costs: Iterable[MappingCost], objective: str, tolerance: float = 0.0) -> list[MappingCost]:
    """Costs best first under `objective` (duplicates of a mapping dropped). For latency with a
    tolerance, mappings within `tolerance` of the fastest come first, by energy, then DRAM bytes,
    then cycles; the slower ones follow by cycles."""
    uniq = list({str(c.mapping): c for c in costs}.values())
    if objective != "latency" or tolerance <= 0 or not uniq:
        return sorted(uniq, key=lambda c: c.objective(objective))
    limit = min(c.cycles for c in uniq) * (1 + tolerance)
    near = sorted((c for c in uniq if c.cycles <= limit),
                  key=lambda c: (c.total_energy_pj, c.dram_total_bytes, c.cycles, str(c.mapping)))
    rest = sorted((c for c in uniq if c.cycles > limit), key=lambda c: c.objective(objective))
    return near + rest


def _orders_with_innermost(orders: tuple[str, ...], tile: tuple[int, ...], dims: tuple[int, ...],
                           inner: int, hold: tuple[str, str] = ("", "")) -> list[str]:
    """The distinct loop orders (first spelling in `orders` of each canonical order) whose innermost
    iterating loop is `inner` (any order when no loop iterates: they are all one mapping) and
    where every dim of `hold` takes effect (residency.py)."""
    iterating = {d for d, t, full in zip(DIMS, tile, dims) if t < full}
    counts = {d: -(-full // t) for d, t, full in zip(DIMS, tile, dims)}
    out, seen = [], set()
    for o in orders:
        canon = "".join(d for d in o if d in iterating)
        if canon in seen or (canon and canon[-1] != DIMS[inner]) or not effective(o, hold, counts):
            continue
        seen.add(canon)
        out.append(o)
    return out


# -- from a validated design config ---------------------------------------------------------------
def design_memory_spec(design: Any) -> MemorySpec:
    """The mapper's view of `design.memory`: SRAM buffers named ifmap/filter/ofmap and the off-chip level.

    The off-chip bandwidth and latency come from the level's own `stream_time_ps`, so DRAM and
    flash levels work the same way as the simple pipe."""
    from archsim.engine import Engine
    from memory.build import build_offchip_path

    sram = design.memory.sram
    missing = [r for r in ("ifmap", "filter", "ofmap") if r not in sram]
    if missing:
        raise ArchsimError(f"{design.source}: memory.sram needs buffers named ifmap, filter and ofmap for the "
                           f"mapper; missing: {', '.join(missing)}")
    level = build_offchip_path(design.memory, Engine())
    small = 1 << 20
    bytes_per_s = stream_bytes_per_s(level)
    latency_ps = max(0, round(level.stream_time_ps(small) - small / bytes_per_s * 1e12))
    roles = ("ifmap", "filter", "ofmap")
    return MemorySpec.make({r: sram[r].capacity for r in roles}, bytes_per_s, latency_ps,
                           {r: sram[r].double_buffered for r in roles}, {r: sram[r].bytes_per_cycle for r in roles},
                           write_behind=sram["ofmap"].write_behind,
                           request_overhead_ps=request_overhead_ps(level, bytes_per_s))


def with_stream_levels(mem: MemorySpec, levels: dict[str, Any], homes: dict[str, int | None]) -> MemorySpec:
    """`mem` for a design with several back-ends: each tile stream's level (`homes`: stream -> level
    number in `levels` order, None for a stream that never crosses a port) and its time per byte
    relative to the spec's reference rate, so the cost model times each level's transfers at its own
    rate (transfers to different levels overlap)."""
    import dataclasses

    rates = [stream_bytes_per_s(lv) for lv in levels.values()]
    ref = mem.offchip_bytes_per_s
    out = tuple((s, lv, ref / rates[lv]) for s, lv in homes.items() if lv is not None)
    return dataclasses.replace(mem, stream_levels=out)


def stream_bytes_per_s(level: Any) -> float:
    """Streaming rate of an off-chip level: its own bandwidth if it is a pipe, else the slope of its
    closed-form stream time between 1 and 16 MiB (DRAM: refresh and row switches included)."""
    bw = getattr(level, "bandwidth_bytes_per_s", None)
    if bw:
        return float(bw)
    small, big = 1 << 20, 1 << 24
    return (big - small) / ((level.stream_time_ps(big) - level.stream_time_ps(small)) / 1e12)


def request_overhead_ps(level: Any, bytes_per_s: float, nbytes: int = 4096) -> int:
    """Link time one request costs beyond its bytes at the streaming rate, as the runner's `fast`
    port charges it: the second of two back-to-back requests to unrelated addresses (tiles of
    different operands), less its streaming time. 0 for a bandwidth + latency pipe; on DRAM the
    row it opens (a jump costs the random-access rate for its first burst)."""
    from dataflows.schedule import fast_port

    port = fast_port(level)
    first = port.issue(0, nbytes, False, 0)
    far = (getattr(level, "capacity_bytes", None) or 1 << 36) // 2
    second = port.issue(0, nbytes, False, far)
    return max(0, round(second - first - nbytes / bytes_per_s * 1e12))


def design_energy_spec(design: Any) -> EnergySpec:
    """Per-byte energies. Off-chip: a DRAM level's own model (a long stream's commands, refresh and
    background per byte, memory/dram/energy.py: the runner charges the same model); a simple
    level's `energy_per_byte`, when given, else `energy.offchip_byte`."""
    t = design.energy.table()
    off = design.memory.offchip
    own = getattr(off, "energy_per_byte", None)
    if getattr(off, "kind", None) == "dram":
        from archsim.engine import Engine
        from memory.build import build_offchip
        from memory.dram.energy import stream_energy_per_byte_pj

        own = stream_energy_per_byte_pj(build_offchip(off, Engine()))
    return EnergySpec(t.get("mac", 0.0), t.get("sram_byte", 0.0), t.get("offchip_byte", 0.0) if own is None else own)


def design_unit(design: Any, name: str) -> ComputeUnit:
    from archsim.units.registry import build_unit

    if name not in design.units:
        raise ArchsimError(f"{design.source}: no unit named {name!r} (units: {', '.join(design.units)})")
    return build_unit(name, design.units[name], design.unit_clock_hz(name), design.energy.table())


def mapper_for(design: Any, unit_name: str, cache: MapCache | None = None, op: Any = None) -> Mapper:
    """A Mapper for one unit of a loaded design (archsim.config.loader.load_config); with `op`, at the
    op's operand precisions (as `archsim run` maps it), else at the unit's configured widths."""
    unit = design_unit(design, unit_name)
    return Mapper(unit, design_memory_spec(design), design_energy_spec(design),
                  design.mapper if isinstance(design.mapper, MapperConfig) else MapperConfig(), cache,
                  op_bits(op, unit) if op is not None else None)
