"""Silicon area of a design: compute units from their datapath, SRAM from its capacity, at 45 nm.

Technology table (45 nm; every figure with its source; no node scaling is attempted, so a design
is priced as if built at 45 nm and the node is reported beside the numbers):
* integer adders and multipliers: Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm):
  add 8 b 36 um^2, 32 b 137 um^2; multiply 8 b 282 um^2, 32 b 3495 um^2. Other widths follow the
  power law through the two points (multiply ~ w^1.82, add ~ w^0.96), as the energies do
  (archsim/units/widths.py).
* an FP16 MAC, 1545 um^2 (adder 1030 + multiplier 515), and a 12 x 16-bit register file, 4256 um^2
  (22.2 um^2 per bit): Accelergy 45 nm tables of the FuseMax artifact (MICRO 2024).
* SRAM, 0.702 um^2 per bit: the same tables' 16 MiB, 32-bank global buffer, 9.42e7 um^2 of storage
  (cells with their periphery, 512 KiB banks). Other bank sizes are priced at this density: how
  periphery scales with the bank count has no source here, so `banks` does not change the area.

A systolic PE is a multiplier at the operand widths, an adder at the accumulator width and its
registers (an input, a weight and a partial sum: input + weight + acc bits); the array adds the
skew registers on its edges (triangular delay lines: R(R-1)/2 input words and C(C-1)/2 output
words). A PE of K MACs (`macs_per_pe`) has K multipliers, K - 1 adders at the product width summing
them into the accumulator's adder, K input and K weight registers, and its row lane's skew carries K
input words. A vector lane is an FP16 MAC and a 16-bit register per operand. Units without a model
report None and are left out of the total, named.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

NODE_NM = 45
SOURCES = {
    "int add/mult": "Horowitz, ISSCC 2014, 45 nm: add 8b 36 um2, 32b 137 um2; mult 8b 282 um2, 32b 3495 um2",
    "fp16 MAC, registers, SRAM": "Accelergy 45 nm tables of the FuseMax artifact (MICRO 2024): FP16 MAC 1545 um2, "
                                 "12x16-bit regfile 4256 um2, 16 MiB 32-bank buffer 9.42e7 um2",
}
INT_UM2 = {"add": {8: 36.0, 32: 137.0}, "mult": {8: 282.0, 32: 3495.0}}
FP16_MAC_UM2 = 1545.0
REG_UM2_PER_BIT = 4256.0 / (12 * 16)
SRAM_UM2_PER_BIT = 9.42e7 / (16 * 2**20 * 8)


def _power_law(points: dict[int, float], bits: float) -> float:
    (w0, a0), (w1, a1) = sorted(points.items())
    return a0 * (bits / w0) ** (math.log(a1 / a0) / math.log(w1 / w0))


def int_mac_um2(a_bits: int, b_bits: int, acc_bits: int) -> float:
    """A multiplier at the operands' geometric-mean width plus an accumulator-width adder."""
    return _power_law(INT_UM2["mult"], math.sqrt(a_bits * b_bits)) + _power_law(INT_UM2["add"], acc_bits)


def systolic_um2(rows: int, cols: int, in_bits: int, w_bits: int, acc_bits: int, kpe: int = 1) -> dict[str, float]:
    more = (kpe - 1) * (_power_law(INT_UM2["mult"], math.sqrt(in_bits * w_bits))   # the other K - 1 MACs
                        + _power_law(INT_UM2["add"], in_bits + w_bits))
    pe = int_mac_um2(in_bits, w_bits, acc_bits) + more + REG_UM2_PER_BIT * (kpe * (in_bits + w_bits) + acc_bits)
    skew = REG_UM2_PER_BIT * (rows * (rows - 1) // 2 * in_bits * kpe + cols * (cols - 1) // 2 * acc_bits)
    return {"pes": rows * cols * pe, "skew": skew}


def vector_um2(lanes: int, bits: int) -> dict[str, float]:
    """FP16 MACs (scaled to other widths as the integer multiplier scales) and three operand registers."""
    mac = FP16_MAC_UM2 * _power_law(INT_UM2["mult"], bits) / _power_law(INT_UM2["mult"], 16)
    return {"lanes": lanes * (mac + 3 * REG_UM2_PER_BIT * bits)}


def sram_um2(capacity_bytes: int) -> float:
    return capacity_bytes * 8 * SRAM_UM2_PER_BIT


@dataclass
class Area:
    """Areas in mm^2: per unit, per SRAM buffer, and the total of what is modelled."""

    units: dict[str, float | None] = field(default_factory=dict)
    sram: dict[str, float] = field(default_factory=dict)
    detail: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def total_mm2(self) -> float:
        return sum(v for v in self.units.values() if v) + sum(self.sram.values())

    @property
    def unmodelled(self) -> list[str]:
        return [k for k, v in self.units.items() if v is None]

    def as_dict(self) -> dict[str, Any]:
        return {"node_nm": NODE_NM, "total_mm2": self.total_mm2, "units_mm2": dict(self.units),
                "sram_mm2": dict(self.sram), "detail_mm2": self.detail, "not_modelled": self.unmodelled,
                "sources": SOURCES}


def unit_area(cfg: Any) -> dict[str, float] | None:
    """Components of one unit's area in um^2, from its config; None for kinds without a model."""
    kind = getattr(cfg, "kind", None)
    if kind == "systolic":
        return systolic_um2(cfg.rows, cfg.cols, cfg.input_bits, cfg.weight_bits, cfg.acc_bits, cfg.macs_per_pe)
    if kind == "vector":
        return vector_um2(cfg.lanes, cfg.bits)
    return None


def design_area(design: Any) -> Area:
    """The area of a loaded design (archsim.load_config)."""
    out = Area()
    for name, cfg in design.units.items():
        parts = unit_area(cfg)
        out.units[name] = None if parts is None else sum(parts.values()) / 1e6
        if parts is not None:
            out.detail[name] = {k: v / 1e6 for k, v in parts.items()}
    for name, s in design.memory.sram.items():
        out.sram[name] = sram_um2(s.capacity) / 1e6
    return out
