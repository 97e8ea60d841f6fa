"""`SystolicArray`: an R x C array as a ComputeUnit, in SCALE-Sim-compatible or pipelined timing.

`timing: scalesim` reproduces SCALE-Sim v3 (serial folds, fill/drain sized by the array) and its
SRAM counters (the inflated OS ofmap count only in `detail`; `sram_writes` is physical);
`timing: pipelined` asks `pipelined.py` (overlapped folds) and reports physical SRAM traffic.
Both answer at two fidelities: `fast` (closed form) and `cycle` (operands moved through the array
register by register; the product is checked against A @ B). A pipelined array may give each PE
`macs_per_pe` MACs along the reduction (config.py): R*K reduction terms a pass at R + C skew.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from archsim.units.systolic.config import SystolicConfig
from archsim.errors import WorkloadError
from archsim.units.base import ComputeResult, ComputeUnit, GemmShape, OperandWidths
from archsim.units.systolic.conv import conv_output_size, im2col
from archsim.units.systolic.occupancy import spatial_occupancy
from archsim.units.systolic.scalesim_array import simulate_scalesim, wrap_signed
from archsim.units.systolic.scalesim_timing import scalesim_cycles

FIDELITIES = ("fast", "cycle")


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def physical_sram_counts(M: int, N: int, K: int, R: int, C: int,
                         dataflow: str, kpe: int = 1) -> tuple[dict[str, int], dict[str, int]]:
    """Elements moved per buffer by a real array: each operand element once per fold that uses it,
    outputs written once per K-fold (R*kpe terms deep), partial sums read back when K spans several."""
    if dataflow == "os":
        reads = {"ifmap": M * K * _cdiv(N, C), "filter": K * N * _cdiv(M, R), "ofmap": 0}
        return reads, {"ofmap": M * N}
    k_folds = _cdiv(K, R * kpe)
    if dataflow == "ws":
        reads = {"ifmap": M * K * _cdiv(N, C), "filter": K * N}
    else:
        reads = {"ifmap": M * K, "filter": K * N * _cdiv(M, C)}
    reads["ofmap"] = M * N * (k_folds - 1)
    return reads, {"ofmap": M * N * k_folds}


def random_operands(g: GemmShape, input_bits: int, weight_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic signed operands at the configured widths (seeded by the shape)."""
    rng = np.random.default_rng([g.M, g.N, g.K])
    lo_a, lo_b = -(1 << (min(input_bits, 31) - 1)), -(1 << (min(weight_bits, 31) - 1))
    A = rng.integers(lo_a, -lo_a, size=(g.M, g.K), dtype=np.int64)
    B = rng.integers(lo_b, -lo_b, size=(g.K, g.N), dtype=np.int64)
    return A, B


class _Timed(NamedTuple):
    """What a timing back end reports for one GEMM instance."""

    elapsed: int                 # cycles from the first operand in to the last result out
    folds: int
    period: int                  # cycles between the starts of consecutive folds
    detail: dict
    out: np.ndarray | None       # the array's product (cycle fidelity)
    reads: dict[str, int]
    writes: dict[str, int]


class SystolicArray(ComputeUnit):
    """An R x C systolic array (os | ws | is) with per-action energies in pJ (missing keys are 0)."""

    kind = "systolic"
    config_model = SystolicConfig
    side = "compute"
    energy_actions = {"mac": "one MAC at the operand widths", "sram_byte": "one byte read or written in SRAM"}

    def __init__(self, name: str, cfg: SystolicConfig, clock_hz: float,
                 energy_pj: dict[str, float] | None = None):
        super().__init__(name, cfg, clock_hz, energy_pj)
        self.cfg: SystolicConfig = cfg

    @property
    def pes(self) -> int:
        return self.cfg.rows * self.cfg.cols

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.pes * self.cfg.macs_per_pe

    def operand_widths(self) -> OperandWidths:
        c = self.cfg
        return OperandWidths(c.input_bits, c.weight_bits, c.acc_bits)

    def widening(self, a_bits: int, b_bits: int):
        """Multi-pass decomposition over the native widths (archsim/units/widths.py), or a refusal."""
        from archsim.units.widths import decompose

        c = self.cfg
        return decompose(self.name, (c.input_bits, c.weight_bits, c.acc_bits), a_bits, b_bits, c.wide_operands)

    def tile_quanta(self) -> tuple[int, ...]:
        """Rows and columns, and the reduction depth of a pass (R * macs_per_pe) when it differs."""
        c = self.cfg
        return (c.rows, c.cols) + ((c.rows * c.macs_per_pe,) if c.macs_per_pe > 1 else ())

    def shape_cost_key(self) -> Any:
        """`compute` is a function of the config and the energy table alone."""
        return (self.kind, self.clock_hz, repr(self.cfg), tuple(sorted(self.energy.items())))

    def spatial_use(self, gemm: GemmShape, tags: tuple[str, ...] = ()) -> dict[str, Any]:
        """PE occupancy of the GEMM's folds on this array and dataflow, and why PEs idle."""
        return spatial_occupancy(gemm, self.cfg.rows, self.cfg.cols, self.cfg.dataflow, tags, self.cfg.macs_per_pe)

    @property
    def dataflow(self) -> str:
        return self.cfg.dataflow

    def with_dataflow(self, dataflow: str) -> "SystolicArray":
        if dataflow == self.cfg.dataflow:
            return self
        return SystolicArray(self.name, self.cfg.model_copy(update={"dataflow": dataflow}), self.clock_hz,
                             self.energy)

    def issue_cycles_lower_bound(self, tiles: np.ndarray, gemm: GemmShape) -> tuple[np.ndarray, np.ndarray]:
        from archsim.units.systolic.folds import fold_issue_lower_bound

        return fold_issue_lower_bound(self.cfg, tiles, gemm)

    def mac_energy_lower_bound_pj(self, gemm: GemmShape) -> float:
        return gemm.macs * self.energy.get("mac", 0.0)

    def supports(self, op: Any) -> bool:
        """GEMM-like ops only: an IR op that says whether it flattens (`is_gemm`), else a gemm/conv
        kind, else anything offering `as_gemm` but no kind (every IR op has `as_gemm`; it raises)."""
        if hasattr(op, "is_gemm"):
            return bool(op.is_gemm)
        kind = getattr(op, "kind", None)
        if kind is not None:
            return kind in {"gemm", "conv"}
        return callable(getattr(op, "as_gemm", None))

    # -- timing back ends -------------------------------------------------------------------------
    def _scalesim(self, g: GemmShape, fidelity: str, A=None, B=None) -> _Timed:
        c = self.cfg
        t = scalesim_cycles(g.M, g.N, g.K, c.rows, c.cols, c.dataflow)
        detail = {"fold_cycles": t.fold_cycles, "mapping_eff_pct": t.mapping_eff_pct,
                  "compute_util_pct": t.compute_util_pct, "row_folds": t.row_folds,
                  "col_folds": t.col_folds,
                  "sram_ofmap_writes_scalesim": g.batch * t.sram_ofmap_writes}   # SCALE-Sim's counter (Q7)
        out = None
        if fidelity == "cycle":
            run = simulate_scalesim(A, B, c.rows, c.cols, c.dataflow, c.acc_bits)
            elapsed, out = run.elapsed_cycles, run.out
        else:
            elapsed = t.folds * t.fold_cycles
        return _Timed(elapsed, t.folds, t.fold_cycles, detail, out,       # folds run in series (Q2)
                      {"ifmap": t.sram_ifmap_reads, "filter": t.sram_filter_reads, "ofmap": 0},
                      physical_sram_counts(g.M, g.N, g.K, c.rows, c.cols, c.dataflow)[1])  # not Q7's

    def _pipelined(self, g: GemmShape, fidelity: str, A=None, B=None) -> _Timed:
        from archsim.units.systolic import pipelined   # written by another engineer; import lazily

        c = self.cfg
        t = pipelined.pipelined_cycles(g.M, g.N, g.K, c.rows, c.cols, c.dataflow, c.macs_per_pe)
        detail = {"fold_period": t.fold_period}
        out = None
        if fidelity == "cycle":
            run = pipelined.simulate(A, B, c.rows, c.cols, c.dataflow, acc_bits=c.acc_bits, kpe=c.macs_per_pe)
            total, out = run.total_cycles, run.out
        else:
            total = t.total_cycles
        reads, writes = physical_sram_counts(g.M, g.N, g.K, c.rows, c.cols, c.dataflow, c.macs_per_pe)
        return _Timed(int(total), int(t.folds), int(t.fold_period), detail, out, reads, writes)

    # -- public -----------------------------------------------------------------------------------
    def run(self, A: np.ndarray, B: np.ndarray, fidelity: str = "cycle") -> tuple[np.ndarray | None, ComputeResult]:
        """Multiply real operands; `cycle` returns the array's output (wrapped to acc_bits)."""
        A, B = np.asarray(A), np.asarray(B)
        if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
            raise WorkloadError(f"{self.name}: need A (M x K) and B (K x N), got {A.shape}, {B.shape}")
        g = GemmShape(int(A.shape[0]), int(B.shape[1]), int(A.shape[1]))
        return self._evaluate(g, fidelity, A, B)

    def run_conv(self, x: np.ndarray, w: np.ndarray, stride: int = 1, pad: int = 0,
                 convention: str = "exact", fidelity: str = "cycle") -> tuple[np.ndarray | None, ComputeResult]:
        """A real convolution, x (H x W x C) * w (R x S x C x F), lowered by im2col onto the array;
        the output comes back as E_h x E_w x F."""
        w = np.asarray(w)
        if w.ndim != 4 or np.ndim(x) != 3 or w.shape[2] != np.shape(x)[2]:
            raise WorkloadError(f"{self.name}: need x (H x W x C) and w (R x S x C x F), got "
                                f"{np.shape(x)} and {w.shape}")
        R, S, C, F = w.shape
        H, W = np.shape(x)[:2]
        out, res = self.run(im2col(x, R, S, stride, pad, convention), w.reshape(R * S * C, F), fidelity)
        e_h = conv_output_size(H, R, stride, pad, convention)
        e_w = conv_output_size(W, S, stride, pad, convention)
        return (None if out is None else out.reshape(e_h, e_w, F)), res

    def compute(self, g: GemmShape, fidelity: str = "fast") -> ComputeResult:
        A = B = None
        if fidelity == "cycle":
            A, B = random_operands(g, self.cfg.input_bits, self.cfg.weight_bits)
        return self._evaluate(g, fidelity, A, B)[1]

    def _evaluate(self, g: GemmShape, fidelity: str, A, B) -> tuple[np.ndarray | None, ComputeResult]:
        if fidelity not in FIDELITIES:
            raise WorkloadError(f"{self.name}: fidelity must be one of {FIDELITIES}, got {fidelity!r}")
        c = self.cfg
        backend = self._scalesim if c.timing == "scalesim" else self._pipelined
        tm = backend(g, fidelity, A, B)
        out, detail, b = tm.out, tm.detail, g.batch
        if out is not None:
            ref = wrap_signed(A.astype(np.int64) @ B.astype(np.int64), c.acc_bits) \
                if out.dtype.kind == "i" else A @ B
            detail["output_matches_reference"] = bool(np.array_equal(out, ref)) \
                if out.dtype.kind == "i" else bool(np.allclose(out, ref))
        # batch instances are more folds in the same stream: each adds folds*period cycles, and
        # only the last one's fill/drain tail shows. SCALE-Sim reports the last cycle's index (Q1).
        cycles = tm.elapsed + (b - 1) * tm.folds * tm.period - (c.timing == "scalesim")
        occupancy = None if c.timing == "scalesim" else b * tm.folds * tm.period
        reads = {k: b * v for k, v in tm.reads.items()}
        writes = {k: b * v for k, v in tm.writes.items()}
        detail.update(timing=c.timing, dataflow=c.dataflow, fidelity=fidelity)
        res = ComputeResult(
            cycles=int(cycles), macs=g.macs, folds=b * tm.folds,
            utilization=g.macs / (max(cycles, 1) * self.peak_macs_per_cycle),
            sram_reads=reads, sram_writes=writes,
            energy_pj=self._energy(g.macs, reads, writes), detail=detail,
            occupancy_cycles=occupancy)
        return out, res

    def _energy(self, macs: int, reads: dict[str, int], writes: dict[str, int]) -> dict[str, float]:
        """macs*mac + bytes*sram_byte; operands at their widths, partial sums at acc_bits."""
        c = self.cfg
        width_bytes = {"ifmap": c.input_bits / 8, "filter": c.weight_bits / 8, "ofmap": c.acc_bits / 8}
        rd = sum(n * width_bytes[k] for k, n in reads.items())
        wr = sum(n * width_bytes[k] for k, n in writes.items())
        per_byte = self.energy.get("sram_byte", 0.0)
        return {"mac": macs * self.energy.get("mac", 0.0),
                "sram_read": rd * per_byte, "sram_write": wr * per_byte}
