"""The `bitweight` unit: runs GEMM ops whole, with cycles from the operands' values (or their histograms).

It owns its GEMMs because its cycles depend on which values meet in a synchronisation group, which a
shape-only tile cost cannot say. Off-chip traffic follows a fixed weight-stationary blocking: the
weights stream once in column blocks that fit the filter buffer; the activations are loaded once
when they fit the input buffer, else once per block. Without values, operands are taken as uniform
over their signed range (dense digits): pass --weights/--acts for real behaviour.
"""
from __future__ import annotations

import copy
import hashlib
import math
import zlib
from typing import Any

import numpy as np

from archsim.errors import WorkloadError
from archsim.units.base import (
    ComputeResult,
    ComputeUnit,
    GemmShape,
    OperandWidths,
    OpResult,
)
from archsim.units.bitweight.config import RESOLVE, BitweightConfig
from archsim.units.bitweight.encodings import canonical
from archsim.units.bitweight.engine import (
    Cost,
    Schedule,
    cycle_cost,
    fast_cost,
    histogram,
)

ADDR_SPAN = 1 << 34          # each operand role streams through its own region of the address space


def schedule_of(cfg: BitweightConfig, act_bits: int | None = None, weight_bits: int | None = None) -> Schedule:
    return Schedule(cfg.serial, canonical(cfg.encoding), cfg.skip_zeros, cfg.rows, cfg.cols, cfg.k_lanes,
                    cfg.lane_k, cfg.per_digit_pass, cfg.sync_rows, cfg.slack, cfg.bricks,
                    act_bits or cfg.act_bits, weight_bits or cfg.weight_bits, cfg.shift_window)


def gemm_view(op: Any, arr: np.ndarray, side: int) -> np.ndarray:
    """Input `side` (0: A, 1: B) of a GEMM-like op, stored in its einsum term's dim order, regrouped
    as [batch, M, K] (A) or [batch, K, N] (B)."""
    (ta, tb), tc = op._terms
    batch = [d for d in ta if d in tb and d in tc]
    k = [d for d in ta if d in tb and d not in tc]
    free = [d for d in (ta, tb)[side] if d in tc and d not in (tb, ta)[side]]
    order = batch + (free + k if side == 0 else k + free)
    term = (ta, tb)[side]
    parts = (batch, free, k) if side == 0 else (batch, k, free)
    return arr.transpose([term.index(d) for d in order]).reshape(*(math.prod(op.dims[d] for d in p) for p in parts))


class BitweightUnit(ComputeUnit):
    """A PE array with the bit-weight loop explicit: see archsim/units/bitweight/engine.py."""

    kind = "bitweight"
    config_model = BitweightConfig
    side = "compute"
    energy_actions = {"mac": "unit energy.mac: per MAC", "digit": "unit energy.digit: per busy lane-cycle",
                      "cycle": "unit energy.cycle: per array cycle"}

    def __init__(self, name: str, cfg: BitweightConfig, clock_hz: float = 1e9,
                 energy_pj: dict[str, float] | None = None):
        super().__init__(name, cfg, clock_hz, energy_pj)
        self.schedule = schedule_of(cfg)
        self.profile: tuple[np.ndarray | None, np.ndarray | None] = (None, None)   # value histograms

    def with_values(self, a: np.ndarray | None, w: np.ndarray | None) -> BitweightUnit:
        """A copy whose shape-only cost (`compute`, what the mapper scores tiles with) takes the operands'
        digit statistics from these values' histograms; cache keys include them."""
        u = copy.copy(self)
        s = self.schedule
        u.profile = (None if a is None else histogram(a, s.act_bits),
                     None if w is None else histogram(w, s.weight_bits))
        return u

    def config_key(self) -> Any:
        key = super().config_key()
        if all(p is None for p in self.profile):
            return key
        digest = hashlib.sha1(b"".join(np.round(p, 12).tobytes() for p in self.profile if p is not None)).hexdigest()
        return {"cfg": key, "values": digest}

    # -- contract ------------------------------------------------------------------------------
    def supports(self, op: Any) -> bool:
        return bool(getattr(op, "is_gemm", False))

    def owns(self, op: Any) -> bool:
        return self.supports(op)

    @property
    def peak_macs_per_cycle(self) -> int:
        """MACs per cycle at best: every digit zero (a step still costs 1, per pass with per-digit
        passes), at the narrowest precisions the PE runs (Bit Fusion fuses most MACs at 2 x 2 bits)."""
        cfg = self.cfg
        best = 0
        for ab in cfg.act_precisions or [cfg.act_bits]:
            for wb in cfg.weight_precisions or [cfg.weight_bits]:
                s = schedule_of(cfg, ab, wb)
                lanes = s.rows * s.cols * s.k_lanes
                if s.skip_zeros:
                    best = max(best, lanes * s.lane_k // (s.table().positions if s.per_digit_pass else 1))
                else:
                    per, c = s.dense_lane()
                    best = max(best, lanes * per // c)
        return best

    def operand_widths(self) -> OperandWidths:
        return OperandWidths(self.cfg.act_bits, self.cfg.weight_bits, 32)

    def tile_quanta(self) -> tuple[int, ...]:
        return (self.cfg.rows, self.cfg.cols)

    def action_energy_pj(self, action: str) -> float:
        return float(getattr(self.cfg.energy, action, 0.0) or 0.0)

    def compute(self, g: GemmShape, fidelity: str = "fast") -> ComputeResult:
        """Shape-only cost (placement, the mapper, sweeps): expected cycles for operands drawn from the
        bound value histograms (`with_values`), else uniform over their range."""
        s = self.schedule
        pa, pw = (p if p is not None else _flat(b) for p, b in zip(self.profile, (s.act_bits, s.weight_bits)))
        c = fast_cost(s, g.M, g.N, g.K, g.batch, pa, pw)
        # the serial operand is read once per pass of `cols` rows of the other one, which is read once
        wt = self.cfg.serial == "weight"
        passes = -(-(g.M if wt else g.N) // self.cfg.cols)
        a_reads, w_reads = g.batch * g.M * g.K, g.batch * g.K * g.N
        return ComputeResult(cycles=self._cycles(c, g), macs=g.macs, folds=c.steps, utilization=0.0,
                             sram_reads={"ifmap": a_reads * (1 if wt else passes),
                                         "filter": w_reads * (passes if wt else 1)},
                             sram_writes={"ofmap": g.batch * g.M * g.N},
                             energy_pj=self._energy(c, g.macs), detail=self._detail(c, "fast"))

    def estimate_s(self, op: Any) -> float | None:
        return self.compute(op.as_gemm(), "fast").cycles / self.clock_hz if self.supports(op) else None

    # -- the model -----------------------------------------------------------------------------
    def cost(self, g: GemmShape, a: np.ndarray | None, w: np.ndarray | None, fidelity: str,
             schedule: Schedule | None = None, bits: tuple[int, int] | None = None) -> Cost:
        """Engine cost of the GEMM: exact from a [batch, M, K] and w [batch, K, N] (cycle), or expected
        from their histograms (fast); a missing operand is uniform over its `bits` (default: the
        schedule's widths)."""
        s = schedule or self.schedule
        ab, wb = bits or (s.act_bits, s.weight_bits)
        if fidelity == "cycle":
            a = a if a is not None else _uniform((g.batch, g.M, g.K), ab, "A")
            w = w if w is not None else _uniform((g.batch, g.K, g.N), wb, "B")
            return cycle_cost(s, a, w)
        pa = histogram(a, s.act_bits) if a is not None else _widen(_flat(ab), ab, s.act_bits)
        pw = histogram(w, s.weight_bits) if w is not None else _widen(_flat(wb), wb, s.weight_bits)
        return fast_cost(s, g.M, g.N, g.K, g.batch, pa, pw)

    def _cycles(self, c: Cost, g: GemmShape) -> int:
        """Engine cycles, plus loading each stationary weight block, pipeline fill/drain and the CPA."""
        return (int(math.ceil(c.cycles - 1e-9)) + self.weight_load_cycles(g) + self.cfg.latency_cycles
                + RESOLVE[self.cfg.resolve][1])

    def weight_load_cycles(self, g: GemmShape) -> int:
        """Cycles spent loading stationary weights (`weight_load_cycles` per block of k_lanes x cols
        weights, not overlapped with compute), for designs whose weights are not the serial operand."""
        cfg = self.cfg
        if not cfg.weight_load_cycles or cfg.serial == "weight":
            return 0
        return g.batch * -(-g.K // cfg.k_lanes) * -(-g.N // cfg.cols) * cfg.weight_load_cycles

    def _energy(self, c: Cost, macs: int) -> dict[str, float]:
        e = self.cfg.energy
        return {"mac": macs * e.mac, "digit": c.busy_lane_cycles * e.digit, "cycle": c.cycles * e.cycle}

    def _detail(self, c: Cost, fidelity: str) -> dict[str, Any]:
        return {"fidelity": fidelity, "engine_cycles": round(float(c.cycles), 3), "steps": c.steps,
                "mean_cycles_per_step": round(c.mean_step_cycles, 4), "sync_stall_share": round(c.stall_share, 4),
                "bit_parallel_cycles": c.bit_parallel_cycles, "speedup_vs_bit_parallel": round(c.speedup, 4),
                "frequency_class": RESOLVE[self.cfg.resolve][0]}

    def _schedule_for(self, op: Any) -> Schedule:
        """The schedule at the op's operand widths (a PE with several precisions picks the op's)."""
        a, b = op.operands[0], op.operands[1]
        cfg = self.cfg
        bits = []
        for o, key, own, allowed in ((a, "act_bits", cfg.act_bits, cfg.act_precisions),
                                     (b, "weight_bits", cfg.weight_bits, cfg.weight_precisions)):
            if allowed is not None:
                if o.bits not in allowed:
                    raise WorkloadError(f"unit {self.name!r}: op {op.name!r} operand {o.name!r} is {o.bits}-bit; "
                                        f"{key} runs only {allowed} (set --bits)")
                bits.append(o.bits)
            elif o.bits > own:
                raise WorkloadError(f"unit {self.name!r}: op {op.name!r} operand {o.name!r} is {o.bits}-bit, "
                                    f"wider than the unit's {key} {own} (set --bits {own})")
            else:
                bits.append(own)
        return schedule_of(cfg, *bits)

    def run_op(self, op: Any, ctx: Any) -> OpResult:
        g = op.as_gemm()
        s = self._schedule_for(op)
        a_op, b_op = op.operands[0], op.operands[1]
        pmf = getattr(ctx, "value_pmf", None)
        if ctx.fidelity == "fast" and callable(pmf):   # histograms suffice: nothing is drawn
            pa, pw = pmf(op, a_op.name), pmf(op, b_op.name)
            given = pa is not None or pw is not None
            pa = pa if pa is not None else _flat(a_op.bits)     # no values: uniform over the op's width
            pw = pw if pw is not None else _flat(b_op.bits)
            c = fast_cost(s, g.M, g.N, g.K, g.batch, _widen(pa, a_op.bits, s.act_bits),
                          _widen(pw, b_op.bits, s.weight_bits))
        else:
            a, w = ctx.values(op, a_op.name), ctx.values(op, b_op.name)
            given = a is not None or w is not None
            if given:
                a, w = self._views(op, a, w, s)
            c = self.cost(g, a, w, ctx.fidelity, s, (a_op.bits, b_op.bits))
        cycles = self._cycles(c, g)
        tiles, traffic, sram = self._tiles(op, g, ctx, ctx.clock_ps(cycles))
        pipe = ctx.pipeline(tiles)
        detail = self._detail(c, ctx.fidelity)
        detail["weight_load_cycles"] = self.weight_load_cycles(g)
        detail["values"] = "given" if given else "uniform (no values given)"
        return OpResult(pipe.total_ps, pipe.compute_ps, op.macs, traffic, sram[0], sram[1],
                        self._energy(c, op.macs), f"{self.cfg.organisation} {self.cfg.serial}-serial "
                        f"{self.schedule.encoding} ({len(tiles)} blocks)", detail)

    def _views(self, op: Any, a: np.ndarray | None, w: np.ndarray | None, s: Schedule):
        """GEMM views of the given values. An operand stored in another layout than its einsum term (a
        conv's input before im2col) is redrawn i.i.d. from its own histogram in the GEMM view."""
        g = op.as_gemm()
        out = []
        for side, (arr, shape, bits) in enumerate(((a, (g.batch, g.M, g.K), s.act_bits),
                                                    (w, (g.batch, g.K, g.N), s.weight_bits))):
            o, term = op.operands[side], op._terms[0][side]
            if arr is None:
                out.append(None)
            elif "".join(o.dims) == term:
                out.append(gemm_view(op, arr, side))
            else:
                rng = np.random.default_rng(zlib.crc32(f"{op.name}.{o.name}".encode()))
                values = np.arange(-(1 << (bits - 1)), 1 << (bits - 1))
                out.append(rng.choice(values, size=shape, p=histogram(arr, bits)))
        return out[0], out[1]

    def _tiles(self, op: Any, g: GemmShape, ctx: Any, compute_ps: int):
        """Weight-stationary column blocks: (tiles, traffic per level, (SRAM read B, SRAM write B))."""
        from archsim.units.bitweight.tiles import weight_stationary_tiles

        return weight_stationary_tiles(op, g, ctx, compute_ps, self.cfg.cols)


def _widen(p: np.ndarray, bits: int, to: int) -> np.ndarray:
    """A pmf over `bits`-bit values as one over the unit's wider `to`-bit range (zeros outside)."""
    if bits == to:
        return p
    out = np.zeros(1 << to)
    off = (1 << (to - 1)) - (1 << (bits - 1))
    out[off:off + len(p)] = p
    return out


def _flat(bits: int) -> np.ndarray:
    return np.full(1 << bits, 1.0 / (1 << bits))


def _uniform(shape: tuple[int, ...], bits: int, name: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(f"uniform.{name}.{shape}".encode()))
    return rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=shape)
