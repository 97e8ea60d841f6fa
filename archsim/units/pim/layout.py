"""Where a PIM GEMV's weights live: matrices partitioned over channels, units and bank rows.

Every unit of every channel works in lock-step on the same command, so the weight matrix is cut
into output tiles of `channels x units x accumulators` rows (one accumulator per output row a
unit holds) and input chunks of what the input buffer holds. A unit's columns for one (tile,
chunk) are contiguous in one of its banks (chunk j goes to the unit's bank j mod banks_per_unit,
as HBM-PIM alternates even and odd banks), so each bank streams whole rows (PIM-GPT's row-buffer
locality) and a row switch costs one all-bank ACT/PRE.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import ceil

from archsim.errors import WorkloadError
from memory.dram.spec import DramSpec

RESERVED_ROWS = 4          # the top rows: register row and mode rows (HBM-PIM maps them into every bank)


@dataclass(frozen=True)
class Geometry:
    """The PIM side of one DRAM level: per channel (pseudo-channel) `units` units of `lanes` lanes,
    each serving `banks_per_unit` banks."""

    channels: int
    banks: int
    units: int
    banks_per_unit: int
    lanes: int
    elem_bytes: int
    col_bytes: int
    cols_per_row: int
    rows: int

    @property
    def elems_per_col(self) -> int:
        return max(1, self.col_bytes // self.elem_bytes)

    @property
    def cmds_per_col(self) -> int:
        """Column commands one column of weights needs (a unit multiplies `lanes` elements a command)."""
        return ceil(self.elems_per_col / self.lanes)

    @property
    def usable_rows(self) -> int:
        return self.rows - RESERVED_ROWS


def geometry(cfg, spec: DramSpec, channels: int) -> Geometry:
    """The unit layout over a level of `channels` channels of `spec` (cfg: a PimConfig)."""
    banks = spec.banks * spec.ranks
    per = {"bank": 1, "bank_pair": 2, "bankgroup": spec.banks_per_group, "pseudo_channel": banks,
           "logic_die": banks}[cfg.unit_scope]
    if banks % per:
        raise WorkloadError(f"PIM unit scope {cfg.unit_scope!r}: {banks} banks per channel do not split into "
                            f"units of {per} banks")
    return Geometry(channels=channels, banks=banks, units=banks // per, banks_per_unit=per, lanes=cfg.lanes,
                    elem_bytes=cfg.element_bytes, col_bytes=spec.burst_bytes, cols_per_row=spec.bursts_per_row,
                    rows=spec.rows)


def tsv_spec(spec: DramSpec, width: int, where: str = "pim") -> DramSpec:
    """`spec` as a logic-die unit sees it through TSVs `width` times the pseudo-channel's data bus: each
    column access moves `width` bursts' bytes in the same bus time (a wider internal prefetch), so a row
    holds the same bytes in `width` times fewer columns and RD energy per byte stays the standard's."""
    if width == 1:
        return spec
    if spec.columns % (width * spec.burst_length):
        raise WorkloadError(f"{where}.tsv_width: {width} does not divide {spec.name}'s "
                            f"{spec.bursts_per_row} bursts per row")
    energy = {**spec.energy_pj, "RD": spec.energy_pj.get("RD", 0.0) * width}
    return replace(spec, channel_width_bits=spec.channel_width_bits * width, columns=spec.columns // width,
                   energy_pj=energy)


@dataclass(frozen=True)
class GemvLayout:
    """y[M] = W[M x K] x[K] on geometry `g`: tiles of output rows, chunks of inputs, bank rows used."""

    M: int
    K: int
    g: Geometry
    accumulators: int
    chunk: int                  # input elements per buffer load

    @property
    def rows_per_tile(self) -> int:
        return self.g.channels * self.g.units * self.accumulators

    @property
    def tiles(self) -> int:
        return ceil(self.M / self.rows_per_tile)

    @property
    def chunks(self) -> int:
        return ceil(self.K / self.chunk)

    def chunk_elems(self, j: int) -> int:
        return min(self.chunk, self.K - j * self.chunk)

    def cols(self, j: int) -> int:
        """Weight columns one unit reads for chunk j of a tile (all its accumulators)."""
        return self.accumulators * ceil(self.chunk_elems(j) / self.g.elems_per_col)

    @property
    def slot_cols(self) -> int:
        return self.accumulators * ceil(self.chunk / self.g.elems_per_col)

    def slot(self, t: int, j: int) -> int:
        """Position of (tile t, chunk j) among the slots of its bank."""
        return t * ceil(self.chunks / self.g.banks_per_unit) + j // self.g.banks_per_unit

    def row_runs(self, t: int, j: int) -> list[tuple[int, int]]:
        """(row, columns) the unit's bank streams for (t, j), in order."""
        start, n, per = self.slot(t, j) * self.slot_cols, self.cols(j), self.g.cols_per_row
        runs = []
        while n > 0:
            row, off = divmod(start, per)
            take = min(n, per - off)
            runs.append((row, take))
            start, n = start + take, n - take
        return runs

    @property
    def rows_per_bank(self) -> int:
        slots = self.tiles * ceil(self.chunks / self.g.banks_per_unit)
        return ceil(slots * self.slot_cols / self.g.cols_per_row)

    def check(self, where: str) -> None:
        if self.rows_per_bank > self.g.usable_rows:
            raise WorkloadError(f"{where}: a {self.M}x{self.K} matrix needs {self.rows_per_bank} rows in every bank "
                                f"({self.g.channels} channels x {self.g.banks} banks), but a bank has "
                                f"{self.g.usable_rows} (+{RESERVED_ROWS} reserved); split the matrix or add channels")

    def report(self) -> dict:
        g = self.g
        return {"channels": g.channels, "units_per_channel": g.units, "banks_per_unit": g.banks_per_unit,
                "lanes": g.lanes, "output_rows_per_tile": self.rows_per_tile, "tiles": self.tiles,
                "input_chunk": self.chunk, "chunks": self.chunks, "rows_per_bank": self.rows_per_bank,
                "row_bytes": g.cols_per_row * g.col_bytes,
                "placement": f"output row r -> tile r // {self.rows_per_tile}, channel (r // "
                             f"{g.units * self.accumulators}) % {g.channels}, "
                             f"unit (r // {self.accumulators}) % {g.units}; "
                             f"chunk j -> bank j % {g.banks_per_unit} of the unit"}


def gemv_layout(cfg, g: Geometry, M: int, K: int, where: str = "pim") -> GemvLayout:
    if M < 1 or K < 1:
        raise WorkloadError(f"{where}: GEMV dimensions must be positive, got {M}x{K}")
    chunk = max(g.elems_per_col, cfg.input_buffer_bytes // g.elem_bytes)
    lay = GemvLayout(M, K, g, cfg.accumulators, chunk)
    lay.check(where)
    return lay
