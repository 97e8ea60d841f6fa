"""Processing-in-memory units: MAC lanes beside DRAM banks, driven by DRAM commands."""
from archsim.units.pim.config import PimConfig
from archsim.units.pim.unit import PimUnit
from archsim.units.registry import register_unit

__all__ = ["PimConfig", "PimUnit"]

register_unit(PimUnit)
