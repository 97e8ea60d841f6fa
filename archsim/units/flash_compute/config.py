"""Configuration of a flash-side compute unit: in-die GEMV cores (Cambricon-LLM) and a drive-side
attention engine (InstInfer). Both sit `near:` a flash level and read its geometry from there."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from archsim.config.base import StrictModel
from archsim.config.quantities import Bandwidth, Duration, Energy, Frequency, Size
from archsim.config.schema import NearMemoryConfig


class ArbitrationConfig(StrictModel):
    """How the channel is shared between read-compute traffic and the NPU's page reads."""

    policy: str = Field("priority", description="priority (command > vector > result > data) or fifo")
    slice: Size | None = Field(1024, description="page data moves in slices of this size (null: whole pages)")


class AttentionEngineConfig(StrictModel):
    """InstInfer's in-drive attention: engine rate, SparF filter, KV layout and the P2P link."""

    flops: float = Field(gt=0, description="attention engine GeMV FLOP/s (both kernels together)")
    softmax_flops: float = Field(gt=0, description="softmax units' FLOP/s (5 FLOPs a score)")
    group: Size = Field(4096, description="KV group: consecutive tokens of one head in one flash read")
    keep: float = Field(1.0, gt=0, le=1, description="SparF keep ratio of KV bytes (1 = dense)")
    page_skip: float = Field(0.5, gt=0, le=1, description="share of groups the page-level filter still reads")
    p2p: Bandwidth = Field(7e9, description="PCIe peer-to-peer to the GPU/NPU (q in, attention out, k/v rows in)")
    p2p_latency: Duration = Field(500_000, description="one P2P transfer's latency (doorbell, DMA, completion)")
    flop_energy: Energy = Field(0.0, description="energy of one engine FLOP")
    drives: int = Field(1, ge=1, description="identical drives the KV heads are partitioned over (multi-CSD)")
    dram_buffer: Size = Field(2 << 30, description="drive DRAM: decode k/v group buffers before block flushes")


class FlashComputeConfig(NearMemoryConfig):
    """In-flash compute beside a flash level: GEMV cores next to the page buffers and/or an attention engine."""

    kind: Literal["flash_compute"] = "flash_compute"
    clock: Frequency | None = None
    gemv_cores: bool = Field(True, description="in-die GEMV cores beside the page buffers (false: attention only)")
    core_per: Literal["die", "plane", "chip"] = "die"
    core_feed: Literal["one", "all"] = Field(
        "one", description="planes feeding a core per request: one (Cambricon-LLM: the die's other planes serve "
        "the NPU's reads) or all (AiF: a multi-plane read of every plane of the core's die or chip; the NPU's "
        "page reads then take sense time from the same planes)")
    core_macs_per_cycle: int = Field(2, ge=1, description="INT8 MACs per cycle of one core (at the unit's clock)")
    core_buffer: Size = Field(2048, description="input + output buffer of one core")
    weight_bits: int = Field(8, ge=1, le=16, description="weights as stored in flash")
    input_bytes: int = Field(1, ge=1, le=4, description="width of one input element broadcast to the cores")
    result_bytes: int = Field(1, ge=1, le=4, description="width of one partial sum sent back")
    tile: str = Field("auto", description="auto (H_req = sqrt(cc*P), W_req = ch*H_req) or HxW")
    split: str = Field("auto", description="auto (byte-balanced), flash (all GEMV in the dies), or a flash share 0..1")
    arbitration: ArbitrationConfig = Field(default_factory=ArbitrationConfig)
    overlap: bool = Field(True, description="independent matrices overlap: a GEMV pays no pipeline fill")
    steady_state: bool = Field(True, description="cycle: simulate a window of tiles and extrapolate")
    window_tiles: int = Field(24, ge=4, description="tiles simulated before extrapolating (cycle)")
    npu_macs_per_s: float = Field(1e12, gt=0, description="MAC rate of the NPU side of the split")
    core_mac_energy: Energy = Field(0.0, description="energy of one in-die core MAC")
    attention: AttentionEngineConfig | None = None
