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
    def parse(cls, text: str) -> AttentionShape:
        """`B=64,H=12,P=1024,M=1024,E=64,F=64[,kv=4][,causal=1]` -> shape (clear error on anything else)."""
        vals: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, val = part.partition("=")
            key = key.strip()
            if not sep or key not in RANKS + ("kv", "kv_heads", "causal"):
                raise WorkloadError(f"--attention: expected KEY=VALUE with KEY in {', '.join(RANKS)}, kv, causal;"
                                    f" got {part!r}")
            try:
                num = int(val)
            except ValueError:
                raise WorkloadError(f"--attention: {key} must be an integer, got {val!r}") from None
            vals["kv_heads" if key.startswith("kv") else key] = bool(num) if key == "causal" else num
        missing = [k for k in RANKS if k not in vals]
        if missing:
            raise WorkloadError(f"--attention: missing {', '.join(missing)} (need B,H,P,M,E,F)")
        return cls(**vals)

    @classmethod
    def of(cls, op: Any) -> AttentionShape:
        """The shape of an IR op with `kind == "attention"` (attributes or a `dims` mapping)."""
        dims = getattr(op, "dims", None) or {}

        def get(k: str, default: Any = None) -> Any:
            return dims.get(k, getattr(op, k, default)) if isinstance(dims, dict) else getattr(op, k, default)

        kv = get("kv_heads", get("Hkv"))
        return cls(B=get("B"), H=get("H"), P=get("P"), M=get("M"), E=get("E"), F=get("F"),
                   kv_heads=kv, causal=bool(get("causal", False)))
