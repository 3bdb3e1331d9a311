"""Freezing what a run needs — job definition, templates, data sources — when it starts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.datasources.fetch import source_snapshot
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.schema import JobDefinition
from app.jobs.service import definition_of
from app.models import DataSource, Job, ReportTemplate
from app.validation_messages import SAVED_DEFINITION


def template_snapshot(template: ReportTemplate) -> dict[str, Any]:
    return {
        "code": template.code,
        "name": template.name,
        "html": template.html,
        "css": template.css,
        "parameters": template.parameters,
        "data_sources": template.data_sources,
        "summary": template.summary or {},
    }


def take_snapshot(job: Job) -> dict[str, Any]:
    """The job as it is now, with every template and data source it uses, by code."""
    return snapshot_of(job.workspace_id, definition_of(job))


def snapshot_of(workspace_id: int, definition: JobDefinition) -> dict[str, Any]:
    """A definition with every template and data source it uses, by code, as they are now."""
    templates = _by_code(ReportTemplate, workspace_id, {r.template for r in definition.reports})
    source_codes = {d.source for d in definition.data_sources}
    for template in templates.values():
        source_codes |= {d["source"] for d in template.data_sources}
    sources = _by_code(DataSource, workspace_id, source_codes)
    return {
        "job": definition.model_dump(mode="json", by_alias=True),
        "templates": {code: template_snapshot(t) for code, t in templates.items()},
        "sources": {code: source_snapshot(s) for code, s in sources.items()},
    }


def _by_code(model: Any, workspace_id: int, codes: set[str]) -> dict[str, Any]:
    found = db.session.execute(
        select(model).where(model.workspace_id == workspace_id, model.code.in_(codes))
    ).scalars()
    by_code = {item.code: item for item in found}
    missing = sorted(codes - set(by_code))
    if missing:
        kind = "report template" if model is ReportTemplate else "data source"
        raise ValidationFailed({"": f"{kind} not found: {', '.join(missing)}"})
    return by_code


def definition_from(snapshot: dict[str, Any]) -> JobDefinition:
    """The job definition frozen in a run's snapshot (it was valid when the run was created;
    a private-address rule tightened since is enforced when sending, not here)."""
    return JobDefinition.model_validate(snapshot["job"], context={SAVED_DEFINITION: True})
