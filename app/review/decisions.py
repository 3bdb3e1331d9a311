"""Approving and rejecting entries held for review; each decision is made once, by one person."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from app.access import require
from app.database import utcnow
from app.extensions import db
from app.models import Entry, Role, Run, User, Workspace
from app.runs import dispatch
from app.runs.generate import lease_until
from app.runs.states import (
    DeliveryStatus,
    EntryStatus,
    RunStatus,
    move_deliveries,
    move_entries,
    move_run,
)


@dataclass
class Decision:
    decided: int  # entries this call decided
    already_decided: int  # entries someone else decided first (or not awaiting review)


def _in_workspace(workspace: Workspace, entry_ids: Collection[int]) -> list[tuple[int, int]]:
    """(entry id, run id) of the given entries that belong to the workspace."""
    return list(
        db.session.execute(
            select(Entry.id, Entry.run_id)
            .join(Run, Run.id == Entry.run_id)
            .where(Entry.id.in_(list(entry_ids)), Run.workspace_id == workspace.id)
        ).all()
    )


def approve_entries(workspace: Workspace, user: User, entry_ids: Collection[int]) -> Decision:
    """Approve held entries: their deliveries go out through the normal delivery queue."""
    require(user, workspace, Role.editor)
    found = _in_workspace(workspace, entry_ids)
    ids = [entry_id for entry_id, _ in found]
    # The status check inside the UPDATE makes a concurrent second approval a no-op.
    moved = move_entries(
        ids,
        EntryStatus.InProgress,
        from_=[EntryStatus.PendingReview],
        stage="deliver",
        review_decision="approved",
        reviewed_by_id=user.id,
        reviewed_at=utcnow(),
        lease_expires_at=lease_until(),
    )
    for run_id in {run_id for entry_id, run_id in found if entry_id in set(moved)}:
        move_run(run_id, RunStatus.running, from_=[RunStatus.finished])
    attempts = db.session.execute(select(Entry.id, Entry.attempts).where(Entry.id.in_(moved))).all()
    db.session.commit()
    with dispatch.or_leave_to_sweep(f"delivery of {len(attempts)} approved entries"):
        dispatch.enqueue_deliver([(entry_id, n) for entry_id, n in attempts])
    return Decision(len(moved), len(entry_ids) - len(moved))


def reject_entries(workspace: Workspace, user: User, entry_ids: Collection[int]) -> Decision:
    """Reject held entries: never delivered; their PDFs stay in the run history for audit."""
    require(user, workspace, Role.editor)
    found = _in_workspace(workspace, entry_ids)
    ids = [entry_id for entry_id, _ in found]
    moved = move_entries(
        ids,
        EntryStatus.Cancelled,
        from_=[EntryStatus.PendingReview],
        review_decision="rejected",
        reviewed_by_id=user.id,
        reviewed_at=utcnow(),
        error=f"rejected in review by {user.email}",
    )
    move_deliveries(
        DeliveryStatus.skipped,
        entry_ids=moved,
        from_=[DeliveryStatus.pending],
        last_error="not sent: rejected in review",
    )
    db.session.commit()
    return Decision(len(moved), len(entry_ids) - len(moved))
