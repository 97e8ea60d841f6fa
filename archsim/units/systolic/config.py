"""Config schema of `kind: systolic` (registered with the unit in this package's __init__)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from archsim.config.base import StrictModel
from archsim.config.quantities import Frequency


class SystolicConfig(StrictModel):
    """An R x C systolic array. Widths in bits; `timing` picks SCALE-Sim v3 compatibility or a pipelined array."""

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
    clock: Frequency | None = None
