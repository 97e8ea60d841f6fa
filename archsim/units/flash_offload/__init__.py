"""Host flash offload (LLM in a flash): the host streams sparse FFN neurons from an SSD into a DRAM
budget, with no compute in the drive."""
from archsim.units.flash_offload.unit import FlashOffloadUnit
from archsim.units.registry import register_unit

register_unit(FlashOffloadUnit)
