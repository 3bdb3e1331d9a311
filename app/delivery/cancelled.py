"""The last look before a delivery goes out: has its run been cancelled since it was taken?"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Entry, EntryDelivery, Run
from app.runs.states import DeliveryStatus as D
from app.runs.states import EntryStatus, RunStatus, move_delivery


def stopped_by_cancel(delivery_id: int) -> bool:
    """True when the delivery's entry is no longer in progress or its run was cancelled
    since the worker took the delivery (`sending`): it is then skipped ("run cancelled")
    and committed, and must not be sent.

    Read fresh, after the last pause before the channel is called: cancelling a run commits
    its entries as Cancelled, so a worker that already holds one sees it here and stops.
    What remains is the moment between this read and the channel's answer (milliseconds);
    a cancel committed inside it cannot recall a message already handed to the server."""
    db.session.commit()  # a new transaction: see what was committed since the claim
    entry_status, run_status = db.session.execute(
        select(Entry.status, Run.status)
        .join(EntryDelivery, EntryDelivery.entry_id == Entry.id)
        .join(Run, Run.id == Entry.run_id)
        .where(EntryDelivery.id == delivery_id)
    ).one()
    if entry_status == EntryStatus.InProgress and run_status != RunStatus.cancelled:
        return False
    move_delivery(
        delivery_id,
        D.skipped,
        from_=[D.sending],
        attempts=EntryDelivery.attempts - 1,  # nothing was attempted
        last_error="run cancelled",
        lease_expires_at=None,
        next_attempt_at=None,
    )
    db.session.commit()
    return True
