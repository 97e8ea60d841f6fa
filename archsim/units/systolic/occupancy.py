"""Where a GEMM's work sits on an R x C array, and why PEs idle: the per-layer view a CNN architect
reads (DRACO-style studies of depthwise layers).

The dataflow places two GEMM dims on the array (os: M rows, N columns; ws: K rows, N columns; is:
K rows, M columns) and streams the third. Mapping efficiency is the fraction of PE slots the folds
fill: S_r * S_c / (ceil(S_r / R) * R * ceil(S_c / C) * C); a fold that streams fewer than R
values also leaves PEs waiting, for the R cycles a fold needs to drain (os) or to load its
stationary rows (ws, is) (docs/systolic_pipelined.md). A depthwise convolution is `groups`
GEMMs of N = 1 (one output channel each): a plain array broadcasts one input row to every column,
so channels cannot share a pass and run one after another, in one column. With K MACs per PE a
row side of ws/is holds R*K reduction terms, and an os PE takes K terms a cycle (idle MACs when K
does not divide the reduction).
"""
from __future__ import annotations

from typing import Any

from archsim.units.base import GemmShape
from archsim.units.systolic.folds import cdiv, spatial_map

PLACED = {"os": (("M", "output rows"), ("N", "output channels")),
          "ws": (("K", "reduction (filter taps x input channels)"), ("N", "output channels")),
          "is": (("K", "reduction (filter taps x input channels)"), ("M", "output rows"))}


def _side(extent: int, size: int, dim: str, what: str, side: str) -> str | None:
    if extent < size:
        return f"{dim}={extent} ({what}) fills {extent} of {size} {side}"
    if extent % size:
        return f"{dim}={extent} leaves its last fold {extent % size} of {size} {side}"
    return None


def spatial_occupancy(g: GemmShape, R: int, C: int, dataflow: str, tags: tuple[str, ...] = (),
                      kpe: int = 1) -> dict[str, Any]:
    s_r, s_c, _ = spatial_map(g.M, g.N, g.K, dataflow)
    t = spatial_map(g.M, g.N, g.K, dataflow, kpe)[2]
    deep = kpe if dataflow != "os" else 1                 # reduction terms a PE holds on the row side
    slots = cdiv(s_r, R * deep) * R * deep * cdiv(s_c, C) * C
    eff = s_r * s_c / slots * (g.K / (cdiv(g.K, kpe) * kpe) if dataflow == "os" else 1)
    (rd, rwhat), (cd, cwhat) = PLACED[dataflow]
    rows = "rows" if deep == 1 else f"reduction slots ({R} rows x {kpe} MACs)"
    reasons = [r for r in (_side(s_r, R * deep, rd, rwhat, rows), _side(s_c, C, cd, cwhat, "columns")) if r]
    if dataflow == "os" and g.K % kpe:
        reasons.append(f"K={g.K} leaves {kpe - g.K % kpe} of a PE's {kpe} MACs idle in its last step")
    if t < R:
        tdim = {"os": "K", "ws": "M", "is": "N"}[dataflow]
        streamed = f"K={g.K} ({t} steps of {kpe})" if dataflow == "os" and kpe > 1 else f"{tdim}={t}"
        reasons.append(f"{streamed} streams per fold, shorter than the {R}-cycle fold period "
                       f"({'draining R rows' if dataflow == 'os' else 'loading R stationary rows'})")
    if "depthwise" in tags:
        reasons.insert(0, f"depthwise: {g.batch} channels run one at a time (a column holds one channel; "
                          "the array feeds every column the same input)")
    elif "grouped" in tags:
        reasons.insert(0, f"grouped: {g.batch} groups run one at a time")
    array = f"{R}x{C} {dataflow}" + (f", {kpe} MACs/PE" if kpe > 1 else "")
    return {"array": array, "rows_used": min(cdiv(s_r, deep), R), "cols_used": min(s_c, C),
            "mapping_efficiency": round(eff, 6), "idle_reason": "; ".join(reasons) if reasons else None}
