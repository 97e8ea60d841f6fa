"""SCALE-Sim v3 compute timing as closed forms (CALC mode, stall-free), quirks included.

Each dataflow maps A(MxK) @ B(KxN) onto the R x C array as S_r rows x S_c columns of spatial
work with T streamed steps per fold. SCALE-Sim runs folds strictly one after another (Q2), sizes
fill and drain by the array, not by the used part (Q3), and reports the index of the last cycle
rather than a count (Q1). The SRAM counters reproduce its own, including the OS ofmap-write
inflation (Q7) and the WS/IS compute-util denominator (Q8).
"""
from __future__ import annotations

from dataclasses import dataclass
from archsim.units.systolic.folds import cdiv as _cdiv, spatial_map





@dataclass(frozen=True)
class ScalesimTiming:
    """SCALE-Sim v3's per-layer compute report and SRAM counters (elements)."""

    compute_cycles: int          # SCALE-Sim "Total Cycles" in CALC mode: folds * fold_cycles - 1
    folds: int
    fold_cycles: int             # L_f
    row_folds: int
    col_folds: int
    mapping_eff_pct: float
    compute_util_pct: float
    overall_util_pct: float
    sram_ifmap_reads: int
    sram_filter_reads: int
    sram_ofmap_writes: int


def scalesim_cycles(M: int, N: int, K: int, R: int, C: int, dataflow: str) -> ScalesimTiming:
    """SCALE-Sim v3's compute cycles, utilisations and SRAM counts for one GEMM, exactly."""
    for k, v in (("M", M), ("N", N), ("K", K), ("R", R), ("C", C)):
        if int(v) != v or v < 1:
            raise ValueError(f"{k} must be a positive integer, got {v!r}")
    s_r, s_c, t = spatial_map(M, N, K, dataflow)
    row_folds, col_folds = _cdiv(s_r, R), _cdiv(s_c, C)
    folds = row_folds * col_folds
    if dataflow == "os":
        fold_cycles = t + R + C - 2               # stream, then row + column skew; drain overlapped
        util_den = fold_cycles
    else:
        fold_cycles = 2 * R + C + t - 2           # load stationary tile, stream, skew out
        util_den = fold_cycles + C - 1            # Q8
    cycles = folds * fold_cycles - 1              # Q1
    mapping = (s_r / (R * row_folds)) * (s_c / (C * col_folds))
    macs = M * N * K
    if dataflow == "os":
        ifmap, filt = M * K * _cdiv(N, C), K * N * _cdiv(M, R)
        ofmap = M * N + folds * (R + C)           # Q7: SCALE-Sim's counter bug
    elif dataflow == "ws":
        ifmap, filt, ofmap = M * K * _cdiv(N, C), K * N, M * N * _cdiv(K, R)
    else:
        ifmap, filt, ofmap = M * K, K * N * _cdiv(M, C), M * N * _cdiv(K, R)
    return ScalesimTiming(
        compute_cycles=cycles, folds=folds, fold_cycles=fold_cycles,
        row_folds=row_folds, col_folds=col_folds,
        mapping_eff_pct=100.0 * mapping,
        compute_util_pct=100.0 * mapping * t / util_den,
        overall_util_pct=100.0 * macs / (max(cycles, 1) * R * C),  # 1x1x1 on 1x1 OS: 0 cycles
        sram_ifmap_reads=ifmap, sram_filter_reads=filt, sram_ofmap_writes=ofmap,
    )
