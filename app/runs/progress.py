"""A run's progress as a status poll sees it, read in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, true

from app.access import job_run_params, job_run_queries
from app.database import autocommit
from app.errors import NotFound
from app.extensions import db
from app.models import Entry, Job, Run
from app.runs.buckets import counts_in_buckets

# Counting in a subquery lets the database count from the (run_id, status) index alone.
_COUNTS = (
    select(Entry.status, func.count().label("n"))
    .where(Entry.run_id == bindparam("run_id"))
    .group_by(Entry.status)
    .subquery()
)
_PROGRESS = job_run_queries(
    select(
        Run.id, Run.status, Run.error, Run.started_at, Run.attempts, _COUNTS.c.status, _COUNTS.c.n
    )
    .select_from(Run)
    .join(Job, Job.id == Run.job_id)
    .outerjoin(_COUNTS, true())
)


@dataclass(frozen=True)
class RunProgress:
    """The run fields a status needs, and its entries counted per bucket (see `bucket_counts`)."""

    id: int
    status: str
    error: str | None
    started_at: datetime | None
    attempts: int
    counts: dict[str, int]


def run_progress(workspace_id: int, job_id_or_code: str | int, run_id: int) -> RunProgress:
    """The progress of a run of a job (by id or code) in a workspace; NotFound otherwise.

    Polled by integrators, so it is one prebuilt Core query: the run beside its entries'
    counts per status. For callers already allowed to read the workspace.
    """
    by_id, params = job_run_params(workspace_id, job_id_or_code, run_id)
    with autocommit(db.engine).connect() as connection:  # one round trip, no ORM session
        rows = connection.execute(_PROGRESS[by_id], params).all()
    if not rows:
        raise NotFound("run not found")
    run_id, status, error, started_at, attempts = rows[0][:5]
    by_status = {entry_status: count for *_, entry_status, count in rows if entry_status}
    return RunProgress(run_id, status, error, started_at, attempts, counts_in_buckets(by_status))


def entry_warnings(run_id: int, limit: int = 20) -> list[tuple[int, str]]:
    """(entry seq, warning) of the run's entries that carry warnings, in seq order: at most
    `limit` entries' worth, for a summary such as the CLI's."""
    rows = db.session.execute(
        select(Entry.seq, Entry.warnings)
        .where(Entry.run_id == run_id, Entry.warnings.is_not(None))
        .order_by(Entry.seq)
        .limit(limit)
    )
    return [(seq, warning) for seq, warnings in rows for warning in warnings or []]
