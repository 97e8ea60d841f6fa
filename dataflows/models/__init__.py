"""Transformer descriptions: bundled HF config.json presets, a normalising loader, parameter counts."""
from dataflows.models.config import FAMILIES, ModelConfig, get_model, load_config, normalise, preset_names
from dataflows.models.params import param_counts

__all__ = ["FAMILIES", "ModelConfig", "get_model", "load_config", "normalise", "param_counts", "preset_names"]
