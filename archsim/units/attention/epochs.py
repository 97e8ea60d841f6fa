"""Level 1, the tile/epoch event model (`cycle`) of the one-pass cascade on the 2D + 1D arrays.

Each tile (a key tile m1 x a query tile p1 of one head) is five tasks: A = QK (+ causal mask) + LM on the
2D array, R = RM on the 1D array, B = SLN + SLD (2D) beside PRM + SPD (1D), C = SLNV (2D) beside SPNV
(1D), D = RD + RNV (+ the final divide AV after a row's last key tile) on the 1D array. An epoch is a
reservation table of four slots, [A | D], [R], [B2 | B1], [C2 | C1]; a slot starts when the previous one
has ended on both arrays (one controller sequences the arrays) and its tasks' inputs are ready, and lasts
as long as its longest task. FuseMax's software pipeline runs, in epoch k, A of tile k, R/B/C of tile
k - lag_r and D of tile k - lag_d, with the lags the smallest that hide the output-stationary tile's
drain (the M0-hop reductions LM, SLD, SLNV) behind the other tiles' work. With interleaving off
(`architecture`), every task of a tile runs in its own epoch (lags 0 and 1): RM waits for LM to drain,
and RNV runs after SPNV once SLNV has drained.

Operands come through the design's off-chip level (its memory model, driven by the event engine): the
first key tiles and every query row's Q are loaded before use, the next K/V tile is loaded when a buffer
slot frees (`kv_prefetch_tiles` ahead), a query row's output is written and the next block's Q for that
row loaded when the row retires. Streams longer than a few blocks are simulated on short prefixes and
extended along their period (blocks of a head are identical, each key step of a block is identical): the
fit is affine in the number of blocks and key steps and is checked on one more prefix than it uses.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archsim.engine import ClockDomain, Engine
from archsim.units.attention.cascade import Level0, level0
from archsim.units.attention.config import AttentionConfig
from archsim.units.attention.shape import AttentionShape
from archsim.units.attention.tiling import cdiv
from archsim.units.base import SystemView
from memory.request import MemoryLevel, Request

REGION = 1 << 36          # address regions of Q, K, V and O on the off-chip level
CAUSAL_HEAD_LIMIT = 60_000  # tiles per K/V head: a causal stream is extended along heads (9 simulated)


class TooLong(ValueError):
    """A stream Level 1 would need too many simulated tiles for."""


@dataclass
class Level1:
    cycles: int
    clock_hz: float
    busy_2d: int
    busy_1d: int
    stall_cycles: int
    lags: tuple[int, int]
    simulated_tiles: int
    extrapolated: bool
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def time_s(self) -> float:
        return self.cycles / self.clock_hz

    @property
    def busy_s(self) -> float:
        return max(self.busy_2d, self.busy_1d) / self.clock_hz

    def detail(self) -> dict[str, Any]:
        return {"level1_cycles": self.cycles, "level1_stall_cycles": self.stall_cycles,
                "level1_lags": list(self.lags), "level1_simulated_tiles": self.simulated_tiles,
                "level1_extrapolated": self.extrapolated, "util_2d": self.busy_2d / self.cycles,
                "util_1d": self.busy_1d / self.cycles, **self.checks}


@dataclass(frozen=True)
class Work:
    """Cycles of each task on its array (1D tasks already multiplied by ceil(P0 / W))."""

    A: int
    mask: int
    R: int
    B2: int
    B1: int
    C2: int
    C1: int
    D: int
    AV: int
    drain: int          # M0: cycles for a tile's reduction over m0 to reach the 1D array

    @classmethod
    def of(cls, shape: AttentionShape, cfg: AttentionConfig) -> Work:
        """Each task lasts its ops, or longer when its operands cannot cross the global buffer's port (QK
        reads a K and a Q tile, SLNV a V tile, SPNV and RD/RNV the running state of a query tile) or its
        results the 2D-to-1D link (SLNV's F words a column) in that time."""
        beats = cdiv(cfg.cols, cfg.width_1d)
        exp2d = cfg.exp_macs + cfg.exp_adds
        exp1d = 2 if cfg.has_exp_unit else exp2d
        E, F, M0, P0, w = shape.E, shape.F, cfg.rows, cfg.cols, cfg.word_bytes
        port, link = cfg.buffer_bytes_per_cycle, cfg.link_words_per_cycle or P0
        return cls(A=max(E + 1, cdiv((M0 + P0) * E * w, port)), mask=cfg.mask_ops, R=beats, B2=exp2d + 1,
                   B1=(exp1d + 1) * beats, C2=max(F, cdiv(M0 * F * w, port), cdiv(P0 * F, link)),
                   C1=max(F * beats, cdiv(P0 * F * w, port)), D=max((1 + F) * beats, cdiv(2 * P0 * (F + 1) * w, port)),
                   AV=F * beats, drain=M0)


def lags(w: Work, p1: int, interleave: bool) -> tuple[int, int]:
    """(lag_r, lag_d): epochs between a tile's A and its R/B/C, and its D; bounded by P1 so a row's next key
    tile never needs a D scheduled after it."""
    if not interleave:
        return 0, 1
    ii = w.A + w.R + max(w.B2, w.B1) + max(w.C2, w.C1)       # shortest epoch
    lag_r = min(cdiv(w.drain, ii), p1)
    return lag_r, lag_r + max(1, min(p1, 1 + cdiv(w.drain, ii)))


@dataclass
class Stream:
    """The tile stream of `groups` x `blocks` blocks (one K/V head's queries, P1 query tiles a block)."""

    live: np.ndarray          # live key tiles of each of the group's query tiles (G * Pt)
    partial: np.ndarray
    rows_real: np.ndarray     # real queries of each query tile
    kv_real: np.ndarray       # real keys of each key tile
    p1: int
    blocks: int               # blocks in the stream (heads one after another)
    max_m: int | None = None  # cap on key tiles per block (prefix runs)

    @property
    def per_head(self) -> int:
        return len(self.live) // self.p1


def _tiles(s: Stream):
    """Yields (row slot, row id, m1, first, last, partial, kv index, last of kv step, block) in loop order."""
    kv = 0
    for blk in range(s.blocks):
        b = blk % s.per_head
        rows = range(b * s.p1, (b + 1) * s.p1)
        live = [int(s.live[r]) if s.max_m is None else min(int(s.live[r]), s.max_m) for r in rows]
        for m1 in range(max(live)):
            active = [i for i, n in enumerate(live) if m1 < n]
            for k, i in enumerate(active):
                yield (i, rows[i], m1, m1 == 0, m1 == live[i] - 1, bool(m1 == live[i] - 1 and s.partial[rows[i]]),
                       kv, k == len(active) - 1, blk)
            kv += 1


def simulate(s: Stream, shape: AttentionShape, cfg: AttentionConfig, engine: Engine, level: MemoryLevel | None,
             clock_hz: float, interleave: bool, record: list | None = None) -> tuple[int, int, int, int, int]:
    """(end cycle, 2D busy, 1D busy, stall cycles, tiles) of the stream, started at `engine.now`, with its
    operands through `level` (driven by `engine`), or resident on chip from cycle 0 (`level` None).
    `record` gets (start, end, epoch, slot) of every slot that does work (the RTL bench compares it)."""
    clk = ClockDomain("attention", clock_hz)
    base = engine.now
    w = Work.of(shape, cfg)
    wb = cfg.word_bytes
    lag_r, lag_d = lags(w, s.p1, interleave)
    tiles = list(_tiles(s))
    n = len(tiles)
    kv_of = [t[6] for t in tiles]
    n_kv = kv_of[-1] + 1 if n else 0
    kv_keys = [0] * n_kv
    for t in tiles:
        kv_keys[t[6]] = int(s.kv_real[t[2]])
    ready_of: dict[str, list[int | None]] = {"K": [None] * n_kv, "V": [None] * n_kv}
    q_ready: dict[tuple[int, int], int | None] = {}       # (block, row slot) -> cycle Q arrived
    last_write = [0]

    def request(at_cycle: int, region: int, nbytes: int, write: bool, done: Callable[[int], None] | None) -> None:
        if level is None:                        # operands already on chip
            if done is not None:
                done(0)
            return

        def submit() -> None:
            cb = None if done is None else (lambda r: done(clk.ps_to_cycles(r.done_ps - base)))
            level.submit(Request(region * REGION + addr[region], nbytes, write, "attention", cb))
            addr[region] += nbytes
        engine.at(base + clk.cycles_to_ps(at_cycle), submit)

    addr = [0, 0, 0, 0]

    def load(tensor: str, j: int, at: int) -> None:
        """K (or V) of key step j; its buffer slot is the one step j - prefetch - 1 left at its last use."""
        if j < n_kv:
            width, region = (shape.E, 1) if tensor == "K" else (shape.F, 2)
            request(at, region, kv_keys[j] * width * wb, False, partial(ready_of[tensor].__setitem__, j))

    def load_q(block: int, slot: int, row: int, at: int) -> None:
        key = (block, slot)
        q_ready[key] = None
        request(at, 0, int(s.rows_real[row]) * shape.E * wb, False, partial(q_ready.__setitem__, key))

    def wait(slots: Any, key: Any) -> int:
        """Run the engine until `slots[key]` (a load's arrival cycle) is known."""
        while (v := slots[key]) is None:
            t = engine.peek_time()
            assert t is not None, "attention level 1: waiting for data no request will deliver"
            engine.run(until_ps=t)
        return int(v)

    # prologue: Q of the first block's rows and the first K/V tiles
    first_block = [t for t in tiles if t[8] == 0 and t[3]]
    for t in first_block:
        load_q(0, t[0], t[1], 0)
    for j in range(min(n_kv, cfg.kv_prefetch_tiles + 1)):
        load("K", j, 0)
        load("V", j, 0)
    ends: dict[str, list[int]] = {k: [0] * n for k in ("A", "R", "B2", "B1", "C2", "C1", "D")}
    prev_of = [-1] * n
    last_tile_of_row: dict[tuple[int, int], int] = {}
    for i, t in enumerate(tiles):
        key = (t[8], t[0])
        prev_of[i] = last_tile_of_row.get(key, -1)
        last_tile_of_row[key] = i
    now = 0
    busy2 = busy1 = stall = 0
    for k in range(n + lag_d):
        a, d, r = k, k - lag_d, k - lag_r
        # slot 1: A(k) on 2D | D(k - lag_d) on 1D
        ready, w2, w1 = now, 0, 0
        if a < n:
            t = tiles[a]
            ready = max(ready, wait(ready_of["K"], kv_of[a]), wait(q_ready, (t[8], t[0])))
            w2 = w.A + (w.mask if t[5] else 0)
        if 0 <= d < n:
            p = prev_of[d]
            rnv_here = ends["C2"][d] + w.drain if interleave else 0     # else RNV ran in slot 4
            ready = max(ready, rnv_here, ends["B2"][d] + w.drain, ends["C1"][d], ends["D"][p] if p >= 0 else 0)
            w1 = (w.R if not interleave else w.D) + (w.AV if tiles[d][4] else 0)
        stall += ready - now
        now = ready + max(w2, w1)
        busy2, busy1 = busy2 + w2, busy1 + w1
        if record is not None and max(w2, w1):
            record.append((ready, now, k, 1))
        if a < n:
            ends["A"][a] = now
            t = tiles[a]
            if t[4] and t[8] + 1 < s.blocks:   # the row's Q is dead: the next block's Q loads there
                load_q(t[8] + 1, t[0], (t[1] + s.p1) % len(s.live), now)
            if t[7]:                                      # the step's K is dead
                load("K", kv_of[a] + cfg.kv_prefetch_tiles + 1, now)
        if 0 <= d < n:
            ends["D"][d] = now
            t = tiles[d]
            if t[4]:                                    # the row retires: its output goes out
                out = int(s.rows_real[t[1]]) * shape.F * wb
                request(now, 3, out, True, lambda c: last_write.__setitem__(0, max(last_write[0], c)))
        if not 0 <= r < n:
            continue
        p = prev_of[r]
        # slot 2: R(r)
        ready = max(now, ends["A"][r] + w.drain)
        stall += ready - now
        now = ready + w.R
        busy1 += w.R
        if record is not None:
            record.append((ready, now, k, 2))
        ends["R"][r] = now
        # slot 3: B2 | B1 (SPD needs the row's previous RD)
        ready = max(now, ends["D"][p] if p >= 0 else 0)
        stall += ready - now
        now = ready + max(w.B2, w.B1)
        busy2, busy1 = busy2 + w.B2, busy1 + w.B1
        if record is not None:
            record.append((ready, now, k, 3))
        ends["B2"][r] = ends["B1"][r] = now
        # slot 4: C2 | C1 (SPNV needs the row's previous RNV); without interleaving RNV follows here
        ready = max(now, ends["D"][p] if p >= 0 else 0, wait(ready_of["V"], kv_of[r]))
        stall += ready - now
        c1 = w.C1 if interleave else max(w.C1, w.drain) + w.D - w.R
        now = ready + max(w.C2, c1)
        if record is not None:
            record.append((ready, now, k, 4))
        busy2, busy1 = busy2 + w.C2, busy1 + (w.C1 if interleave else w.C1 + w.D - w.R)
        ends["C2"][r] = ends["C1"][r] = now
        if tiles[r][7]:                                 # the step's V is dead
            load("V", kv_of[r] + cfg.kv_prefetch_tiles + 1, now)
    engine.run()
    return max(now, last_write[0]), busy2, busy1, stall, n


def _stream(shape: AttentionShape, cfg: AttentionConfig, lv: Level0, heads: int, blocks: int | None = None,
            max_m: int | None = None) -> Stream:
    """`heads` K/V heads' blocks, or the first `blocks` of them."""
    g = lv.geo
    assert lv.p1 is not None
    rows = shape.group * g.Pt
    j = np.arange(g.Pt)
    rows_real = np.minimum(shape.P, (j + 1) * cfg.cols) - j * cfg.cols
    m = np.arange(g.Mt)
    kv_real = np.minimum(shape.M, (m + 1) * cfg.rows) - m * cfg.rows
    return Stream(np.tile(g.live, shape.group), np.tile(g.partial, shape.group), np.tile(rows_real, shape.group),
                  kv_real, lv.p1, heads * rows // lv.p1 if blocks is None else blocks, max_m)


def level1(shape: AttentionShape, cfg: AttentionConfig, lv: Level0, port: Callable[[Engine], MemoryLevel],
           live: tuple[Engine, MemoryLevel] | None = None, tile_budget: int = 40_000) -> Level1:
    """Simulate the op (fusemax: interleaved epochs; architecture: none), extending long streams along
    their period. `port(engine)` builds a private off-chip level for prefix runs; `live` is the run's own
    engine and level: a whole stream runs on it, an extended one has its bytes counted there."""
    if cfg.variant not in ("fusemax", "architecture"):
        raise ValueError(f"level 1 models the FuseMax array (fusemax, architecture), not {cfg.variant!r}")
    interleave = cfg.variant == "fusemax"
    w = Work.of(shape, cfg)
    groups = shape.B * shape.hkv
    full = _stream(shape, cfg, lv, groups)
    total_tiles = shape.B * shape.H * lv.geo.live_tiles
    lag = lags(w, lv.p1 or 1, interleave)

    def run(st: Stream, on: tuple[Engine, MemoryLevel] | None = None) -> tuple[int, int, int, int, int]:
        if on is None:
            eng = Engine()
            on = (eng, port(eng))
        return simulate(st, shape, cfg, on[0], on[1], lv.clock_hz, interleave)

    if total_tiles <= tile_budget:
        end, b2, b1, stalls, nt = run(full, live)
        return Level1(end, lv.clock_hz, b2, b1, stalls, lag, nt, False)
    if shape.causal and shape.group * lv.geo.live_tiles > CAUSAL_HEAD_LIMIT:
        raise TooLong(f"causal stream of {shape.group * lv.geo.live_tiles} tiles per K/V head: Level 1 extends "
                      f"causal streams along whole heads and would simulate 9 of them")
    if live is not None:
        live[1].account_bulk(round(lv.traffic.read_bytes), False, "attention")
        live[1].account_bulk(round(lv.traffic.write_bytes), True, "attention")
    if shape.causal:                        # blocks differ inside a head; heads are identical
        runs: dict[tuple[int, int | None], tuple[int, int, int, int, int]] = {
            (k, None): run(_stream(shape, cfg, lv, k)) for k in (2, 3, 4)}
        c, stl = _extend(runs, [None], None, groups, (2, 3, 4))
        unit = "heads"
    else:                                   # blocks are identical, and so are their key steps
        mt = int(full.live.max())
        small = min(mt, max(8, 4 * (lag[1] + 2)))
        ms: list[int | None] = [small, 2 * small] if 2 * small < mt else [None]
        runs = {(k, m): run(_stream(shape, cfg, lv, 1, k, m)) for k in (3, 4, 5) for m in ms}
        c, stl = _extend(runs, ms, mt, full.blocks, (3, 4, 5))
        unit = "blocks x key steps" if len(ms) > 1 else "blocks"
    tiles = sum(r[4] for r in runs.values())
    return Level1(round(c), lv.clock_hz, _busy(lv, "2d"), _busy(lv, "1d"), round(stl), lag, tiles, True,
                  {"level1_extended_along": unit})


def _extend(runs: dict, ms: list, mt: int | None, n: int, ks: tuple[int, int, int]) -> tuple[float, float]:
    """(end, stall) at n periods from runs at ks = (k, k+1, k+2) periods and one or two key-step counts:
    T(k, m) = alpha(m) + k beta(m), alpha and beta affine in m. The step k+1 -> k+2 must equal k -> k+1."""
    k0, k1, _ = ks
    out = []
    for f in (0, 3):
        fitted = {}
        for m in ms:
            t0, t1, t2 = (runs[(k, m)][f] for k in ks)
            if f == 0 and t2 - t1 != t1 - t0:
                raise ArithmeticError(f"attention level 1: no period after {k0} blocks ({t0}, {t1}, {t2} cycles)")
            fitted[m] = (t1 - k1 * (t1 - t0), t1 - t0)
        if len(ms) == 1:
            alpha, beta = fitted[ms[0]]
        else:
            (m1, (a1, b1)), (m2, (a2, b2)) = sorted(fitted.items())
            alpha, beta = a1 + (a2 - a1) * (mt - m1) / (m2 - m1), b1 + (b2 - b1) * (mt - m1) / (m2 - m1)
        out.append(alpha + n * beta)
    return out[0], out[1]


def _busy(lv: Level0, array: str) -> int:
    """Busy cycles of an array over the whole op: Level 0's Einsum counts (the event model runs the same
    tasks; only their placement in time differs)."""
    return int(sum(lv.busy[n] for n in lv.arrays[array]))


def port_for(system: SystemView | None, bandwidth: float, latency_ps: int = 0) -> Callable[[Engine], MemoryLevel]:
    """A builder of the off-chip level the unit's operands live on: the design's own level model (DRAM,
    links, ...) when a system is given, else a bandwidth + latency pipe."""
    if system is not None:
        from memory import build_level_path, build_offchip_path

        mem = system.design.memory
        home = mem.home("activation")
        if home == "offchip":
            return lambda eng: build_offchip_path(mem, eng)
        return lambda eng: build_level_path(home, mem.levels[home], eng)
    from memory.pipe import Pipe

    return lambda eng: Pipe("offchip", eng, bandwidth, latency_ps)


def resident(shape: AttentionShape, cfg: AttentionConfig, interleave: bool) -> tuple[int, list]:
    """Cycles and slot record of the whole op with Q, K, V already on chip (what an RTL core loaded by
    its host runs): the epoch schedule alone."""
    lv = level0(shape, cfg, 1e12, 1e9)
    rec: list = []
    end = simulate(_stream(shape, cfg, lv, shape.B * shape.hkv), shape, cfg, Engine(), None, 1e9, interleave,
                   rec)[0]
    return end, rec
