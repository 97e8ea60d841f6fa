"""Schema of a `kind: bitweight` unit: a PE array with the bit-weight loop made explicit (engine.Schedule)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from archsim.config.base import StrictModel
from archsim.config.quantities import Energy, Frequency
from archsim.errors import ConfigError
from archsim.units.bitweight.encodings import ENCODINGS, canonical

ORGANISATIONS = ("systolic_os", "systolic_ws", "cube", "tree", "matrix", "column", "tile")
# Where the carry-save state becomes a plain sum: per MAC keeps a carry-propagate adder in the loop
# (the MAC's critical path), per k loop resolves once per output, edge once at the array boundary.
RESOLVE = {"per_mac": ("carry-propagate in the loop", 0), "per_k": ("carry-save, one CPA per output", 1),
           "edge": ("carry-save to the array edge", 1)}


class BitweightEnergy(StrictModel):
    """Energy per action of the array (0 when not given)."""

    mac: Energy = Field(0.0, description="per MAC: accumulate, operand fetch inside the array")
    digit: Energy = Field(0.0, description="per lane-cycle spent on a digit (partial product + add)")
    cycle: Energy = Field(0.0, description="per array cycle: clocking, encoders, idle lanes")
    source: str | None = None


class BitweightConfig(StrictModel):
    """A bit-weight tensor processing engine: bit-parallel, bit-serial, bit-slice or sparse-digit PEs."""

    kind: Literal["bitweight"] = "bitweight"
    organisation: Literal[ORGANISATIONS] = Field("systolic_os", description="array shape (label and latency)")  # type: ignore[valid-type]
    serial: Literal["activation", "weight", "both", "none"] = Field(
        "activation", description="operand taken digit by digit (none: bit-parallel or bit-slice bricks)")
    encoding: str = Field("ent", description=f"digits of the serial operand: {', '.join(ENCODINGS)}")
    encodings: list[str] | None = Field(None, description="encodings this PE can run (default: just `encoding`)")
    skip_zeros: bool = Field(True, description="zero digits cost no cycle")
    rows: int = Field(1, ge=1, description="engines: rows of the serial operand at once")
    cols: int = Field(1, ge=1, description="lanes sharing each digit (rows of the other operand)")
    k_lanes: int = Field(1, ge=1, description="spatial lanes along k per engine (one adder tree)")
    lane_k: int = Field(1, ge=1, description="operands a lane takes one after another per step")
    per_digit_pass: bool = Field(False, description="each bit weight is its own pass (b outermost, OPT3)")
    sync_rows: int = Field(1, ge=1, description="engines that step together (max over them, floor 1)")
    slack: int = Field(0, ge=0, description="steps an engine may run ahead of its sync group")
    bricks: int = Field(1, ge=1, description="2-bit products a lane forms at once (Bit Fusion: 16)")
    shift_window: int = Field(0, ge=0, description="limited shifter: digit positions a lane may lead its "
                                                 "brick's lowest pending one by (0: unlimited; Pragmatic)")
    act_bits: int = Field(8, ge=2, le=16)
    weight_bits: int = Field(8, ge=2, le=16)
    act_precisions: list[int] | None = Field(None, description="activation widths the PE runs (default act_bits)")
    weight_precisions: list[int] | None = Field(None, description="weight widths the PE runs (default weight_bits)")
    resolve: Literal["per_mac", "per_k", "edge"] = "per_k"
    latency_cycles: int = Field(0, ge=0, description="pipeline fill and drain per op")
    weight_load_cycles: int = Field(0, ge=0, description="cycles to load one stationary block of k_lanes x cols "
                                                       "weights, not overlapped with compute (0: streamed)")
    energy: BitweightEnergy = Field(default_factory=BitweightEnergy)
    clock: Frequency | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BitweightConfig:
        try:
            enc = canonical(self.encoding)
            runs = [canonical(e) for e in (self.encodings or [enc])]
        except ConfigError as exc:   # keep its message; pydantic adds the key path
            raise ValueError(str(exc)) from None
        if enc not in runs:
            raise ValueError(f"encoding {self.encoding!r} is not one this PE can run ({', '.join(runs)})")
        if self.rows % self.sync_rows:
            raise ValueError(f"sync_rows {self.sync_rows} must divide rows {self.rows} (a sync group larger "
                             "than the array, or one that straddles it)")
        if self.serial == "both" and (self.lane_k != 1 or self.slack or self.per_digit_pass):
            raise ValueError("serial: both takes one operand pair per lane a step: lane_k 1, slack 0, "
                             "per_digit_pass false")
        if self.bricks > 1 and self.skip_zeros:
            raise ValueError("bricks > 1 (spatial 2-bit products) needs skip_zeros: false")
        if self.shift_window and (self.serial not in ("activation", "weight") or self.lane_k != 1 or self.slack
                                  or self.per_digit_pass or not self.skip_zeros):
            raise ValueError("shift_window is for one serial operand skipping zero digits, lane_k 1, "
                             "no slack, no per_digit_pass")
        if (enc == "parallel") != (self.serial == "none" and self.bricks == 1):
            raise ValueError("encoding 'parallel' is the bit-parallel PE: use it with serial: none and bricks 1 "
                             "(and serial: none with bricks 1 only with it)")
        for key, bits, allowed in (("act_bits", self.act_bits, self.act_precisions),
                                   ("weight_bits", self.weight_bits, self.weight_precisions)):
            if allowed is not None and bits not in allowed:
                raise ValueError(f"{key} {bits} is not a precision this PE runs ({allowed})")
        return self
