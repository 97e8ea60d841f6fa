"""The off-chip side of a bitweight op: weight-stationary column blocks through the shared tile pipeline.

Weights stream once, in blocks of columns that fit the filter buffer (half of it when double
buffered); the activations are loaded once if they fit the input buffer, else with every block; each
block's outputs are stored when it finishes. A block's compute time is its share of the op's
(value-dependent) compute time. The block width, a multiple of the array's columns, is chosen by
the double-buffered pipeline's closed form at the off-chip level's peak rate: wide blocks load few
times (and reload the activations less when they do not fit), narrow ones overlap more of the
weights' loading with compute, and how much there is to overlap depends on the values. Among
widths within TOLERANCE of the fastest the widest wins (fewer requests).
"""
from __future__ import annotations

from typing import Any

from archsim.units.base import GemmShape

REGIONS = {"weight": 0, "activation": 1, "output": 2}
SPAN = 1 << 34
MAX_CANDIDATES = 12  # block widths tried: quantum x 1, 2, 4, ... up to what fits
TOLERANCE = 0.02     # as the mapper's latency tolerance: near-ties go to the wider block


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
    a_once = icap is None or g.M * g.K * abytes <= icap
    a_bytes = a.nbytes(op.dims) // g.batch
    q = min(quantum, g.N)
    fit = g.N if fcap is None else max(1, fcap // max(1, g.K * wbytes))
    widest = min(g.N, fit - fit % q if fit >= q else fit)
    widths = sorted({min(widest, q << i) for i in range(MAX_CANDIDATES)} | {widest})
    bw = ctx.system.offchip_peak_bytes_per_s

    def estimate(w: int) -> float:
        """Double-buffered pipeline time of blocks `w` wide (loads and stores at the peak rate)."""
        n = -(-g.N // w)
        comp = compute_ps * w / g.N
        load = [(g.K * w * wbytes + (a_bytes if i == 0 or not a_once else 0)) / bw * 1e12 for i in range(n)]
        store = g.M * w * cbytes / bw * 1e12
        t = load[0]
        for i in range(n):
            t += max(comp, (load[i + 1] if i + 1 < n else 0) + (store if i else 0))
        return t + store

    if bw > 0:   # the widest block within TOLERANCE of the fastest: fewer requests, fewer tiles
        est = {w: estimate(w) for w in widths}
        best = min(est.values())
        cols = max(w for w in widths if est[w] <= best * (1 + TOLERANCE))
    else:
        cols = widest
    blocks = [(n0, min(cols, g.N - n0)) for n0 in range(0, g.N, cols)]
    tiles, rd, wr, cursor = [], {}, {}, dict.fromkeys(REGIONS, 0)
    # a block's compute is its share of the op's passes (ceil(width / quantum) each; a narrow last
    # block costs a whole pass)
    units = [-(-nb // q) for _, nb in blocks]
    total = sum(units) * g.batch
    done = 0
    for _ in range(g.batch):
        for i, (_, nb) in enumerate(blocks):
            loads = [("weight", g.K * nb * wbytes)]
            if i == 0 or not a_once:
                loads.append(("activation", a_bytes))
            stores = [("output", g.M * nb * cbytes)]
            ps = compute_ps * (done + units[i]) // total - compute_ps * done // total
            done += units[i]
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
