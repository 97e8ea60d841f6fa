"""Config of the attention unit: a 2D PE array (M0 x P0), a 1D array, a global buffer, and the variant run on them.

Defaults are FuseMax's cloud design (Nayak et al., MICRO 2024, Fig. 2 and its artifact's YAML): 256 x 256
2D PEs, 256 1D PEs, a 16 MiB global buffer, 16-bit words, exp as 6 MACs + 1 add on a PE, 45 nm Accelergy
energies. The FLAT and unfused baselines of the paper use a 32 MiB buffer and a dedicated exp unit on the
1D array: the bundled configs set those keys.
"""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from archsim.config.base import StrictModel
from archsim.config.quantities import Bandwidth, Energy, Frequency, Size

VARIANTS = ("fusemax", "architecture", "cascade", "flat", "unfused")
Variant = Literal["fusemax", "architecture", "cascade", "flat", "unfused"]


class AttentionEnergy(StrictModel):
    """Energy per action (45 nm, the FuseMax artifact's Accelergy tables)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_default=True)

    mac: Energy = "17.16 pJ"            # type: ignore[assignment]  # fp16 MAC
    add: Energy = "8.34 pJ"             # type: ignore[assignment]
    max: Energy = "0.028 pJ"            # type: ignore[assignment]
    div: Energy = "36.25 pJ"            # type: ignore[assignment]
    exp: Energy = "94.65 pJ"            # type: ignore[assignment]  # FLAT's dedicated exp unit
    buffer_read_byte: Energy = "0.947 pJ"   # type: ignore[assignment]  # 485 pJ per 512-byte row
    buffer_write_byte: Energy = "0.881 pJ"  # type: ignore[assignment]  # 451 pJ per 512-byte row
    dram_byte: Energy = "31.2 pJ"       # type: ignore[assignment]  # HBM2: 249.6 pJ per 64-bit access


class AttentionConfig(StrictModel):
    """A FuseMax-style spatial attention unit; `variant` picks the cascade, binding and schedule."""

    kind: Literal["attention"] = "attention"
    variant: Variant = "fusemax"
    rows: int = Field(256, ge=1, description="2D array rows: M0, key positions per tile")
    cols: int = Field(256, ge=1, description="2D array columns: P0, query positions per tile")
    width_1d: int = Field(256, ge=1, description="1D array PEs (one query row each)")
    buffer: Size = Field("16 MiB", validate_default=True, description="global buffer")
    word_bits: int = Field(16, ge=1, le=64)
    exp_macs: int = Field(6, ge=0, description="MACs of one exp on a PE without an exp unit")
    exp_adds: int = Field(1, ge=0, description="adds of one subtract-then-exp on a PE without an exp unit")
    exp_unit_1d: bool | None = Field(None, description="dedicated exp unit on the 1D array (FLAT hardware); "
                                     "default: off for fusemax/architecture, on for cascade/flat/unfused")
    mask_ops: int = Field(1, ge=0, description="causal: 2D ops per element of a partly masked tile")
    padding: Literal["pad", "refuse"] = Field("pad", description="P or M not a multiple of the tile: pad "
                                              "(cost shown in detail) or refuse")
    flat_row_block: int = Field(1024, ge=1, description="FLAT: query rows per block when QK/A go off chip")
    flat_intermediates: Literal["auto", "onchip", "offchip"] = Field(
        "auto", description="FLAT: where QK and A live; auto: as FLAT's search does, whichever of the two "
        "finishes first (on chip spilling what the buffer cannot hold, or off chip)")
    kv_prefetch_tiles: int = Field(1, ge=0, description="cycle model: K/V tiles loaded ahead of use")
    buffer_bytes_per_cycle: int = Field(16384, ge=1, description="cycle model: global buffer port bytes a "
                                        "cycle (FuseMax: 32 banks of 4096-bit rows)")
    link_words_per_cycle: int | None = Field(None, ge=1, description="cycle model: 2D-to-1D link words a "
                                             "cycle (default: one a column)")
    offchip_bandwidth: Bandwidth | None = Field(None, description="default: the design's off-chip level")
    energy: AttentionEnergy = Field(default_factory=AttentionEnergy)
    clock: Frequency | None = None

    @property
    def word_bytes(self) -> int:
        return -(-self.word_bits // 8)

    @property
    def has_exp_unit(self) -> bool:
        if self.exp_unit_1d is not None:
            return self.exp_unit_1d
        return self.variant in ("cascade", "flat", "unfused")
