"""Host flash offload (LLM in a flash): weights stream from an SSD into a DRAM budget, no in-storage compute.

The drive's read rate depends on the chunk size and the number of reader threads: measured points
(chunk -> bytes/s at a reference thread count) are interpolated in log(chunk); fewer threads keep
fewer reads in flight and scale the rate down in proportion (Little's law), never above the
sequential rate. Per token, the I/O moves the FFN neurons the predictor marks active that the
window of the last k tokens does not already hold; row-column bundling stores up-projection column
i beside down-projection row i, so one read carries both (twice the chunk, one request).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from archsim.errors import ConfigError


@dataclass(frozen=True)
class ReadCurve:
    points: tuple[tuple[int, float], ...]     # (chunk bytes, bytes/s) at `threads`, increasing chunk
    threads: int
    sequential: float                          # bytes/s for large sequential reads

    def rate(self, chunk: int, threads: int | None = None) -> float:
        pts = self.points
        if chunk <= 0:
            raise ConfigError(f"chunk must be > 0 bytes, got {chunk}")
        xs = [math.log(c) for c, _ in pts]
        x = math.log(chunk)
        i = bisect.bisect_left(xs, x)
        if i == 0:
            r = pts[0][1] * chunk / pts[0][0]                     # below the curve: per-request bound
        elif i == len(pts):
            r = self.sequential
        else:
            (_, r0), (_, r1) = pts[i - 1], pts[i]
            r = r0 + (r1 - r0) * (x - xs[i - 1]) / (xs[i] - xs[i - 1])
        r *= min(1.0, (threads or self.threads) / self.threads)
        return min(r, self.sequential)


# Apple M1 Max 1 TB SSD, uncached reads, 32 threads (LLM in a flash, Sec. 3 / Fig. 2): 16 KiB random
# 1.25 GB/s, 32 KiB 2.25 GB/s, sequential >= 1 GiB 6.1 GB/s.
M1_MAX = ReadCurve(points=((16 << 10, 1.25e9), (32 << 10, 2.25e9), (1 << 30, 6.1e9)), threads=32, sequential=6.1e9)


def union_share(share: float, sequences: int) -> float:
    """Share of the FFN rows at least one of `sequences` independent sequences needs when each needs
    `share` of them: 1 - (1 - share)^B, an upper bound (real sequences share hot neurons); `share`
    itself, unrounded, at one sequence."""
    return share if sequences == 1 else 1.0 - (1.0 - share) ** sequences


@dataclass(frozen=True)
class StepShares:
    """Shares of one FFN matrix in a decode step of a batch."""

    active: float     # rows some sequence needs (read from DRAM once for the batch)
    load: float       # rows read from flash
    cache: float      # rows the windows keep in DRAM


def batch_shares(active: float, new: float, cache: float, sequences: int, cache_cap: float = 1.0) -> StepShares:
    """Per step of `sequences` independent sequences, each with `active` rows predicted active, `new`
    of them outside its window and a window of `cache` rows. The union of the active rows follows
    `union_share`; each window keeps its own sequence's last k tokens, so the union's new rows and its
    cache follow the same law. The cache is bounded by the DRAM left for it (`cache_cap`, a share of
    the FFN): the rows it cannot hold are read again, so the loads grow from the union's new rows
    towards all its active rows as the share of the union window held in DRAM falls."""
    a = union_share(active, sequences)
    n = min(union_share(new, sequences), a)
    c = union_share(cache, sequences)
    if c <= cache_cap:
        return StepShares(a, n, c)
    return StepShares(a, a - (a - n) * (cache_cap / c), cache_cap)


@dataclass(frozen=True)
class OffloadStep:
    dram_bytes: int
    flash_bytes: int
    chunk: int
    io_s: float


def offload_io(total_params: int, ffn_params: int, d_model: int, bytes_per_param: float, *,
               resident: float = 0.0, predictor: float | None = None, window_new: float | None = None,
               bundle: bool = False, chunk_bytes: int | None = None, curve: ReadCurve = M1_MAX,
               threads: int | None = None, dram_budget: int | None = None) -> OffloadStep:
    """I/O of one token.

    `resident`: share of the model kept in DRAM (the hybrid step); with a `predictor` (share of FFN
    neurons predicted active) everything but the FFN is resident and only active neurons stream; with
    windowing, `window_new` is the share of FFN neurons active now but not in the last k tokens."""
    if predictor is None:
        flash = int(total_params * (1 - resident) * bytes_per_param)
        chunk = chunk_bytes or (1 << 30)
        dram = int(total_params * resident * bytes_per_param)
    else:
        share = predictor if window_new is None else window_new
        flash = int(ffn_params * share * bytes_per_param)
        chunk = chunk_bytes or int(d_model * bytes_per_param)   # one neuron's row (or column)
        chunk *= 2 if bundle else 1
        dram = int((total_params - ffn_params) * bytes_per_param)
    if dram_budget is not None and dram > dram_budget:
        raise ConfigError(f"dram_budget: the resident part needs {dram} B, more than the budget {dram_budget} B")
    return OffloadStep(dram, flash, chunk, flash / curve.rate(chunk, threads))


def page_cache_rate(spec, readahead: int = 128 << 10, streams: int = 2, software_ps: int = 10_000_000,
                    link: float = 16e9 * 4 * 128 / 130 / 8, h2d: float = 16e9 * 16 * 128 / 130 / 8) -> float:
    """Bytes/s of a file read through the page cache into pinned memory, then copied to the GPU (FlexGen's
    disk path: np.memmap page faults, kernel readahead, one copy thread per tensor).

    Little's law per stream: one readahead window in flight; its latency is a sense, one page over a
    channel (the window's pages stripe over the channels), its last page over the drive's link, and the
    kernel's fault/block/NVMe path (`software_ps`). The copy to the GPU follows each item, not overlapped."""
    pages = -(-readahead // spec.page_size)
    per_ch = -(-pages // spec.channels)
    lat_ps = spec.t_read + per_ch * spec.page_size * spec.channel_ps_per_byte + spec.page_size / link * 1e12 \
        + software_ps
    read = readahead / (lat_ps / 1e12)
    return streams / (1 / read + 1 / h2d)
