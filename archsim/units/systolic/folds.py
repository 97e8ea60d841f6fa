"""How a GEMM folds onto an R x C array: which dims sit on rows, on columns, and stream in time."""
from __future__ import annotations

DATAFLOWS = ("os", "ws", "is")


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def spatial_map(M: int, N: int, K: int, dataflow: str) -> tuple[int, int, int]:
    """(S_r, S_c, T): GEMM dims placed on array rows, array columns, and streamed in time."""
    if dataflow == "os":
        return M, N, K
    if dataflow == "ws":
        return K, N, M
    if dataflow == "is":
        return K, M, N
    raise ValueError(f"dataflow must be one of {DATAFLOWS}, got {dataflow!r}")
