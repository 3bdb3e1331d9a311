"""How an entry ends, from its report artifacts and its deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from app.extensions import db
from app.models import Artifact, EntryDelivery
from app.runs.states import DeliveryStatus, EntryStatus, finish_run_if_done, move_entry


def entry_outcome(
    artifacts: Sequence[Artifact], deliveries: Sequence[EntryDelivery]
) -> tuple[EntryStatus, str | None]:
    """The final status of an entry and the error to show with it (None when all went well)."""
    failed_reports = [a for a in artifacts if a.status == "failed"]
    failed_deliveries = [d for d in deliveries if d.status == DeliveryStatus.failed]
    # Partly or possibly delivered: not a failure of the whole delivery, but never "all went
    # well" either — the entry completes with errors, naming who did not get it.
    doubtful = [
        d for d in deliveries if d.status in (DeliveryStatus.partial, DeliveryStatus.uncertain)
    ]
    errors = [f"report '{a.report_code}': {a.error}" for a in failed_reports]
    errors += [
        f"delivery {d.position + 1} ({d.kind}): {d.last_error}"
        for d in deliveries
        if d in failed_deliveries or d in doubtful
    ]
    error = "; ".join(errors) or None
    if artifacts and len(failed_reports) == len(artifacts):
        return EntryStatus.GenerationFailed, error
    if deliveries and len(failed_deliveries) == len(deliveries):
        return EntryStatus.DeliveryFailed, error
    if errors:
        return EntryStatus.CompletedWithErrors, error
    return EntryStatus.Completed, None


def settle_entry(entry_id: int, run_id: int) -> EntryStatus | None:
    """End an in-progress entry with its outcome; finish the run if it was the last. No commit."""
    artifacts = db.session.scalars(select(Artifact).filter_by(entry_id=entry_id)).all()
    deliveries = db.session.scalars(select(EntryDelivery).filter_by(entry_id=entry_id)).all()
    status, error = entry_outcome(artifacts, deliveries)
    if not move_entry(entry_id, status, from_=[EntryStatus.InProgress], error=error):
        return None
    finish_run_if_done(run_id)
    return status
