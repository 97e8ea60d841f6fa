"""What every compute unit answers: can it run an op, and what does a GEMM-shaped piece of it cost."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archsim.errors import WorkloadError


@dataclass(frozen=True)
class GemmShape:
    """C[M,N] = A[M,K] @ B[K,N], repeated `batch` times (independent problems, e.g. attention heads)."""

    M: int
    N: int
    K: int
    batch: int = 1

    def __post_init__(self) -> None:
        for k in ("M", "N", "K", "batch"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise WorkloadError(f"GEMM dimension {k} must be a positive integer, got {v!r}")

    @property
    def macs(self) -> int:
        return self.M * self.N * self.K * self.batch

    def __str__(self) -> str:
        b = f"{self.batch}x" if self.batch > 1 else ""
        return f"{b}{self.M}x{self.N}x{self.K}"


@dataclass
class ComputeResult:
    """Stall-free cost of one GEMM-shaped piece of work on one unit, in the unit's own clock."""

    cycles: int
    macs: int
    folds: int
    utilization: float
    sram_reads: dict[str, int] = field(default_factory=dict)   # elements, per buffer
    sram_writes: dict[str, int] = field(default_factory=dict)  # elements, per buffer
    energy_pj: dict[str, float] = field(default_factory=dict)  # per action
    detail: dict[str, Any] = field(default_factory=dict)
    # Cycles until the unit can start the next piece of work. A pipelined unit accepts the next tile
    # before this one's results have drained: occupancy < cycles. None means no overlap (= cycles).
    occupancy_cycles: int | None = None

    @property
    def issue_cycles(self) -> int:
        """Cycles this work holds the unit's input side (the next tile may start after them)."""
        return self.cycles if self.occupancy_cycles is None else self.occupancy_cycles

    @property
    def tail_cycles(self) -> int:
        """Cycles from the end of the issue interval until the last result is written."""
        return self.cycles - self.issue_cycles

    @property
    def total_energy_pj(self) -> float:
        return float(sum(self.energy_pj.values()))


class ComputeUnit:
    """Base class: subclasses set `kind` and implement `supports` and `compute`."""

    kind = "abstract"
    peak_macs_per_cycle = 0  # MACs per cycle at best; the design's peak for utilisation sums these

    def __init__(self, name: str, clock_hz: float):
        self.name = name
        self.clock_hz = clock_hz

    def supports(self, op: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def compute(self, g: GemmShape, fidelity: str = "fast") -> ComputeResult:  # pragma: no cover
        raise NotImplementedError
