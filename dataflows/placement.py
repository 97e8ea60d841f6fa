"""Which unit runs which op: the user's pin, else the units that can run it, split by intensity.

Units are told apart by which side of the memory wall they sit on, as each unit class declares
(`ComputeUnit.side`), never by if-chains over kinds: a PIM, flash or attention unit that arrives
later declares its side and placement works unchanged.
With `policy: pinned` only pins choose; every other op goes to the first capable unit in the
design's order. With `policy: intensity` an op whose arithmetic intensity (FLOP/byte) is below the threshold goes
to a memory-side unit when one can run it, as Duplex splits low-intensity attention and MoE
GEMVs onto Logic-PIM and the rest onto the xPU. Among the remaining candidates, GEMM-like ops go
to the unit whose `fast` model finishes them first; others go to the first capable unit in the
design's order.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from archsim.config.mapper_schema import PlacementConfig
from archsim.errors import ArchsimError
from archsim.units.base import ComputeUnit

COMPUTE, MEMORY = "compute", "memory"

def unit_side(unit: ComputeUnit) -> str:
    """Which side of the memory wall the unit sits on (its class says)."""
    return unit.side


@dataclass(frozen=True)
class Placed:
    """One op's unit and why it was chosen (shown by `archsim run` and the reports)."""

    op: str
    unit: str
    reason: str


def place_op(op: Any, units: Mapping[str, ComputeUnit], cfg: PlacementConfig) -> Placed:
    """Choose the unit for one op (see the module docstring for the rules, in order)."""
    for pattern, name in cfg.pin.items():
        if fnmatch.fnmatchcase(op.name, pattern):
            if name not in units:
                raise ArchsimError(f"mapper.placement.pin: {pattern!r} pins op {op.name!r} to unit {name!r}, "
                                   f"which the design does not have (units: {', '.join(units)})")
            if not units[name].supports(op):
                raise ArchsimError(f"mapper.placement.pin: unit {name!r} ({units[name].kind}) cannot run op "
                                   f"{op.name!r} of kind {op.kind!r}; pin it to a unit that supports it")
            return Placed(op.name, name, f"pinned by {pattern!r}")
    capable = [n for n, u in units.items() if u.supports(op)]
    if not capable:
        kinds = ", ".join(f"{n} ({u.kind})" for n, u in units.items())
        raise ArchsimError(f"no unit of the design can run op {op.name!r} of kind {op.kind!r} "
                           f"(units: {kinds}); add a unit that supports it")
    pool, why = capable, "only capable unit" if len(capable) == 1 else "capable"
    if cfg.policy == "pinned":
        return Placed(op.name, pool[0], f"{why}; first in design order (pinned policy)")
    if cfg.policy == "intensity" and len(capable) > 1:
        mem = [n for n in capable if unit_side(units[n]) == MEMORY]
        comp = [n for n in capable if unit_side(units[n]) == COMPUTE]
        if mem and comp:
            low = op.intensity < cfg.intensity_threshold
            pool = mem if low else comp
            rel = "<" if low else ">="
            why = f"intensity {op.intensity:.3g} {rel} {cfg.intensity_threshold:g} FLOP/B"
    if len(pool) > 1:
        times = {n: units[n].estimate_s(op) for n in pool}
        if all(t is not None for t in times.values()):
            best = min(pool, key=lambda n: (times[n], pool.index(n)))
            return Placed(op.name, best, f"{why}; fastest of {len(pool)}")
        return Placed(op.name, pool[0], f"{why}; first in design order")
    return Placed(op.name, pool[0], why)


def place(ops: Iterable[Any], units: Mapping[str, ComputeUnit],
          cfg: PlacementConfig | None = None) -> dict[str, Placed]:
    """Place every op; returns {op name: Placed} in the ops' order."""
    cfg = cfg or PlacementConfig()
    return {op.name: place_op(op, units, cfg) for op in ops}
