"""The fused attention op as the attention unit sees it: ranks, GQA groups, causal masking, padding.

Rank names follow the FuseMax paper's Einsums: Q is indexed by p (query positions), K and V by m
(key/value positions); E is the Q/K head dimension, F the V head dimension.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archsim.errors import WorkloadError

RANKS = ("B", "H", "P", "M", "E", "F")


@dataclass(frozen=True)
class AttentionShape:
    """softmax(Q K^T) V for B batches x H query heads; K/V have `kv_heads` heads (GQA groups of H/kv)."""

    B: int
    H: int
    P: int
    M: int
    E: int
    F: int
    kv_heads: int | None = None
    causal: bool = False

    def __post_init__(self) -> None:
        for k in RANKS:
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise WorkloadError(f"attention rank {k} must be a positive integer, got {v!r}")
        kv = self.kv_heads
        if kv is not None and (isinstance(kv, bool) or not isinstance(kv, int) or kv < 1 or self.H % kv):
            raise WorkloadError(f"attention kv_heads must be a positive divisor of H={self.H}, got {kv!r}")

    @property
    def hkv(self) -> int:
        return self.kv_heads or self.H

    @property
    def group(self) -> int:
        """Query heads sharing one K/V head."""
        return self.H // self.hkv

    @classmethod
    def of(cls, op: Any) -> AttentionShape:
        """The shape of an IR op with `kind == "attention"` (dataflows.ir.AttentionOp.shape)."""
        s = op.shape
        return cls(B=s["B"], H=s["H"], P=s["P"], M=s["M"], E=s["E"], F=s["F"], kv_heads=s.get("kv_heads"),
                   causal=bool(s.get("causal", False)))
