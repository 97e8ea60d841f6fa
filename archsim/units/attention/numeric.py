"""The one-pass cascade run tile by tile in numpy, with FuseMax's partitioning (M0 keys x P0 queries), in
fp32; and the exp a PE without an exp unit computes with 6 MACs and 1 add.

The PE exp: after the subtract (the add), x <= 0 is scaled by log2(e) (MAC 1), split into an integer k
and a fraction f in [0, 1) (exponent-field work, no arithmetic op), and 2^f is a degree-5 polynomial in
Horner form (MACs 2-6); 2^k goes into the exponent field. The polynomial is the least-squares fit of 2^f
on [0, 1] at 64 Chebyshev nodes, fixed here so results are reproducible.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

_NODES = 0.5 - 0.5 * np.cos(np.pi * (np.arange(64) + 0.5) / 64)
EXP2_POLY = np.polyfit(_NODES, np.exp2(_NODES), 5).astype(np.float32)     # highest degree first
LOG2E = np.float32(1.4426950408889634)


def pe_exp(x: np.ndarray) -> np.ndarray:
    """exp(x) for x <= 0 (or -inf) as the 2D/1D PEs compute it: 6 MACs after the subtract, fp32."""
    x = np.asarray(x, dtype=np.float32)
    y = x * LOG2E
    with np.errstate(invalid="ignore"):
        k = np.floor(y)
        f = np.where(np.isfinite(y), y - k, np.float32(0))
    acc = np.full_like(f, EXP2_POLY[0])
    for c in EXP2_POLY[1:]:
        acc = acc * f + c
    out = np.ldexp(acc, np.where(np.isfinite(k), k, 0).astype(np.int32))
    return np.where(np.isneginf(y), np.float32(0), out).astype(np.float32)


def reference(Q: np.ndarray, K: np.ndarray, V: np.ndarray, causal: bool = False) -> np.ndarray:
    """softmax(Q K^T) V per query, stable, in fp32 (no 1/sqrt(E): the max subtraction bounds exp)."""
    s = Q.astype(np.float32) @ K.astype(np.float32).T
    if causal:
        s = np.where(_mask(Q.shape[0], K.shape[0], 0, 0, Q.shape[0], K.shape[0]), s, -np.inf)
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return (e / e.sum(axis=1, keepdims=True)) @ V.astype(np.float32)


def _mask(p: int, m: int, p0: int, m0: int, P: int, M: int) -> np.ndarray:
    """Visible (query, key) pairs of a tile at (p0, m0): key <= query + M - P."""
    return (np.arange(m0, m0 + m)[None, :] <= (np.arange(p0, p0 + p)[:, None] + M - P))


def one_pass(Q: np.ndarray, K: np.ndarray, V: np.ndarray, M0: int, P0: int, causal: bool = False,
             exp: Callable[[np.ndarray], np.ndarray] = np.exp) -> np.ndarray:
    """Cascade 5 (FlashAttention-2 form) with the Einsums' names: per P0 query tile, for each live M0 key
    tile: BQK, LM, RM, SLN, SLD, SLNV, PRM, SPD, RD, SPNV, RNV; after the last key tile AV = RNV / RD."""
    Q, K, V = (a.astype(np.float32) for a in (Q, K, V))
    P, M = Q.shape[0], K.shape[0]
    out = np.empty((P, V.shape[1]), dtype=np.float32)
    for p0 in range(0, P, P0):
        q = Q[p0:p0 + P0]
        rm = np.full(q.shape[0], -np.inf, dtype=np.float32)
        rd = np.zeros(q.shape[0], dtype=np.float32)
        rnv = np.zeros((q.shape[0], V.shape[1]), dtype=np.float32)
        last_key = min(M, p0 + q.shape[0] + M - P) if causal else M
        for m0 in range(0, last_key, M0):
            bqk = q @ K[m0:m0 + M0].T
            if causal:
                bqk = np.where(_mask(q.shape[0], bqk.shape[1], p0, m0, P, M), bqk, -np.inf)
            lm = bqk.max(axis=1)
            new = np.maximum(rm, lm)
            sln = exp(bqk - new[:, None])
            sld = sln.sum(axis=1, dtype=np.float32)
            slnv = sln @ V[m0:m0 + M0]
            prm = exp(rm - new)
            rd = rd * prm + sld
            rnv = rnv * prm[:, None] + slnv
            rm = new
        out[p0:p0 + P0] = rnv / rd[:, None]
    return out
