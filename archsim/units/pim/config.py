"""A PIM design's unit: where its lanes sit, what they hold, how the host reaches its registers."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from archsim.config.quantities import Energy, Frequency
from archsim.config.schema import NearMemoryConfig

PRECISION_BYTES = {"fp16": 2, "bf16": 2, "int8": 1, "fp32": 4}
# banks one unit serves, as a function of the standard's banks per pseudo-channel and bank groups
UNIT_SCOPES = ("bank", "bank_pair", "bankgroup", "pseudo_channel", "logic_die")


class PimConfig(NearMemoryConfig):
    """Processing-in-memory lanes beside the banks of a DRAM level, driven by DRAM commands."""

    kind: Literal["pim"] = "pim"
    clock: Frequency | None = None
    unit_scope: Literal["bank", "bank_pair", "bankgroup", "pseudo_channel", "logic_die"] = Field(
        "bank", description="one unit per bank, bank pair (HBM-PIM), bank group, pseudo-channel or on the logic die")
    lanes: int = Field(16, ge=1, description="MAC lanes per unit (elements one column command multiplies)")
    precision: Literal["fp16", "bf16", "int8", "fp32"] = "fp16"
    registers: Literal["reserved_row", "global_buffer"] = Field(
        "global_buffer", description="how the host loads inputs: writes to a reserved row mapped to the units' "
        "register files (HBM-PIM), or to a per-channel global buffer reached without a row (AiM, Newton, AttAcc)")
    input_buffer_bytes: int = Field(2048, ge=1, description="input elements held at once: GRF_A per unit (HBM-PIM "
                                    "8 x 32 B) or the channel's global buffer (AiM 2 KiB)")
    accumulators: int = Field(1, ge=1, description="output rows a unit accumulates at once (HBM-PIM GRF_B: 8)")
    reduction: Literal["adder_tree", "host"] = Field(
        "adder_tree",
        description="lane partial sums reduced by an in-bank adder tree, or read out and reduced by the host")
    acc_bytes: int = Field(2, ge=1, description="bytes of one accumulator value read out")
    register_row: int = Field(-1, description="row whose address maps to the registers (registers: reserved_row); "
                              "-1: the bank's last row")
    crf_entries: int = Field(32, ge=1, description="instruction register entries (HBM-PIM CRF: 32 x 32 bit)")
    mode_switch: Literal["reserved_rows", "register_mode", "none"] = Field(
        "register_mode", description="how the channel enters PIM mode: writes to reserved rows (HBM-PIM SB/AB/AB-PIM), "
        "a mode change whenever it alternates register and bank commands (AiM TMOD), or none")
    eltwise: bool = Field(False, description="units can run element-wise add/mul/relu on bank rows")
    mac_energy: Energy = Field(0.0, description="energy of one lane MAC (DRAM command energy comes from the standard)")
    softmax_elems_per_cycle: int = Field(16, ge=1, description="decode attention's softmax, elements per DRAM cycle "
                                         "and channel, beside the banks (AttAcc's SFM: 256 in 16 tCK)")

    row_buffers: Literal[1, 2] = Field(
        1, description="row buffers per bank: 1 = the PIM unit and the host share it and take turns at row "
        "granularity (blocked mode); 2 = the unit has its own (NeuPIMs' dual row buffers), so host requests "
        "neither wait for nor close its rows; bank timing and the command bus stay shared")
    tsv_width: int = Field(1, ge=1, description="unit_scope logic_die only: the TSV data path from the DRAM dies "
                           "to the unit, in multiples of the pseudo-channel's data bus (Duplex's Logic-PIM: 4); "
                           "1 = fed at the pseudo-channel's data rate")

    @model_validator(mode="after")
    def _tsv_on_the_logic_die(self) -> "PimConfig":
        if self.tsv_width > 1 and self.unit_scope != "logic_die":
            raise ValueError(f"tsv_width: {self.tsv_width} widens the TSVs to a logic-die unit; unit_scope is "
                             f"{self.unit_scope!r} (set unit_scope: logic_die or tsv_width: 1)")
        return self

    @property
    def element_bytes(self) -> int:
        return PRECISION_BYTES[self.precision]
