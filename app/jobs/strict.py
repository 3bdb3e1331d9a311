"""The base of every job-definition model: unknown keys are refused, aliases accepted."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Refuses keys the schema does not know (a typo is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
