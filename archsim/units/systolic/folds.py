"""How a GEMM folds onto an R x C array: which dims sit on rows, on columns, and stream in time."""
from __future__ import annotations

DATAFLOWS = ("os", "ws", "is")


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def spatial_map(M: int, N: int, K: int, dataflow: str, kpe: int = 1) -> tuple[int, int, int]:
    """(S_r, S_c, T): GEMM dims placed on array rows, array columns, and streamed in time.

    With `kpe` MACs per PE the reduction counts in groups of kpe terms (one PE's dot product), so
    K enters as ceil(K / kpe): on rows (ws, is) or in time (os)."""
    K = cdiv(K, kpe)
    if dataflow == "os":
        return M, N, K
    if dataflow == "ws":
        return K, N, M
    if dataflow == "is":
        return K, M, N
    raise ValueError(f"dataflow must be one of {DATAFLOWS}, got {dataflow!r}")


def fold_issue_lower_bound(cfg, tiles, gemm):
    """Per tile (rows of M, N, K extents), lower bounds on the array's issue cycles summed over all
    steps, and on the longest step's (the full tile's: the fold law grows with every extent).

    This is the fold law per tile shape (full or edge along each dim): folds x max(T, R), exactly
    the pipelined array's occupancy and below SCALE-Sim's serial folds x (fill + T + drain) - 1."""
    import numpy as np

    R, C, df, kpe = cfg.rows, cfg.cols, cfg.dataflow, cfg.macs_per_pe
    full = (gemm.M, gemm.N, gemm.K)
    total, longest = np.zeros(len(tiles)), np.zeros(len(tiles))
    for edge in np.ndindex(2, 2, 2):                     # the <= 8 distinct tile shapes of a tile grid
        ext, count = [], np.ones(len(tiles), np.int64)
        for i, e in enumerate(edge):
            f, r = np.divmod(full[i], tiles[:, i])
            ext.append(np.maximum(r, 1) if e else tiles[:, i])
            count = count * ((r > 0) if e else f)
        s_r, s_c, t = spatial_map(*ext, df, kpe)
        per_step = -(-s_r // R) * -(-s_c // C) * np.maximum(t, R) - (cfg.timing == "scalesim")
        total += count * per_step
        longest = np.maximum(longest, np.where(count > 0, per_step, 0))
    return total * gemm.batch, longest
