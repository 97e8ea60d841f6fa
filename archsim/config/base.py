"""Base model for every config section: unknown keys are errors, values are validated on assignment."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Rejects unknown keys (the loader adds a "did you mean" hint and the YAML line)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)
