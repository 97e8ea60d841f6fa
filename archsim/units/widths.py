"""Operand widths a unit does not take natively: multi-pass decomposition, or a refusal.

A PE that multiplies n_a x n_b-bit operands runs w_a x w_b-bit operands (w > n) by slicing:
A = sum_i 2^(i n_a) A_i over a = ceil(w_a / n_a) slices (the top one signed, the rest unsigned),
B likewise over b slices, and A B = sum_ij 2^(i n_a + j n_b) A_i B_j. The a x b slice products
are one native GEMM of the stacked operands: [A_0; ...; A_a-1] (a M rows) times [B_0 ... B_b-1]
(b N columns), whose partial products are shifted and added into the accumulator
(dataflows/cost.py `at_widths`). So a x b MACs per op MAC at the native energy, and the cycles
the unit's own model gives the stacked shape: a weight-stationary array loads each weight slice
once for all of A's slices. The product must fit the accumulator: w_a + w_b <= acc_bits, else
the width is refused.

MAC energy by width, a sourced table (Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm,
0.9 V): integer multiply 8 b 0.2 pJ, 32 b 3.1 pJ; integer add 8 b 0.03 pJ, 32 b 0.1 pJ. Between and
beyond the two points each follows the power law through them (multiply ~ w^1.98, an array
multiplier's partial products; add ~ w^0.87). `native_mac_pj` prices one MAC of a datapath built
for the width; the decomposition's cost (passes x the design's native MAC) is checked against it.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from archsim.errors import WorkloadError

SOURCE = "Horowitz, ISSCC 2014, 45 nm: int mult 8b 0.2 pJ, 32b 3.1 pJ; int add 8b 0.03 pJ, 32b 0.1 pJ"
TABLE_PJ = {"mult": {8: 0.2, 32: 3.1}, "add": {8: 0.03, 32: 0.1}}


def _power_law(points: dict[int, float], bits: float) -> float:
    (w0, e0), (w1, e1) = sorted(points.items())
    k = math.log(e1 / e0) / math.log(w1 / w0)
    return e0 * (bits / w0) ** k


def native_mac_pj(a_bits: int, b_bits: int, acc_bits: int) -> float:
    """One MAC of a datapath built for a_bits x b_bits operands into an acc_bits accumulator, at
    45 nm: the multiplier at the operands' geometric-mean width, plus the accumulator's adder."""
    return _power_law(TABLE_PJ["mult"], math.sqrt(a_bits * b_bits)) + _power_law(TABLE_PJ["add"], acc_bits)


class Widening(NamedTuple):
    """How a unit runs operands of given widths: A in `a_slices`, B in `b_slices` native slices;
    `passes` = native MACs per op MAC (1 = natively)."""

    a_slices: int
    b_slices: int

    @property
    def passes(self) -> int:
        return self.a_slices * self.b_slices


def decompose(unit_name: str, native: tuple[int, int, int], a_bits: int, b_bits: int, policy: str) -> Widening:
    """The decomposition of a_bits x b_bits operands on a unit with `native` (input, weight, acc)
    widths under `policy` (multipass | refuse); a width the unit cannot run is a WorkloadError."""
    n_a, n_b, acc = native
    if a_bits < 1 or b_bits < 1:
        raise WorkloadError(f"operand widths must be positive, got {a_bits} x {b_bits} bits")
    w = Widening(-(-a_bits // n_a), -(-b_bits // n_b))
    if w.passes == 1:
        return w
    if policy == "refuse":
        raise WorkloadError(f"unit {unit_name!r} takes {n_a} x {n_b}-bit operands and refuses wider ones "
                            f"(wide_operands: refuse); got {a_bits} x {b_bits} bits: use --bits <= "
                            f"{min(n_a, n_b)} or set wide_operands: multipass")
    if a_bits + b_bits > acc:
        raise WorkloadError(f"unit {unit_name!r}: {a_bits} x {b_bits}-bit products need a {a_bits + b_bits}-bit "
                            f"accumulator, it has acc_bits {acc}; runnable widths are a + b <= {acc} bits")
    return w
