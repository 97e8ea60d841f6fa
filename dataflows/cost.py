"""Analytic cost of a mapping: cycles, DRAM and SRAM bytes, energy, EDP; and the roofline bound.

Latency, with double buffering: while the unit computes tile i, the link brings tile i+1's loads
and writes back tile i-1's output, so a step takes max(compute_i, (load_{i+1} + store_{i-1}) / bw);
the first load and the last store are exposed, each with the off-chip latency. Without double
buffering nothing overlaps: every step pays load + compute + store. With write-behind (outputs
drain in the link's idle time, reads first) stores leave the per-step maximum and queue in a
backlog; latency = max(that schedule + the backlog left at the end, all bytes / bw + both
latencies). Compute cycles come from the unit's own `fast` model on the tile shape, evaluated once
per distinct shape (at most 8 per mapping).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archsim.units.base import ComputeResult, ComputeUnit, GemmShape
from dataflows.bounds import exposed_bytes
from dataflows.mapspace import Mapping, MemorySpec, OperandBits, nbytes

OBJECTIVES = ("latency", "energy", "edp")


@dataclass(frozen=True)
class EnergySpec:
    """Per-byte energies of data movement (pJ); per-MAC energy is used only if the unit reports none.

    Units price their own MACs and SRAM operand reads/writes (ComputeResult.energy_pj); the cost
    model adds what only the mapping knows: DRAM bytes and the SRAM writes/reads that move them."""

    mac_pj: float = 0.0
    sram_byte_pj: float = 0.0
    offchip_byte_pj: float = 0.0


SHARED_CONTEXTS = 16          # cost contexts kept per process (least recently created dropped)
SHARED_ENTRIES = 200_000      # entries per shared table before it is emptied
SHARED_STEP_ENTRIES = 20_000  # mappings whose step arrays are kept (arrays: larger entries)
_shared: dict[tuple, dict[str, dict]] = {}


def _shared_tables(context: tuple | None) -> dict[str, dict]:
    """The memo tables of one cost context: what a mapping costs apart from the off-chip link (the
    unit's results per tile shape, and per mapping its traffic, energy and the link-free parts of its
    bound). A sweep's points that differ only in the link share them; None: tables of its own."""
    names = ("compute", "units", "traffic", "bound", "roles", "steps", "tile")
    if context is None:
        return {n: {} for n in names}
    tables = _shared.get(context)
    if tables is None:
        while len(_shared) >= SHARED_CONTEXTS:
            del _shared[next(iter(_shared))]
        tables = _shared[context] = {n: {} for n in names}
    for name, t in tables.items():
        if len(t) >= (SHARED_STEP_ENTRIES if name == "steps" else SHARED_ENTRIES):
            t.clear()
    return tables


def clear_shared() -> None:
    """Forget every shared cost table (tests compare a point costed alone with one costed after others)."""
    _shared.clear()


@dataclass
class MappingCost:
    """What one mapping costs. Cycles are in the unit's clock."""

    mapping: Mapping
    cycles: int
    compute_cycles: int                   # sum of the tiles' stall-free compute
    macs: int
    dram_bytes: dict[str, int]            # ifmap, filter, ofmap_in (loads), ofmap (stores)
    sram_bytes: int                       # reads + writes: the unit's operand traffic plus DRAM fills and drains
    energy_pj: dict[str, float]           # unit actions, sram, offchip
    detail: dict[str, Any] = field(default_factory=dict)
    sram_read_bytes: int = 0
    sram_write_bytes: int = 0
    sram_role_bytes: dict[str, tuple[int, int]] = field(default_factory=dict)  # buffer -> (read, write)

    @property
    def total_energy_pj(self) -> float:
        return float(sum(self.energy_pj.values()))

    @property
    def edp(self) -> float:
        """Energy-delay product in pJ x cycles."""
        return self.total_energy_pj * self.cycles

    @property
    def dram_total_bytes(self) -> int:
        return int(sum(self.dram_bytes.values()))

    def objective(self, name: str) -> tuple[float, ...]:
        """Sort key: the objective first, then the others, then the mapping text (a total order)."""
        if name == "latency":
            return (self.cycles, self.total_energy_pj, str(self.mapping))
        if name == "energy":
            return (self.total_energy_pj, self.cycles, str(self.mapping))
        if name == "edp":
            return (self.edp, self.cycles, str(self.mapping))
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {name!r}")

    def as_dict(self) -> dict[str, Any]:
        m = self.mapping
        return {"mapping": str(m), "tile": {"M": m.tile[0], "N": m.tile[1], "K": m.tile[2]},
                "order": m.order, "dataflow": m.dataflow, "cycles": self.cycles,
                "compute_cycles": self.compute_cycles, "macs": self.macs, "steps": m.steps,
                "dram_bytes": dict(self.dram_bytes), "dram_total_bytes": self.dram_total_bytes,
                "sram_bytes": self.sram_bytes, "energy_pj": dict(self.energy_pj),
                "total_energy_pj": self.total_energy_pj, "edp": self.edp}


def peak_macs_per_cycle(unit: ComputeUnit) -> int:
    """MACs per cycle the unit does at best on a GEMM (its own answer)."""
    peak = unit.gemm_macs_per_cycle()
    if not peak:
        raise ValueError(f"unit {unit.name!r} ({unit.kind}) does not say how many MACs it does per cycle")
    return int(peak)


def roofline_cycles(gemm: GemmShape, peak_macs: int, mem: MemorySpec, bits: OperandBits,
                    clock_hz: float, conv: Any = None) -> dict[str, float]:
    """Lower bound on any mapping: all PEs busy, or every operand moved over the link exactly once
    (a conv's input tensor, not its im2col matrix, when `conv` gives its geometry)."""
    ifmap = conv.compulsory_bytes(bits.ifmap) if conv is not None else nbytes(gemm.M * gemm.K, bits.ifmap)
    compulsory = gemm.batch * (ifmap + nbytes(gemm.K * gemm.N, bits.filter) + nbytes(gemm.M * gemm.N, bits.ofmap))
    compute = gemm.macs / peak_macs
    memory = compulsory / (mem.offchip_bytes_per_s / clock_hz)
    return {"cycles": max(compute, memory), "compute_cycles": compute, "memory_cycles": memory,
            "compulsory_bytes": compulsory}


def at_widths(unit: ComputeUnit, shape: GemmShape, widening: Any, fidelity: str = "fast") -> ComputeResult:
    """The unit's result for one tile at operand widths it may not take natively.

    Operands sliced to the native widths (archsim/units/widths.py) stack into one native GEMM:
    A's a slices are a x M rows against the same weights, B's b slices b x N columns, so the
    unit runs (a M) x (b N) x K and its own model prices the reuse (a weight-stationary array loads
    each weight slice once for all of A's slices). MACs and their energy are a x b per op MAC;
    operand reads are the stacked ones (a slice per read of the word it lives in); the op's MACs
    are what is reported."""
    a, b = widening
    if a * b == 1:
        return unit.compute(shape, fidelity)
    res = unit.compute(GemmShape(a * shape.M, b * shape.N, shape.K, shape.batch), fidelity)
    reads = dict(res.sram_reads)
    for role, k in (("ifmap", a), ("filter", b)):       # a slice per read of its full-width word
        if role in reads:
            reads[role] = -(-reads[role] // k)
    return dataclasses.replace(res, macs=shape.macs, utilization=res.utilization / (a * b), sram_reads=reads,
                               detail={**res.detail, "slices": [a, b]})


def sram_limited(res: ComputeResult, bits: OperandBits, mem: MemorySpec, psum_reads: int = 0) -> ComputeResult:
    """A unit goes no faster than its SRAM ports feed it: per buffer, the bytes it reads and writes
    over the tile take at least bytes / bytes_per_cycle cycles, which stretches the issue interval.
    `psum_reads`: partial sums of earlier K tiles the tile reads back (elements), beyond the unit's own."""
    if not mem.sram_bytes_per_cycle:
        return res
    width = {"ifmap": bits.ifmap, "filter": bits.filter, "ofmap": bits.psum}
    need = 0
    for role, per_cycle in mem.sram_bytes_per_cycle:
        reads = res.sram_reads.get(role, 0) + (psum_reads if role == "ofmap" else 0)
        moved = nbytes(reads, width[role]) + nbytes(res.sram_writes.get(role, 0), width[role])
        need = max(need, -(-moved // per_cycle))
    if need <= res.issue_cycles:
        return res
    cycles = res.cycles + need - res.issue_cycles
    return dataclasses.replace(res, cycles=cycles, occupancy_cycles=need,
                               utilization=res.utilization * res.cycles / cycles,
                               detail={**res.detail, "sram_bound_cycles": need})


class CostModel:
    """Evaluates mappings of GEMMs on one unit behind one memory. `units` maps dataflow -> unit;
    compute results are held to the SRAM ports' bandwidth (`sram_limited`) at the operand widths `bits`."""

    def __init__(self, units: dict[str, ComputeUnit], mem: MemorySpec, energy: EnergySpec, clock_hz: float,
                 bits: OperandBits | None = None):
        self.units, self.mem, self.energy, self.clock_hz = units, mem, energy, float(clock_hz)
        self.bits = bits or OperandBits()
        self.bw_bytes_per_cycle = mem.offchip_bytes_per_s / self.clock_hz
        self.latency_cycles = mem.offchip_latency_ps * self.clock_hz / 1e12
        # a request's overhead as the bytes the link could have moved meanwhile (timing only)
        self.request_bytes = mem.request_overhead_ps * mem.offchip_bytes_per_s / 1e12
        # operands wider than the PEs run as stacked slices (or the unit refuses them here)
        self.widening = {df: u.widening(self.bits.ifmap, self.bits.filter) for df, u in units.items()}
        self.passes = {df: w.passes for df, w in self.widening.items()}
        keys = tuple((df, u.shape_cost_key()) for df, u in units.items())
        context = None if any(k is None for _, k in keys) else \
            (keys, self.bits, mem.sram_bytes_per_cycle, dataclasses.astuple(energy))
        tables = _shared_tables(context)
        self._compute: dict[tuple[str, GemmShape, bool], ComputeResult] = tables["compute"]
        self._units_sum: dict[tuple, tuple[int, int, dict[str, float], dict[str, int], dict[str, int]]] = \
            tables["units"]
        self._traffic: dict[Mapping, tuple] = tables["traffic"]
        self._bound_parts: dict[Mapping, tuple] = tables["bound"]
        self._roles: dict[Mapping, dict[str, tuple[int, int]]] = tables["roles"]
        self._steps: dict[Mapping, tuple[dict[str, np.ndarray], np.ndarray, int]] = tables["steps"]
        self._tile_parts: dict[tuple, tuple[int, int, int]] = tables["tile"]
        self.evaluations = 0

    def compute(self, dataflow: str, shape: GemmShape, readback: bool = False) -> ComputeResult:
        """The unit's `fast` result for one tile shape, memoised (most tiles share a shape).
        `readback`: a tile after the first along K also reads the earlier partial sums back
        through the output buffer's port."""
        key = (dataflow, shape, readback)
        res = self._compute.get(key)
        if res is None:
            unit = self._compute.get((dataflow, shape, False)) if readback else None
            raw = at_widths(self.units[dataflow], shape, self.widening[dataflow])
            if unit is None:
                unit = sram_limited(raw, self.bits, self.mem)
                self._compute[(dataflow, shape, False)] = unit
            res = unit
            if readback:     # the first pass adds to the earlier partial sums: one read per output
                res = sram_limited(raw, self.bits, self.mem, shape.M * shape.N * shape.batch)
            self._compute[key] = res
        return res

    def evaluate(self, m: Mapping) -> MappingCost:
        self.evaluations += 1
        steps = self._steps.get(m)
        if steps is None:
            steps = self._steps[m] = self._step_compute(m)
        arr, comp, last_tail = steps
        load, store = arr["load"].astype(np.float64), arr["store"].astype(np.float64)
        if self.mem.stream_levels:
            load, store = self._level_times(arr)
        if self.request_bytes:      # each operand tile moved costs one request's overhead on the link
            load = load + self.request_bytes * sum((arr[f"load_{r}"] > 0) for r in ("ifmap", "filter", "ofmap_in"))
            store = store + self.request_bytes * (store > 0)
        cycles = self._latency(comp, load, store, m.gemm.batch, arr["weight"], arr.get("reps")) + last_tail
        return self._assemble(m, cycles, arr)

    def _step_compute(self, m: Mapping) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
        """The mapping's compressed steps, each step's issue cycles and the last step's drain tail:
        independent of the off-chip link, so memoised (read-only arrays)."""
        arr = m.step_arrays(compressed=True)
        # each extent is the full tile or the one edge remainder: index the <= 8 shapes by edge bits
        code = (8 * arr["cont"] + 4 * (arr["m"] != m.tile[0]) + 2 * (arr["n"] != m.tile[1])
                + (arr["k"] != m.tile[2])).astype(np.intp)
        lut = np.zeros(16)
        tail = np.zeros(16)
        for c in np.flatnonzero(np.bincount(code, minlength=16)).tolist():
            i = int(np.argmax(code == c))
            r = self.compute(m.dataflow, GemmShape(int(arr["m"][i]), int(arr["n"][i]), int(arr["k"][i])), c >= 8)
            lut[c] = r.issue_cycles          # a pipelined unit takes the next tile after its issue interval
            tail[c] = r.tail_cycles
        comp = lut[code]
        for a in (comp, *arr.values()):
            if isinstance(a, np.ndarray):
                a.setflags(write=False)
        return arr, comp, int(tail[code[-1]])

    def _level_times(self, arr: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Loads and stores per step as bytes at the reference rate, when streams cross different
        off-chip levels: each level's bytes at its own rate, the levels in parallel (the slowest one
        sets a step's load time); a stream on the unit's own level costs nothing."""
        per_level: dict[int, np.ndarray] = {}
        store = np.zeros(len(arr["load"]))
        for stream, lv, scale in self.mem.stream_levels:
            if stream == "ofmap":
                store = arr["store"].astype(np.float64) * scale
                continue
            b = arr[f"load_{stream}"].astype(np.float64) * scale
            per_level[lv] = per_level[lv] + b if lv in per_level else b
        load = np.max(np.stack(list(per_level.values())), axis=0) if per_level else np.zeros(len(arr["load"]))
        return load, store

    def _latency(self, c: np.ndarray, load: np.ndarray, store: np.ndarray, batch: int,
                 weight: np.ndarray | None = None, counts: tuple[np.ndarray, ...] | None = None) -> int:
        """Cycles for `batch` back-to-back copies of one problem's step sequence; step i stands
        for weight[i] identical steps (`Mapping.step_arrays(compressed=True)`; ends weigh 1)."""
        bw, lat = self.bw_bytes_per_cycle, self.latency_cycles
        w = np.ones(len(c)) if weight is None else weight.astype(np.float64)
        if not self.mem.overlapped:
            per = float(np.sum(w * (load / bw + c + store / bw))) + lat * (float(np.sum(w * (load > 0))) + 1)
            return math.ceil(per * batch - 1e-6)

        # link bytes under step i: the next step's loads and the previous step's store. Only the
        # two end steps depend on the neighbouring batch problems, so the middle is summed once.
        # With two buffers, step i+1's loads are issued when step i-1 ends, so step i lasts at
        # least their round trip (off-chip latency + transfer): small tiles cannot hide latency.
        n = len(c)
        wb = self.mem.write_behind
        x = np.zeros(n)
        x[:-1] += load[1:]
        if not wb:
            x[1:] += store[:-1]
        nxt = np.zeros(n)
        nxt[:-1] = load[1:]
        rt = np.where(nxt > 0, lat + nxt / bw, 0.0)

        def trip(b: float) -> float:
            return lat + b / bw if b > 0 else 0.0

        mid = float(np.sum(w[1:-1] * np.maximum(np.maximum(c[1:-1], x[1:-1] / bw), rt[1:-1]))) if n > 2 else 0.0

        def body(left_store: float, right_load: float) -> float:
            if n == 1:
                return max(float(c[0]), (left_store + right_load) / bw, trip(right_load))
            return (mid + max(float(c[0]), (x[0] + left_store) / bw, float(rt[0]))
                    + max(float(c[-1]), (x[-1] + right_load) / bw, trip(right_load)))

        if wb:
            return self._write_behind_latency(c, x, rt, load, store, batch, w, counts)
        l0, s_last = float(load[0]), float(store[-1])
        if batch == 1:
            steady = body(0.0, 0.0)
        else:
            steady = body(0.0, l0) + (batch - 2) * body(s_last, l0) + body(s_last, 0.0)
        total = lat + l0 / bw + steady + s_last / bw + lat
        return math.ceil(total - 1e-6)

    def _write_behind_latency(self, c, x, rt, load, store, batch: int, w, counts) -> int:
        """Write-behind: steps last max(compute, next loads, their round trip); each step's outputs
        join a backlog that drains in the link's idle time (step length - its loads' transfer).
        What is left after the last step, then the last store, is exposed; and no schedule beats
        moving every byte once. The backlog recurrence B <- max(0, B + store_prev - idle) is
        max-plus, so the runs of identical steps that `weight` stands for compose in closed form."""
        bw, lat = self.bw_bytes_per_cycle, self.latency_cycles
        l0, s_last = float(load[0]), float(store[-1])
        prev = np.zeros(len(c))
        prev[1:] = store[:-1] / bw

        def copy(left: float, right: float) -> tuple[float, float, float]:
            """(link-idle-drained backlog function P, Q, summed step time) of one batch problem."""
            xs = x.copy()
            xs[-1] += right
            r = rt.copy()
            r[-1] = lat + xs[-1] / bw if xs[-1] > 0 else 0.0
            dur = np.maximum(np.maximum(c, xs / bw), r)
            q = prev - (dur - xs / bw)
            q[0] += left / bw
            P, Q = _compose_runs(q, counts)
            return P, Q, float(np.sum(w * dur))

        if batch == 1:
            P, Q, t = copy(0.0, 0.0)
            backlog, steps = max(P, Q), t
        else:
            pa, qa, ta = copy(0.0, l0)
            pm, qm, tm = copy(s_last, l0)
            pz, qz, tz = copy(s_last, 0.0)
            b = max(pa, qa)
            r = batch - 2
            if r:
                b = max(pm + max(0.0, (r - 1) * qm), b + r * qm)
            backlog, steps = max(pz, b + qz), ta + r * tm + tz
        total = max(lat + l0 / bw + steps + backlog + s_last / bw + lat,
                    2 * lat + batch * float(np.sum(w * (load + store))) / bw)
        return math.ceil(total - 1e-6)

    def cycles_lower_bound(self, issue_cycles, dram_bytes, first_load_bytes, last_store_bytes, batch: int,
                           store_bytes=0.0, visits=0.0, longest_issue=0.0):
        """Cycles no mapping with these totals can beat (numpy arrays or floats).

        Double-buffered: the first load, the last store and two off-chip latencies are exposed, and
        every other step takes at least its compute and at least its share of the link's time, so
        the steps together take at least the busier of the two. Sharper when stores bunch up: the
        step after each of the (visits - 1) other stores takes at least that store's link time, the
        rest at least their compute, and no step computes longer than `longest_issue`. Without
        double buffering all of it is serial."""
        bw, lat = self.bw_bytes_per_cycle, self.latency_cycles
        if not self.mem.overlapped:
            return issue_cycles + dram_bytes / bw + 2 * lat * batch
        exposed = first_load_bytes + last_store_bytes
        steady = np.maximum(issue_cycles, (dram_bytes - exposed) / bw)
        if not self.mem.write_behind:        # written behind, stores do not bunch up in steps
            steady = np.maximum(steady, issue_cycles - visits * longest_issue + (store_bytes - last_store_bytes) / bw)
        return 2 * lat + exposed / bw + steady

    def bound(self, m: Mapping) -> tuple[float, float]:
        """(cycles no larger than the true latency, exact energy) without building the schedule:
        the unit's real issue cycles per tile shape (memoised), the traffic in closed form."""
        parts = self._bound_parts.get(m)
        if parts is None:
            compute_cycles, _, dram, _, energy = self._traffic_and_energy(m)
            tkey = (m.gemm, m.tile, m.dataflow, m.bits, m.conv)   # what does not depend on the loop order
            per_tile = self._tile_parts.get(tkey)
            if per_tile is None:
                first, last = exposed_bytes(np.array([m.tile]), m.gemm, m.bits, m.conv)
                longest = max(self.compute(m.dataflow, shape, cont > 0).issue_cycles
                              for shape, _, cont in m.tile_shapes(split_k=True))
                per_tile = self._tile_parts[tkey] = (int(first[0]), int(last[0]), longest)
            first_b, last_b, longest = per_tile
            c = m.counts
            visits = c["m"] * c["n"] * (1 if m.innermost() in ("k", None) else c["k"]) * m.gemm.batch
            parts = self._bound_parts[m] = (compute_cycles, sum(dram.values()), first_b, last_b,
                                            m.gemm.batch, dram["ofmap"], visits, longest, float(sum(energy.values())))
        cycles_lb = self.cycles_lower_bound(*parts[:-1])
        return float(cycles_lb) * (1 - 1e-9), parts[-1]

    def _assemble(self, m: Mapping, cycles: int, arr: dict[str, np.ndarray]) -> MappingCost:
        compute_cycles, macs, dram, (rd, wr), energy = self._traffic_and_energy(m)
        return MappingCost(m, cycles, compute_cycles, macs, dram, rd + wr, energy, sram_read_bytes=rd,
                           sram_write_bytes=wr, sram_role_bytes=self.sram_by_role(m))

    def sram_by_role(self, m: Mapping) -> dict[str, tuple[int, int]]:
        """(read, write) bytes per SRAM buffer over the whole mapping; every access counted.

        Inputs: the unit's operand reads, plus the tiles the loads fill. Outputs (partial sums,
        acc_bits wide): written by the unit once per pass over K and by the fills of partial sums
        that come back from DRAM (`ofmap_in`); every value written is read exactly once, either
        back into the next pass or out to DRAM (a drain reads the accumulator word, whatever width
        DRAM stores). So reads = writes - drained + drained: nothing overwritten unread."""
        hit = self._roles.get(m)
        if hit is None:
            hit = self._roles[m] = self._sram_by_role(m)
        return dict(hit)

    def _sram_by_role(self, m: Mapping) -> dict[str, tuple[int, int]]:
        _, _, _, unit_rd, unit_wr = self._unit_part(m)
        tot, b = m.totals(), m.bits
        psum_bytes = b.psum / 8
        drained = m.drained_elements()
        written = unit_wr.get("ofmap", 0) + round(tot["ofmap_in"] / psum_bytes)
        out = {"ifmap": (nbytes(unit_rd.get("ifmap", 0), b.ifmap), tot["ifmap"]),
               "filter": (nbytes(unit_rd.get("filter", 0), b.filter), tot["filter"]),
               "ofmap": (nbytes(written, b.psum), nbytes(written, b.psum))}
        assert written >= drained, (m, written, drained)
        return out

    def _traffic_and_energy(self, m: Mapping) -> tuple[int, int, dict[str, int], tuple[int, int], dict[str, float]]:
        """Sum the unit's results over the distinct tile shapes; DRAM bytes from the closed form;
        SRAM bytes per buffer from `sram_by_role`. Independent of the off-chip link: memoised."""
        hit = self._traffic.get(m)
        if hit is None:
            hit = self._traffic[m] = self._traffic_and_energy_of(m)
        compute_cycles, macs, dram, sram, energy = hit
        return compute_cycles, macs, dict(dram), sram, dict(energy)

    def _traffic_and_energy_of(self, m: Mapping) -> tuple[int, int, dict[str, int], tuple[int, int], dict[str, float]]:
        compute_cycles, macs, unit_e, unit_rd, unit_wr = self._unit_part(m)
        tot, b = m.totals(), m.bits
        dram = {k: tot[k] for k in ("ifmap", "filter", "ofmap_in", "ofmap")}
        moved = sum(dram.values())
        roles = self.sram_by_role(m)
        sram = (sum(r for r, _ in roles.values()), sum(w for _, w in roles.values()))
        energy = {f"unit.{k}": v for k, v in unit_e.items()}
        # the unit prices its own operand reads and output writes; the fills (loads), the drains
        # (an accumulator word read per output stored) and the partial sums read back into a
        # later pass beyond those the unit counts are ours
        fills = dram["ifmap"] + dram["filter"] + dram["ofmap_in"]
        drains = nbytes(m.drained_elements(), b.psum)
        unit_psum_reads = nbytes(unit_rd.get("ofmap", 0), b.psum)
        energy["sram.fill_drain"] = (fills + drains) * self.energy.sram_byte_pj
        energy["sram.psum_readback"] = (roles["ofmap"][0] - drains - unit_psum_reads) * self.energy.sram_byte_pj
        unpriced = unit_wr.get("unpriced_ofmap", 0)      # output writes a unit does not count or price
        if unpriced:
            energy["sram.output_write"] = nbytes(unpriced, b.psum) * self.energy.sram_byte_pj
        energy["offchip"] = moved * self.energy.offchip_byte_pj
        return compute_cycles, macs, dram, sram, energy

    def _unit_part(self, m: Mapping) -> tuple[int, int, dict[str, float], dict[str, int], dict[str, int]]:
        """Compute cycles, MACs, unit energy and the unit's SRAM accesses per buffer (elements) over
        all tiles: independent of the loop order, so memoised per (GEMM, tile, dataflow)."""
        key = (m.gemm, m.tile, m.dataflow, m.bits)
        hit = self._units_sum.get(key)
        if hit is not None:
            return hit
        e = self.energy
        unit_e: dict[str, float] = {}
        rd: dict[str, int] = {}
        wr: dict[str, int] = {}
        compute_cycles = macs = 0
        for shape, first, cont in m.tile_shapes(split_k=True):
            r = self.compute(m.dataflow, shape)
            count = first + cont
            # busy intervals (a tile after the first along K may wait on its read-back); the last
            # tail adds to latency only
            compute_cycles += r.issue_cycles * first + self.compute(m.dataflow, shape, cont > 0).issue_cycles * cont
            macs += r.macs * count
            for act, pj in r.energy_pj.items():
                unit_e[act] = unit_e.get(act, 0.0) + pj * count
            # every tile leaves its outputs in the output buffer at least once, whether or not the
            # unit counts the writes (one that does not is taken to write each output once)
            writes = r.sram_writes
            if not writes.get("ofmap"):
                n_out = shape.M * shape.N * shape.batch
                writes = {**writes, "ofmap": n_out, "unpriced_ofmap": n_out}
            for acc, got in ((rd, r.sram_reads), (wr, writes)):
                for k, v in got.items():
                    acc[k] = acc.get(k, 0) + v * count
        if not unit_e:
            unit_e = {"mac": macs * e.mac_pj}
        out = self._units_sum[key] = (compute_cycles, macs, unit_e, rd, wr)
        return out


def _compose_runs(q: np.ndarray, counts: tuple[np.ndarray, ...] | None) -> tuple[float, float]:
    """Compose the steps' backlog functions f_i(B) = max(0, B + q_i) in order into one max(P, B + Q).

    `counts` gives, per loop (outer to inner), how many steps each kept index stands for
    (`Mapping.step_arrays(compressed=True)["reps"]`); without it every step stands for itself.
    Applying f then g gives max(max(Pg, Pf + Qg), B + Qf + Qg); f repeated r times gives
    max(P + max(0, (r - 1) Q), B + r Q)."""
    if counts is None:
        counts = (np.ones(len(q)),)
    P, Q = np.zeros(len(q)), q.astype(np.float64)
    shape = tuple(len(r) for r in counts)
    P, Q = P.reshape(shape), Q.reshape(shape)
    for axis in range(len(shape) - 1, -1, -1):       # innermost loop first
        reps = counts[axis].astype(np.float64)
        accP = accQ = None
        for j in range(shape[axis]):
            p, qq = np.take(P, j, axis), np.take(Q, j, axis)
            r = reps[j]
            p, qq = p + np.maximum(0.0, (r - 1) * qq), r * qq
            if accP is None:
                accP, accQ = p, qq
            else:
                accP, accQ = np.maximum(p, accP + qq), accQ + qq
        P, Q = accP, accQ
    return float(P), float(Q)


def latency_from_tiles(model: CostModel, m: Mapping) -> int:
    """The same latency as `CostModel.evaluate`, by walking `m.tiles()` in plain Python (a check)."""
    steps = list(m.tiles())
    kpos, c = m.order.index("k"), m.counts
    first_k = [idx[kpos] == 0 for _ in range(m.gemm.batch)
               for idx in itertools.product(*(range(c[d]) for d in m.order))]
    res = [model.compute(m.dataflow, g, not f) for (g, _, _), f in zip(steps, first_k)]
    c = [r.issue_cycles for r in res]
    tail = res[-1].tail_cycles
    rb = model.request_bytes
    ld = [sum(lo.values()) + rb * sum(1 for v in lo.values() if v) for _, lo, _ in steps]
    st = [so["ofmap"] + (rb if so["ofmap"] else 0) for _, _, so in steps]
    bw, lat = model.bw_bytes_per_cycle, model.latency_cycles
    if not model.mem.overlapped:
        return math.ceil(sum(x / bw + y + z / bw for x, y, z in zip(ld, c, st))
                         + lat * (sum(1 for x in ld if x) + m.gemm.batch) - 1e-6) + tail
    wb = model.mem.write_behind
    total = lat + ld[0] / bw
    for i in range(len(steps)):
        nxt = ld[i + 1] if i + 1 < len(steps) else 0
        prv = st[i - 1] if i > 0 and not wb else 0
        total += max(c[i], (nxt + prv) / bw, lat + nxt / bw if nxt else 0.0)
    if wb:                     # the backlog of outputs left when the last step ends goes first
        backlog = 0.0
        for i in range(len(steps)):
            nxt = ld[i + 1] if i + 1 < len(steps) else 0
            dur = max(c[i], nxt / bw, lat + nxt / bw if nxt else 0.0)
            backlog = max(0.0, backlog + (st[i - 1] / bw if i else 0.0) - (dur - nxt / bw))
        total += backlog
    total += st[-1] / bw + lat
    if wb:
        total = max(total, 2 * lat + (sum(ld) + sum(st)) / bw)
    return math.ceil(total - 1e-6) + tail
