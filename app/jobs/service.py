"""Saving, loading and exporting job definitions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.access import require
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.checks import definition_errors
from app.jobs.schedule import refresh_next_fire
from app.jobs.schema import JobDefinition
from app.models import Job, Role, User, Workspace

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


def save_job(
    workspace: Workspace,
    user: User | None,
    data: Any,
    *,
    job: Job | None = None,
    replace_by_code: bool = True,
) -> Job:
    """Create a job, or update `job`, from a definition that passes every check
    (`definition_errors`); otherwise raise ValidationFailed naming each problem and change
    nothing. Without `job`, the job with the same code is replaced unless
    `replace_by_code` is False (a new job from the wizard).

    `user` None means a trusted caller (a CLI command run by the operator).
    """
    if user is not None:
        require(user, workspace, Role.editor)
    errors = definition_errors(
        workspace, data, job=job, replace_by_code=replace_by_code and job is None
    )
    if errors:
        raise ValidationFailed(errors)
    definition = JobDefinition.model_validate(data)
    if job is None:
        job = db.session.execute(
            select(Job).filter_by(workspace_id=workspace.id, code=definition.code)
        ).scalar_one_or_none() or Job(workspace_id=workspace.id)
    dumped = definition.model_dump(mode="json", by_alias=True)
    for field in DEFINITION_FIELDS:
        setattr(job, field, dumped[field])
    refresh_next_fire(job)
    db.session.add(job)
    db.session.commit()
    return job
