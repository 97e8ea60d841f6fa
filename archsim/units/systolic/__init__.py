"""Systolic arrays: SCALE-Sim v3-exact timing, a register-level array model, conv lowering, the unit."""
from archsim.units.registry import register_unit
from archsim.units.systolic.config import SystolicConfig
from archsim.units.systolic.conv import conv_output_size, conv_to_gemm, depthwise_to_gemms, im2col
from archsim.units.systolic.scalesim_array import ArrayRun, simulate_scalesim, wrap_signed
from archsim.units.systolic.scalesim_timing import ScalesimTiming, scalesim_cycles, spatial_map
from archsim.units.systolic.unit import SystolicArray, physical_sram_counts

__all__ = [
    "ArrayRun", "ScalesimTiming", "SystolicArray", "SystolicConfig", "conv_output_size", "conv_to_gemm",
    "depthwise_to_gemms", "im2col", "physical_sram_counts", "scalesim_cycles", "simulate_scalesim",
    "spatial_map", "wrap_signed",
]

register_unit(SystolicArray)
