"""Schema of the design's `mapper:` section: what to optimise, how long to search, what is fixed.

Example:
    mapper:
      objective: edp               # default latency: fastest, near-ties (within 2%) by energy, then DRAM bytes
      latency_tolerance: 0.02
      budget: 30 s
      dataflows: [os, ws]          # the array may be run in any of these (default: as configured)
      constraints:
        - match: "*.ffn_*"         # glob on op name (or `kind: gemm`)
          tile: {K: 256}
          loop_order: nmk          # DRAM-level loops, outer to inner
      placement:
        policy: intensity
        intensity_threshold: 8     # FLOP/byte; below it an op goes to a memory-side unit
        pin: {"*.attn_score": pim}
"""
from __future__ import annotations

import itertools
from typing import Literal

from pydantic import Field, field_validator

from archsim.config.base import StrictModel
from archsim.config.quantities import Duration

LOOP_ORDERS = tuple("".join(p) for p in itertools.permutations("mnk"))


class MapConstraint(StrictModel):
    """Fix parts of the mapping for the ops it matches (all given filters must match)."""

    match: str = Field("*", description="fnmatch glob on the op name")
    kind: str | None = Field(None, description="op kind, e.g. gemm")
    tile: dict[Literal["M", "N", "K"], int] = Field(default_factory=dict, description="SRAM tile sizes")
    loop_order: str | None = Field(None, description="DRAM-level loop order, outer to inner, e.g. mnk")
    dataflow: Literal["os", "ws", "is"] | None = None

    @field_validator("loop_order")
    @classmethod
    def _order(cls, v: str | None) -> str | None:
        if v is not None and v not in LOOP_ORDERS:
            raise ValueError(f"loop_order must be a permutation of 'mnk' (one of {', '.join(LOOP_ORDERS)}), got {v!r}")
        return v

    @field_validator("tile")
    @classmethod
    def _tile(cls, v: dict[str, int]) -> dict[str, int]:
        for k, t in v.items():
            if t < 1:
                raise ValueError(f"tile size {k} must be a positive integer, got {t}")
        return v


class PlacementConfig(StrictModel):
    """Which unit runs which op: pinned by glob, else by capability, optionally split by intensity."""

    policy: Literal["capability", "intensity", "pinned"] = "intensity"
    intensity_threshold: float = Field(
        8.0, ge=0, description="FLOP/byte; ops below it go to a memory-side unit when one can run them")
    pin: dict[str, str] = Field(default_factory=dict, description="op-name glob -> unit name")


class MapperConfig(StrictModel):
    """How the mapper searches. The search is deterministic for a seed unless the time budget cuts it short."""

    objective: Literal["latency", "energy", "edp"] = Field(
        "latency", description="latency: the fastest mapping, except that mappings within `latency_tolerance` "
                               "of the fastest count as tied and the tie goes to the least energy, then the least "
                               "DRAM traffic; energy | edp: the least energy | energy x cycles")
    latency_tolerance: float = Field(
        0.02, ge=0, le=1, description="with objective latency: how much slower than the fastest mapping (a "
                                      "fraction; 0.02 = 2%) a mapping may be and still win on energy; 0 = fastest only")
    budget: Duration = Field("30 s", validate_default=True,
                             description="wall-time safety cap per op; `max_evaluations` bounds the search, so "
                                         "results are reproducible unless this cap cuts it short (then flagged)")
    max_evaluations: int = Field(3000, ge=1, description="score cap for spaces above exhaustive_limit "
                                                         "(best-first search stops there)")
    exhaustive_limit: int = Field(6000, ge=1, description="search exhaustively when the space is at most this")
    seed: int = Field(0, description="reserved for stochastic searches; the best-first search is exact and uses none")
    tile_candidates: int = Field(24, ge=2, description="tile sizes tried per GEMM dim (powers of two, array "
                                                        "multiples, balanced splits, the whole dim)")
    top_k: int = Field(5, ge=1)
    dataflows: list[Literal["os", "ws", "is"]] | None = Field(
        None, description="dataflows the systolic array may use; default: the configured one")
    constraints: list[MapConstraint] = Field(default_factory=list)
    placement: PlacementConfig = Field(default_factory=PlacementConfig)
    cache: bool = True
