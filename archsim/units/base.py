"""The compute-unit contract: what it runs, what a GEMM tile or a whole op costs, what the mapper may ask."""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, Sequence

from archsim.errors import ArchsimError, WorkloadError

if TYPE_CHECKING:
    from archsim.config.schema import DesignConfig
    from archsim.engine import Engine


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


class OperandWidths(NamedTuple):
    """Widths in bits a unit's datapath takes natively: inputs, weights, accumulator (partial sums)."""

    input: int
    weight: int
    acc: int


@dataclass
class OpResult:
    """What a unit that owns a whole op (`run_op`) reports: wall time, its own busy time, bytes that
    crossed each off-chip level's external port, on-chip bytes, energy by action, and a detail dict
    shown in the report row."""

    time_ps: int
    busy_ps: int
    macs: int = 0
    traffic: dict[str, tuple[int, int]] = field(default_factory=dict)   # level -> (read B, written B)
    sram_read_bytes: int = 0
    sram_write_bytes: int = 0
    energy_pj: dict[str, float] = field(default_factory=dict)
    mapping: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class SystemView(Protocol):
    """What units read of the run's archsim.system.System (in `run_op` and `check_workload`)."""

    @property
    def design(self) -> DesignConfig:
        """The validated design: memory homes and levels, its name."""

    @property
    def engine(self) -> Engine:
        """The run's event engine, for units that start work on it (cycle)."""

    def level(self, name: str) -> Any:
        """The off-chip level called `name` (`offchip` or one of `memory.levels`), links included."""

    def sram(self, role: str) -> Any | None:
        """The SRAM config of an operand role (`ifmap`, `filter`, `ofmap`), or None if not declared."""

    @property
    def offchip_peak_bytes_per_s(self) -> float:
        """The off-chip port's peak bandwidth (all levels behind it)."""


class OpContext(Protocol):
    """What the runner hands a unit that runs an op whole (archsim.runner builds it)."""

    fidelity: str

    @property
    def system(self) -> SystemView:
        """The run's archsim.system.System, as units may read it."""

    def level(self, name: str) -> Any:
        """The off-chip memory level called `name` (a memory.request.MemoryLevel)."""

    def home(self, role: str) -> str:
        """The level an operand role (weight, kv_cache, activation, output) lives on."""

    def clock_ps(self, cycles: int) -> int:
        """`cycles` of the unit's clock in picoseconds."""

    def pipeline(self, tiles: Sequence[Any]) -> Any:
        """Run dataflows.schedule.Tile objects through the shared double-buffered tile pipeline."""

    def values(self, op: Any, operand: str) -> Any:
        """The operand's values (a numpy array) when the workload gives them, else None."""

    def value_pmf(self, op: Any, operand: str) -> Any:
        """The probability of each value lo..hi of the operand's signed range (a distribution's pmf,
        or a file's histogram; nothing is drawn), or None without values: what a `fast` model needs."""


class ComputeUnit(abc.ABC):
    """The contract every compute unit answers; the mapper, bounds, cost model, placement and runner
    ask only these. A unit kind declares, as class attributes, its `kind`, its `config_model` (a
    StrictModel with `kind: Literal["<kind>"]`), the `side` of memory it sits on and the
    `energy_actions` it prices, and registers itself with archsim.units.registry.register_unit."""

    kind: ClassVar[str] = "abstract"
    config_model: ClassVar[type | None] = None
    side: ClassVar[str] = "compute"                 # "compute" | "memory"
    energy_actions: ClassVar[dict[str, str]] = {}   # energy-table key -> what one action is
    maps_gemms: ClassVar[bool] = True               # False: GEMM-like ops it supports are streamed
                                                    # (stream_compute), not tiled by the mapper

    def __init__(self, name: str, cfg: Any = None, clock_hz: float = 1e9,
                 energy_pj: dict[str, float] | None = None):
        self.name = name
        self.cfg = cfg
        self.clock_hz = clock_hz
        self.energy = dict(energy_pj or {})

    # -- what it runs ------------------------------------------------------------------------------
    @abc.abstractmethod
    def supports(self, op: Any) -> bool:
        """True when this unit can run `op` (an IR op, or anything with a `kind`)."""

    def owns(self, op: Any) -> bool:
        """True when the unit runs `op` whole through `run_op` rather than as mapped GEMM tiles."""
        return False

    def check_workload(self, ops: Sequence[Any], system: SystemView) -> None:
        """Refuse a whole workload before anything runs (a clear error naming the key), e.g. a model whose
        weights cannot sit where a memory-side unit computes on them; most units accept any."""
        return None

    def run_op(self, op: Any, ctx: OpContext) -> OpResult:
        """Run a whole op at `ctx.fidelity`; units whose `owns` is ever True implement this."""
        raise WorkloadError(f"unit {self.name!r} ({self.kind}) does not run whole ops")

    def compute(self, g: GemmShape, fidelity: str = "fast") -> ComputeResult:
        """Stall-free cost of one GEMM-shaped tile (the shared mapper path)."""
        raise WorkloadError(f"unit {self.name!r} ({self.kind}) does not run GEMM tiles")

    def stream_compute(self, op: Any) -> ComputeResult:
        """Cost of a non-GEMM op (softmax, a norm, an element-wise op) whose operands stream through the
        shared tile pipeline; units that support such ops without owning them implement this."""
        raise WorkloadError(f"unit {self.name!r} ({self.kind}) supports op {getattr(op, 'name', op)!r} of kind "
                            f"{getattr(op, 'kind', '?')!r} but states no cost for it (stream_compute or run_op)")

    @classmethod
    def summary(cls, name: str, rows: list[dict[str, Any]], tokens: int) -> list[str]:
        """Lines `archsim run` prints for unit `name` from its report rows (e.g. a flash unit's channel
        bytes and utilisation); none by default."""
        return []

    def estimate_s(self, op: Any) -> float | None:
        """Seconds the unit needs for `op` alone at `fast` fidelity (placement), or None if unknown."""
        as_gemm = getattr(op, "as_gemm", None)
        if self.owns(op) or not callable(as_gemm):
            return None
        try:
            g = as_gemm()
        except ArchsimError:
            return None
        return self.compute(g, "fast").cycles / self.clock_hz

    # -- what the mapper and the bounds ask -------------------------------------------------------
    @property
    def peak_macs_per_cycle(self) -> int:
        """MACs per cycle at best; the design's peak for utilisation sums these (0: not a MAC engine)."""
        return 0

    def gemm_macs_per_cycle(self) -> int:
        """MACs per cycle the mapper's roofline assumes when this unit runs a GEMM."""
        return self.peak_macs_per_cycle

    def operand_widths(self) -> OperandWidths:
        """Native operand widths in bits."""
        return OperandWidths(8, 8, 32)

    def widening(self, a_bits: int, b_bits: int) -> Any:
        """How GEMM operands of a_bits x b_bits run (archsim/units/widths.py `Widening`): the number
        of native passes, or a WorkloadError for widths the unit cannot run. Default: any width
        natively (units whose own model prices widths, e.g. bit-serial ones)."""
        from archsim.units.widths import Widening

        return Widening(1, 1)

    def tile_quanta(self) -> tuple[int, ...]:
        """Tile extents the mapper prefers multiples of (an array's rows and columns)."""
        return ()

    @property
    def dataflow(self) -> str | None:
        """The dataflow the unit runs (None for units without a choice of dataflow)."""
        return None

    def with_dataflow(self, dataflow: str) -> "ComputeUnit":
        """A copy of this unit running `dataflow` (the mapper tries each allowed one)."""
        if dataflow == self.dataflow:
            return self
        raise WorkloadError(f"unit {self.name!r} ({self.kind}) cannot run dataflow {dataflow!r}")

    def spatial_use(self, gemm: GemmShape, tags: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """How the GEMM occupies the unit's PEs: the fraction of PE slots its folds fill (mapping
        efficiency) and, when PEs sit idle, why (shown in the op's report row); None when the unit
        has no spatial array to speak of. `tags` are the op's (e.g. "depthwise")."""
        return None

    def issue_cycles_lower_bound(self, tiles: Any, gemm: GemmShape) -> tuple[Any, Any] | None:
        """Per tile (rows of M, N, K extents), lower bounds on issue cycles summed over all steps and on
        the longest step's, or None (no bound: the mapper prunes less)."""
        return None

    def mac_energy_lower_bound_pj(self, gemm: GemmShape) -> float:
        """MAC energy every mapping of `gemm` pays on this unit (0 when unknown)."""
        return 0.0

    def action_energy_pj(self, action: str) -> float:
        """Energy of one `action` (a key of the design's energy table) on this unit."""
        return float(self.energy.get(action, 0.0))

    def config_key(self) -> Any:
        """A JSON-able description of the unit for cache keys."""
        cfg = self.cfg
        return cfg.model_dump(mode="json") if hasattr(cfg, "model_dump") else repr(cfg)

    def shape_cost_key(self) -> Any:
        """A hashable key on which `compute(shape, "fast")` depends entirely, so that equal keys give
        equal results in any instance (the mapper then shares them across the design points of a
        sweep), or None (the default): results depend on state beyond the key (e.g. bound operand
        values), and nothing is shared."""
        return None
