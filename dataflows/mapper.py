"""Search the mapspace of one GEMM on one unit for the best mapping under the design's objective.

Small spaces are searched exhaustively, skipping any mapping whose cheap lower bound (all compute
or all traffic, whichever is larger; the energy is exact without the schedule) cannot enter the
top-K. Large spaces are sampled from a seeded generator, then refined by hill climbing on the grid
of tile candidates, orders and dataflows. The sequence of evaluations depends only on the inputs
and the seed; the wall-time budget only cuts it short (and the result says so).
"""
from __future__ import annotations

import bisect
import fnmatch
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from archsim.config.mapper_schema import MapperConfig
from archsim.errors import ArchsimError
from archsim.units.base import ComputeUnit, GemmShape
from dataflows.cache import MapCache, cache_key
from dataflows.cost import CostModel, EnergySpec, MappingCost, peak_macs_per_cycle, roofline_cycles
from dataflows.mapspace import MapSpace, Mapping, MemorySpec, OperandBits, canonical_order, cdiv

CACHE_VERSION = 1


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

    @property
    def best(self) -> MappingCost:
        return self.top[0]

    @property
    def bound_ratio(self) -> float:
        """best cycles / roofline lower bound (1.0 = at the bound)."""
        return self.best.cycles / max(self.lower_bound["cycles"], 1e-12)

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op_name, "unit": self.unit, "gemm": str(self.gemm), "objective": self.objective,
                "best": self.best.as_dict(), "top": [c.as_dict() for c in self.top],
                "lower_bound": dict(self.lower_bound), "bound_ratio": self.bound_ratio,
                "method": self.method, "space_size": self.space_size, "evaluated": self.evaluated,
                "truncated": self.truncated, "wall_s": self.wall_s, "from_cache": self.from_cache}


def operand_bits(unit: ComputeUnit) -> OperandBits:
    cfg = getattr(unit, "cfg", None)
    ib = getattr(cfg, "input_bits", 8)
    return OperandBits(ifmap=ib, filter=getattr(cfg, "weight_bits", 8), psum=getattr(cfg, "acc_bits", 32), ofmap=ib)


def dataflow_variants(unit: ComputeUnit, allowed: Iterable[str] | None) -> dict[str, ComputeUnit]:
    """The unit once per dataflow it may run (a copy with `cfg.dataflow` changed); units without one map as-is."""
    from archsim.units.registry import build_unit

    cfg = getattr(unit, "cfg", None)
    own = getattr(cfg, "dataflow", None)
    if own is None:
        return {unit.kind: unit}
    out = {}
    for df in (list(allowed) if allowed else [own]):
        out[df] = unit if df == own else build_unit(unit.name, cfg.model_copy(update={"dataflow": df}),
                                                    unit.clock_hz, dict(getattr(unit, "energy", {}) or {}))
    return out


class Mapper:
    """Maps GEMMs onto one unit behind one memory, with the design's mapper settings."""

    def __init__(self, unit: ComputeUnit, mem: MemorySpec, energy: EnergySpec,
                 cfg: MapperConfig | None = None, cache: MapCache | None = None):
        self.unit, self.mem, self.energy = unit, mem, energy
        self.cfg = cfg or MapperConfig()
        self.cache = cache
        self.variants = dataflow_variants(unit, self.cfg.dataflows)
        self.cost = CostModel(self.variants, mem, energy, unit.clock_hz)
        self.bits = operand_bits(unit)
        cfg_u = getattr(unit, "cfg", None)
        self.quanta = tuple(q for q in (getattr(cfg_u, "rows", None), getattr(cfg_u, "cols", None)) if q)

    # -- the space for one op -----------------------------------------------------------------
    def space(self, gemm: GemmShape, rc: Resolved) -> MapSpace:
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
        space = MapSpace(gemm, self.mem, self.bits, dfs, self.quanta, fixed, rc.order, self.cfg.tile_candidates)
        if next(space.tiles(), None) is None:
            fp = {r: self.mem.usable_bytes(r) for r in ("ifmap", "filter", "ofmap")}
            raise ArchsimError(f"mapper: no tile of GEMM {gemm} with constraints {fixed or 'none'} fits the "
                               f"SRAM buffers (usable bytes per tile: {fp}); relax the tile constraint or "
                               "enlarge memory.sram")
        return space

    # -- search ------------------------------------------------------------------------------
    def map_gemm(self, gemm: GemmShape, op_name: str = "gemm", op_kind: str = "gemm") -> MapResult:
        rc = resolve_constraints(self.cfg, op_name, op_kind)
        key = self._key(gemm, rc)
        if self.cache is not None and self.cfg.cache:
            hit = self.cache.get(key)
            if hit is not None:
                return self._from_cache(hit, gemm, op_name)
        t0 = time.perf_counter()
        space = self.space(gemm, rc)
        result = self._search(space, gemm, op_name, t0)
        if self.cache is not None and self.cfg.cache and not result.truncated:
            self.cache.put(key, self._to_cache(result))
        return result

    def _search(self, space: MapSpace, gemm: GemmShape, op_name: str, t0: float) -> MapResult:
        cfg, obj = self.cfg, self.cfg.objective
        deadline = t0 + cfg.budget / 1e12
        tiles = list(space.tiles())
        orders = space.orders
        size = sum(len({canonical_order(o, _counts(gemm, t)) for o in orders}) for t in tiles) * len(space.dataflows)
        top: list[tuple[tuple, MappingCost]] = []         # best first, at most top_k
        seen: set[tuple] = set()
        state = {"evaluated": 0, "truncated": False}

        def consider(m: Mapping) -> MappingCost | None:
            ck = (m.tile, canonical_order(m.order, m.counts), m.dataflow)
            if ck in seen:
                return None
            seen.add(ck)
            if len(top) >= cfg.top_k and (self._bound_key(m, cheap=True) >= top[-1][0]
                                          or self._bound_key(m) >= top[-1][0]):
                return None                                # cannot enter the top-K
            c = self.cost.evaluate(m)
            state["evaluated"] += 1
            k = c.objective(obj)
            if len(top) < cfg.top_k or k < top[-1][0]:
                bisect.insort(top, (k, c), key=lambda e: e[0])
                del top[cfg.top_k:]
            return c

        def tile_pruned(t: tuple[int, int, int], df: str) -> bool:
            return len(top) >= cfg.top_k and self._tile_bound_key(space, t, df, top[-1][0]) >= top[-1][0]

        def out_of_time() -> bool:
            if time.perf_counter() > deadline:
                state["truncated"] = True
            return state["truncated"]

        if size <= cfg.exhaustive_limit:
            method = "exhaustive"
            for t in sorted(tiles, key=lambda t: (-(t[0] * t[1] * t[2]), t)):
                if out_of_time():
                    break
                for df in space.dataflows:
                    if tile_pruned(t, df):
                        continue                           # no loop order of this tile can enter the top-K
                    for o in orders:
                        consider(space.mapping(*t, o, df))
        else:
            method = "sampled"
            self._sample_and_climb(space, tiles, orders, consider, out_of_time, state, tile_pruned)
        ranked = [c for _, c in top]
        peak = peak_macs_per_cycle(self.unit)
        bound = roofline_cycles(gemm, peak, self.mem, self.bits, self.unit.clock_hz)
        return MapResult(op_name, self.unit.name, gemm, obj, ranked, bound, method, size,
                         state["evaluated"], state["truncated"], time.perf_counter() - t0,
                         detail={"compute_shapes": len(self.cost._compute)})

    def _sample_and_climb(self, space, tiles, orders, consider, out_of_time, state, tile_pruned) -> None:
        cfg = self.cfg
        rng = np.random.default_rng(cfg.seed)
        index = {t: i for i, t in enumerate(tiles)}
        cand = space.candidates
        pos = {d: {v: i for i, v in enumerate(cand[d])} for d in "MNK"}
        n_sample = max(1, cfg.max_evaluations // 2)
        scored: list[tuple[Any, Mapping]] = []
        # seeds: the largest-volume fitting tiles under each order, then uniform samples
        for t in sorted(tiles, key=lambda t: (-(t[0] * t[1] * t[2]), t))[:4]:
            for o in orders:
                for df in space.dataflows:
                    self._score(consider, space.mapping(*t, o, df), scored)
        # sample tiles; a tile whose best bound over orders cannot enter the top-K costs no evaluation
        for p in rng.permutation(len(tiles))[:n_sample].tolist():
            if out_of_time() or state["evaluated"] >= n_sample:
                break
            for df in space.dataflows:
                if not tile_pruned(tiles[p], df):
                    for o in orders:
                        self._score(consider, space.mapping(*tiles[p], o, df), scored)
        # hill-climb from the best few: move one tile size a notch, or change order / dataflow
        scored.sort(key=lambda x: x[0])
        starts = [m for _, m in scored[:8]]
        for start in starts:
            cur, cur_key = start, next(k for k, m in scored if m is start)
            improved = True
            while improved and not out_of_time() and state["evaluated"] < cfg.max_evaluations:
                improved = False
                for nb in self._neighbours(cur, space, index, pos, cand, orders):
                    c = consider(nb)
                    if c is not None and c.objective(cfg.objective) < cur_key:
                        cur, cur_key, improved = nb, c.objective(cfg.objective), True

    def _score(self, consider, m: Mapping, scored: list) -> None:
        c = consider(m)
        if c is not None:
            scored.append((c.objective(self.cfg.objective), m))

    def _neighbours(self, m: Mapping, space, index, pos, cand, orders) -> Iterable[Mapping]:
        for i, d in enumerate("MNK"):
            for step in (-2, -1, 1, 2):
                j = pos[d][m.tile[i]] + step
                if 0 <= j < len(cand[d]):
                    t = list(m.tile)
                    t[i] = cand[d][j]
                    if tuple(t) in index:
                        yield space.mapping(*t, m.order, m.dataflow)
        for o in orders:
            if o != m.order:
                yield space.mapping(*m.tile, o, m.dataflow)
        for df in space.dataflows:
            if df != m.dataflow:
                yield space.mapping(*m.tile, m.order, df)

    def _bound_key(self, m: Mapping, cheap: bool = False) -> tuple:
        """An objective key no better than the mapping's true one, without building its schedule.
        `cheap` uses only the DRAM traffic (no unit calls): weaker, but nearly free."""
        if cheap:
            moved = m.totals()["dram_bytes"]
            cyc_lb = moved / self.cost.bw_bytes_per_cycle
            energy = moved * (self.energy.sram_byte_pj + self.energy.offchip_byte_pj)
        else:
            cyc_lb, energy = self.cost.bound(m)
        obj = self.cfg.objective
        if obj == "latency":
            return (cyc_lb, -float("inf"))
        if obj == "energy":
            return (energy, cyc_lb)
        return (energy * cyc_lb, -float("inf"))

    def _tile_bound_key(self, space: MapSpace, t: tuple[int, int, int], df: str, top_worst: tuple) -> tuple:
        """The best bound over loop orders: traffic depends only on the innermost iterating loop."""
        reps = {}
        for o in space.orders:
            m = space.mapping(*t, o, df)
            reps.setdefault(m.innermost(), m)
        cheap = min(self._bound_key(m, cheap=True) for m in reps.values())
        if cheap >= top_worst:
            return cheap
        return min(self._bound_key(m) for m in reps.values())

    # -- cache ---------------------------------------------------------------------------------
    def _key(self, gemm: GemmShape, rc: Resolved) -> str:
        cfg_u = getattr(self.unit, "cfg", None)
        return cache_key({
            "v": CACHE_VERSION, "gemm": [gemm.M, gemm.N, gemm.K, gemm.batch], "bits": self.bits.__dict__,
            "unit": {"kind": self.unit.kind, "clock_hz": self.unit.clock_hz,
                     "cfg": cfg_u.model_dump(mode="json") if hasattr(cfg_u, "model_dump") else repr(cfg_u),
                     "energy": getattr(self.unit, "energy", {})},
            "memory": [list(self.mem.capacity_bytes), list(self.mem.double_buffered),
                       self.mem.offchip_bytes_per_s, self.mem.offchip_latency_ps],
            "energy": self.energy.__dict__, "objective": self.cfg.objective,
            "search": {"constraints": [list(rc.tile), rc.order, rc.dataflow], "dataflows": list(self.variants),
                       "seed": self.cfg.seed, "tiles": self.cfg.tile_candidates, "max_evaluations": self.cfg.max_evaluations,
                       "exhaustive_limit": self.cfg.exhaustive_limit, "top_k": self.cfg.top_k}})

    def _to_cache(self, r: MapResult) -> dict:
        return {"top": [{"tile": list(c.mapping.tile), "order": c.mapping.order, "dataflow": c.mapping.dataflow}
                        for c in r.top],
                "method": r.method, "space_size": r.space_size, "evaluated": r.evaluated, "wall_s": r.wall_s}

    def _from_cache(self, hit: dict, gemm: GemmShape, op_name: str) -> MapResult:
        """Re-score the cached top-K (a few evaluations) rather than trusting stored numbers."""
        t0 = time.perf_counter()
        top = [self.cost.evaluate(Mapping(gemm, tuple(e["tile"]), e["order"], e["dataflow"], self.bits))
               for e in hit["top"]]
        top.sort(key=lambda c: c.objective(self.cfg.objective))
        bound = roofline_cycles(gemm, peak_macs_per_cycle(self.unit), self.mem, self.bits, self.unit.clock_hz)
        return MapResult(op_name, self.unit.name, gemm, self.cfg.objective, top, bound, hit["method"],
                         hit["space_size"], hit["evaluated"], False, time.perf_counter() - t0, from_cache=True)


def _counts(g: GemmShape, t: tuple[int, int, int]) -> dict[str, int]:
    return {"m": cdiv(g.M, t[0]), "n": cdiv(g.N, t[1]), "k": cdiv(g.K, t[2])}


# -- from a validated design config ---------------------------------------------------------------
def design_memory_spec(design: Any) -> MemorySpec:
    """The mapper's view of `design.memory`: SRAM buffers named ifmap/filter/ofmap and the off-chip level.

    The off-chip bandwidth and latency come from the level's own `stream_time_ps`, so DRAM and
    flash levels work the same way as the simple pipe."""
    from archsim.engine import Engine
    from memory.build import build_offchip

    sram = design.memory.sram
    missing = [r for r in ("ifmap", "filter", "ofmap") if r not in sram]
    if missing:
        raise ArchsimError(f"{design.source}: memory.sram needs buffers named ifmap, filter and ofmap for the "
                           f"mapper; missing: {', '.join(missing)}")
    level = build_offchip(design.memory.offchip, Engine())
    small, big = 1 << 20, 1 << 24
    t_small, t_big = level.stream_time_ps(small), level.stream_time_ps(big)
    bytes_per_s = (big - small) / ((t_big - t_small) / 1e12)
    latency_ps = max(0, round(t_small - small / bytes_per_s * 1e12))
    return MemorySpec.make({r: sram[r].capacity for r in ("ifmap", "filter", "ofmap")}, bytes_per_s, latency_ps,
                           {r: sram[r].double_buffered for r in ("ifmap", "filter", "ofmap")})


def design_energy_spec(design: Any) -> EnergySpec:
    t = design.energy.table()
    return EnergySpec(t.get("mac", 0.0), t.get("sram_byte", 0.0), t.get("offchip_byte", 0.0))


def design_unit(design: Any, name: str) -> ComputeUnit:
    from archsim.units.registry import build_unit

    if name not in design.units:
        raise ArchsimError(f"{design.source}: no unit named {name!r} (units: {', '.join(design.units)})")
    return build_unit(name, design.units[name], design.unit_clock_hz(name), design.energy.table())


def mapper_for(design: Any, unit_name: str, cache: MapCache | None = None) -> Mapper:
    """A Mapper for one unit of a loaded design (archsim.config.loader.load_config)."""
    return Mapper(design_unit(design, unit_name), design_memory_spec(design), design_energy_spec(design),
                  design.mapper if isinstance(design.mapper, MapperConfig) else MapperConfig(), cache)
