"""In-flash compute: GEMV cores beside the page buffers (Cambricon-LLM) and a drive-side attention
engine (InstInfer), as one memory-side unit kind sitting `near:` a flash level."""
from archsim.units.flash_compute.unit import FlashComputeUnit
from archsim.units.registry import register_unit

register_unit(FlashComputeUnit)
