"""Lower bounds on the cost of every mapping of a GEMM at once (numpy), for best-first search.

A tile's DRAM traffic depends only on which loop is innermost among those that iterate (the reuse
rule in mapspace.py), so the mapspace collapses to rows (tile, innermost loop, dataflow): at most
3 per tile and dataflow. Where a conv's buffers may hold whole dims (residency.py), each hold adds
rows whose traffic is the least over the loop orders with that innermost loop. Per row, latency
is bounded below by the busier of the link and the unit plus what can never overlap (the first
load, the last store, the off-chip latency), and energy by the exact DRAM-side energy plus the
unit's MAC energy. The mapper scores rows in bound order and
stops when the next bound cannot enter the top-K, so it returns the optimum of the whole space
while fully evaluating only a few hundred mappings. `tests/dataflows/test_bounds.py` holds every
bound below the true cost.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from archsim.units.base import ComputeUnit, GemmShape
from dataflows.mapspace import DIMS, OperandBits, grid_bytes, nbytes
from dataflows.residency import inside, operand_traffic, output_revisits

if TYPE_CHECKING:
    from dataflows.cost import CostModel


@dataclass(frozen=True)
class BoundRows:
    """One row per distinct (tile, innermost iterating loop, dataflow) of a space; parallel arrays."""

    tile: np.ndarray          # (R,) index into the space's tile array
    inner: np.ndarray         # (R,) 0, 1, 2 = m, n, k innermost (2 when no loop iterates)
    hold: np.ndarray          # (R,) index into the space's holds (residency.py)
    dataflow: np.ndarray      # (R,) index into the space's dataflows
    cycles_lb: np.ndarray     # (R,) float, never above the true cycles
    energy_lb: np.ndarray     # (R,) float pJ, never above the true energy


def innermost_index(tiles: np.ndarray, gemm: GemmShape, order: str) -> np.ndarray:
    """Per tile, the innermost loop of `order` that iterates (0/1/2 for m/n/k; 2 when none does)."""
    iterating = tiles < np.array([gemm.M, gemm.N, gemm.K])
    inner = np.full(len(tiles), 2)
    for d in order:                                      # outer to inner: the last iterating one wins
        i = DIMS.index(d)
        inner = np.where(iterating[:, i], i, inner)
    return inner


def dram_bytes(tiles: np.ndarray, gemm: GemmShape, bits: OperandBits,
               conv: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, 3) arrays for m, n or k innermost: total DRAM bytes (`Mapping.totals()` for every tile at
    once), the stored part of them, and how many output-tile visits (each ends in one store).
    `conv`: a conv's geometry (dataflows/conv_reuse.py), whose input tiles are its real input rows."""
    g = gemm
    tm, tn, tk = tiles.T
    cm, cn, ck = -(-g.M // tm), -(-g.N // tn), -(-g.K // tk)
    ifmap = slid = grid_bytes(g.M, tm, g.K, tk, bits.ifmap)
    if conv is not None:       # bands sliding down the image with m innermost, and at best with n innermost
        ifmap = conv.per_tile("grid_bytes", tm, tk, bits.ifmap)
        slid = conv.per_tile("slide_grid_bytes", tm, tk, bits.ifmap)
    filt = grid_bytes(g.K, tk, g.N, tn, bits.filter)
    psum = grid_bytes(g.M, tm, g.N, tn, bits.psum)
    out = grid_bytes(g.M, tm, g.N, tn, bits.ofmap)
    revisit = out + psum * (ck - 1)                                  # k not innermost: partial sums out
    loads = [slid * cn + filt + psum * (ck - 1),                     # m innermost: filter resident
             slid + filt * cm + psum * (ck - 1),                     # n innermost: ifmap resident
             ifmap * cn + filt * cm]                                 # k innermost: outputs resident
    stores = np.stack([revisit, revisit, out], axis=1) * g.batch
    visits = np.stack([cm * cn * ck, cm * cn * ck, cm * cn], axis=1) * g.batch
    return np.stack(loads, axis=1) * g.batch + stores, stores, visits


def input_grids(tiles: np.ndarray, gemm: GemmShape, bits: OperandBits, conv: Any) -> tuple[Any, Any]:
    """Per tile, the input's bytes over one pass of the tile grid: whole tiles, and sliding bands
    (None for a GEMM, whose tiles share nothing)."""
    tm, _, tk = tiles.T
    if conv is None:
        return grid_bytes(gemm.M, tm, gemm.K, tk, bits.ifmap), None
    return conv.per_tile("grid_bytes", tm, tk, bits.ifmap), conv.per_tile("slide_grid_bytes", tm, tk, bits.ifmap)


def held_dram_bytes(tiles: np.ndarray, gemm: GemmShape, bits: OperandBits, conv: Any, orders: tuple[str, ...],
                    hold: tuple[str, str], grids: tuple[Any, Any] | None = None) -> np.ndarray:
    """(T, 3) total DRAM bytes with buffers that hold `hold`, for m, n or k innermost: the least over
    the `orders` with that innermost loop where the hold takes effect (`Mapping.totals()` of each,
    every tile at once); inf where there is none. `grids`: `input_grids` of the tiles, if known."""
    g = gemm
    tm, tn, tk = tiles.T
    counts = {"m": -(-g.M // tm), "n": -(-g.N // tn), "k": -(-g.K // tk)}
    full, slid = grids if grids is not None else input_grids(tiles, g, bits, conv)
    filt = grid_bytes(g.K, tk, g.N, tn, bits.filter)
    psum = grid_bytes(g.M, tm, g.N, tn, bits.psum)
    out = grid_bytes(g.M, tm, g.N, tn, bits.ofmap)
    best = np.full((len(tiles), 3), np.inf)
    rows = np.arange(len(tiles))
    for o in orders:
        ok = np.ones(len(tiles), bool)
        for role, held in zip(("ifmap", "filter"), hold):
            ins, _ = inside(o, held, role, counts)
            for d in held:
                ok &= ins[d]
        total = (operand_traffic(o, hold[0], "ifmap", counts, full, slid)
                 + operand_traffic(o, hold[1], "filter", counts, filt)
                 + 2 * psum * output_revisits(o, counts) + out) * g.batch
        inner = innermost_index(tiles, g, o)
        best[rows, inner] = np.where(ok, np.minimum(best[rows, inner], total), best[rows, inner])
    return best


def exposed_bytes(tiles: np.ndarray, gemm: GemmShape, bits: OperandBits,
                  conv: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(first load, last store) bytes per tile: the first step's operand tiles (full size) and the
    last step's final output tile (the edge tile), which no compute can hide."""
    tm, tn, tk = tiles.T
    first_in = (conv.per_tile("first_tile_bytes", tm, tk, bits.ifmap) if conv is not None
                else nbytes(tm * tk, bits.ifmap))
    first = first_in + nbytes(tk * tn, bits.filter)
    em, en = gemm.M - (-(-gemm.M // tm) - 1) * tm, gemm.N - (-(-gemm.N // tn) - 1) * tn
    return first, nbytes(em * en, bits.ofmap)


def issue_cycles_lb(unit: ComputeUnit, tiles: np.ndarray, gemm: GemmShape) -> tuple[np.ndarray, np.ndarray]:
    """Per tile, lower bounds on the unit's issue cycles summed over all steps, and on the longest
    step's, as the unit states them (a systolic array's fold law); 0 where the unit states none
    (always valid; it only prunes less)."""
    lb = unit.issue_cycles_lower_bound(tiles, gemm)
    if lb is None:
        return np.zeros(len(tiles)), np.zeros(len(tiles))
    return lb


def mac_energy_pj(unit: ComputeUnit, gemm: GemmShape) -> float:
    """The unit's MAC energy for the whole GEMM: the same for every mapping (0 if unknown)."""
    return unit.mac_energy_lower_bound_pj(gemm)


def bound_rows(units: dict[str, ComputeUnit], tiles: np.ndarray, gemm: GemmShape, bits: OperandBits,
               orders: tuple[str, ...], cost: CostModel, conv: Any = None,
               holds: Sequence[tuple[str, str]] = (("", ""),), fits: Any = None) -> BoundRows:
    """Bounds of every (tile, innermost, hold, dataflow) reachable with `orders`, priced by `cost`;
    `fits(tiles, hold)` says which tiles can hold what (MapSpace.hold_fit)."""
    reachable = np.zeros((len(tiles), 3), bool)
    for o in orders:
        reachable[np.arange(len(tiles)), innermost_index(tiles, gemm, o)] = True
    plain, stores_all, visits_all = dram_bytes(tiles, gemm, bits, conv)
    first_all, last_all = exposed_bytes(tiles, gemm, bits, conv)
    cols: list[list[np.ndarray]] = [[], [], [], [], [], []]
    e = cost.energy
    grids = input_grids(tiles, gemm, bits, conv) if len(holds) > 1 else None
    for h, hold in enumerate(holds):
        if hold == ("", ""):
            ti, inner = np.nonzero(reachable)
            dram = plain[ti, inner].astype(np.float64)
        else:
            can = np.flatnonzero(fits(tiles, hold))
            if not len(can):
                continue
            held = held_dram_bytes(tiles[can], gemm, bits, conv, orders, hold,
                                   None if grids is None else tuple(None if x is None else x[can] for x in grids))
            sub, inner = np.nonzero(np.isfinite(held))
            ti, dram = can[sub], held[sub, inner]
        stores, visits = (a[ti, inner].astype(np.float64) for a in (stores_all, visits_all))
        first, last = (a[ti].astype(np.float64) for a in (first_all, last_all))
        dram_pj = dram * (e.sram_byte_pj + e.offchip_byte_pj)
        for j, unit in enumerate(units.values()):
            issue, longest = (a[ti] for a in issue_cycles_lb(unit, tiles, gemm))
            cycles = cost.cycles_lower_bound(issue, dram, first, last, gemm.batch, stores, visits, longest)
            for col, v in zip(cols, (ti, inner, np.full(len(ti), h), np.full(len(ti), j), cycles,
                                     dram_pj + mac_energy_pj(unit, gemm))):
                col.append(v)
    slack = 1 - 1e-9                                     # float sums in another order must not prune a tie
    t, i, hh, d, c, en = (np.concatenate(col) for col in cols)
    return BoundRows(t, i, hh, d, c * slack, en * slack)
