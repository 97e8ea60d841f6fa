"""Config schema of `kind: systolic` (registered with the unit in this package's __init__)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from archsim.config.base import StrictModel
from archsim.config.quantities import Frequency


class SystolicConfig(StrictModel):
    """An R x C systolic array. Widths in bits; `timing` picks SCALE-Sim v3 compatibility or a pipelined array.

    `macs_per_pe: K` gives each PE K multipliers and a K-input adder tree working on K consecutive
    terms of the reduction: ws holds K weights of one column, is K inputs of one output row (both
    stream K values a cycle into each row); os holds one output and takes K values of each operand
    a cycle. The array reduces R*K terms per pass (ws/is) or K per cycle (os) while its skew, fill
    and drain stay R + C (docs/systolic_pipelined.md)."""

    kind: Literal["systolic"] = "systolic"
    rows: int = Field(ge=1, description="array rows R")
    cols: int = Field(ge=1, description="array columns C")
    dataflow: Literal["os", "ws", "is"] = "ws"
    timing: Literal["pipelined", "scalesim"] = "pipelined"
    input_bits: int = Field(8, ge=1, le=64)
    weight_bits: int = Field(8, ge=1, le=64)
    acc_bits: int = Field(32, ge=1, le=128)
    wide_operands: Literal["multipass", "refuse"] = Field(
        "multipass", description="operands wider than input_bits/weight_bits: run as ceil(w/n) x ceil(w/n) "
                                 "native passes (cycles and MAC energy x passes), or refuse them")
    macs_per_pe: int = Field(1, ge=1, le=64, description="MACs per PE along the reduction (K-term dot "
                                                         "product a cycle); pipelined timing only")
    clock: Frequency | None = None

    @field_validator("macs_per_pe")
    @classmethod
    def _pipelined_only(cls, k: int, info: ValidationInfo) -> int:
        if k > 1 and info.data.get("timing") == "scalesim":
            raise ValueError(f"macs_per_pe {k} needs timing: pipelined; SCALE-Sim v3 (timing: scalesim) has one "
                             "MAC per PE, so there is no SCALE-Sim number to be exact to")
        return k
