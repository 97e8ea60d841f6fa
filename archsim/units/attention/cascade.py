"""Level 0, the cascade engine (`fast`): Einsum busy times from tile counts, the variant's schedule
expression, the buffer tiling rule and its DRAM traffic; latency = the schedule with DRAM as one more
overlapped (or, unfused, per-phase) term. This is the closed form behind the FuseMax artifact's figures,
stated for any shape, array size, GQA grouping, causal mask and padding.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archsim.errors import ConfigError
from archsim.units.attention.config import AttentionConfig
from archsim.units.attention.einsums import Einsum, cascade_for
from archsim.units.attention.schedule import SCHEDULES, evaluate, render
from archsim.units.attention.shape import AttentionShape
from archsim.units.attention.tiling import Geometry, cdiv, geometry, p1_tiles
from archsim.units.attention.traffic import Traffic, traffic_for

FUSED = ("fusemax", "architecture", "cascade")


@dataclass
class Level0:
    """One op on one unit: cycles in the unit's clock, seconds, busy time per Einsum and array, traffic."""

    variant: str
    clock_hz: float
    cycles: float               # latency
    compute_cycles: float       # the schedule with DRAM free
    dram_cycles: float          # all off-chip bytes at the bandwidth
    busy: dict[str, float]      # Einsum -> busy cycles on its array (whole numbers)
    arrays: dict[str, list[str]]
    traffic: Traffic
    geo: Geometry
    p1: int | None
    elements: dict[str, int]    # Einsum -> iterations executed (padded)
    energy_pj: dict[str, float] = field(default_factory=dict)
    schedule: str = ""
    tile_elems: int = 1         # M0 * P0

    @property
    def time_s(self) -> float:
        return self.cycles / self.clock_hz

    def array_busy(self, array: str) -> int:
        return int(sum(self.busy[n] for n in self.arrays[array]))

    @property
    def util_2d(self) -> float:
        return self.array_busy("2d") / self.cycles if self.cycles else 0.0

    @property
    def util_1d(self) -> float:
        return self.array_busy("1d") / self.cycles if self.cycles else 0.0

    @property
    def bound(self) -> str:
        return "dram" if self.dram_cycles > self.compute_cycles else "compute"

    def detail(self) -> dict[str, Any]:
        g = self.geo
        return {
            "variant": self.variant, "util_2d": self.util_2d, "util_1d": self.util_1d, "bound": self.bound,
            "compute_cycles": self.compute_cycles, "dram_cycles": self.dram_cycles, "P1": self.p1,
            "busy_cycles": dict(self.busy), "schedule": self.schedule,
            "tiles": {"P": g.Pt, "M": g.Mt, "live": g.live_tiles, "masked": g.partial_tiles},
            "padding": {"P": g.pad_P, "M": g.pad_M, "wasted_work": g.live_tiles * self.tile_elems / g.visible - 1.0},
            "traffic": {k: list(v) for k, v in self.traffic.tensors.items()},
            **{f"traffic_{k}": v for k, v in self.traffic.notes.items()},
        }


def _iterations(e: Einsum, shape: AttentionShape, cfg: AttentionConfig, geo: Geometry) -> tuple[int, int]:
    """(busy cycles, iterations) of Einsum `e` over all heads."""
    heads = shape.B * shape.H
    depth = {"E": shape.E, "F": shape.F, None: 1}[e.depth]
    beats = cdiv(cfg.cols, cfg.width_1d)           # 1D steps per row of P0 queries
    tiles = geo.partial_tiles if e.space == "mask" else geo.live_tiles
    if e.array == "2d" and e.space in ("mp", "mask"):
        steps = tiles                               # the whole M0 x P0 tile in one step
    elif e.array == "1d" and e.space == "mp":
        steps = tiles * cfg.rows * beats            # elementwise: M0 rows of P0 queries
    elif e.array == "1d" and e.space == "m1p":
        steps = tiles * beats
    elif e.array == "1d" and e.space == "p":
        steps = geo.Pt * beats
    else:  # pragma: no cover - a binding the tables never make
        raise ConfigError(f"Einsum {e.name}: space {e.space!r} cannot bind to the {e.array} array")
    busy = heads * steps * depth * e.cost
    per_head = {"mp": tiles * cfg.rows * cfg.cols, "mask": tiles * cfg.rows * cfg.cols,
                "m1p": tiles * cfg.cols, "p": geo.Pt * cfg.cols}[e.space]
    iters = heads * depth * per_head
    return busy, iters


def energy(lv: Level0, einsums: tuple[Einsum, ...], shape: AttentionShape, cfg: AttentionConfig) -> dict[str, float]:
    """pJ by action: compute ops from the Einsums' iterations, DRAM bytes, and global-buffer bytes (every
    off-chip byte staged through it, the operand tiles the arrays read per tile step, the running state
    the 1D array reads and writes, and on-chip softmax intermediates)."""
    en = cfg.energy
    out: dict[str, float] = {}
    for e in einsums:
        for action, n in e.actions:
            if action != "mask":
                out[action] = out.get(action, 0.0) + n * lv.elements[e.name] * getattr(en, action)
            else:
                out["max"] = out.get("max", 0.0) + n * lv.elements[e.name] * en.max
    tr, w = lv.traffic, cfg.word_bytes
    out["dram"] = tr.total * en.dram_byte
    heads, tiles = shape.B * shape.H, lv.geo.live_tiles
    buf_r, buf_w = tr.write_bytes, tr.read_bytes
    operand_words = cfg.cols * shape.E + cfg.rows * (shape.E + shape.F)
    buf_r += heads * tiles * operand_words * w
    if cfg.variant in FUSED:
        state = heads * tiles * cfg.cols * (shape.F + 2) * w
        buf_r, buf_w = buf_r + state, buf_w + state
    elif cfg.variant == "flat":
        kept = (1.0 - float(tr.notes.get("spilled", 0.0))) * heads * lv.geo.visible * w  # type: ignore[arg-type]
        buf_r, buf_w = buf_r + 4 * kept, buf_w + 3 * kept
    out["buffer_read"] = buf_r * en.buffer_read_byte
    out["buffer_write"] = buf_w * en.buffer_write_byte
    return out


def level0(shape: AttentionShape, cfg: AttentionConfig, bandwidth: float, clock_hz: float) -> Level0:
    """The closed form: latency, utilisation, busy time per Einsum, DRAM traffic and energy of one op.
    FLAT with `flat_intermediates: auto` searches as FLAT does: QK/A on chip (spilling what the buffer
    cannot hold) or off chip, whichever finishes first (a tie keeps them on chip)."""
    if bandwidth <= 0:
        raise ConfigError(f"attention unit: off-chip bandwidth must be positive, got {bandwidth}")
    if cfg.variant == "flat" and cfg.flat_intermediates == "auto":
        on, off = (_level0(shape, cfg.model_copy(update={"flat_intermediates": where}), bandwidth, clock_hz)
                   for where in ("onchip", "offchip"))
        return off if off.cycles < on.cycles else on
    return _level0(shape, cfg, bandwidth, clock_hz)


def _level0(shape: AttentionShape, cfg: AttentionConfig, bandwidth: float, clock_hz: float) -> Level0:
    geo = geometry(shape, cfg)
    einsums = cascade_for(cfg)
    busy: dict[str, float] = {}
    elements: dict[str, int] = {}
    arrays: dict[str, list[str]] = {"2d": [], "1d": []}
    for e in einsums:
        busy[e.name], elements[e.name] = _iterations(e, shape, cfg, geo)
        arrays[e.array].append(e.name)
    p1 = p1_tiles(shape, cfg, geo) if cfg.variant in FUSED else None
    tr = traffic_for(shape, cfg, geo, p1)

    def dram(phase: str | None) -> float:
        b = tr.total if phase is None else tr.phases.get(phase, 0.0)
        return b / bandwidth * clock_hz

    expr = SCHEDULES[cfg.variant]
    cycles = evaluate(expr, busy, arrays, dram, cfg.rows)
    compute = evaluate(expr, busy, arrays, lambda _p: 0.0, cfg.rows)
    lv = Level0(cfg.variant, clock_hz, cycles, compute, dram(None), busy, arrays, tr, geo, p1, elements,
                schedule=render(expr), tile_elems=cfg.rows * cfg.cols)
    lv.energy_pj = energy(lv, einsums, shape, cfg)
    return lv
