"""Entries counted into the buckets the UI and API show: queued, completed, errors, review."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from app.extensions import db
from app.models import Entry
from app.runs.states import QUEUED, EntryStatus

E = EntryStatus
# docs: DESIGN.md "Buckets"; Cancelled entries are in no bucket and counted apart.
BUCKETS: dict[str, frozenset[EntryStatus]] = {
    "queued": QUEUED,
    "completed": frozenset({E.Completed}),
    "errors": frozenset({E.CompletedWithErrors, E.GenerationFailed, E.DeliveryFailed}),
    "review": frozenset({E.PendingReview}),
}

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
