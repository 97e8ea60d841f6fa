"""Off-chip bytes each variant moves, by tensor (read, write) and by phase.

Fused one-pass variants (fusemax, architecture, cascade): Q read once, the output written once, K and V
streamed once per resident P1 block (FuseMax's mapping p2 -> m1 -> p1). FLAT: its per-tile re-reads of
the operands it does not buffer, and the QK/A intermediates (on chip with a spilled share, or off chip
when a row block spills more than half: then weight-stationary row blocks, K/V once per block). Unfused:
every phase round-trips its intermediate through DRAM.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from archsim.units.attention.config import AttentionConfig
from archsim.units.attention.shape import AttentionShape
from archsim.units.attention.tiling import Geometry, cdiv, kv_positions, visible_keys

# Softmax buffer accesses of QK-sized data when FLAT keeps QK/A on chip: QK written, read for the max and
# for the exp; SN written, read for the sum and the divide; A written (7, as in the artifact's FLAT model).
FLAT_SPILL_ACCESSES = {"QK": (2, 1), "SN": (2, 1), "A": (0, 1)}


@dataclass
class Traffic:
    tensors: dict[str, tuple[float, float]] = field(default_factory=dict)   # tensor -> (read, write) bytes
    phases: dict[str, float] = field(default_factory=dict)                   # phase -> bytes
    notes: dict[str, object] = field(default_factory=dict)

    def add(self, phase: str, tensor: str, read: float = 0.0, write: float = 0.0) -> None:
        r, w = self.tensors.get(tensor, (0.0, 0.0))
        self.tensors[tensor] = (r + read, w + write)
        self.phases[phase] = self.phases.get(phase, 0.0) + read + write

    @property
    def read_bytes(self) -> float:
        return sum(r for r, _ in self.tensors.values())

    @property
    def write_bytes(self) -> float:
        return sum(w for _, w in self.tensors.values())

    @property
    def total(self) -> float:
        return self.read_bytes + self.write_bytes


def fused(shape: AttentionShape, cfg: AttentionConfig, geo: Geometry, p1: int) -> Traffic:
    w, bh = cfg.word_bytes, shape.B * shape.H
    kv = shape.B * shape.hkv * kv_positions(shape, cfg, geo, p1)
    t = Traffic(notes={"P1": p1, "kv_reloads": cdiv(shape.group * geo.Pt, p1)})
    t.add("all", "Q", read=bh * shape.P * shape.E * w)
    t.add("all", "K", read=kv * shape.E * w)
    t.add("all", "V", read=kv * shape.F * w)
    t.add("all", "O", write=bh * shape.P * shape.F * w)
    return t


def _tile_rows(shape: AttentionShape, cfg: AttentionConfig, geo: Geometry) -> np.ndarray:
    j = np.arange(geo.Pt, dtype=np.int64)
    return np.minimum(shape.P, (j + 1) * cfg.cols) - j * cfg.cols


def flat(shape: AttentionShape, cfg: AttentionConfig, geo: Geometry) -> Traffic:
    """FLAT's two dataflows (reconstructed from the artifact's flat_validation.csv): QK/A on chip, a whole
    head's QK when it fits the buffer, else row blocks of at most `flat_row_block` queries that fit, the
    share that does not fit spilled; or QK/A off chip in row blocks of `flat_row_block` queries (level0
    resolves `auto` by running both)."""
    w, bh, buf, M = cfg.word_bytes, shape.B * shape.H, cfg.buffer, shape.M
    inter = bh * geo.visible * w
    t = Traffic()
    if cfg.flat_intermediates != "offchip":
        if shape.P * M * w <= buf:
            block = shape.P
        else:
            block = max(cfg.cols, min(cfg.flat_row_block, buf // (M * w)) // cfg.cols * cfg.cols)
        spilled = 1.0 - min(1.0, buf / ((block * M + 2 * cfg.cols * cfg.rows) * w))
        kv_len = np.minimum(geo.live * cfg.rows, M)
        t.add("all", "Q", read=bh * shape.E * w * float((_tile_rows(shape, cfg, geo) * geo.live).sum()))
        t.add("all", "K", read=bh * shape.E * w * float(kv_len.sum()))
        t.add("all", "V", read=bh * shape.F * w * float(kv_len.sum()))
        for name, (reads, writes) in FLAT_SPILL_ACCESSES.items():
            t.add("all", name, read=reads * spilled * inter, write=writes * spilled * inter)
        t.notes.update(block=block, intermediates="on chip", spilled=spilled)
    else:
        block = cfg.flat_row_block
        ends = np.minimum(shape.P, np.arange(block, shape.P + block, block, dtype=np.int64)) - 1
        kv_len = float(visible_keys(shape, ends).sum())
        t.add("all", "Q", read=bh * shape.P * shape.E * w)
        t.add("all", "K", read=bh * shape.E * w * kv_len)
        t.add("all", "V", read=bh * shape.F * w * kv_len)
        t.add("all", "QK", read=inter, write=inter)
        t.add("all", "A", read=inter, write=inter)
        t.notes.update(block=block, intermediates="off chip", spilled=1.0)
    t.add("all", "O", write=bh * shape.P * shape.F * w)
    return t


def unfused(shape: AttentionShape, cfg: AttentionConfig, geo: Geometry) -> Traffic:
    """Each phase reads its inputs once and writes its output once (the artifact's Timeloop-mapper
    mappings do so at these sizes); an M-fiber larger than the buffer is re-read for the softmax's
    second and third passes (share `spilled`)."""
    w, bh = cfg.word_bytes, shape.B * shape.H
    inter = bh * geo.visible * w
    spilled = 1.0 - min(1.0, cfg.buffer / (shape.M * w))
    t = Traffic(notes={"spilled": spilled})
    t.add("qk", "Q", read=bh * shape.P * shape.E * w)
    t.add("qk", "K", read=bh * shape.M * shape.E * w)
    t.add("qk", "QK", write=inter)
    t.add("softmax", "QK", read=inter * (1 + 2 * spilled))
    t.add("softmax", "A", write=inter)
    t.add("av", "A", read=inter)
    t.add("av", "V", read=bh * shape.M * shape.F * w)
    t.add("av", "O", write=bh * shape.P * shape.F * w)
    return t


def traffic_for(shape: AttentionShape, cfg: AttentionConfig, geo: Geometry, p1: int | None) -> Traffic:
    if cfg.variant == "flat":
        return flat(shape, cfg, geo)
    if cfg.variant == "unfused":
        return unfused(shape, cfg, geo)
    assert p1 is not None
    return fused(shape, cfg, geo, p1)
