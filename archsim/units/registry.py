"""Unit kinds -> classes. Each unit package registers its class here from its own `__init__.py`:

    from archsim.units.registry import register_unit
    register_unit(MyUnit)      # MyUnit.kind, MyUnit.config_model, MyUnit.side, MyUnit.energy_actions

Nothing central lists the kinds: `archsim.config.units.load_plugins` imports every package under
archsim/units once, and the design schema is rebuilt from what registered.
"""
from __future__ import annotations

from typing import Any

from archsim.config import units as unit_configs
from archsim.errors import ConfigError
from archsim.units.base import ComputeUnit

SIDES = ("compute", "memory")
_CLASSES: dict[str, type[ComputeUnit]] = {}


def register_unit(cls: type[ComputeUnit]) -> type[ComputeUnit]:
    """Register a unit class under its `kind` (usable as a decorator); a kind taken by another class
    is an error naming both."""
    if cls.config_model is None:
        raise ConfigError(f"{cls.__qualname__}: a unit class must set `config_model`")
    kind = unit_configs.kind_of(cls.config_model)
    if kind != cls.kind:
        raise ConfigError(f"{cls.__qualname__}: kind {cls.kind!r} but its config model declares {kind!r}")
    if cls.side not in SIDES:
        raise ConfigError(f"{cls.__qualname__}: side must be one of {SIDES}, got {cls.side!r}")
    old = _CLASSES.get(kind)
    if old is not None and old is not cls:
        raise ConfigError(f"unit kind {kind!r} is registered twice: by {old.__module__}.{old.__qualname__} "
                          f"and by {cls.__module__}.{cls.__qualname__}; give one of them another kind")
    unit_configs.register_unit_config(cls.config_model)
    _CLASSES[kind] = cls
    return cls


def unregister_unit(kind: str) -> None:
    """Forget a kind (for unit kinds defined inside tests)."""
    _CLASSES.pop(kind, None)
    unit_configs.unregister_unit_config(kind)


def unit_classes() -> dict[str, type[ComputeUnit]]:
    """{kind: class} of every registered unit kind, in kind order."""
    unit_configs.load_plugins()
    return {k: _CLASSES[k] for k in sorted(_CLASSES)}


def unit_class(kind: str) -> type[ComputeUnit]:
    classes = unit_classes()
    try:
        return classes[kind]
    except KeyError:
        raise KeyError(f"no compute unit of kind {kind!r}; known kinds: {', '.join(classes)}") from None


def build_unit(name: str, cfg: Any, clock_hz: float, energy_pj: dict[str, float]) -> ComputeUnit:
    """Instantiate the unit a config section describes."""
    return unit_class(cfg.kind)(name, cfg, clock_hz, energy_pj)
