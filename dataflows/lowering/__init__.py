"""Lowering of model descriptions to the Einsum IR (transformers; stand-alone workload files)."""
from dataflows.lowering.moe import expert_loads, load_groups
from dataflows.lowering.transformer import PHASES, Shape, lower, resolve_shape

__all__ = ["PHASES", "Shape", "expert_loads", "load_groups", "lower", "resolve_shape"]
