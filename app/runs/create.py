"""Starting and cancelling runs — the same functions for Run now, the API, the CLI and the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.access import require
from app.database import utcnow
from app.datasources.parameters import check_size, coerce_value
from app.errors import ValidationFailed
from app.extensions import db
from app.limits import DATA, size_error
from app.models import Entry, Job, Role, Run, User
from app.runs import dispatch
from app.runs.notify import check_notify
from app.runs.snapshot import take_snapshot
from app.runs.states import EntryStatus, RunStatus, move_entries, move_run

TRIGGERS = ("manual", "schedule", "api")


def check_overrides(job: Job, params: dict[str, Any]) -> dict[str, Any]:
    """Type-check parameter overrides against the job's declared parameters; empty means default.

    Raises ValidationFailed keyed `params.<name>` for an unknown name, a value of the wrong
    type or one larger than HERALD_MAX_PARAMETER_BYTES."""
    declared = {p["name"]: p for p in job.parameters}
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    for name, value in params.items():
        if name not in declared:
            errors[f"params.{name}"] = f"the job has no parameter '{name}'"
        elif value is None or value == "":
            continue
        else:
            try:
                check_size(value)
                checked[name] = coerce_value(declared[name]["type"], value)
            except ValueError as exc:
                errors[f"params.{name}"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return checked


def start_run(
    job: Job,
    user: User | None,
    *,
    trigger: str = "manual",
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    scheduled_for: datetime | None = None,
    notify_url: str | None = None,
    notify_connection: str | None = None,
) -> Run:
    """Create a run of `job` and queue its preparation. `user` None is the clock or an operator.

    The committed run is the promise: when Redis cannot take its preparation, the run stays
    pending (its status says it is waiting for the queue) and the clock's sweep queues it
    once Redis is back (app.runs.recovery), so the caller is never told it failed.

    Raises ValidationFailed (nothing stored) for bad parameter overrides (see check_overrides)
    or a `data` that is not an object or is larger than HERALD_MAX_DATA_BYTES as JSON."""
    if user is not None:
        require(user, job.workspace, Role.editor)
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger}")
    requested, errors = _checked_request(job, params or {}, data)
    if errors:
        raise ValidationFailed(errors)
    run = Run(
        workspace_id=job.workspace_id,
        job_id=job.id,
        trigger=trigger,
        status=RunStatus.pending.value,
        requested_params=requested,
        data=data or {},
        snapshot=take_snapshot(job),
        created_by_id=user.id if user else None,
        scheduled_for=scheduled_for,
        notify_url=notify_url,
        notify_connection=notify_connection,
    )
    check_notify(job.workspace_id, notify_url, notify_connection)
    db.session.add(run)
    job.last_run_at = utcnow()
    job.last_run_status = "running"
    db.session.commit()
    with dispatch.or_leave_to_sweep(f"run {run.id}"):
        dispatch.enqueue_prepare(run.id, run.attempts)
    return run


def _checked_request(
    job: Job, params: dict[str, Any], data: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """The checked overrides and the errors of overrides and `data` together, so one answer
    names every field to fix."""
    errors: dict[str, str] = {}
    if data is not None and not isinstance(data, dict):
        errors["data"] = "must be a JSON object"
    elif data and (too_large := size_error(DATA, data)):
        errors["data"] = too_large
    try:
        return check_overrides(job, params), errors
    except ValidationFailed as exc:
        return {}, {**exc.errors, **errors}


def cancel_run(run: Run, user: User | None) -> int:
    """Cancel what has not started (in-progress entries finish); return entries cancelled."""
    if user is not None:
        require(user, run.job.workspace, Role.editor)
    who = user.email if user else "operator"
    if not move_run(
        run.id,
        RunStatus.cancelled,
        from_=[RunStatus.pending, RunStatus.preparing, RunStatus.running],
        error=f"cancelled by {who}",
    ):
        db.session.rollback()
        raise ValidationFailed({"": f"a {run.status} run cannot be cancelled"})
    not_started = db.session.execute(
        select(Entry.id).where(
            Entry.run_id == run.id,
            Entry.status.in_([EntryStatus.ParametersPrepared, EntryStatus.Queued]),
        )
    ).scalars()
    cancelled = move_entries(list(not_started), EntryStatus.Cancelled)
    db.session.commit()
    return len(cancelled)
