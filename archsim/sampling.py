"""Steady-state sampling for the `cycle` fidelity: simulate until the period is stable, extrapolate.

Two places repeat work that the cycle-level models would otherwise simulate in full:

- **Tiles of one op** (`SampledPipeline`). A mapping's tile list is periodic: the same load, store
  and compute sizes come back every `p` tiles (one block). Blocks are simulated in full against the
  memory model while the per-block period is measured by batch means: windows of blocks, each at
  least `WINDOW_REFRESHES` refresh intervals of the memory level long (a disturbance slower than a
  block is averaged over, not mistaken for the period). Once `Z` standard errors of the mean period,
  times the blocks still to come, are within `TOLERANCE` of the op's projected time, whole blocks
  not yet issued are cut out of the list (their time is the mean period times their number) and the
  rest of the op, its last blocks and the drain, is simulated. That bound plus the largest deviation
  of one block from the mean (the seam) is the op's error bar. The engine's clock does not jump by
  the time cut (the DRAM controller would owe every skipped refresh at once on channels that share a
  command bus), so the next ops meet the memory in another refresh phase than in an exact run; each
  of their instances carries `state_error_ps` (two refreshes) as its error bar.
- **Folds of one tile shape** (`extrapolated_compute`). A unit's cycle-level model of a large tile
  is run on the same shape cut down along each large dimension to 1, 2 and 3 quanta past the
  remainder plus one quantum; when the cycles grow by the same amount per quantum (checked, exactly), the full shape's
  cycles follow by that slope. Anything else runs in full.

`archsim run --exact` turns both off. Ops the runner repeats (identical layers, `count` > 1) are
simulated once only when the engine is idle at their start (nothing queued or in flight in any
memory level), which the runner checks before each one.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Sequence

from archsim.tile_events import TilePipeline
from dataflows.schedule import PipelineResult, Tile

TOLERANCE = 0.005          # error bar of the extrapolated blocks, as a fraction of the op's time
Z = 3.0                    # standard errors of the mean block period in the error bar
MIN_WINDOWS = 4            # windows measured before the period is trusted
WARMUP_WINDOWS = 1         # windows after the op's start that are not measured
MIN_TILES = 16             # ops with fewer tiles run in full
WINDOW_REFRESHES = 2       # a window spans at least this many refresh intervals of the memory level
KEEP_BLOCKS = 2            # blocks of the periodic stretch always simulated before the op's tail
MAX_PERIOD = 256           # longest block looked for (tiles)
MIN_DIM_QUANTA = 4         # a tile dimension is cut down only when it spans more quanta than this


@dataclass(frozen=True)
class Sample:
    """What sampling did to one op: tiles simulated and cut, the extrapolated time and its error bar."""

    tiles: int
    simulated: int
    period_tiles: int
    block_ps: float          # mean time per block over the agreeing windows
    skipped_ps: int
    error_ps: int
    skipped_read_bytes: int
    skipped_write_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"tiles": self.tiles, "simulated_tiles": self.simulated, "period_tiles": self.period_tiles,
                "extrapolated_ns": self.skipped_ps / 1000.0, "error_ns": self.error_ps / 1000.0}


def repeat_period(tiles: Sequence[Tile]) -> tuple[int, int]:
    """(p, end): the shortest block length p such that tile j looks like tile j + p (same compute,
    tail, load and store sizes) for every j < end - p, with end covering at least half the tiles;
    (0, 0) when there is none."""
    n = len(tiles)
    if n < MIN_TILES:
        return 0, 0
    ids: dict[tuple, int] = {}
    codes = [ids.setdefault((t.compute_ps, t.tail_ps, tuple(b for _, b in t.loads), tuple(b for _, b in t.stores)),
                            len(ids)) for t in tiles]
    import numpy as np

    c = np.asarray(codes, dtype=np.int64)
    for p in range(1, min(MAX_PERIOD, n // 8) + 1):
        bad = np.flatnonzero(c[p:] != c[:-p])
        end = (int(bad[0]) if bad.size else n - p) + p
        if end >= n // 2:
            return p, end
    return 0, 0


class SampledPipeline(TilePipeline):
    """`TilePipeline` that cuts whole blocks out of its tile list once their period is stable."""

    def __init__(self, engine, level, tiles: Sequence[Tile], slots: int = 2, requester: str = "unit",
                 record: list | None = None, write_behind: Any = None, tolerance: float = TOLERANCE):
        super().__init__(engine, level, list(tiles), slots, requester, record, write_behind)
        self.total_tiles = len(tiles)
        self.period, self._region_end = repeat_period(self.tiles)
        self.tolerance = tolerance
        self._min_window_ps = WINDOW_REFRESHES * refresh_interval_ps(level)
        self._g = 0                           # blocks per window, set by the first block's time
        self._blocks: list[int] = []          # measured block times (ps), in order
        self._block_start: int | None = None
        self._means: list[float] = []         # per-block mean of each measured window
        self.sample: Sample | None = None

    def _try_start(self) -> None:
        i, idle = self._next, not self._busy
        super()._try_start()
        if idle and self._busy and self.period and self.sample is None:
            self._started(i)

    def _started(self, i: int) -> None:
        """Tile i started computing: at a block boundary, close the block and look for a stable period."""
        p = self.period
        if i % p or i >= self._region_end - KEEP_BLOCKS * p:
            return
        now = self.engine.now
        if self._block_start is not None:
            self._blocks.append(now - self._block_start)
            if not self._g:
                self._g = max(1, math.ceil(self._min_window_ps / max(1, self._blocks[0])))
        self._block_start = now
        g, b = self._g, self._blocks
        if not g or len(b) % g or len(b) <= WARMUP_WINDOWS * g:
            return
        self._means.append(sum(b[-g:]) / g)       # a window just closed
        k = len(self._means)
        if k < MIN_WINDOWS:
            return
        mu = sum(self._means) / k
        se = math.sqrt(sum((x - mu) ** 2 for x in self._means) / (k - 1) / k)
        m = (self._region_end - KEEP_BLOCKS * p - self._issued) // p
        if m < 1:
            self.period = 0                       # too close to the end: simulate the rest
        elif Z * se * m <= self.tolerance * (now - self._t0 + m * mu) and not self.held:   # held by index
            self._cut(m, mu, Z * se * m + max(abs(x - mu) for x in b[-g:]))

    def _cut(self, m: int, mean: float, error: float) -> None:
        """Remove m blocks from the first tile whose loads are not issued yet."""
        a, p = self._issued, self.period
        cut = m * p
        gone = self.tiles[a:a + cut]
        self.tiles = self.tiles[:a] + self.tiles[a + cut:]
        self._pending = self._pending[:a] + self._pending[a + cut:]
        self._ready = self._ready[:a] + self._ready[a + cut:]
        self.n -= cut
        self._results_left -= cut
        self._skipped_compute = sum(t.compute_ps for t in gone)
        self.sample = Sample(self.total_tiles, self.n, p, mean, round(m * mean), math.ceil(error),
                             sum(n for t in gone for _, n in t.loads), sum(n for t in gone for _, n in t.stores))

    def run(self, until_done: bool = False) -> PipelineResult:
        res = super().run(until_done)
        s = self.sample
        if s is None:
            return res
        total = res.total_ps + s.skipped_ps
        busy = res.compute_ps + self._skipped_compute
        return PipelineResult(total, busy, total - busy, res.first_compute_start_ps)


def refresh_interval_ps(level: Any) -> int:
    """The longest refresh interval among the level and the hops in front of it (0: none refreshes)."""
    hops = getattr(level, "hops", None) or [level]
    return max((int(getattr(h, "refresh_interval_ps", 0) or 0) for h in hops), default=0)


def refresh_time_ps(level: Any) -> int:
    """The longest single refresh among the level and the hops in front of it (0: none refreshes)."""
    hops = getattr(level, "hops", None) or [level]
    return max((int(getattr(h, "refresh_time_ps", 0) or 0) for h in hops), default=0)


STATE_REFRESHES = 2        # refreshes an op after a cut may gain or lose (its refresh phase moved)


def state_error_ps(level: Any) -> int:
    """Error bar of an op simulated after another op's blocks were cut: the memory meets it in
    another refresh phase, which moves its time by at most `STATE_REFRESHES` refreshes."""
    return STATE_REFRESHES * refresh_time_ps(level)


def extrapolated_compute(unit: Any, g: Any, fidelity: str = "cycle") -> Any | None:
    """The unit's `fidelity` result for GEMM tile `g`, its cycles extrapolated from cut-down shapes
    (see the module docstring), or None when no dimension is large or the cycles are not affine."""
    q = max(unit.tile_quanta() or (0,))
    if q <= 0:
        return None
    dims = [d for d in ("M", "N", "K") if getattr(g, d) > MIN_DIM_QUANTA * q]
    if not dims:
        return None
    checks: list[bool] = []
    try:
        cycles = _affine(unit, g, dims, q, fidelity, checks)
    except _NotAffine:
        return None
    fast = unit.compute(g, "fast")
    detail = dict(fast.detail, fidelity=fidelity, cycles_extrapolated_along="".join(dims))
    if checks:
        detail["output_matches_reference"] = all(checks)
    pes = fast.macs / fast.utilization / max(fast.cycles, 1) if fast.utilization else 0
    return dataclasses.replace(fast, cycles=cycles, detail=detail,
                               utilization=fast.macs / (max(cycles, 1) * pes) if pes else fast.utilization)


class _NotAffine(Exception):
    pass


def _affine(unit: Any, g: Any, dims: list[str], q: int, fidelity: str, checks: list[bool]) -> int:
    if not dims:
        r = unit.compute(g, fidelity)
        if "output_matches_reference" in r.detail:
            checks.append(bool(r.detail["output_matches_reference"]))
        return r.cycles
    d, rest = dims[0], dims[1:]
    full = getattr(g, d)
    base = full % q + q                   # same remainder, at least one whole quantum (no edge effects)
    pts = [base + q * j for j in range(3)]
    c = [_affine(unit, dataclasses.replace(g, **{d: x}), rest, q, fidelity, checks) for x in pts]
    if c[1] - c[0] != c[2] - c[1]:
        raise _NotAffine
    return c[0] + (full - pts[0]) // q * (c[1] - c[0])
