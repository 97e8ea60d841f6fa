"""Schema of the `memory:` section: SRAM buffers, links, and the off-chip level by `kind`.

`offchip.kind` picks the model: `simple` (bandwidth + latency), `dram` (a standard from
memory/specs/*.yaml driven by the event-driven controller), or `flash` (a preset with overrides).
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from archsim.config.base import StrictModel
from archsim.config.quantities import Bandwidth, Duration, Energy, Frequency, Size


class SramConfig(StrictModel):
    """One on-chip buffer. `bytes_per_cycle` is the total over banks and ports.

    The runner uses `capacity` (tile sizes), `double_buffered` (overlap) and `bytes_per_cycle` (it
    limits the array: dataflows.cost.sram_limited). `banks`, `ports`, `latency_cycles`, `clock` and
    `energy_per_byte` drive the bank-level SRAM model (memory/sram.py) that `archsim mem` and
    request-level studies use; the runner prices SRAM bytes with `energy.sram_byte`."""

    capacity: Size
    bytes_per_cycle: int = Field(ge=1)
    banks: int = Field(1, ge=1)
    ports: int = Field(1, ge=1, description="ports per bank")
    latency_cycles: int = Field(1, ge=0)
    double_buffered: bool = False
    write_behind: bool = Field(False, description="ofmap only: finished outputs wait in this buffer and "
                               "go off-chip while no load is in flight (reads first); half the capacity "
                               "(double-buffered) may wait before they are forced out")
    write_chunk: Size = Field(4096, description="write-behind moves outputs in chunks of this size")
    clock: Frequency | None = Field(None, description="defaults to the design clock")
    energy_per_byte: Energy | None = None


class LinkConfig(StrictModel):
    """A bandwidth + latency link; `preset` (pcie4_x4, pcie4_x16, pcie5_x4, pcie5_x16, noc, tsv) or both numbers."""

    preset: str | None = None
    bandwidth: Bandwidth | None = None
    latency: Duration | None = None
    energy_per_byte: Energy | None = Field(None, description="energy of one byte crossing the link (its "
                                                             "own line in the op's energy; none: not priced)")

    @model_validator(mode="after")
    def _one_way(self) -> "LinkConfig":
        if self.preset is None and (self.bandwidth is None or self.latency is None):
            raise ValueError("a link needs `preset` or both `bandwidth` and `latency`")
        return self


class SimpleOffchipConfig(StrictModel):
    kind: Literal["simple"] = "simple"
    bandwidth: Bandwidth
    latency: Duration
    capacity: Size | None = None
    energy_per_byte: Energy | None = None


class DramConfig(StrictModel):
    """A DRAM standard (memory/specs/<name>.yaml) behind an FR-FCFS/FCFS controller per channel."""

    kind: Literal["dram"] = "dram"
    standard: str = Field(description="DDR4-3200, DDR5-4800, LPDDR5-6400, HBM2, HBM3, GDDR6")
    channels: int = Field(1, ge=1)

    @field_validator("standard")
    @classmethod
    def _known(cls, v: str) -> str:
        from memory.dram.spec import available_standards

        names = available_standards()
        if v.lower() not in {n.lower() for n in names}:
            raise ValueError(f"unknown DRAM standard {v!r}; DRAM standards: {', '.join(names)} (memory/specs)")
        return v
    ranks: int | None = Field(None, ge=1, description="default: the standard's organisation")
    mapping: str = Field("rochrababgco", description="address fields MSB first (DRAMSim3 syntax)")
    xor_bank_hash: bool = Field(False, description="XOR bank/bank-group bits with low row bits")
    page_policy: Literal["open", "closed"] = "open"
    scheduler: Literal["frfcfs", "fcfs"] = "frfcfs"
    read_queue_entries: int = Field(32, ge=1)
    write_queue_entries: int = Field(32, ge=1)
    write_high_watermark: float = Field(0.75, gt=0, le=1)
    write_low_watermark: float = Field(0.25, ge=0, lt=1)
    refresh: Literal["all_bank", "per_bank", "none"] = "all_bank"
    frontend_latency_cycles: int = Field(0, ge=0, description="controller pipeline cycles added to every request")
    frontend: Literal["in_order", "per_channel"] = Field(
        "per_channel", description="trace replay (`archsim mem`) admission: a FIFO per channel, every channel "
        "fed (per_channel, the default and what the runner's DMA always does), or in trace order with "
        "head-of-line blocking, `frontend_per_cycle` a cycle, as DRAMSim3/Ramulator trace drivers (in_order)")
    frontend_per_cycle: int = Field(1, ge=0, description="in_order: requests admitted per DRAM cycle (0: no limit)")
    fidelity: Literal["cycle", "fast"] = "cycle"
    timing: dict[str, int] = Field(default_factory=dict, description="overrides in tCK, e.g. {tRFC: 576}")

    @model_validator(mode="after")
    def _watermarks(self) -> "DramConfig":
        if self.write_low_watermark >= self.write_high_watermark:
            raise ValueError("write_low_watermark must be below write_high_watermark")
        return self


class FlashConfig(StrictModel):
    """A NAND flash array from a preset (tlc_ssd, cambricon_llm) with any field overridden."""

    kind: Literal["flash"] = "flash"
    preset: str = "tlc_ssd"
    channels: int | None = Field(None, ge=1)
    dies_per_channel: int | None = Field(None, ge=1)
    planes_per_die: int | None = Field(None, ge=1)
    page_size: Size | None = None
    page_buffers: int | None = Field(None, ge=1)
    t_read: Duration | None = None
    t_prog: Duration | None = None
    t_erase: Duration | None = None
    channel_bandwidth: Bandwidth | None = None
    multi_plane: bool | None = None
    read_slice: Size | None = Field(None, description="partial-page read size (read slicing)")
    multi_plane_rule: Literal["independent", "same_offset"] | None = Field(
        None, description="same_offset: planes of a die read together only at the same page offset (MQSim)")
    command_overhead: bool | None = Field(None, description="ONFI command/address cycles, tWB, tRR, tADL")
    t_wb: Duration | None = None
    t_rr: Duration | None = None
    t_adl: Duration | None = None
    read_retries: int | None = Field(None, ge=0, description="extra senses per read (read-retry tier)")
    t_ecc: Duration | None = Field(None, description="ECC decode latency after sensing (ECC tier)")
    dies_per_chip: int | None = Field(None, ge=1)
    array_read_energy: Energy | None = Field(None, description="per bit sensed")
    program_energy: Energy | None = Field(None, description="per bit programmed")
    erase_energy: Energy | None = Field(None, description="per block erased")
    channel_energy: Energy | None = Field(None, description="per bit over the channel")
    fidelity: Literal["cycle", "fast"] = "cycle"


OffchipConfig = Annotated[Union[SimpleOffchipConfig, DramConfig, FlashConfig], Field(discriminator="kind")]


class LevelConfig(StrictModel):
    """A further off-chip back-end beside `offchip` (e.g. a flash drive behind PCIe for the weights):
    its `device`, behind its own `links` in series, in the order given."""

    device: OffchipConfig
    links: dict[str, LinkConfig] = Field(default_factory=dict)
    forward_chunk: Size | None = Field(None, description="links forward requests in chunks of this size as "
                                       "they arrive (cut-through); none: whole requests (store and forward)")


PLACEMENT_ROLES = ("weight", "kv_cache", "activation", "output")


class PrefetchConfig(StrictModel):
    """The DMA engine fetches the weights of the next `depth` ops while the current op runs (weights do
    not depend on activations), into `budget` bytes of the weight buffer (default: half the `filter`
    buffer, the half a double-buffered op is not using), shared by those ops. Off by default
    (archsim.prefetch). `resident_weight_bytes` works with or without `weights`."""

    weights: bool = False
    depth: int = Field(1, ge=1, description="ops ahead whose weights are fetched while the current op runs")
    budget: Size | None = Field(None, description="bytes of on-chip weight buffer for prefetched weights")
    resident_weight_bytes: Size = Field(0, description="ops whose weights are at most this size (norm gains, "
                                        "biases) keep them in the weight buffer across steps: loaded once")


class MemoryConfig(StrictModel):
    """On-chip buffers by operand role; `links` sit in series, in the order given, between the buffers
    and the `offchip` level (e.g. a PCIe link in front of a computational SSD). `levels` adds named
    back-ends, and `placement` says on which level each operand role lives (default: offchip)."""

    sram: dict[str, SramConfig] = Field(default_factory=dict)
    links: dict[str, LinkConfig] = Field(default_factory=dict)
    offchip: OffchipConfig = Field(default_factory=lambda: SimpleOffchipConfig(bandwidth="25.6 GB/s", latency="100 ns"))
    forward_chunk: Size | None = Field(None, description="`links` forward requests in chunks of this size as "
                                       "they arrive (cut-through); none: whole requests (store and forward)")
    levels: dict[str, LevelConfig] = Field(default_factory=dict)
    placement: dict[Literal["weight", "kv_cache", "activation", "output"], str] = Field(
        default_factory=dict, description="operand role -> off-chip level name (default offchip)")
    prefetch: PrefetchConfig = Field(default_factory=PrefetchConfig)

    def level_names(self) -> tuple[str, ...]:
        """Names of the off-chip levels: `offchip` first, then `levels` in the order given."""
        return ("offchip", *self.levels)

    def home(self, role: str) -> str:
        """The level an operand role lives on."""
        return self.placement.get(role, "offchip")

    @model_validator(mode="after")
    def _levels_known(self) -> "MemoryConfig":
        if "offchip" in self.levels:
            raise ValueError("levels.offchip: the name 'offchip' is the default level; pick another name")
        names = self.level_names()
        for role, lvl in self.placement.items():
            if lvl not in names:
                raise ValueError(f"placement.{role}: no memory level {lvl!r}; levels are: {', '.join(names)}")
        return self

    @model_validator(mode="after")
    def _write_behind_on_outputs(self) -> "MemoryConfig":
        for role, s in self.sram.items():
            if s.write_behind and role != "ofmap":
                raise ValueError(f"sram.{role}.write_behind: only the ofmap (output) buffer writes behind; "
                                 f"remove it from {role!r} or set it on sram.ofmap")
        return self
