"""The off-chip side of a bitweight op: weight-stationary column blocks through the shared tile pipeline.

Weights stream once, in blocks of columns that fit the filter buffer (half of it when double
buffered); the activations are loaded once if they fit the input buffer, else with every block; each
block's outputs are stored when it finishes. Blocks are a multiple of the array's columns, about
BLOCKS of them, so the next block's weights load while this one computes. A block's compute time
is its share of the op's MACs.
"""
from __future__ import annotations

from typing import Any

from archsim.units.base import GemmShape

REGIONS = {"weight": 0, "activation": 1, "output": 2}
SPAN = 1 << 34
BLOCKS = 8          # column blocks an op is cut into when the buffer allows (double buffering needs > 1)


def _capacity(ctx: Any, role: str) -> int | None:
    s = ctx.system.sram(role)
    if s is None:
        return None
    return s.capacity // 2 if s.double_buffered else s.capacity


def weight_stationary_tiles(op: Any, g: GemmShape, ctx: Any, compute_ps: int, quantum: int):
    """(tiles, {level: (read B, written B)}, (SRAM read B, SRAM write B)) of the op."""
    from dataflows.schedule import (
        Tile,  # the pipeline's own record (OpContext.pipeline takes these)
    )

    a, b = op.operands[0], op.operands[1]
    c = next(o for o in op.operands if o.role == "output")
    abytes, wbytes, cbytes = (-(-o.bits // 8) for o in (a, b, c))
    fcap, icap = _capacity(ctx, "filter"), _capacity(ctx, "ifmap")
    q = min(quantum, g.N)
    cols = min(g.N, -(-g.N // BLOCKS // q) * q)     # about BLOCKS blocks, so loads overlap compute
    if fcap is not None:
        fit = fcap // max(1, g.K * wbytes)
        cols = max(1, min(cols, fit - fit % q if fit >= q else fit))
    blocks = [(n0, min(cols, g.N - n0)) for n0 in range(0, g.N, cols)]
    a_once = icap is None or g.M * g.K * abytes <= icap
    a_bytes = a.nbytes(op.dims) // g.batch
    tiles, rd, wr, cursor = [], {}, {}, dict.fromkeys(REGIONS, 0)
    total = len(blocks) * g.batch
    for bi in range(g.batch):
        for i, (_, nb) in enumerate(blocks):
            loads = [("weight", g.K * nb * wbytes)]
            if i == 0 or not a_once:
                loads.append(("activation", a_bytes))
            stores = [("output", g.M * nb * cbytes)]
            t = bi * len(blocks) + i
            ps = compute_ps * (t + 1) // total - compute_ps * t // total
            tiles.append(Tile(ps, tuple(_req(cursor, r, n) for r, n in loads if n),
                              tuple(_req(cursor, r, n) for r, n in stores if n)))
            for r, n in loads:
                lvl = ctx.home(r if r != "activation" or a.role != "kv_cache" else "kv_cache")
                rd[lvl] = rd.get(lvl, 0) + n
            for r, n in stores:
                wr[ctx.home(r)] = wr.get(ctx.home(r), 0) + n
    traffic = {lvl: (rd.get(lvl, 0), wr.get(lvl, 0)) for lvl in {*rd, *wr}}
    # the array reads the weights once and the activations once per pass of `quantum` columns
    sram_read = b.nbytes(op.dims) + a.nbytes(op.dims) * -(-g.N // quantum)
    return tiles, traffic, (sram_read, sum(wr.values()))


def _req(cursor: dict[str, int], role: str, nbytes: int) -> tuple[int, int]:
    off = cursor[role] % SPAN
    cursor[role] = off + nbytes
    return REGIONS[role] * SPAN + off, nbytes
