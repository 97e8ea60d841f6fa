"""Off-chip energy of one op, as the runner books it in the op's energy breakdown.

Three sources, each byte priced once:
- levels that price their own bytes (`MemoryLevel.prices_bytes`: a flash device from its preset's
  sense, program, erase and channel energies) and links with their own pJ/byte: each request the op
  sends through the port is priced by the level it reaches (`request_energy_pj`, the same page rule
  as the level's timing), under `offchip.<level>.<part>`. Ops a unit runs whole price their accesses
  to such a level themselves (the unit knows its pattern: an in-die GEMV senses pages it never sends);
- a DRAM device: its command, refresh and background model (measured in `cycle`, implied by the
  traffic in `fast`), under `offchip.<command>`;
- everything else: the design's flat `offchip_byte` (or the simple level's own `energy_per_byte`),
  under `offchip`.

The per-request price is a pure function of the request (flash senses do not depend on timing), so
`fast` and `cycle` charge the same requests the same, and a `cycle` run's ops add up to what the
levels served; tiles sampling cuts out are still priced.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def tiles_energy_pj(level: Any, tiles: Iterable[Any], into: dict[str, float] | None = None) -> dict[str, float]:
    """`level.request_energy_pj` summed over the tiles' loads and stores (added to `into`)."""
    out = {} if into is None else into
    for t in tiles:
        for reqs, is_write in ((t.loads, False), (t.stores, True)):
            for addr, n in reqs:
                for k, v in level.request_energy_pj(addr, n, is_write).items():
                    out[k] = out.get(k, 0.0) + v
    return out


def stream_levels(system: Any, homes: dict[str, int | None], nbytes: dict[str, int],
                  into: dict[str, float]) -> dict[str, tuple[int, int]]:
    """Bytes per level of an op the runner times in closed form (no tiles): each operand stream on its
    home level, priced there as one sequential request (partial pages read twice by real tiles are
    not counted: a lower bound on the senses)."""
    names, out = list(system.levels), {}
    for role, lv in homes.items():
        n = nbytes[role]
        if lv is None or not n:
            continue
        write = role == "ofmap"
        r, w = out.get(names[lv], (0, 0))
        out[names[lv]] = (r, w + n) if write else (r + n, w)
        for k, v in system.levels[names[lv]].request_energy_pj(0, n, write).items():
            into[k] = into.get(k, 0.0) + v
    return out


def priced_bytes(system: Any, cost: Any) -> int:
    """Bytes of the op served by levels that price themselves (kept out of `offchip_byte`)."""
    if cost.levels:
        return sum(r + w for name, (r, w) in cost.levels.items()
                   if getattr(system.levels.get(name), "prices_bytes", False))
    return cost.dram_read + cost.dram_write if system.offchip.prices_bytes else 0


def dram_of(system: Any) -> Any:
    """The DRAM device behind the off-chip path (links pass bytes through), or None."""
    level = getattr(system.offchip, "level", system.offchip)
    return level if hasattr(level, "spec") and hasattr(level, "ctrls") else None


def dram_commands(system: Any, fidelity: str) -> dict[str, float] | None:
    """Energy of the DRAM commands issued so far, when the controllers issue them (cycle)."""
    from memory.dram.energy import command_energy_pj

    dram = dram_of(system)
    if dram is None or fidelity != "cycle" or dram.fidelity != "cycle":
        return None
    return command_energy_pj(dram)


def offchip_energy_pj(system: Any, spec: Any, cost: Any) -> dict[str, float]:
    """The op's off-chip parts: self-priced levels and links, then DRAM commands, refresh and background
    over the op's time (as `archsim mem` splits them) or the flat per-byte figure for the other bytes."""
    from memory.dram.energy import stream_energy_pj, time_energy_pj

    own = {k if k.startswith("offchip.") else f"offchip.{k}": v for k, v in cost.level_pj.items()}
    dram = dram_of(system)
    if dram is None:
        base = cost.dram_read + cost.dram_write - priced_bytes(system, cost)
        return {**({"offchip": base * spec.offchip_byte_pj} if base or not own else {}), **own}
    if cost.offchip_pj is not None:
        parts = {**cost.offchip_pj, **time_energy_pj(dram, cost.pipe.total_ps)}
    else:
        parts = stream_energy_pj(dram, cost.dram_read, cost.dram_write, cost.requests, cost.pipe.total_ps)
    return {**{f"offchip.{k}": v for k, v in parts.items()}, **own}
