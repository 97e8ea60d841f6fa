"""The space of ways to run one GEMM on one unit behind one on-chip buffer level.

A `Mapping` fixes the SRAM tile (Tm, Tn, Tk), the order of the DRAM-level tile loops (outer to
inner, a permutation of "mnk") and the array's dataflow. Each buffer holds one tile of its operand
(half its capacity when double-buffered, the other half receiving the next tile); a tile already
resident is not fetched again. A conv's buffers may also hold whole dims of their operand (`hold`,
residency.py: the input across the K loop while weights stream). When K is split and k is not
the innermost loop, an output tile is revisited: its partial sums (acc_bits wide) go out to DRAM
and come back (`ofmap_in`).

`Mapping.tiles()` walks the schedule step by step (what the event-driven runner consumes);
`Mapping.totals()` is the same traffic in closed form; `Mapping.step_arrays()` is the schedule as
numpy arrays for the cost model. Tests hold the three together. A convolution's mapping carries its
geometry (`conv`, dataflows/conv_reuse.py): its input tiles are the real input rows with their halos,
not the im2col matrix, and its tiles are bands of whole output rows by all taps of a channel slice.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

import numpy as np

from archsim.units.base import GemmShape
from dataflows.residency import HOLDABLE, ROLE_DIMS, effective, fetched, operand_traffic, slides

if TYPE_CHECKING:
    from dataflows.conv_reuse import ConvGeometry

DIMS = ("m", "n", "k")
ORDERS = tuple("".join(p) for p in itertools.permutations(DIMS))
ROLES = ("ifmap", "filter", "ofmap")


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def nbytes(elements: int, bits: int) -> int:
    """Bytes that `elements` values of `bits` each occupy (packed, rounded up to a whole byte)."""
    return (elements * bits + 7) // 8


@dataclass(frozen=True)
class OperandBits:
    """Widths in bits: inputs, weights, partial sums (accumulator) and the final stored output."""

    ifmap: int = 8
    filter: int = 8
    psum: int = 32
    ofmap: int = 8


@dataclass(frozen=True)
class MemorySpec:
    """What the mapper needs of the memory hierarchy: per-role SRAM capacity and the off-chip link."""

    capacity_bytes: tuple[tuple[str, int], ...]        # (role, bytes) for ifmap, filter, ofmap
    double_buffered: tuple[tuple[str, bool], ...]
    offchip_bytes_per_s: float
    offchip_latency_ps: int = 0
    sram_bytes_per_cycle: tuple[tuple[str, int], ...] = ()  # port bandwidth per role; () = unlimited
    write_behind: bool = False      # outputs drain in the link's idle time (reads first); see cost.py
    request_overhead_ps: int = 0    # link time a request costs beyond bytes / bandwidth (DRAM: a row opened)
    # Several off-chip back-ends: per tile stream (ifmap, filter, ofmap_in, ofmap), the level it crosses
    # and its time per byte relative to `offchip_bytes_per_s` (() = every stream on the one level).
    stream_levels: tuple[tuple[str, int, float], ...] = ()

    @classmethod
    def make(cls, capacity_bytes: dict[str, int], offchip_bytes_per_s: float,
             offchip_latency_ps: int = 0, double_buffered: dict[str, bool] | bool = True,
             sram_bytes_per_cycle: dict[str, int] | None = None, write_behind: bool = False,
             request_overhead_ps: int = 0) -> "MemorySpec":
        if isinstance(double_buffered, bool):
            double_buffered = {r: double_buffered for r in ROLES}
        return cls(tuple((r, int(capacity_bytes[r])) for r in ROLES),
                   tuple((r, bool(double_buffered[r])) for r in ROLES),
                   float(offchip_bytes_per_s), int(offchip_latency_ps),
                   tuple((r, int(v)) for r, v in sorted((sram_bytes_per_cycle or {}).items())),
                   bool(write_behind), int(request_overhead_ps))

    def usable_bytes(self, role: str) -> int:
        """Capacity a single resident tile may use: half the buffer when it is double-buffered."""
        cap, db = dict(self.capacity_bytes)[role], dict(self.double_buffered)[role]
        return cap // 2 if db else cap

    @property
    def overlapped(self) -> bool:
        """Transfers overlap compute only if every buffer has a second half to fill."""
        return all(db for _, db in self.double_buffered)


def grid_bytes(d0, t0, d1, t1, bits: int):
    """Sum over the (d0/t0) x (d1/t1) grid of tiles of each tile's bytes (edge tiles clipped).

    Closed form over the four tile kinds (full/edge x full/edge; an absent edge has 0 bytes), so
    it takes Python ints or numpy arrays alike: the bounds evaluate every tile at once with it."""
    f0, r0, f1, r1 = d0 // t0, d0 % t0, d1 // t1, d1 % t1
    return (f0 * f1 * nbytes(t0 * t1, bits) + f0 * nbytes(t0 * r1, bits)
            + f1 * nbytes(r0 * t1, bits) + nbytes(r0 * r1, bits))


def _extents(d: int, t: int) -> list[tuple[int, int]]:
    """[(tile extent, how many tiles have it)] for a dimension d cut into tiles of t."""
    full, rest = divmod(d, t)
    out = [(t, full)] if full else []
    return out + [(rest, 1)] if rest else out


@dataclass(frozen=True)
class Mapping:
    """One point of the mapspace. Hashable and printable; `gemm.batch` problems run one after another."""

    gemm: GemmShape
    tile: tuple[int, int, int]           # (Tm, Tn, Tk) resident in SRAM per step
    order: str                           # DRAM-level loop order, outer to inner, e.g. "nmk"
    dataflow: str                        # os | ws | is: how the array unrolls the tile
    bits: OperandBits = field(default_factory=OperandBits)
    conv: "ConvGeometry | None" = None   # a conv's input-window law; None: the plain GEMM view
    hold: tuple[str, str] = ("", "")     # whole dims the ifmap / filter buffers keep (residency.py)

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"loop order must be a permutation of 'mnk', got {self.order!r}")
        for t, d in zip(self.tile, (self.gemm.M, self.gemm.N, self.gemm.K)):
            if not 1 <= t <= d:
                raise ValueError(f"tile {self.tile} does not fit GEMM {self.gemm}")
        for role, held in zip(("ifmap", "filter"), self.hold):
            if held not in HOLDABLE[role]:
                raise ValueError(f"{role} may hold {HOLDABLE[role]}, got {held!r}")

    def __str__(self) -> str:
        tm, tn, tk = self.tile
        held = " ".join(f"{r}:{h.upper()}" for r, h in zip(("ifmap", "filter"), self.hold) if h)
        return f"tile M{tm} N{tn} K{tk}, loops {'>'.join(self.order)}, {self.dataflow}" + (f", holds {held}"
                                                                                        if held else "")

    # -- shape of the schedule ----------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        """Number of tiles along each GEMM dim."""
        g = self.gemm
        return {"m": cdiv(g.M, self.tile[0]), "n": cdiv(g.N, self.tile[1]), "k": cdiv(g.K, self.tile[2])}

    @property
    def steps(self) -> int:
        c = self.counts
        return c["m"] * c["n"] * c["k"] * self.gemm.batch

    def innermost(self) -> str | None:
        """The innermost loop that actually iterates (count > 1); it decides all reuse."""
        c = self.counts
        for d in reversed(self.order):
            if c[d] > 1:
                return d
        return None

    def footprint_bytes(self) -> dict[str, int]:
        """Bytes one resident tile of each role occupies (outputs held as partial sums)."""
        tm, tn, tk = self.tile
        g, (hi, hf) = self.gemm, self.hold
        if self.conv is not None:
            ifmap = self.conv.held_bytes(tm, tk, self.bits.ifmap, hi)
        else:
            ifmap = nbytes((g.M if "m" in hi else tm) * (g.K if "k" in hi else tk), self.bits.ifmap)
        return {"ifmap": ifmap, "filter": nbytes((g.K if "k" in hf else tk) * (g.N if "n" in hf else tn),
                                                 self.bits.filter),
                "ofmap": nbytes(tm * tn, self.bits.psum)}

    def fits(self, mem: MemorySpec) -> bool:
        fp = self.footprint_bytes()
        return all(fp[r] <= mem.usable_bytes(r) for r in ROLES)

    def tile_shapes(self, split_k: bool = False) -> list[tuple]:
        """Distinct tile shapes (at most 8) and how many steps compute each; with `split_k`, as
        (shape, steps that start their outputs' K loop, steps that continue it and so read
        earlier partial sums back)."""
        g = self.gemm
        out = []
        for (tm, cm), (tn, cn), (tk, ck) in itertools.product(
                _extents(g.M, self.tile[0]), _extents(g.N, self.tile[1]), _extents(g.K, self.tile[2])):
            n = cm * cn * ck * g.batch
            if not split_k:
                out.append((GemmShape(tm, tn, tk), n))
                continue
            first = cm * cn * g.batch if tk == self.tile[2] else 0   # k index 0 has the full extent
            out.append((GemmShape(tm, tn, tk), first, n - first))
        return out

    def transfers(self) -> int:
        """Off-chip requests the schedule makes: one per operand tile loaded, one per output tile stored."""
        a = self.step_arrays(compressed=True)
        moved = sum((a[k] > 0).astype(np.int64) for k in ("load_ifmap", "load_filter", "load_ofmap_in", "store"))
        return int(np.sum(a["weight"] * moved)) * self.gemm.batch

    def drained_elements(self) -> int:
        """Output values stored to DRAM: every output once, plus once per partial-sum round trip."""
        g, c = self.gemm, self.counts
        revisits = c["k"] - 1 if (c["k"] > 1 and self.innermost() != "k") else 0
        return g.M * g.N * (1 + revisits) * g.batch

    # -- the schedule, step by step -----------------------------------------------------------
    def tiles(self) -> Iterator[tuple[GemmShape, dict[str, int], dict[str, int]]]:
        """Yield per step (tile shape, bytes loaded {'ifmap','filter','ofmap_in'}, bytes stored {'ofmap'}).

        Loads happen before the step's compute, the store after it (when the output tile is about
        to be replaced, or at the end). Plain Python: the reference the closed forms are held to.
        """
        g, (Tm, Tn, Tk), b = self.gemm, self.tile, self.bits
        c = self.counts
        dims = {"m": g.M, "n": g.N, "k": g.K}
        size = {"m": Tm, "n": Tn, "k": Tk}
        for _ in range(g.batch):
            idx_seq = list(itertools.product(*(range(c[d]) for d in self.order)))
            # per operand: the key of the resident group (the dims it does not hold), the tiles of
            # the group on chip, and those of the group before it
            group: dict[str, tuple[int, ...] | None] = {r: None for r in ROLES}
            kept: dict[str, set] = {r: set() for r in ROLES}
            before: dict[str, set] = {r: set() for r in ROLES}
            resident: dict[str, tuple[int, int] | None] = {"ofmap": None}
            visits: dict[tuple[int, int], int] = {}
            for s, idx in enumerate(idx_seq):
                ix = dict(zip(self.order, idx))
                ext = {d: min(size[d], dims[d] - ix[d] * size[d]) for d in DIMS}
                load = {"ifmap": 0, "filter": 0, "ofmap_in": 0}
                for role, bits_, held in (("ifmap", b.ifmap, self.hold[0]), ("filter", b.filter, self.hold[1])):
                    d0, d1 = ROLE_DIMS[role]
                    key = tuple(ix[d] for d in (d0, d1) if d not in held)
                    if group[role] != key:             # a dim the buffer does not hold moved on: start over
                        group[role], before[role], kept[role] = key, kept[role], set()
                    tid = (ix[d0], ix[d1])
                    if tid not in kept[role]:
                        kept[role].add(tid)
                        load[role] = nbytes(ext[d0] * ext[d1], bits_)
                        if role == "ifmap" and self.conv is not None:   # a slide keeps the shared halo rows
                            above = (ix["m"] - 1, ix["k"])
                            slide = above in kept[role] or above in before[role]
                            load[role] = int(self.conv.tile_bytes(Tm, ext["k"], bits_, ix["m"], slide))
                okey = (ix["m"], ix["n"])
                out_elems = ext["m"] * ext["n"]
                if resident["ofmap"] != okey:
                    if visits.get(okey, 0):               # earlier partial sums come back
                        load["ofmap_in"] = nbytes(out_elems, b.psum)
                    visits[okey] = visits.get(okey, 0) + 1
                    resident["ofmap"] = okey
                nxt = dict(zip(self.order, idx_seq[s + 1])) if s + 1 < len(idx_seq) else None
                store = {"ofmap": 0}
                if nxt is None or (nxt["m"], nxt["n"]) != okey:
                    final = visits[okey] == c["k"] if c["k"] > 1 and self.innermost() != "k" else True
                    store["ofmap"] = nbytes(out_elems, b.ofmap if final else b.psum)
                yield GemmShape(ext["m"], ext["n"], ext["k"]), load, store

    # -- the same traffic in closed form -------------------------------------------------------
    def totals(self) -> dict[str, int]:
        """Steps and DRAM bytes per operand over the whole GEMM, without walking the schedule.

        An operand is fetched once per tile per pass; a pass per iteration of the loop it does not
        depend on when that loop is outside its residency segment (residency.py). Outputs revisited
        over k pay (visits - 1) partial-sum round trips per tile.
        """
        g, (Tm, Tn, Tk), b = self.gemm, self.tile, self.bits
        c, inner = self.counts, self.innermost()
        if self.conv is not None:   # bands that follow each other down the image slide (conv_reuse.py)
            ifmap = operand_traffic(self.order, self.hold[0], "ifmap", c, self.conv.grid_bytes(Tm, Tk, b.ifmap),
                                    self.conv.slide_grid_bytes(Tm, Tk, b.ifmap))
        else:
            ifmap = operand_traffic(self.order, self.hold[0], "ifmap", c, grid_bytes(g.M, Tm, g.K, Tk, b.ifmap))
        filt = operand_traffic(self.order, self.hold[1], "filter", c, grid_bytes(g.K, Tk, g.N, Tn, b.filter))
        ifmap, filt = int(ifmap), int(filt)
        revisits = c["k"] - 1 if (c["k"] > 1 and inner != "k") else 0
        psum = grid_bytes(g.M, Tm, g.N, Tn, b.psum)
        ofmap_in = psum * revisits
        ofmap_out = grid_bytes(g.M, Tm, g.N, Tn, b.ofmap) + psum * revisits
        per = {"ifmap": ifmap, "filter": filt, "ofmap_in": ofmap_in, "ofmap": ofmap_out}
        out = {k: v * g.batch for k, v in per.items()}
        out["steps"] = self.steps
        out["load_bytes"] = out["ifmap"] + out["filter"] + out["ofmap_in"]
        out["dram_bytes"] = out["load_bytes"] + out["ofmap"]
        return out

    # -- the schedule as arrays, for the cost model --------------------------------------------
    def step_arrays(self, compressed: bool = False) -> dict[str, np.ndarray]:
        """One batch problem's schedule as arrays: tile extents and bytes loaded/stored per step.

        `compressed` keeps, per loop, only the indices 0, 1, c-2, c-1 and gives index 1 the weight
        c-3 (`weight`): indices 1..c-3 hold full tiles that neither start nor end their loop, so
        every step under any of them loads, stores, computes and neighbours like its twin under
        index 1. Weighted sums over the <= 64 kept steps equal sums over all steps, so the cost
        model's work no longer grows with the number of tiles. `reps` holds, per loop (outer to
        inner), how many indices each kept one stands for (for recurrences over the steps)."""
        g, (Tm, Tn, Tk), b = self.gemm, self.tile, self.bits
        c = self.counts
        reps, wts = [], []
        for d in self.order:
            ends = self._kept_ends(d) if compressed else None
            if ends is None:
                reps.append(np.arange(c[d]))
                wts.append(np.ones(c[d], np.int64))
                continue
            head, tail = ends
            reps.append(np.r_[0:head + 1, c[d] - tail:c[d]])
            wts.append(np.r_[np.ones(head, np.int64), c[d] - head - tail, np.ones(tail, np.int64)])
        sel = np.indices(tuple(len(r) for r in reps)).reshape(3, -1)
        grids = np.stack([r[i] for r, i in zip(reps, sel)])
        weight = wts[0][sel[0]] * wts[1][sel[1]] * wts[2][sel[2]]
        ix = {d: grids[i] for i, d in enumerate(self.order)}
        ext = {d: np.minimum(t, full - ix[d] * t) for d, t, full in
               (("m", Tm, g.M), ("n", Tn, g.N), ("k", Tk, g.K))}
        n = grids.shape[1]

        def changed(dims: tuple[str, str]) -> np.ndarray:
            ch = np.ones(n, bool)
            if n > 1:
                ch[1:] = (ix[dims[0]][1:] != ix[dims[0]][:-1]) | (ix[dims[1]][1:] != ix[dims[1]][:-1])
            return ch

        def packed(elems: np.ndarray, bits: int) -> np.ndarray:
            return (elems * bits + 7) // 8

        out_new = changed(("m", "n"))
        out_last = np.ones(n, bool)
        out_last[:-1] = out_new[1:]
        inner = self.innermost()
        revisit = c["k"] > 1 and inner != "k"
        out_elems = ext["m"] * ext["n"]
        if self.conv is not None:   # a band right below one on chip, same channels: only its new rows
            slide = slides(self.order, self.hold[0], c, ix)
            i_bytes = self.conv.tile_bytes(Tm, ext["k"], b.ifmap, ix["m"], slide)
        else:
            i_bytes = packed(ext["m"] * ext["k"], b.ifmap)
        load_i = np.where(fetched(self.order, self.hold[0], "ifmap", c, ix), i_bytes, 0)
        load_f = np.where(fetched(self.order, self.hold[1], "filter", c, ix), packed(ext["k"] * ext["n"], b.filter), 0)
        load_o = np.where(out_new & (ix["k"] > 0), packed(out_elems, b.psum), 0) if revisit else np.zeros(n, np.int64)
        final = (ix["k"] == c["k"] - 1) if revisit else np.ones(n, bool)
        store = np.where(out_last, np.where(final, packed(out_elems, b.ofmap), packed(out_elems, b.psum)), 0)
        return {"m": ext["m"], "n": ext["n"], "k": ext["k"], "cont": (ix["k"] > 0).astype(np.int64),
                "weight": weight, "load": load_i + load_f + load_o,
                "load_ifmap": load_i, "load_filter": load_f, "load_ofmap_in": load_o, "store": store,
                "reps": tuple(wts)}

    def _kept_ends(self, d: str) -> tuple[int, int] | None:
        """(head, tail): the loop's indices 0..head-1 and its last `tail` are kept apart, index head
        stands for the ones between (None: keep every index). A GEMM's interior tiles are all alike
        (1, 2); a conv's bands at the image's edges differ by the rows padding clips (conv_reuse.py)."""
        count = self.counts[d]
        if d == "m" and self.conv is not None:
            return self.conv.compress(self.tile[0], count)
        return (1, 2) if count > 4 else None


def tile_candidates(dim: int, quanta: tuple[int, ...] = (), limit: int = 24) -> list[int]:
    """Tile sizes worth trying along a dim of `dim`: powers of two, power-of-two multiples of the
    array sides (`quanta`), balanced splits ceil(dim / p), and the whole dim; at most `limit`."""
    cand = {dim}
    p = 1
    while p < dim:
        cand.add(p)
        p *= 2
    for quantum in quanta:
        q = quantum
        while 1 < quantum and q < dim:
            cand.add(q)
            q *= 2
    for parts in range(2, 17):
        cand.add(cdiv(dim, parts))
    vals = sorted(v for v in cand if 1 <= v <= dim)
    if len(vals) > limit:                                 # keep the large end, thin the small end
        keep = set(vals[-limit // 2:])
        small = vals[: -limit // 2]
        step = len(small) / (limit - len(keep))
        keep.update(small[int(i * step)] for i in range(limit - len(keep)))
        vals = sorted(keep)
    return vals


def canonical_order(order: str, counts: dict[str, int]) -> str:
    """Loops that run once do not change the schedule: orders equal without them are one mapping."""
    return "".join(d for d in order if counts[d] > 1)


class MapSpace:
    """All fitting mappings of one GEMM onto one unit: tiles x loop orders x dataflows, pruned.

    `fixed` pins any of the tile sizes (keys M, N, K), `order` pins the loop order and `dataflows`
    lists the unrollings the unit may use. Equivalent orders (differing only in loops that run
    once) are enumerated once. A conv's buffers may also hold whole dims of their operand (`holds`,
    residency.py: an input band of every channel while weights stream over K, the whole input while
    filter columns stream); a hold is tried where it fits and each held dim iterates inside the
    operand's residency segment (else it is the mapping that holds less). GEMMs keep one tile per
    buffer (`holds=False`), as before this space grew.
    """

    def __init__(self, gemm: GemmShape, mem: MemorySpec, bits: OperandBits, dataflows: tuple[str, ...],
                 quanta: tuple[int, ...] = (), fixed: dict[str, int] | None = None, order: str | None = None,
                 limit: int = 24, conv: "ConvGeometry | None" = None, holds: bool | None = None):
        self.gemm, self.mem, self.bits, self.dataflows = gemm, mem, bits, tuple(dataflows)
        self.conv = conv
        self.holds = [(i, f) for i in HOLDABLE["ifmap"] for f in HOLDABLE["filter"]] \
            if (conv is not None if holds is None else holds) else [("", "")]
        fixed = fixed or {}
        self.candidates = {}
        for d, full in (("M", gemm.M), ("N", gemm.N), ("K", gemm.K)):
            self.candidates[d] = [min(fixed[d], full)] if d in fixed else tile_candidates(full, quanta, limit)
        if conv is not None:       # bands of whole output rows by every tap of a channel slice
            self.candidates["M"] = conv.m_candidates(quanta, limit, fixed.get("M"))
            self.candidates["K"] = conv.k_candidates(quanta, limit, fixed.get("K"))
        self.orders = (order,) if order else ORDERS

    def mapping(self, tm: int, tn: int, tk: int, order: str, df: str, hold: tuple[str, str] = ("", "")) -> Mapping:
        return Mapping(self.gemm, (tm, tn, tk), order, df, self.bits, self.conv, hold)

    def _ifmap_bytes(self, tm, tk, held: str = ""):
        """What the input buffer holds for (Tm, Tk) arrays: the largest input tile, or the held dims."""
        if self.conv is None:
            g = self.gemm
            return nbytes(np.where("m" in held, g.M, tm) * np.where("k" in held, g.K, tk), self.bits.ifmap)
        return self.conv.per_tile("held_bytes", tm, tk, self.bits.ifmap, held)

    def fits(self, tm: int, tn: int, tk: int, hold: tuple[str, str] = ("", "")) -> bool:
        tiles = np.array([[tm, tn, tk]], np.int64)
        b, mem = self.bits, self.mem
        return bool(nbytes(tm * tn, b.psum) <= mem.usable_bytes("ofmap") and self._tile_fit(tiles)[0]
                    and self.hold_fit(tiles, hold)[0])

    def _tile_fit(self, tiles: np.ndarray) -> np.ndarray:
        return self.hold_fit(tiles, ("", ""), True)

    def hold_fit(self, tiles: np.ndarray, hold: tuple[str, str], check_tile: bool = False) -> np.ndarray:
        """Per fitting tile, whether its buffers can also hold `hold`, each held dim iterating (a
        dim of one tile is held anyway)."""
        if hold == ("", "") and not check_tile:
            return np.ones(len(tiles), bool)
        g, b, mem = self.gemm, self.bits, self.mem
        tm, tn, tk = tiles.T
        hi, hf = hold
        ok = nbytes(np.where("k" in hf, g.K, tk) * np.where("n" in hf, g.N, tn), b.filter) <= mem.usable_bytes("filter")
        dims = np.array([g.M, g.N, g.K], np.int64)
        for d in set(hi + hf):
            ok &= tiles[:, DIMS.index(d)] < dims[DIMS.index(d)]
        if ok.any():               # the input's footprint (a conv's is priced per distinct tile) where still open
            ok[ok] = self._ifmap_bytes(tm[ok], tk[ok], hi) <= mem.usable_bytes("ifmap")
        return ok

    def tile_array(self) -> np.ndarray:
        """Every fitting (Tm, Tn, Tk) as an int64 (T, 3) array, M outermost, then K, then N.

        One numpy pass over the candidate grid (at most 24^3 tiles) instead of a Python loop."""
        b, mem = self.bits, self.mem
        tm, tk, tn = (a.ravel() for a in np.meshgrid(*(np.asarray(self.candidates[d], np.int64) for d in "MKN"),
                                                      indexing="ij"))
        ok = nbytes(tm * tn, b.psum) <= mem.usable_bytes("ofmap")
        ok[ok] = self._tile_fit(np.stack([tm[ok], tn[ok], tk[ok]], axis=1))
        return np.stack([tm[ok], tn[ok], tk[ok]], axis=1)

    def tiles(self) -> Iterator[tuple[int, int, int]]:
        """Every fitting (Tm, Tn, Tk), as Python ints."""
        for tm, tn, tk in self.tile_array().tolist():
            yield tm, tn, tk

    def size(self, tiles: np.ndarray | None = None) -> int:
        """Mappings, in closed form: a tile with j loops that iterate has j! distinct loop orders
        (loops running once do not matter), or 1 when the order is pinned; per fitting hold (an
        upper count there: orders where a hold does nothing are not mappings of their own)."""
        tiles = self.tile_array() if tiles is None else tiles
        return sum(self._size(tiles[self.hold_fit(tiles, h)]) for h in self.holds)

    def _size(self, tiles: np.ndarray) -> int:
        if len(self.orders) == 1:
            return len(tiles) * len(self.dataflows)
        dims = np.array([self.gemm.M, self.gemm.N, self.gemm.K], np.int64)
        iterating = (tiles < dims).sum(axis=1)            # count > 1 exactly when the tile is smaller
        return int(np.array([1, 1, 2, 6])[iterating].sum()) * len(self.dataflows)

    def __iter__(self) -> Iterator[Mapping]:
        g = self.gemm
        tiles = self.tile_array()
        for hold in self.holds:
            for tm, tn, tk in tiles[self.hold_fit(tiles, hold)].tolist():
                counts = {"m": cdiv(g.M, tm), "n": cdiv(g.N, tn), "k": cdiv(g.K, tk)}
                seen = set()
                for order in self.orders:
                    key = canonical_order(order, counts)
                    if key in seen or not effective(order, hold, counts):
                        continue
                    seen.add(key)
                    for df in self.dataflows:
                        yield self.mapping(tm, tn, tk, order, df, hold)

    def upper_size(self) -> int:
        """Size before pruning (tiles x orders x dataflows x holds): what decides exhaustive vs sampled search."""
        c = self.candidates
        return len(c["M"]) * len(c["N"]) * len(c["K"]) * len(self.orders) * len(self.dataflows) * len(self.holds)
