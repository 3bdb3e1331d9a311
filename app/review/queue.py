"""What awaits review: entries held for approval across a workspace, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.access import MAX_ROW_ID, require
from app.errors import NotFound
from app.extensions import db
from app.models import Entry, Job, Role, Run, User, Workspace
from app.pagination import Slice, Window, ordered, paginate, window
from app.runs.queries import row_matches
from app.runs.states import EntryStatus


@dataclass(frozen=True)
class ReviewFilter:
    job: str | None = None  # job code
    run_id: int | None = None
    q: str | None = None  # text in a value of the row (app.runs.queries.row_matches)

    @classmethod
    def from_args(cls, args: Any) -> ReviewFilter:
        run = args.get("run", "")
        return cls(
            args.get("job") or None,
            int(run) if run.isdigit() else None,
            (args.get("q") or "").strip() or None,
        )

    def as_args(self) -> dict[str, Any]:
        return {k: v for k, v in {"job": self.job, "run": self.run_id, "q": self.q}.items() if v}


def _query(workspace: Workspace, filters: ReviewFilter) -> Any:
    query = (
        select(Entry)
        .join(Run, Run.id == Entry.run_id)
        .join(Job, Job.id == Run.job_id)
        .where(Run.workspace_id == workspace.id, Entry.status == EntryStatus.PendingReview)
    )
    if filters.job:
        query = query.where(Job.code == filters.job)
    if filters.run_id:
        query = query.where(Run.id == filters.run_id)
    if filters.q:
        query = query.where(row_matches(filters.q))
    return query


def pending_entries(
    workspace: Workspace, user: User, filters: ReviewFilter, page: int = 1, per_page: int = 50
) -> tuple[list[Entry], int]:
    """One page of entries awaiting review (oldest run first) and how many match in all."""
    require(user, workspace, Role.viewer)
    query = _query(workspace, filters).options(
        selectinload(Entry.artifacts), selectinload(Entry.run).selectinload(Run.job)
    )
    found = paginate(query.order_by(Entry.run_id, Entry.seq), page, per_page)
    return list(found.items), found.total


# Sort keys of the API's review queue; the default is the screen's order (oldest run first).
REVIEW_SORTS: dict[str, Any] = {"runId": Entry.run_id, "seq": Entry.seq, "id": Entry.id}


def review_window(workspace: Workspace, user: User, filters: ReviewFilter, wanted: Slice) -> Window:
    """The API's review queue: entries awaiting review that match `filters` (its `q` is
    `wanted.q`, a row-value search), ordered by a key of REVIEW_SORTS, with their artifacts,
    run and job loaded. KeyError for an unknown sort; Forbidden below viewer."""
    require(user, workspace, Role.viewer)
    query = _query(workspace, ReviewFilter(filters.job, filters.run_id, wanted.q)).options(
        selectinload(Entry.artifacts), selectinload(Entry.run).selectinload(Run.job)
    )
    order = [Entry.run_id, Entry.seq]
    if wanted.sort:
        order = [*ordered(REVIEW_SORTS[wanted.sort], wanted.descending), *order]
    return window(query.order_by(*order), wanted.start, wanted.limit)


def matching_ids(workspace: Workspace, user: User, filters: ReviewFilter) -> list[int]:
    """Every entry id awaiting review that matches the filter ("all N matching")."""
    require(user, workspace, Role.viewer)
    query = _query(workspace, filters).with_only_columns(Entry.id).order_by(Entry.run_id, Entry.seq)
    return list(db.session.scalars(query))


def review_row(workspace: Workspace, entry_id: int) -> Entry:
    """One entry of the workspace as its review-queue row shows it (whatever its status now);
    NotFound otherwise. For callers already allowed to read the workspace."""
    found = None
    if entry_id <= MAX_ROW_ID:
        found = db.session.scalars(
            select(Entry)
            .join(Run, Run.id == Entry.run_id)
            .where(Entry.id == entry_id, Run.workspace_id == workspace.id)
            .options(selectinload(Entry.artifacts), selectinload(Entry.run).selectinload(Run.job))
        ).first()
    if found is None:
        raise NotFound("entry not found")
    return found


@dataclass(frozen=True)
class HeldPosition:
    """Where an entry stands among its run's entries awaiting review (by seq)."""

    previous_id: int | None
    next_id: int | None
    held: int  # entries of the run awaiting review now
    before: int  # how many of them come before this entry


def held_position(entry: Entry) -> HeldPosition:
    """Previous / Next through the run's held entries, as seen from `entry` (held or not,
    so a just-decided entry still leads on to the next one)."""
    held = select(Entry.id, Entry.seq).where(
        Entry.run_id == entry.run_id, Entry.status == EntryStatus.PendingReview
    )
    rows = db.session.execute(held.order_by(Entry.seq)).all()
    before = [row for row in rows if row.seq < entry.seq]
    after = [row for row in rows if row.seq > entry.seq]
    return HeldPosition(
        previous_id=before[-1].id if before else None,
        next_id=after[0].id if after else None,
        held=len(rows),
        before=len(before),
    )


def held_ids(run: Run) -> list[int]:
    """Every entry of `run` awaiting review, in seq order (the run page's review document)."""
    query = select(Entry.id).where(
        Entry.run_id == run.id, Entry.status == EntryStatus.PendingReview
    )
    return list(db.session.scalars(query.order_by(Entry.seq)))
