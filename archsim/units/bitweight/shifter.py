"""A limited shifter (Bit-Pragmatic's two-stage shifting): the lanes of a brick may not drift apart.

Each cycle every lane of a brick would process its next non-zero digit (oneffset); with a limited
second-stage shifter a lane may do so only if that digit's position lies within `window` positions
of the brick's lowest pending one (the common first-stage shift). The lane holding the lowest
always proceeds, so a brick finishes; the others may wait. With an unlimited window this is the
plain law, max over lanes of their digit counts (floor 1).
"""
from __future__ import annotations

import numpy as np

from archsim.units.bitweight.encodings import Encoding

MC_BRICKS = 1 << 16     # bricks `fast` samples to get the brick-cycle distribution (fixed seed)


def patterns(enc: Encoding) -> np.ndarray:
    """Each value's non-zero digit positions as a bit mask (row v - lo)."""
    return enc.nz.astype(np.int64) @ (np.int64(1) << np.arange(enc.positions, dtype=np.int64))


def brick_cycles(enc: Encoding, idx: np.ndarray, window: int) -> np.ndarray:
    """Cycles of each brick, idx [..., lanes] of value indices (v - lo); floor 1."""
    m = patterns(enc)[idx]
    cycles = np.zeros(m.shape[:-1], np.int64)
    big = np.int64(1 << 30)
    while True:
        pending = m != 0
        busy = pending.any(axis=-1)
        if not busy.any():
            break
        low = m & -m
        pos = np.where(pending, np.log2(np.maximum(low, 1)).astype(np.int64), big)
        base = pos.min(axis=-1, keepdims=True)
        go = pending & (pos < base + window)
        m = np.where(go, m & (m - 1), m)
        cycles += busy
    return np.maximum(cycles, 1)


def brick_cdf(enc: Encoding, pmf: np.ndarray, lane_ops: list[int], window: int) -> np.ndarray:
    """CDF over 0.. of one brick's cycles for operands i.i.d. from `pmf` (lanes with 0 operands hold a
    zero): sampled with a fixed seed, so `fast` stays deterministic."""
    rng = np.random.default_rng(0)
    cdf = np.cumsum(pmf)
    idx = np.minimum(np.searchsorted(cdf, rng.random((MC_BRICKS, len(lane_ops))) * cdf[-1], side="right"),
                     len(pmf) - 1)
    idx[:, [i for i, n in enumerate(lane_ops) if n == 0]] = -enc.lo
    c = brick_cycles(enc, idx, window)
    return np.cumsum(np.bincount(c, minlength=enc.positions + 2) / len(c))
