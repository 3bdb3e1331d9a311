"""Retry one failed delivery; deliver selected entries (approve held ones, re-send finished ones).

Retry never regenerates and never re-sends what was sent: only the failed delivery goes back to
pending, and `deliver_entry` sends only pending deliveries. "Deliver" is the explicit action: it
approves held entries and, when asked to (`redeliver=True`), sends finished entries again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.access import require
from app.delivery.email import for_manual_retry
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Entry, EntryDelivery, Role, Run, User, Workspace
from app.review.decisions import approve_entries
from app.runs import dispatch
from app.runs.generate import lease_until
from app.runs.states import (
    DeliveryStatus,
    EntryStatus,
    RunStatus,
    move_delivery,
    move_entries,
    move_entry,
    move_run,
)

E = EntryStatus
D = DeliveryStatus
# Entries whose deliveries may be sent again on purpose (the state machine allows → InProgress).
REDELIVERABLE = frozenset({E.Completed, E.CompletedWithErrors, E.DeliveryFailed})
_CHUNK = 900  # ids per IN (...) list
# Deliveries a person may send again (a possibly-delivered one may then arrive twice).
RETRIABLE = (D.failed, D.partial, D.uncertain)


def _retry_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    # A person's Retry starts the Retry-After deferral count (MAX_DEFERRALS) afresh.
    detail = {k: v for k, v in (detail or {}).items() if k != "deferrals"} or None
    if not detail or "partial" not in detail:
        return detail
    return {**detail, "partial": for_manual_retry(detail["partial"])}


def retry_delivery(delivery_id: int, user: User | None) -> EntryDelivery:
    """Send one failed delivery again, without regenerating; the entry's other deliveries stay."""
    found = db.session.execute(
        select(EntryDelivery, Entry, Run)
        .join(Entry, Entry.id == EntryDelivery.entry_id)
        .join(Run, Run.id == Entry.run_id)
        .where(EntryDelivery.id == delivery_id)
    ).first()
    if found is None:
        raise NotFound("delivery not found")
    delivery, entry, run = found
    _require_editor(run, user)
    _refuse_cancelled(run)
    # A partly or possibly delivered one too: the person chose to, told why; recipients that
    # accepted an email are not sent it again (`for_manual_retry`).
    if not move_delivery(
        delivery.id,
        D.pending,
        from_=RETRIABLE,
        next_attempt_at=None,
        lease_expires_at=None,
        detail=_retry_detail(delivery.detail),
    ):
        db.session.rollback()
        raise ValidationFailed(
            {"": "only a failed, partly or possibly delivered delivery can be retried"}
        )
    if not _reopen(entry.id) and not _delivering(entry.id):
        db.session.rollback()
        raise ValidationFailed({"": f"a {entry.status} entry cannot be delivered"})
    move_run(run.id, RunStatus.running, from_=[RunStatus.finished])
    db.session.commit()
    with dispatch.or_leave_to_sweep(f"delivery {delivery.id}"):
        dispatch.enqueue_deliver([(entry.id, entry.attempts)])
    db.session.refresh(delivery)
    return delivery


def deliver_entries(
    run: Run,
    entry_ids: Iterable[int],
    user: User,
    *,
    redeliver: bool = True,
    finished_by: datetime | None = None,
) -> dict[str, int]:
    """Approve the selected held entries and (if `redeliver`) send the selected finished ones again.

    `finished_by` (when the person confirmed the re-send) limits re-sending to entries that had
    finished by then: a confirmation submitted twice re-sends each entry once, however long after.
    Returns counts {"approved", "redelivered", "skipped"}; ids of other runs are ignored. Entries
    move with conditional UPDATEs, so concurrent calls approve or re-send an entry once, and an
    entry this call approves is never also re-sent by it.
    """
    workspace = _require_editor(run, user)
    _refuse_cancelled(run)
    found = list(_statuses(run, entry_ids))
    held = [entry_id for entry_id, status, _, _ in found if status == E.PendingReview]
    finished = [
        (entry_id, attempts)
        for entry_id, status, attempts, finished_at in found
        if redeliver
        and status in REDELIVERABLE
        and (finished_by is None or (finished_at is not None and finished_at <= finished_by))
    ]
    approved = approve_entries(workspace, user, held).decided if held else 0
    redelivered = _redeliver(run, finished)
    return {
        "approved": approved,
        "redelivered": redelivered,
        "skipped": len(found) - approved - redelivered,
    }


def deliver_held_entries(run: Run, user: User) -> dict[str, int]:
    """Approve and queue every held entry of a run (the API's deliver); it never re-sends one."""
    held = db.session.scalars(
        select(Entry.id).where(Entry.run_id == run.id, Entry.status == E.PendingReview)
    ).all()
    return deliver_entries(run, held, user, redeliver=False)


def retry_failed_deliveries(run: Run, user: User | None) -> int:
    """Retry every failed delivery of a run (each as `retry_delivery`); returns how many."""
    _require_editor(run, user)
    _refuse_cancelled(run)
    failed = db.session.scalars(
        select(EntryDelivery.id)
        .join(Entry, Entry.id == EntryDelivery.entry_id)
        .where(Entry.run_id == run.id, EntryDelivery.status == D.failed)
        .order_by(EntryDelivery.id)
    ).all()
    retried = 0
    for delivery_id in failed:
        try:
            retry_delivery(delivery_id, user)
            retried += 1
        except ValidationFailed:  # decided meanwhile (retried by someone else): skip it
            continue
    return retried


def selection_counts(run: Run, entry_ids: Iterable[int]) -> dict[str, int]:
    """What `deliver_entries` would do with a selection: {"review", "redeliver", "other"}."""
    counts = {"review": 0, "redeliver": 0, "other": 0}
    for _id, status, _attempts, _finished_at in _statuses(run, entry_ids):
        if status == E.PendingReview:
            counts["review"] += 1
        elif status in REDELIVERABLE:
            counts["redeliver"] += 1
        else:
            counts["other"] += 1
    return counts


def _require_editor(run: Run, user: User | None) -> Workspace:
    workspace = db.session.get(Workspace, run.workspace_id)
    if user is not None:
        require(user, workspace, Role.editor)
    return workspace


def _refuse_cancelled(run: Run) -> None:
    """Raise ValidationFailed for a cancelled run: nothing of it is sent after the cancel."""
    if run.status == RunStatus.cancelled:
        raise ValidationFailed({"": "the run was cancelled: its entries are not delivered"})


def _statuses(
    run: Run, entry_ids: Iterable[int]
) -> Iterator[tuple[int, str, int, datetime | None]]:
    """(id, status, attempts, finished_at) of the selected entries of `run`."""
    ids = sorted(set(entry_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = db.session.execute(
            select(Entry.id, Entry.status, Entry.attempts, Entry.finished_at).where(
                Entry.run_id == run.id, Entry.id.in_(ids[start : start + _CHUNK])
            )
        ).all()
        yield from (tuple(row) for row in rows)


def _redeliver(run: Run, entries: list[tuple[int, int]]) -> int:
    """Send finished (entry id, attempts) again: every delivery back to pending; how many moved."""
    attempts = dict(entries)
    ids = list(attempts)
    moved: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        moved += move_entries(
            ids[start : start + _CHUNK],
            E.InProgress,
            from_=REDELIVERABLE,
            **_to_delivery(error=None),
        )
    for start in range(0, len(moved), _CHUNK):
        _reset_deliveries(moved[start : start + _CHUNK])
    if moved:
        move_run(run.id, RunStatus.running, from_=[RunStatus.finished])
    db.session.commit()
    with dispatch.or_leave_to_sweep(f"delivery of {len(moved)} entries"):
        dispatch.enqueue_deliver([(entry_id, attempts[entry_id]) for entry_id in moved])
    return len(moved)


def _to_delivery(**fields: Any) -> dict[str, Any]:
    """Fields of an entry going back to its delivery stage; the lease lets recovery re-queue it."""
    return {"stage": "deliver", "lease_expires_at": lease_until(), "finished_at": None, **fields}


def _reopen(entry_id: int) -> bool:
    return move_entry(entry_id, E.InProgress, from_=REDELIVERABLE, **_to_delivery(error=None))


def _delivering(entry_id: int) -> bool:
    """True when the entry is already in its delivery stage (its worker will send what is due)."""
    status, stage = db.session.execute(
        select(Entry.status, Entry.stage).where(Entry.id == entry_id)
    ).one()
    return status == E.InProgress and stage == "deliver"


def _reset_deliveries(entry_ids: list[int]) -> None:
    delivery_ids = db.session.scalars(
        select(EntryDelivery.id).where(EntryDelivery.entry_id.in_(entry_ids))
    ).all()
    for delivery_id in delivery_ids:
        move_delivery(
            delivery_id,
            D.pending,
            from_=[D.sent, D.failed, D.skipped, D.partial, D.uncertain],
            next_attempt_at=None,
            lease_expires_at=None,
            detail=None,  # a re-delivery sends everything again, whatever an attempt did before
            message_id_left=None,  # as a new message: a receiver must not drop it as a copy
        )
