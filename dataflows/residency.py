"""Which operand tiles an on-chip buffer keeps, and so how often each crosses the off-chip port.

A buffer holds one operand tile by default: the input's (Tm, Tk), the filter's (Tk, Tn). A mapping
may also let a buffer hold a whole dim of its operand (`Mapping.hold`): the input a band of every
input channel ("k") or every band of the image ("m"), the filter every channel of its filter
columns ("k") or every filter ("n"). The held tiles fill lazily (a tile crosses the port the first
time a step uses it) and stay until a dim the buffer does not hold changes: then the buffer starts
over. So weights can stream over K while an input band of all channels stays (input residency
across the K loop), or the whole input stays while filter columns stream.

The reuse law in one place, numpy-ready over arrays of tiles (bounds.py prices every tile at once):
in the loop order, the operand's "key" loops are its dims it does not hold; everything inside the
innermost key loop that iterates is one residency segment. Inside a segment each of the operand's
tiles crosses the port once; a loop over the dim the operand does not depend on (n for the input,
m for the filter) outside that key loop re-enters every segment and multiplies the traffic.
"""
from __future__ import annotations

from typing import Any

import numpy as np

ROLE_DIMS = {"ifmap": ("m", "k"), "filter": ("k", "n"), "ofmap": ("m", "n")}
OTHER = {"ifmap": "n", "filter": "m"}            # the dim an operand does not depend on
HOLDABLE = {"ifmap": ("", "k", "m", "mk"), "filter": ("", "k", "n", "kn")}


def inside(order: str, held: str, role: str, counts: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Per dim, whether its loop iterates inside the role's innermost iterating key loop (in the
    residency segment); and whether that key loop is m (the input's bands then follow each other
    from segment to segment). `counts` are ints (plain bools out: the cost model's hot path) or
    arrays (one per tile)."""
    keys = [d for d in ROLE_DIMS[role] if d not in held]
    free: Any = True                  # no key loop that iterates met yet, walking outwards
    at_m: Any = False
    out = {}
    for d in reversed(order):
        out[d] = free & (counts[d] > 1)
        if d in keys:
            if d == "m":
                at_m = at_m | out[d]
            free = free & (counts[d] <= 1)
    return out, at_m


def effective(order: str, hold: tuple[str, str], counts: dict[str, int]) -> bool:
    """Whether every held dim iterates inside its operand's segment: otherwise the mapping is the
    same as one that holds less (its tiles are evicted before they are used again)."""
    for role, held in zip(("ifmap", "filter"), hold):
        ins, _ = inside(order, held, role, counts)
        if any(not bool(ins[d]) for d in held):
            return False
    return True


def operand_traffic(order: str, held: str, role: str, counts: dict[str, Any], grid: Any,
                    slide_grid: Any = None) -> Any:
    """DRAM bytes of one operand over the whole GEMM: every tile once per pass (`grid`), a pass per
    iteration of the loop it does not depend on when that loop is outside its segment. The input's
    bands slide (`slide_grid`: only their new rows) when consecutive bands meet in the buffer: the
    m loop is the innermost key loop, or m is held and iterates in the segment."""
    ins, at_m = inside(order, held, role, counts)
    other = OTHER[role]
    if isinstance(ins[other], (bool, np.bool_)):       # one mapping
        return (slide_grid if slide_grid is not None and (at_m or ins["m"]) else grid) * \
            (1 if ins[other] else counts[other])
    factor = np.where(ins[other], 1, counts[other])
    if slide_grid is not None:
        grid = np.where(at_m | ins["m"], slide_grid, grid)
    return grid * factor


def output_revisits(order: str, counts: dict[str, Any]) -> Any:
    """Partial-sum round trips per output tile: k iterates but is not the innermost iterating loop."""
    later = np.zeros(np.shape(counts["k"]), bool)
    for d in reversed(order):
        if d == "k":
            break
        later = later | (np.asarray(counts[d]) > 1)
    return np.where((np.asarray(counts["k"]) > 1) & later, np.asarray(counts["k"]) - 1, 0)


def fetched(order: str, held: str, role: str, counts: dict[str, int], ix: dict[str, np.ndarray]) -> np.ndarray:
    """Per step (`ix`: each loop's index), whether the role's tile crosses the port before it: the
    first step of its segment that uses it, i.e. the loop it does not depend on is outside the
    segment or at its first index."""
    ins, _ = inside(order, held, role, counts)
    other = OTHER[role]
    return ix[other] == 0 if bool(ins[other]) else np.ones(len(ix[other]), bool)


def slides(order: str, held: str, counts: dict[str, int], ix: dict[str, np.ndarray]) -> np.ndarray:
    """Per step, whether the input band right above (same channels) is on chip, so only the rows
    the two do not share cross the port."""
    ins, at_m = inside(order, held, "ifmap", counts)
    return (ix["m"] > 0) & bool(at_m | ins["m"])
