"""Deleting a job, which must not pull rows from under its runs' workers."""

from __future__ import annotations

from sqlalchemy import func, select

from app.access import require
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Job, Role, Run, User, Workspace
from app.runs.states import RUN_OPEN


def delete_job(workspace: Workspace, user: User | None, job: Job) -> None:
    """Delete a job with its runs, their entries and deliveries (foreign keys cascade).

    Refused with Conflict (nothing deleted) while any of its runs is in progress (pending,
    preparing or running): its workers would lose the rows they are writing. Cancel the
    runs, or wait for them to finish, first. `user` None is a trusted operator."""
    if user is not None:
        require(user, workspace, Role.editor)
    if job.workspace_id != workspace.id:
        raise NotFound("job not found")
    open_runs = db.session.scalar(
        select(func.count())
        .select_from(Run)
        .where(Run.job_id == job.id, Run.status.in_([s.value for s in RUN_OPEN]))
    )
    if open_runs:
        raise Conflict(
            f"job '{job.code}' has {open_runs} run{'s' if open_runs != 1 else ''} in progress; "
            "cancel them or wait until they finish, then delete it"
        )
    db.session.delete(job)
    db.session.commit()
