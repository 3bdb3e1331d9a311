"""The one place where runs, entries and deliveries change status (with their timestamps).

Transitions only: each move is one conditional UPDATE whose WHERE clause is the transition
table, so a refused move changes nothing and two racing writers cannot both win. What
follows a move (bucket counts: app.runs.buckets; outcomes, the job's last-run column and
completion notices: app.runs.outcome) lives elsewhere."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, update

from app import metrics
from app.database import utcnow
from app.extensions import db
from app.models import Entry, EntryDelivery, Run


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
D = DeliveryStatus
# Not yet settled: an entry in one of these keeps its run open.
QUEUED = frozenset({E.ParametersPrepared, E.Queued, E.InProgress})
FINAL = frozenset(set(E) - QUEUED)
RUN_ENDED = frozenset({RunStatus.finished, RunStatus.failed, RunStatus.cancelled})
RUN_OPEN = frozenset(set(RunStatus) - RUN_ENDED)  # in progress: workers may still write

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
            E.Cancelled,  # its run cancelled while it was generated or delivered
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
    RunStatus.finished: frozenset(
        {
            RunStatus.running,  # a retried or approved delivery
            RunStatus.cancelled,  # its entries held for review dropped (app.runs.create)
        }
    ),
    RunStatus.failed: frozenset(),
    RunStatus.cancelled: frozenset(),
}

DELIVERY_TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    # The condition decides (skipped, or failed when it cannot be evaluated), or a worker sends.
    D.pending: frozenset({D.sending, D.skipped, D.failed}),
    D.sending: frozenset(
        {
            D.sent,
            D.failed,
            D.partial,
            D.uncertain,
            D.pending,  # a transient error (retried later) or an interrupted worker
            D.skipped,  # its run cancelled after the worker took it, before it was sent
        }
    ),
    # Retry (failed, partial, uncertain) and re-deliver (any settled delivery) start over.
    D.sent: frozenset({D.pending}),
    D.skipped: frozenset({D.pending}),
    D.failed: frozenset({D.pending}),
    D.partial: frozenset({D.pending}),
    D.uncertain: frozenset({D.pending}),
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
    return _move_entries(Entry.id.in_(list(ids)), to, from_, fields)


def move_run_entries(
    run_id: int, to: EntryStatus, *, from_: Iterable[EntryStatus], **fields: Any
) -> list[int]:
    """`move_entries` for every entry of run `run_id` in one of `from_`: one UPDATE, without a
    list of ids. Returns the ids moved. Does not commit."""
    return _move_entries(Entry.run_id == run_id, to, from_, fields)


def move_entry_range(
    run_id: int,
    seqs: range,
    to: EntryStatus,
    *,
    from_: Iterable[EntryStatus] | None = None,
    **fields: Any,
) -> list[int]:
    """`move_entries` for the entries of run `run_id` whose `seq` is in `seqs` (a step-1
    range): one UPDATE on the (run, seq) index, without a list of ids. Returns the ids moved,
    ascending. Does not commit."""
    if not seqs:
        return []
    chosen = (Entry.run_id == run_id) & Entry.seq.between(seqs.start, seqs.stop - 1)
    return sorted(_move_entries(chosen, to, from_, fields))


def _move_entries(
    chosen: ColumnElement[bool],
    to: EntryStatus,
    from_: Iterable[EntryStatus] | None,
    fields: dict[str, Any],
) -> list[int]:
    now = utcnow()
    values: dict[str, Any] = {"status": to.value, "updated_at": now, **fields}
    if to is E.InProgress:
        values.setdefault("started_at", func.coalesce(Entry.started_at, now))
    if to in FINAL:
        values.setdefault("finished_at", now)
        values.setdefault("lease_expires_at", None)
    moved = db.session.scalars(
        update(Entry)
        .where(chosen, Entry.status.in_(_sources(ENTRY_TRANSITIONS, to, from_)))
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
    """Move a run to `to` if its status allows; True when it moved. Does not commit.

    A run that ends should go through `app.runs.outcome.settle_run`, which also records the
    job's last-run outcome and makes the completion notice due."""
    now = utcnow()
    values: dict[str, Any] = {"status": to.value, "updated_at": now, **fields}
    if to is RunStatus.preparing:
        values.setdefault("started_at", func.coalesce(Run.started_at, now))
    if to in RUN_ENDED:
        values.setdefault("finished_at", now)
    result = db.session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status.in_(_sources(RUN_TRANSITIONS, to, from_)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def move_deliveries(
    to: DeliveryStatus,
    *,
    delivery_ids: Collection[int] | None = None,
    entry_ids: Collection[int] | None = None,
    from_: Iterable[DeliveryStatus] | None = None,
    **fields: Any,
) -> int:
    """Move the given deliveries (by id, or every delivery of the given entries) to `to`
    where their status allows; return how many moved. Does not commit."""
    if (delivery_ids is None) == (entry_ids is None):
        raise ValueError("name either delivery_ids or entry_ids")
    chosen: ColumnElement[bool] = (
        EntryDelivery.id.in_(list(delivery_ids))
        if delivery_ids is not None
        else EntryDelivery.entry_id.in_(list(entry_ids or []))
    )
    now = utcnow()
    values: dict[str, Any] = {"status": to.value, "updated_at": now, **fields}
    if to is D.sent:
        values.setdefault("sent_at", now)
    result = db.session.execute(
        update(EntryDelivery)
        .where(chosen, EntryDelivery.status.in_(_sources(DELIVERY_TRANSITIONS, to, from_)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def move_delivery(
    delivery_id: int,
    to: DeliveryStatus,
    *,
    from_: Iterable[DeliveryStatus] | None = None,
    **fields: Any,
) -> bool:
    """Move one entry delivery (from one of `from_`, when given) to `to`; True when it moved.
    Does not commit."""
    return move_deliveries(to, delivery_ids=[delivery_id], from_=from_, **fields) == 1
