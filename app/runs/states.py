"""The one place where runs, entries and deliveries change status (with their timestamps)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, select, update

from app import metrics
from app.database import utcnow
from app.extensions import db
from app.models import Entry, EntryDelivery, Job, Run


class EntryStatus(StrEnum):
    ParametersPrepared = "ParametersPrepared"
    Queued = "Queued"
    InProgress = "InProgress"
    PendingReview = "PendingReview"
    Completed = "Completed"
    CompletedWithErrors = "CompletedWithErrors"
    GenerationFailed = "GenerationFailed"
    DeliveryFailed = "DeliveryFailed"
    Cancelled = "Cancelled"


class RunStatus(StrEnum):
    pending = "pending"  # created, waiting for prepare_run
    preparing = "preparing"
    running = "running"
    finished = "finished"
    failed = "failed"  # never produced entries (missing parameter, data source error)
    cancelled = "cancelled"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    skipped = "skipped"
    failed = "failed"
    # Final, not retried automatically: some recipients accepted it, others refused it.
    partial = "partial"
    # Final, not retried automatically: the connection was lost after the message was sent,
    # before the channel answered, so it may have arrived (a resend could duplicate it).
    uncertain = "uncertain"


E = EntryStatus
QUEUED = frozenset({E.ParametersPrepared, E.Queued, E.InProgress})
BUCKETS: dict[str, frozenset[EntryStatus]] = {
    "queued": QUEUED,
    "completed": frozenset({E.Completed}),
    "errors": frozenset({E.CompletedWithErrors, E.GenerationFailed, E.DeliveryFailed}),
    "review": frozenset({E.PendingReview}),
}
FINAL = frozenset(set(E) - QUEUED)

# Which status an entry may move to from which; anything else is refused.
ENTRY_TRANSITIONS: dict[EntryStatus, frozenset[EntryStatus]] = {
    E.ParametersPrepared: frozenset({E.Queued, E.InProgress, E.Cancelled}),
    E.Queued: frozenset({E.InProgress, E.Cancelled}),
    E.InProgress: frozenset(
        {
            E.Queued,  # a dead worker's entry, taken back for another attempt
            E.PendingReview,
            E.Completed,
            E.CompletedWithErrors,
            E.GenerationFailed,
            E.DeliveryFailed,
        }
    ),
    E.PendingReview: frozenset({E.InProgress, E.Cancelled}),  # approve / reject
    E.Completed: frozenset({E.InProgress}),  # re-deliver
    E.CompletedWithErrors: frozenset({E.InProgress}),
    E.DeliveryFailed: frozenset({E.InProgress}),
    E.GenerationFailed: frozenset(),
    E.Cancelled: frozenset(),
}

RUN_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.pending: frozenset({RunStatus.preparing, RunStatus.cancelled, RunStatus.failed}),
    RunStatus.preparing: frozenset(
        {
            RunStatus.pending,
            RunStatus.running,
            RunStatus.finished,
            RunStatus.failed,
            RunStatus.cancelled,
        }
    ),
    RunStatus.running: frozenset({RunStatus.finished, RunStatus.cancelled}),
    RunStatus.finished: frozenset({RunStatus.running}),  # a retried or approved delivery
    RunStatus.failed: frozenset(),
    RunStatus.cancelled: frozenset(),
}


def _sources(table: dict, to: Any, from_: Iterable[Any] | None) -> list[str]:
    allowed = {s for s, targets in table.items() if to in targets}
    if from_ is not None:
        allowed &= set(from_)
    return sorted(allowed)


def move_entries(
    ids: Collection[int],
    to: EntryStatus,
    *,
    from_: Iterable[EntryStatus] | None = None,
    **fields: Any,
) -> list[int]:
    """Move the given entries to `to` where their current status allows it; return those moved.

    The status check is part of the UPDATE, so two workers racing for one entry cannot both win.
    Does not commit.
    """
    if not ids:
        return []
    now = utcnow()
    values: dict[str, Any] = {"status": to.value, "updated_at": now, **fields}
    if to is E.InProgress:
        values.setdefault("started_at", func.coalesce(Entry.started_at, now))
    if to in FINAL:
        values.setdefault("finished_at", now)
        values.setdefault("lease_expires_at", None)
    moved = db.session.scalars(
        update(Entry)
        .where(Entry.id.in_(list(ids)), Entry.status.in_(_sources(ENTRY_TRANSITIONS, to, from_)))
        .values(**values)
        .returning(Entry.id)
        .execution_options(synchronize_session=False)
    ).all()
    if to in FINAL:
        metrics.entries_final(to.value, len(moved))
    return list(moved)


def move_entry(entry_id: int, to: EntryStatus, **kwargs: Any) -> bool:
    """Move one entry; True when it moved."""
    return bool(move_entries([entry_id], to, **kwargs))


def move_run(
    run_id: int, to: RunStatus, *, from_: Iterable[RunStatus] | None = None, **fields: Any
) -> bool:
    """Move a run to `to` if its status allows; True when it moved. Does not commit."""
    now = utcnow()
    values: dict[str, Any] = {"status": to.value, "updated_at": now, **fields}
    if to is RunStatus.preparing:
        values.setdefault("started_at", func.coalesce(Run.started_at, now))
    if to in (RunStatus.finished, RunStatus.failed, RunStatus.cancelled):
        values.setdefault("finished_at", now)
    result = db.session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status.in_(_sources(RUN_TRANSITIONS, to, from_)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    moved = result.rowcount == 1
    if moved and to in (RunStatus.finished, RunStatus.failed, RunStatus.cancelled):
        _record_last_run(run_id)
        from app.runs.notify import mark_due  # local: notify builds on this module

        mark_due(run_id)
    return moved


def move_delivery(
    delivery_id: int,
    to: DeliveryStatus,
    *,
    from_: Iterable[DeliveryStatus],
    **fields: Any,
) -> bool:
    """Move one entry delivery from one of `from_` to `to`; True when it moved. Does not commit."""
    values: dict[str, Any] = {"status": to.value, "updated_at": utcnow(), **fields}
    if to is DeliveryStatus.sent:
        values.setdefault("sent_at", utcnow())
    result = db.session.execute(
        update(EntryDelivery)
        .where(EntryDelivery.id == delivery_id, EntryDelivery.status.in_([s.value for s in from_]))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# Built once: run status is polled (the API's status endpoint, the run page).
_COUNTS_BY_STATUS = (
    select(Entry.status, func.count())
    .where(Entry.run_id == bindparam("run_id"))
    .group_by(Entry.status)
)


def bucket_counts(run_id: int) -> dict[str, int]:
    """Entry counts per bucket, plus `cancelled` and `total`."""
    rows = db.session.connection().execute(_COUNTS_BY_STATUS, {"run_id": run_id}).all()
    return counts_in_buckets({status: count for status, count in rows})


def counts_in_buckets(by_status: dict[str, int]) -> dict[str, int]:
    """Entry counts per status summed into buckets, plus `cancelled` and `total`."""
    counts = {
        name: sum(by_status.get(s.value, 0) for s in statuses) for name, statuses in BUCKETS.items()
    }
    counts["cancelled"] = by_status.get(E.Cancelled.value, 0)
    counts["total"] = sum(by_status.values())
    return counts


def finish_run_if_done(run_id: int) -> bool:
    """Mark a running run finished once no entry is queued or in progress. Does not commit."""
    still_queued = db.session.execute(
        select(func.count())
        .select_from(Entry)
        .where(Entry.run_id == run_id, Entry.status.in_([s.value for s in QUEUED]))
    ).scalar_one()
    if still_queued:
        return False
    return move_run(run_id, RunStatus.finished, from_=[RunStatus.running])


def run_outcome(run: Run, counts: dict[str, int] | None = None) -> str:
    """One word for how a run went, as shown in job lists and `last_run_status`."""
    if run.status in (
        RunStatus.failed,
        RunStatus.cancelled,
        RunStatus.pending,
        RunStatus.preparing,
    ):
        return run.status
    counts = counts or bucket_counts(run.id)
    if counts["queued"]:
        return "running"
    if counts["errors"]:
        return "completed_with_errors"
    if counts["review"]:
        return "pending_review"
    return "completed"


def _record_last_run(run_id: int) -> None:
    run = db.session.get(Run, run_id)
    db.session.refresh(run)
    outcome = run_outcome(run)
    db.session.execute(
        update(Job)
        .where(Job.id == run.job_id)
        .values(last_run_status=outcome)
        .execution_options(synchronize_session=False)
    )
    metrics.run_ended(run.trigger, outcome)
