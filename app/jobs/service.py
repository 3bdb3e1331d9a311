"""Saving, loading and exporting job definitions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.access import require
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.schedule import refresh_next_fire
from app.jobs.schema import JobDefinition, parse_definition
from app.models import DataSource, Job, ReportTemplate, Role, User, Workspace

# Columns of Job that hold the parts of a definition, by the definition's field names.
DEFINITION_FIELDS = (
    "code",
    "name",
    "description",
    "scheduled",
    "hold_for_review",
    "parameters",
    "data_sources",
    "reports",
    "deliveries",
    "schedule",
    "misfire_grace_seconds",
)


def definition_of(job: Job) -> JobDefinition:
    """The job's saved definition as a validated model."""
    return JobDefinition.model_validate({f: getattr(job, f) for f in DEFINITION_FIELDS})


def export_job(job: Job) -> dict[str, Any]:
    """The job definition as JSON, as `jobs export` prints it and `jobs import` reads it."""
    return definition_of(job).model_dump(mode="json", by_alias=True)


def check_references(workspace: Workspace, definition: JobDefinition) -> None:
    """Every data source and template the definition names must exist in the workspace."""
    errors: dict[str, str] = {}
    sources = set(
        db.session.execute(
            select(DataSource.code).where(DataSource.workspace_id == workspace.id)
        ).scalars()
    )
    templates = {
        t.code: t
        for t in db.session.execute(
            select(ReportTemplate).where(ReportTemplate.workspace_id == workspace.id)
        ).scalars()
    }
    for i, ref in enumerate(definition.data_sources):
        if ref.source not in sources:
            errors[f"data_sources.{i}.source"] = f"no data source with code '{ref.source}'"
    for i, report in enumerate(definition.reports):
        template = templates.get(report.template)
        if template is None:
            errors[f"reports.{i}.template"] = f"no report template with code '{report.template}'"
            continue
        declared = {p["name"] for p in template.parameters}
        for name in report.bindings:
            if name not in declared:
                errors[f"reports.{i}.bindings.{name}"] = (
                    f"template '{template.code}' has no parameter '{name}'"
                )
    if errors:
        raise ValidationFailed(errors)


def save_job(workspace: Workspace, user: User | None, data: Any, *, job: Job | None = None) -> Job:
    """Create a job, or update `job` (or the job with the same code), from a definition.

    `user` None means a trusted caller (a CLI command run by the operator).
    """
    if user is not None:
        require(user, workspace, Role.editor)
    definition = parse_definition(data)
    check_references(workspace, definition)
    same_code = db.session.execute(
        select(Job).filter_by(workspace_id=workspace.id, code=definition.code)
    ).scalar_one_or_none()
    if job is None:
        job = same_code or Job(workspace_id=workspace.id)
    elif same_code is not None and same_code.id != job.id:
        raise ValidationFailed({"code": f"another job already uses the code '{definition.code}'"})
    dumped = definition.model_dump(mode="json", by_alias=True)
    for field in DEFINITION_FIELDS:
        setattr(job, field, dumped[field])
    refresh_next_fire(job)
    db.session.add(job)
    db.session.commit()
    return job
