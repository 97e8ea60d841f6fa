"""Stand-alone PIM kernels as the reference simulators run them: a GEMV, an element-wise op, and the
same work on the same memory without PIM (the host streaming every operand through the controllers)."""
from __future__ import annotations

from typing import Any

from dataflows.ir import Op, eltwise_op, gemm_op

from archsim.units.pim.cycle import fresh_level, host_run
from archsim.units.pim.unit import PimUnit


def gemv(M: int, K: int, bits: int = 16) -> Op:
    """y[M] = W[M x K] x[K] as the IR's GEMM 1 x M x K (W is the weight operand)."""
    return gemm_op(f"gemv_{M}x{K}", 1, M, K, bits=bits)


def eltwise(kind: str, n: int, bits: int = 16) -> Op:
    """c = a (+|*) b or relu(a) over n elements."""
    return eltwise_op(f"{kind}_{n}", kind, n, bits)


def run_kernel(cfg: Any, spec: Any, channels: int, op: Op, fidelity: str = "cycle", refresh: str = "all_bank",
               host_readout: bool = False, simulate_channels: int | None = None):
    """The op on a PIM unit of `cfg` beside `channels` channels of `spec` (an OpResult)."""
    return PimUnit("pim", cfg).run_on(spec, channels, op, fidelity, refresh, host_readout, simulate_channels)


def no_pim_cycles(spec: Any, channels: int, op: Op) -> int:
    """DRAM cycles the host needs to read every input operand and write the output, on one command-bus
    group (every group carries the same share), in the level's cycle model."""
    sim = max(1, min(channels, spec.shared_by_channels))
    reads = sum(o.nbytes(op.dims) for o in op.operands if o.role != "output")
    share = lambda b: -(-b * sim // channels)   # noqa: E731
    return host_run(fresh_level(spec, sim, mapping="rorabacobgch" if sim > 1 else "rochrababgco"),
                    [(share(reads), False), (share(op.write_bytes), True)])
