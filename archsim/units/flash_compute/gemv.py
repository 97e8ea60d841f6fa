"""One GEMV (or a batch of them) on in-die cores plus the NPU's sliced reads: the split, the
traffic, and the `fast` (L0 closed form) time. `cycle` (gemv_cycle.py) times the same work."""
from __future__ import annotations

from dataclasses import dataclass

from archsim.units.flash_compute.tiling import Plan


@dataclass(frozen=True)
class Work:
    """How a matrix of n_out x n_in weights divides: read-compute requests and NPU page reads."""

    tiles: int              # read-compute requests (each: one page per core on every channel)
    npu_pages: int          # NPU page reads over all channels
    flash_weights: int
    npu_weights: int
    batch: int


def split_work(plan: Plan, n_out: int, n_in: int, batch: int = 1) -> Work:
    """Whole requests to the dies (the byte-balanced share, or the override), the rest as NPU pages."""
    total = n_out * n_in
    share = plan.flash_share(batch)
    most = -(-total // plan.tile_weights)
    exact = share * total / plan.tile_weights
    if plan.share is None:    # whole requests: of the two counts around the balance, the one finishing first
        r_f, r_c, _ = plan.rates(batch)
        t_rc = plan.tile_weights / r_f
        k_die = plan.npu_die_s(batch)

        def end(k: int) -> float:
            rest = max(0, total - k * plan.tile_weights)
            return max(k * t_rc + rest * k_die, rest / r_c)
        tiles = min((k for k in {min(most, int(exact)), min(most, int(exact) + 1)}), key=lambda k: (end(k), k))
    else:
        tiles = min(round(exact), most)
    flash = min(total, tiles * plan.tile_weights)
    npu = total - flash
    per_page = int(plan.page_bytes * plan.wpb)
    return Work(tiles, -(-npu // per_page) if npu else 0, flash, npu, batch)


@dataclass
class GemvCost:
    time_ps: int
    work: Work
    channel_bytes: int          # over all channels (what crosses the flash level's port, both ways)
    per_channel_bytes: int      # on the busiest channel
    channel_util: float
    die_util: float             # share of time a core's feeding plane is sensing
    page_senses: int
    npu_ps: int                 # the NPU's compute for its share (overlapped with its reads)


def channel_bytes(plan: Plan, tiles: int, pages: int, batch: int) -> int:
    """Bytes one channel moves for `tiles` read-compute requests and `pages` NPU page reads."""
    rc = tiles * ((plan.vec_bytes + plan.cc * plan.res_bytes) * batch + plan.cc * plan.feed * plan.cmd_bytes)
    return rc + pages * (plan.page_bytes + plan.cmd_bytes)


def finish(plan: Plan, work: Work, steady_ps: float, fill_ps: int, npu_macs_per_s: float) -> GemvCost:
    """Cost of `work` given its channel-level time (either fidelity); traffic counts are exact."""
    pages_ch = -(-work.npu_pages // plan.ch)
    per_ch = channel_bytes(plan, work.tiles, pages_ch, work.batch)
    total_bytes = channel_bytes(plan, work.tiles, 0, work.batch) * plan.ch + \
        work.npu_pages * (plan.page_bytes + plan.cmd_bytes)
    npu_ps = int(work.npu_weights * work.batch / npu_macs_per_s * 1e12)
    t = max(int(round(steady_ps)) + fill_ps, npu_ps, 1)
    return GemvCost(time_ps=t, work=work, channel_bytes=total_bytes, per_channel_bytes=per_ch,
                    channel_util=min(1.0, per_ch * plan.ps_per_byte / t),
                    die_util=min(1.0, work.tiles * plan.t_sense / t),
                    page_senses=work.tiles * plan.cores + work.npu_pages, npu_ps=npu_ps)


def gemv_fast(plan: Plan, n_out: int, n_in: int, batch: int = 1, overlap: bool = True,
              npu_macs_per_s: float = 1e12) -> GemvCost:
    """L0: requests at t_rc each beside NPU pages at (1 - rate_rc) of the channel. With `overlap` the
    op's first sense hides under the previous op (weights do not wait for activations), as in cycle."""
    work = split_work(plan, n_out, n_in, batch)
    t_rc = plan.t_rc(batch)
    _, _, rate_rc = plan.rates(batch)
    page_ps = (plan.page_bytes + plan.cmd_bytes) * plan.ps_per_byte
    pages_ch = -(-work.npu_pages // plan.ch)
    t_npu = pages_ch * page_ps / (1 - rate_rc) if work.tiles else pages_ch * page_ps
    drain = (plan.core_ps + plan.res_bytes * plan.ps_per_byte) * batch     # the last page's compute and result
    npu_senses = pages_ch * plan.npu_sense_ps(batch)       # the NPU's pages sensed on the compute planes (if shared)
    raw = max(work.tiles * t_rc + npu_senses + drain if work.tiles else 0,
              plan.t_sense + max(t_npu, npu_senses) if pages_ch else 0)
    return finish(plan, work, raw - plan.t_sense if overlap else raw, 0, npu_macs_per_s)
