"""Tile geometry of one head on an M0 x P0 array (padding, causal masking) and FuseMax's buffer tiling rule."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.errors import ConfigError, WorkloadError
from archsim.units.attention.config import AttentionConfig
from archsim.units.attention.shape import AttentionShape


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def visible_keys(shape: AttentionShape, queries: np.ndarray) -> np.ndarray:
    """Keys query p attends to: all M, or (causal, queries aligned to the last keys) p + M - P + 1."""
    if not shape.causal:
        return np.full(queries.shape, shape.M, dtype=np.int64)
    return np.clip(queries + (shape.M - shape.P) + 1, 0, shape.M)


@dataclass(frozen=True)
class Geometry:
    """Tiles of one head: `live[j]` key tiles p-tile j visits, `partial[j]` of them needing a mask."""

    Pt: int
    Mt: int
    live: np.ndarray
    partial: np.ndarray
    pad_P: int
    pad_M: int
    visible: int        # (m, p) pairs attended, summed over the head's queries

    @property
    def live_tiles(self) -> int:
        return int(self.live.sum())

    @property
    def partial_tiles(self) -> int:
        return int(self.partial.sum())


def geometry(shape: AttentionShape, cfg: AttentionConfig) -> Geometry:
    M0, P0 = cfg.rows, cfg.cols
    pad_P, pad_M = (-shape.P) % P0, (-shape.M) % M0
    if cfg.padding == "refuse" and (pad_P or pad_M):
        raise WorkloadError(f"attention P={shape.P}, M={shape.M} do not fill {M0}x{P0} tiles "
                            f"(P needs {pad_P} and M {pad_M} more) and `padding: refuse` is set")
    Pt, Mt = cdiv(shape.P, P0), cdiv(shape.M, M0)
    j = np.arange(Pt, dtype=np.int64)
    last = visible_keys(shape, np.minimum(shape.P, (j + 1) * P0) - 1)
    first = visible_keys(shape, j * P0)
    live = -(-last // M0)
    full = np.minimum(first, shape.M - shape.M % M0) // M0      # fully visible and fully real key tiles
    p = np.arange(shape.P, dtype=np.int64) if shape.causal else None
    visible = int(visible_keys(shape, p).sum()) if p is not None else shape.P * shape.M
    return Geometry(Pt, Mt, live, live - full, pad_P, pad_M, visible)


def divisors_desc(n: int) -> list[int]:
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]), reverse=True)


def query_words(cfg: AttentionConfig, shape: AttentionShape) -> int:
    """Words the buffer keeps per query of the resident P tile: Q, RM, RD, RNV; the one-pass cascade on
    FLAT hardware (+Cascade) also keeps the query's QK and SLN rows of the current key tile."""
    words = shape.E + shape.F + 2
    if cfg.variant == "cascade":
        words += 2 * cfg.rows
    return words


def p1_tiles(shape: AttentionShape, cfg: AttentionConfig, geo: Geometry) -> int:
    """FuseMax's rule: the largest P1 (P0-query tiles kept on chip, a divisor of a K/V group's query tiles)
    that fits in the buffer once one M0-row K and V tile is reserved. K and V stream once per P1 block."""
    w = cfg.word_bytes
    kv = cfg.rows * (shape.E + shape.F) * w
    if kv >= cfg.buffer:
        raise ConfigError(f"attention buffer {cfg.buffer} B is too small for one K/V tile "
                          f"({cfg.rows} rows x (E+F)={shape.E + shape.F} words x {w} B = {kv} B)")
    per_tile = query_words(cfg, shape) * w * cfg.cols
    fit = (cfg.buffer - kv) // per_tile
    if fit < 1:
        raise ConfigError(f"attention buffer {cfg.buffer} B holds one K/V tile ({kv} B) but not one tile of "
                          f"{cfg.cols} queries besides it ({per_tile} B)")
    rows = shape.group * geo.Pt
    return next(d for d in divisors_desc(rows) if d <= fit)


def kv_positions(shape: AttentionShape, cfg: AttentionConfig, geo: Geometry, p1: int) -> int:
    """K/V positions streamed per (batch, K/V head): each P1 block of the group's query tiles (heads of a
    GQA group one after another) reads every key tile any of its queries attends to."""
    rows = np.tile(geo.live, shape.group).reshape(-1, p1).max(axis=1)
    return int(np.minimum(rows * cfg.rows, shape.M).sum())
