"""Bit-weight tensor processing engines: one digit engine for bit-parallel, bit-serial, bit-slice and
sparse-digit PEs, with cycles from the operands' values (docs/bitweight.md)."""
from archsim.units.bitweight.config import BitweightConfig
from archsim.units.bitweight.encodings import ENCODINGS, Encoding, encoding
from archsim.units.bitweight.engine import (
           Cost,
           Schedule,
           cycle_cost,
           fast_cost,
           histogram,
)
from archsim.units.bitweight.unit import BitweightUnit
from archsim.units.registry import register_unit

__all__ = ["ENCODINGS", "BitweightConfig", "BitweightUnit", "Cost", "Encoding", "Schedule", "cycle_cost",
           "encoding", "fast_cost", "histogram"]

register_unit(BitweightUnit)
