"""YAML -> typed, validated config objects with located errors (file, key path, line)."""
from __future__ import annotations

from archsim.config.base import StrictModel

__all__ = ["StrictModel", "load_config"]


def load_config(source, overrides=None):
    from archsim.config.loader import load_config as _load

    return _load(source, overrides=overrides)
