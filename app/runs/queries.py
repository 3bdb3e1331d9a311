"""Read queries on runs, entries and their files that the screens and the API share.

Each face parses its input, calls one of these and renders: the same question gets the same
answer from both (DESIGN.md "Layers": faces hold no queries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, literal, not_, or_, select
from sqlalchemy.orm import selectinload

from app.access import MAX_ROW_ID
from app.errors import NotFound
from app.extensions import db
from app.models import Artifact, Entry, Run
from app.pagination import paginate
from app.runs.buckets import BUCKETS
from app.runs.states import RunStatus

# The words of `app.runs.outcome.run_outcome`, in the order the Runs filter offers them.
OUTCOMES = (
    "pending",
    "preparing",
    "running",
    "completed",
    "completed_with_errors",
    "pending_review",
    "failed",
    "cancelled",
)

MAX_QUERY = 200  # characters of a row search that count; more is cut off


def runs_page(
    workspace_id: int,
    *,
    job_id: int | None = None,
    status: str | None = None,
    outcome: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Any:
    """A page of a workspace's runs, newest first, each with its job loaded: a `Pagination`
    (see `app.database.paginate`). Narrowed, when given, to one job, one run status, one
    outcome word (`outcome_is`) and runs created in [created_from, created_before) (aware
    datetimes). Raises ValueError for an unknown outcome."""
    query = select(Run).where(Run.workspace_id == workspace_id)
    if job_id is not None:
        query = query.where(Run.job_id == job_id)
    if status:
        query = query.where(Run.status == status)
    if outcome:
        query = query.where(outcome_is(outcome))
    if created_from is not None:
        query = query.where(Run.created_at >= created_from)
    if created_before is not None:
        query = query.where(Run.created_at < created_before)
    return paginate(query.options(selectinload(Run.job)).order_by(Run.id.desc()), page, per_page)


def run_counts(workspace_id: int) -> dict[int, int]:
    """How many runs each job of the workspace has, by job id (jobs without runs absent)."""
    rows = db.session.execute(
        select(Run.job_id, func.count())
        .where(Run.workspace_id == workspace_id)
        .group_by(Run.job_id)
    )
    return {job_id: count for job_id, count in rows}


def _has_entries(bucket: str) -> ColumnElement[bool]:
    statuses = [s.value for s in BUCKETS[bucket]]
    return exists(select(literal(1)).where(Entry.run_id == Run.id, Entry.status.in_(statuses)))


def outcome_is(word: str) -> ColumnElement[bool]:
    """Runs whose `app.runs.outcome.run_outcome` is `word`, as one SQL condition: the same
    rule (a run status for runs that never got going or ended early; for the others, queued
    entries first, then errors, then entries waiting for review). Raises ValueError for a
    word not in OUTCOMES."""
    if word not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if word in (RunStatus.pending, RunStatus.preparing, RunStatus.failed, RunStatus.cancelled):
        return Run.status == word
    worked = Run.status.in_([RunStatus.running.value, RunStatus.finished.value])
    queued, errors, review = (_has_entries(b) for b in ("queued", "errors", "review"))
    if word == "running":
        return and_(worked, queued)
    if word == "completed_with_errors":
        return and_(worked, not_(queued), errors)
    if word == "pending_review":
        return and_(worked, not_(queued), not_(errors), review)
    return and_(worked, not_(or_(queued, errors, review)))


def row_matches(q: str) -> ColumnElement[bool]:
    """Entries whose `row` has a value containing `q`, case-insensitively: the one meaning of
    "search by row value" (run page, review queue, API).

    Values only, because the values are what a person sees in an entry's row; the keys are
    column names, the same in every entry, and matching them would find every entry. Numbers
    and booleans match by their JSON text (42, true). SQLite compares case-insensitively in
    ASCII only (its `lower()`); PostgreSQL in every script."""
    q = q[:MAX_QUERY]
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        values = func.json_each(Entry.row).table_valued("value")
    elif dialect == "postgresql":
        values = func.json_each_text(Entry.row).table_valued("value")
    else:  # elsewhere, the JSON text: keys match too, but nothing is missed
        return cast(Entry.row, String).icontains(q, autoescape=True)
    return exists(
        select(literal(1)).select_from(values).where(values.c.value.icontains(q, autoescape=True))
    )


def entries_page(
    run_id: int,
    *,
    bucket: str | None = None,
    status: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Any:
    """A page of a run's entries in seq order, with their artifacts and deliveries, narrowed
    to a bucket (a key of BUCKETS), an entry status and a row search (`row_matches`) when
    given: a `Pagination`. Raises ValueError for an unknown bucket."""
    query = select(Entry).where(Entry.run_id == run_id)
    if bucket:
        if bucket not in BUCKETS:
            raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
        query = query.where(Entry.status.in_([s.value for s in BUCKETS[bucket]]))
    if status:
        query = query.where(Entry.status == status)
    if q:
        query = query.where(row_matches(q))
    query = query.options(selectinload(Entry.artifacts), selectinload(Entry.deliveries))
    return paginate(query.order_by(Entry.seq), page, per_page)


def entry_ids(run_id: int) -> list[int]:
    """Every entry id of a run, in seq order."""
    return list(db.session.scalars(select(Entry.id).filter_by(run_id=run_id).order_by(Entry.seq)))


def stored_artifact(
    artifact_id: int,
    *,
    workspace_id: int | None = None,
    entry_id: int | None = None,
    missing: str = "artifact not found",
) -> Artifact:
    """An artifact that has a stored file, for a download: of a run in `workspace_id` and of
    `entry_id` when given (a signed link names neither). NotFound(`missing`) otherwise."""
    if artifact_id > MAX_ROW_ID:
        raise NotFound(missing)
    query = select(Artifact).where(Artifact.id == artifact_id, Artifact.storage_key.is_not(None))
    if entry_id is not None:
        query = query.where(Artifact.entry_id == entry_id)
    if workspace_id is not None:
        query = (
            query.join(Entry, Entry.id == Artifact.entry_id)
            .join(Run, Run.id == Entry.run_id)
            .where(Run.workspace_id == workspace_id)
        )
    found = db.session.scalars(query).first()
    if found is None:
        raise NotFound(missing)
    return found
