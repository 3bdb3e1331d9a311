"""Creating, replacing, loading and exporting job definitions (deleting a job, which needs
to know its runs, is app.runs.removal.delete_job)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.access import require
from app.errors import Conflict, NotFound, ValidationFailed
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
    "error_notice",
    "error_notice_to",
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


def job_by_code(workspace: Workspace, code: Any) -> Job | None:
    """The workspace's job with `code`, or None."""
    if not isinstance(code, str):
        return None
    return db.session.scalars(select(Job).filter_by(workspace_id=workspace.id, code=code)).first()


def create_job(workspace: Workspace, user: User | None, data: Any) -> Job:
    """Create a new job from a definition (JSON-shaped, as `export_job` gives).

    Raises Conflict when the workspace already has a job with its code (replacing one is
    `replace_job`, a separate decision), ValidationFailed naming each problem otherwise
    (`definition_errors`); nothing is stored then. `user` None is a trusted operator (CLI)."""
    if user is not None:
        require(user, workspace, Role.editor)
    code = data.get("code") if isinstance(data, dict) else None
    if job_by_code(workspace, code) is not None:
        raise Conflict(f"a job with code '{code}' already exists; replace it to change it")
    # The owner hears of runs that end with errors unless the job names other addresses.
    job = Job(workspace_id=workspace.id, owner_id=user.id if user is not None else None)
    return _store(workspace, data, job, new=True)


def replace_job(workspace: Workspace, user: User | None, job: Job, data: Any) -> Job:
    """Replace `job`'s whole definition (its code may change, not to another job's code).

    Raises ValidationFailed naming each problem (nothing changed). Runs in progress keep the
    definition they started with (their snapshot)."""
    if user is not None:
        require(user, workspace, Role.editor)
    if job.workspace_id != workspace.id:
        raise NotFound("job not found")
    return _store(workspace, data, job, new=False)


def set_scheduled(workspace: Workspace, user: User | None, job: Job, on: bool) -> Job:
    """Pause (`on` False) or resume scheduled generation of `job`: the `scheduled` flag the
    clock reads (app.runs.scheduled). Resuming starts from now: fires missed while paused
    are not made up (DESIGN.md: earlier ticks are never back-filled).

    Raises ValidationFailed when resuming a job without a schedule, NotFound for another
    workspace's job, Forbidden below editor. `user` None is a trusted operator."""
    if user is not None:
        require(user, workspace, Role.editor)
    if job.workspace_id != workspace.id:
        raise NotFound("job not found")
    if on and not job.schedule:
        raise ValidationFailed({"scheduled": "this job has no schedule; add one in the wizard"})
    job.scheduled = on
    refresh_next_fire(job)
    db.session.commit()
    return job


def _store(workspace: Workspace, data: Any, job: Job, *, new: bool) -> Job:
    errors = definition_errors(workspace, data, job=None if new else job)
    if errors:
        raise ValidationFailed(errors)
    dumped = JobDefinition.model_validate(data).model_dump(mode="json", by_alias=True)
    for field in DEFINITION_FIELDS:
        setattr(job, field, dumped[field])
    refresh_next_fire(job)
    db.session.add(job)
    db.session.commit()
    return job
