"""Unit kinds -> classes. New units (PIM, flash, bit-serial, attention) register here, not in if-chains."""
from __future__ import annotations

import importlib
from typing import Any

from archsim.units.base import ComputeUnit

# kind -> "module:Class"; imported lazily so a unit's heavy dependencies load only when used.
UNIT_CLASSES: dict[str, str] = {
    "systolic": "archsim.units.systolic:SystolicArray",
    "vector": "archsim.units.vector:VectorUnit",
}


def unit_class(kind: str) -> type[ComputeUnit]:
    try:
        modname, clsname = UNIT_CLASSES[kind].split(":")
    except KeyError:
        raise KeyError(f"no compute unit of kind {kind!r}; known kinds: {', '.join(sorted(UNIT_CLASSES))}") from None
    return getattr(importlib.import_module(modname), clsname)


def build_unit(name: str, cfg: Any, clock_hz: float, energy_pj: dict[str, float]) -> ComputeUnit:
    """Instantiate the unit a config section describes."""
    return unit_class(cfg.kind)(name, cfg, clock_hz, energy_pj)
