"""Starting and cancelling runs — the same functions for Run now, the API, the CLI and the clock."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.access import require
from app.database import utcnow
from app.datasources.parameters import check_size, coerce_value
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.limits import DATA, size_error
from app.models import Entry, Job, Role, Run, User
from app.outbound.secrets import encrypt_json
from app.runs import dispatch
from app.runs.notify import check_notify
from app.runs.outcome import settle_run
from app.runs.snapshot import take_snapshot
from app.runs.states import (
    DeliveryStatus,
    EntryStatus,
    RunStatus,
    move_deliveries,
    move_run_entries,
)

TRIGGERS = ("manual", "schedule", "api")
MAX_IDEMPOTENCY_KEY = 200
_CHUNK = 900  # ids per IN (...) list (SQLite allows some thousands of bound values)


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
    idempotency_key: str | None = None,
    notify_headers: dict[str, str] | None = None,
) -> Run:
    """Create a run of `job` and queue its preparation. `user` None is the clock or an operator.

    The committed run is the promise: when Redis cannot take its preparation, the run stays
    pending (its status says it is waiting for the queue) and the clock's sweep queues it
    once Redis is back (app.runs.recovery), so the caller is never told it failed.

    Raises ValidationFailed (nothing stored) for bad parameter overrides (see check_overrides)
    or a `data` that is not an object or is larger than HERALD_MAX_DATA_BYTES as JSON.

    With an `idempotency_key` (IETF draft "The Idempotency-Key HTTP Header Field"), the key is
    claimed by the run's own row: (job, key) is unique, and the insert that claims it is the
    insert of the run, committed before anything is queued. So any number of concurrent calls
    with one key create one run; each gets that run back. The same key with a different request
    (parameters, data, webhook) raises Conflict. A key is kept IDEMPOTENCY_HOURS; after that it
    starts a new run. Keys are scoped to the job (and so its workspace), not to a token: a
    client that rotates its token, or retries from a browser session, still matches its run.
    """
    if user is not None:
        require(user, job.workspace, Role.editor)
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger}")
    requested, errors = _checked_request(job, params or {}, data)
    if errors:
        raise ValidationFailed(errors)
    key = (idempotency_key or "").strip() or None
    digest = None
    if key is not None:
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise ValidationFailed(
                {"Idempotency-Key": f"longer than {MAX_IDEMPOTENCY_KEY} characters"}
            )
        digest = request_digest(params, data, notify_url, notify_connection, notify_headers)
        if (claimed := _claimed_run(job, key, digest)) is not None:
            return claimed
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
        notify_headers=encrypt_json(notify_headers) if notify_headers else None,
        idempotency_key=key,
        request_hash=digest,
    )
    check_notify(job.workspace_id, notify_url, notify_connection, notify_headers)
    db.session.add(run)
    job.last_run_at = utcnow()
    job.last_run_status = "running"
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        # A concurrent request with the same key committed its run first: answer with it.
        claimed = _claimed_run(job, key, digest) if key is not None else None
        if claimed is None:
            raise
        return claimed
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


def request_digest(
    params: dict[str, Any] | None,
    data: dict[str, Any] | None,
    notify_url: str | None,
    notify_connection: str | None,
    notify_headers: dict[str, str] | None = None,
) -> str:
    """SHA-256 (hex) of a run request in canonical JSON (sorted keys, no spaces): two requests
    that mean the same thing hash alike whatever their key order or whitespace."""
    canonical = json.dumps(
        {
            "params": params or {},
            "data": data or {},
            "webhook": {"url": notify_url, "secretConnection": notify_connection}
            | ({"headers": notify_headers} if notify_headers else {})
            if notify_url
            else None,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claimed_run(job: Job, key: str, digest: str | None) -> Run | None:
    """The live run that holds `key` for `job`, or None when the key is free.

    A claim older than IDEMPOTENCY_HOURS is released (the key set to NULL on the old run, with
    a conditional update, so concurrent releases are harmless) and reads as free."""
    run = db.session.scalars(select(Run).filter_by(job_id=job.id, idempotency_key=key)).first()
    if run is None:
        return None
    kept = timedelta(hours=current_app.config.get("IDEMPOTENCY_HOURS", 24))
    if run.created_at < utcnow() - kept:
        db.session.execute(
            update(Run)
            .where(Run.id == run.id, Run.idempotency_key == key)
            .values(idempotency_key=None)
        )
        db.session.commit()
        return None
    if run.request_hash != digest:
        raise Conflict("this Idempotency-Key was used with a different request")
    return run


def cancel_run(run: Run, user: User | None) -> int:
    """Cancel a run and every entry of it not yet finished; return how many entries ended
    Cancelled. Raises ValidationFailed (409 in the API) when the run has already ended,
    unless entries of it are still held for review: those end Cancelled, and the finished run
    with them.

    Entries not started (ParametersPrepared, Queued) and started ones (being generated, held
    for review, waiting for a throttle slot or a delivery's retry) all end Cancelled, never
    Completed (seed 000's entry vocabulary); the pending deliveries of started ones are
    skipped ("run cancelled"). Nothing is sent after this commits: a worker that already
    holds one of these entries checks before it sends (`app.delivery.service`), one still
    rendering stops before storing (`app.runs.generate`), and a run still being prepared
    keeps no entries (`app.runs.prepare`)."""
    if user is not None:
        require(user, run.job.workspace, Role.editor)
    who = user.email if user else "operator"
    cancellable = [RunStatus.pending, RunStatus.preparing, RunStatus.running]
    if _held_for_review(run.id):
        # Every entry settled, so the run reads finished; its held entries still wait to be
        # sent, and cancelling is how they are dropped all at once.
        cancellable.append(RunStatus.finished)
    if not settle_run(run.id, RunStatus.cancelled, from_=cancellable, error=f"cancelled by {who}"):
        db.session.rollback()
        raise ValidationFailed({"": f"a {run.status} run cannot be cancelled"})
    E = EntryStatus
    not_started = move_run_entries(run.id, E.Cancelled, from_=[E.ParametersPrepared, E.Queued])
    started = move_run_entries(run.id, E.Cancelled, from_=[E.InProgress, E.PendingReview])
    for at in range(0, len(started), _CHUNK):
        move_deliveries(
            DeliveryStatus.skipped,
            entry_ids=started[at : at + _CHUNK],
            from_=[DeliveryStatus.pending],
            last_error="run cancelled",
            next_attempt_at=None,
            lease_expires_at=None,
        )
    db.session.commit()
    return len(not_started) + len(started)


def _held_for_review(run_id: int) -> bool:
    """Whether any entry of the run waits in the review queue (PendingReview)."""
    held = select(Entry.id).where(
        Entry.run_id == run_id, Entry.status == EntryStatus.PendingReview.value
    )
    return db.session.execute(select(held.exists())).scalar_one()
