"""Mixture-of-experts routing: how many tokens each expert gets, and the ops that follow.

Which experts a token picks depends on the data, which we do not have; the lowering therefore
takes either an explicit histogram (tokens per expert, e.g. measured) or an imbalance knob:
expert i gets a share proportional to (i+1)^-imbalance of the B*S*k assignments (0 = balanced,
larger = more skewed, Zipf-like), no expert receiving more than B*S tokens because a token
picks k *distinct* experts. Costs that depend on the histogram: the expert GEMM shapes and the
weight bytes (only experts that receive a token are read).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

from archsim.errors import WorkloadError


def expert_loads(tokens: int, experts: int, top_k: int, imbalance: float = 0.0,
                 histogram: Sequence[int] | None = None) -> list[int]:
    """Tokens routed to each expert; sums to tokens * top_k, each entry at most `tokens`."""
    total = tokens * top_k
    if histogram is not None:
        h = list(histogram)
        if len(h) != experts or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in h):
            raise WorkloadError(f"expert histogram must list {experts} non-negative integers, got {h!r}")
        if sum(h) != total or max(h) > tokens:
            raise WorkloadError(f"expert histogram {h!r} must sum to tokens x top_k = {tokens} x {top_k} = {total} "
                                f"with no expert above {tokens} tokens")
        return h
    if not (isinstance(imbalance, (int, float)) and math.isfinite(imbalance) and imbalance >= 0):
        raise WorkloadError(f"MoE imbalance must be a finite number >= 0, got {imbalance!r}")
    weight = [(i + 1) ** -float(imbalance) for i in range(experts)]
    loads, open_, left = [0] * experts, list(range(experts)), total
    while left > 0:          # water-filling: share out, cap at `tokens`, re-share the excess
        w_sum = sum(weight[i] for i in open_)
        share = {i: left * weight[i] / w_sum for i in open_}
        full = [i for i in open_ if loads[i] + share[i] >= tokens]
        if full:
            for i in full:
                left -= tokens - loads[i]
                loads[i] = tokens
            open_ = [i for i in open_ if i not in full]
            continue
        floor = {i: int(share[i]) for i in open_}
        for i in open_:
            loads[i] += floor[i]
        rest = max(0, left - sum(floor.values()))
        for i in sorted(open_, key=lambda i: (floor[i] - share[i], i))[:rest]:   # largest remainder
            loads[i] += 1
        left = 0
    return loads


def load_groups(loads: Sequence[int]) -> list[tuple[int, int]]:
    """(tokens per expert, experts with that load), heaviest first, idle experts dropped."""
    return sorted(((m, n) for m, n in Counter(loads).items() if m > 0), reverse=True)
