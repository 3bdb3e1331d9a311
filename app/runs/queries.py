"""Read queries on runs, entries and their files that the screens and the API share.

Each face parses its input, calls one of these and renders: the same question gets the same
answer from both (DESIGN.md "Layers": faces hold no queries)."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, literal, not_, or_, select
from sqlalchemy.orm import selectinload

from app.access import MAX_ROW_ID
from app.errors import NotFound
from app.extensions import db
from app.models import Artifact, Entry, Job, Run
from app.pagination import Slice, Window, ordered, paginate, window
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
_SAFE_TEXT = re.compile(r"[ !#-+\--9;-Z^-z|~]+")  # printable ASCII but " \ , : [ ] { }
_LETTER = re.compile(r"[a-df-zA-DF-Z]")


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


# Sort keys of the API's run and entry lists; rows with no value come last either way.
RUN_SORTS: dict[str, Any] = {
    "id": Run.id,
    "createdAt": Run.created_at,
    "finishedAt": Run.finished_at,
    "runStatus": Run.status,
    "trigger": Run.trigger,
}
ENTRY_SORTS: dict[str, Any] = {"seq": Entry.seq, "id": Entry.id, "status": Entry.status}


def runs_window(
    workspace_id: int, wanted: Slice, *, job_id: int | None = None, status: str | None = None
) -> Window:
    """The API's run list: a workspace's runs (of one job, of one run status, when given)
    whose trigger, status or error contains `wanted.q` (any case), ordered by a key of
    RUN_SORTS (default: newest first), each with its job loaded. KeyError for an unknown sort."""
    query = select(Run).where(Run.workspace_id == workspace_id)
    if job_id is not None:
        query = query.where(Run.job_id == job_id)
    if status:
        query = query.where(Run.status == status)
    if wanted.q:
        q = wanted.q[:MAX_QUERY]
        query = query.where(
            or_(*(c.icontains(q, autoescape=True) for c in (Run.trigger, Run.status, Run.error)))
        )
    if wanted.sort:
        order = [*ordered(RUN_SORTS[wanted.sort], wanted.descending), Run.id.desc()]
    else:
        order = [Run.id.desc()]
    query = query.options(selectinload(Run.job)).order_by(*order)
    return window(query, wanted.start, wanted.limit)


def entries_window(run_id: int, wanted: Slice, *, bucket: str | None = None) -> Window:
    """The API's entry list of a run: narrowed to a bucket (a key of BUCKETS) and to entries
    with a row value containing `wanted.q` (`row_matches`), ordered by a key of ENTRY_SORTS
    (default seq), with artifacts and deliveries loaded. ValueError for an unknown bucket,
    KeyError for an unknown sort."""
    query = select(Entry).where(Entry.run_id == run_id)
    if bucket:
        if bucket not in BUCKETS:
            raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
        query = query.where(Entry.status.in_([s.value for s in BUCKETS[bucket]]))
    if wanted.q:
        query = query.where(row_matches(wanted.q))
    column = ENTRY_SORTS[wanted.sort or "seq"]
    query = query.options(selectinload(Entry.artifacts), selectinload(Entry.deliveries))
    return window(
        query.order_by(*ordered(column, wanted.descending), Entry.seq), wanted.start, wanted.limit
    )


def run_counts(workspace_id: int, job_ids: Collection[int]) -> dict[int, int]:
    """How many runs each of `job_ids` (jobs of the workspace) has, by job id (jobs without
    runs absent). Only the jobs a page shows: counting every job's runs costs a list page
    its whole run table."""
    rows = db.session.execute(
        select(Run.job_id, func.count())
        .where(Run.workspace_id == workspace_id, Run.job_id.in_(list(job_ids)))
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
    row_text = cast(Entry.row, String).icontains(q, autoescape=True)
    if dialect not in ("sqlite", "postgresql"):  # the JSON text: keys match too, none missed
        return row_text
    if dialect == "sqlite" and text_prefilter_safe(q):
        # A LIKE on the row's text is about 4x cheaper than opening its values; it only
        # narrows, the test on the values still decides (bench/pages.py, issue #14).
        return and_(row_text, value_contains(q))
    return value_contains(q)


def value_contains(q: str) -> ColumnElement[bool]:
    """Entries with a value containing `q`, case-insensitively, tested value by value
    (SQLite's `json_each`, PostgreSQL's `json_each_text`): `row_matches` without its narrowing
    LIKE on the row's text."""
    if db.session.get_bind().dialect.name == "sqlite":
        values = func.json_each(Entry.row).table_valued("value")
    else:
        values = func.json_each_text(Entry.row).table_valued("value")
    return exists(
        select(literal(1)).select_from(values).where(values.c.value.icontains(q, autoescape=True))
    )


def text_prefilter_safe(q: str) -> bool:
    """Whether every row with a value containing `q` (SQLite, case-insensitively) also holds
    `q` in its stored JSON text, so a LIKE on that text may narrow a row search first.

    True for printable ASCII without the characters JSON escapes or uses between tokens
    (`"` `\\` `,` `:` `[` `]` `{` `}`) and with a letter other than e: such text lies in one
    token and is written the same in the value and in the JSON (SQLite's `lower()` folds
    ASCII only). The letter keeps out numbers, which SQLite may print differently from the
    stored JSON (1e+20 → 1.0e+20), and booleans, whose value is 1 or 0."""
    return bool(_SAFE_TEXT.fullmatch(q)) and bool(_LETTER.search(q))


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


# Sort keys of the API's report list of a job; the default is newest first.
REPORT_SORTS: dict[str, Any] = {
    "createdAt": Artifact.created_at,
    "id": Artifact.id,
    "size": Artifact.size,
    "filename": Artifact.filename,
}


def _reports(workspace_id: int) -> Any:
    return (
        select(Artifact, Entry, Run, Job)
        .join(Entry, Entry.id == Artifact.entry_id)
        .join(Run, Run.id == Entry.run_id)
        .join(Job, Job.id == Run.job_id)
        .where(Run.workspace_id == workspace_id)
    )


def report_of(workspace_id: int, artifact_id: int) -> tuple[Artifact, Entry, Run, Job]:
    """One report (an artifact, generated or failed) of a run in the workspace, with its
    entry, run and job; NotFound otherwise (another workspace's too)."""
    found = None
    if artifact_id <= MAX_ROW_ID:
        found = db.session.execute(_reports(workspace_id).where(Artifact.id == artifact_id)).first()
    if found is None:
        raise NotFound("report not found")
    return found.Artifact, found.Entry, found.Run, found.Job


def reports_window(workspace_id: int, job_id: int, wanted: Slice) -> Window:
    """The latest reports of a job (newest first unless `wanted.sort`, a key of REPORT_SORTS),
    those whose file name or report code contains `wanted.q`; items are (artifact, entry,
    run, job) rows. KeyError for an unknown sort."""
    query = _reports(workspace_id).where(Run.job_id == job_id)
    if wanted.q:
        q = wanted.q[:MAX_QUERY]
        query = query.where(
            or_(
                *(
                    c.icontains(q, autoescape=True)
                    for c in (Artifact.filename, Artifact.report_code)
                )
            )
        )
    order = [Artifact.id.desc()]
    if wanted.sort:
        order = [*ordered(REPORT_SORTS[wanted.sort], wanted.descending), *order]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.order_by(*order).offset(wanted.start).limit(wanted.limit))
    return Window([tuple(row) for row in rows], int(total or 0), wanted.start, wanted.limit)


def last_errors(job_ids: list[int]) -> dict[int, str]:
    """Why each job's latest run went wrong, by job id (seed 004's last_error_message; jobs
    whose latest run had no problem are left out): the run's own error (failed, cancelled),
    else how many entries failed and the first one's reason (its error, or its first failed
    delivery's). Two queries, plus one per job whose latest run has failed entries."""
    if not job_ids:
        return {}
    latest = select(func.max(Run.id)).where(Run.job_id.in_(job_ids)).group_by(Run.job_id)
    runs = db.session.execute(
        select(Run.id, Run.job_id, Run.error).where(Run.id.in_(latest.scalar_subquery()))
    ).all()
    found = {run.job_id: run.error for run in runs if run.error}
    quiet = {run.id: run.job_id for run in runs if not run.error}
    if not quiet:
        return found
    failed_states = [s.value for s in BUCKETS["errors"]]
    failed = db.session.execute(
        select(Entry.run_id, func.count(), func.min(Entry.seq))
        .where(Entry.run_id.in_(quiet), Entry.status.in_(failed_states))
        .group_by(Entry.run_id)
    ).all()
    for run_id, count, seq in failed:
        entry = db.session.scalars(
            select(Entry)
            .where(Entry.run_id == run_id, Entry.seq == seq)
            .options(selectinload(Entry.deliveries))
        ).one()
        reasons = [entry.error, *(d.last_error for d in entry.deliveries), entry.status]
        many = "1 entry failed" if count == 1 else f"{count} entries failed"
        found[quiet[run_id]] = f"{many}; entry {seq}: {next(r for r in reasons if r)}"
    return found
