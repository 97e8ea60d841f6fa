"""Top-level design schema. Unit sections are discriminated by `kind`; every number carries its unit.

Sections owned by other layers' schemas (memory, mapper) are defined in their own files here in
archsim/config/ so this lowest layer imports nothing from above it.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, model_validator

from archsim.config.base import StrictModel
from archsim.config.mapper_schema import MapperConfig
from archsim.config.memory_schema import MemoryConfig
from archsim.config.quantities import Energy, Frequency


class NearMemoryConfig(StrictModel):
    """Base of memory-side unit configs: the unit sits beside the named memory level (`near:`), so
    operands that live on that level do not cross its external port."""

    near: str = Field("offchip", description="name of the memory level the unit sits beside")


def _sourced(v: Any) -> Any:
    """`0.2 pJ` is shorthand for {value: 0.2 pJ}; a bare number goes the same way so the error says
    that a unit is missing."""
    return v if isinstance(v, dict) else {"value": v}


class SourcedEnergy(StrictModel):
    """An energy per action with an optional note of where the value comes from."""

    value: Energy
    source: str | None = None


EnergyValue = Annotated[SourcedEnergy, BeforeValidator(_sourced)]


class EnergyConfig(StrictModel):
    """Per-action energies. `mac` is per MAC at the unit's operand widths; bytes are moved bytes."""

    mac: EnergyValue = Field(default_factory=lambda: SourcedEnergy(value="0 pJ"))
    vector_op: EnergyValue = Field(default_factory=lambda: SourcedEnergy(value="0 pJ"))
    sram_byte: EnergyValue = Field(default_factory=lambda: SourcedEnergy(value="0 pJ"))
    offchip_byte: EnergyValue = Field(default_factory=lambda: SourcedEnergy(value="0 pJ"))
    static_pj_per_cycle: EnergyValue = Field(default_factory=lambda: SourcedEnergy(value="0 pJ"))

    def table(self) -> dict[str, float]:
        """{action: pJ} for the models."""
        return {k: getattr(self, k).value for k in type(self).model_fields}


class WorkloadSpec(StrictModel):
    """The workload a design runs when the command line names none (bare `archsim run`)."""

    gemm: list[str] = Field(default_factory=list, description="GEMMs as 'MxNxK' or 'name=MxNxK'")
    conv: list[dict[str, int | str]] = Field(default_factory=list,
                                             description="convs as {name, H, W, R, S, C, F, stride, pad}")
    model: str | None = None
    phase: Literal["prefill", "decode"] = "prefill"
    batch: int = Field(1, ge=1)
    seq: int | None = Field(None, ge=1)
    kv: int | None = Field(None, ge=1)
    attention: Literal["unfused", "fused"] | None = Field(
        None, description="fused: QK^T, softmax and A.V as one attention op (units that cannot run it run its parts)")
    values: dict[Literal["weight", "activation", "kv_cache"], str] | None = Field(
        None, description="operand role -> value source: normal:STD, uniform, laplace:B, sparse:P,<dist>, .npy/.npz")
    seed: int | None = Field(None, ge=0, description="seed of the value distributions")
    bits: int | None = Field(None, ge=1, le=64, description="operand precision of the design's datapath (e.g. 8 "
                             "for W8A8); models run at it when the command line gives no --bits")


class DesignConfig(StrictModel):
    """A whole accelerator design: compute units, memory hierarchy, energy table, mapper settings."""

    name: str = "design"
    description: str | None = None
    clock: Frequency = Field("1 GHz", validate_default=True)
    units: dict[str, Any]      # a tagged union over the registered unit kinds (archsim/config/units.py)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    energy: EnergyConfig = Field(default_factory=EnergyConfig)
    mapper: MapperConfig = Field(default_factory=MapperConfig)
    workload: WorkloadSpec | None = None
    _source: str = PrivateAttr(default="<dict>")

    def __init__(self, **data: Any) -> None:
        _unit_schema()
        super().__init__(**data)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> "DesignConfig":  # type: ignore[override]
        _unit_schema()
        return super().model_validate(obj, **kwargs)

    @model_validator(mode="after")
    def _has_units(self) -> "DesignConfig":
        if not self.units:
            raise ValueError("a design needs at least one compute unit under 'units'")
        levels = self.memory.level_names() if hasattr(self.memory, "level_names") else ("offchip",)
        for name, u in self.units.items():
            near = getattr(u, "near", None) if isinstance(u, NearMemoryConfig) else None
            if near is not None and near not in levels:
                raise ValueError(f"units.{name}.near: no memory level {near!r}; "
                                 f"the design's off-chip levels are: {', '.join(levels)}")
        return self

    @property
    def source(self) -> str:
        return self._source

    def unit_clock_hz(self, name: str) -> float:
        u = self.units[name]
        return float(u.clock or self.clock)


_built_for: tuple[str, ...] | None = None


def _unit_schema() -> None:
    """Make `DesignConfig.units` a tagged union over the registered unit kinds (after loading them)."""
    global _built_for
    from archsim.config import units

    units.load_plugins()
    kinds = tuple(sorted(units.unit_config_models()))
    if kinds == _built_for:
        return
    DesignConfig.model_fields["units"].annotation = dict[str, units.unit_config_union()]  # type: ignore[misc]
    DesignConfig.model_rebuild(force=True)
    _built_for = kinds
