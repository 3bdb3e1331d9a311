"""Samples for the wizard: what each attached data source returns with the default parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from app.database import utcnow
from app.datasources.fetch import fetch_rows, source_snapshot
from app.datasources.parameters import query_binds, resolve_parameters
from app.datasources.sql import QueryError
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.schema import DataSourceRef, ParameterDef
from app.models import DataSource


@dataclass
class Sample:
    alias: str
    source: str
    repeating: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    error: str | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []


def default_params(data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The parameter values a run started now without overrides would get, or why not."""
    try:
        declared = [ParameterDef.model_validate(p) for p in data.get("parameters", [])]
        zone = (data.get("schedule") or {}).get("timezone") or "UTC"
        return resolve_parameters(declared, {}, utcnow(), zone), None
    except (ValidationError, ValidationFailed) as exc:
        return {}, str(exc)


def samples(workspace_id: int, data: dict[str, Any], limit: int = 5) -> list[Sample]:
    """Rows (first `limit`) and row counts of the draft's data sources, with default parameters."""
    params, problem = default_params(data)
    binds = query_binds(params, {})
    sources = {
        s.code: s
        for s in db.session.scalars(select(DataSource).filter_by(workspace_id=workspace_id))
    }
    results = []
    for raw in data.get("data_sources", []):
        try:
            ref = DataSourceRef.model_validate(raw)
        except ValidationError:
            continue  # a row still being filled in has nothing to sample
        sample = Sample(ref.alias, ref.source, ref.repeating)
        source = sources.get(ref.source)
        try:
            if source is None:
                raise QueryError(f"no data source '{ref.source}'")
            rows = fetch_rows(source_snapshot(source), binds)
            sample.rows, sample.count = rows[:limit], len(rows)
        except (QueryError, ValidationFailed) as exc:
            sample.error = f"{exc}" + (f" ({problem})" if problem else "")
        results.append(sample)
    return results
