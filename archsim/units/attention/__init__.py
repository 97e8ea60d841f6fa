"""FuseMax-style spatial attention: a 2D + 1D array running the one-pass cascade, with FLAT, unfused and
the paper's ablation steps as variants of the same unit."""
from archsim.units.attention.cascade import Level0, level0
from archsim.units.attention.config import AttentionConfig
from archsim.units.attention.shape import AttentionShape
from archsim.units.attention.unit import AttentionUnit
from archsim.units.registry import register_unit

register_unit(AttentionUnit)

__all__ = ["AttentionConfig", "AttentionShape", "AttentionUnit", "Level0", "level0"]
