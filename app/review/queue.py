"""What awaits review: entries held for approval across a workspace, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import selectinload

from app.access import require
from app.extensions import db
from app.models import Entry, Job, Role, Run, User, Workspace
from app.runs.states import EntryStatus


@dataclass(frozen=True)
class ReviewFilter:
    job: str | None = None  # job code
    run_id: int | None = None
    q: str | None = None  # text anywhere in the row

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
        pattern = (
            "%"
            + filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        query = query.where(func.lower(cast(Entry.row, String)).like(pattern, escape="\\"))
    return query


def pending_entries(
    workspace: Workspace, user: User, filters: ReviewFilter, page: int = 1, per_page: int = 50
) -> tuple[list[Entry], int]:
    """One page of entries awaiting review (oldest run first) and how many match in all."""
    require(user, workspace, Role.viewer)
    query = _query(workspace, filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    entries = db.session.scalars(
        query.options(selectinload(Entry.artifacts), selectinload(Entry.run).selectinload(Run.job))
        .order_by(Entry.run_id, Entry.seq)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(entries), total


def matching_ids(workspace: Workspace, user: User, filters: ReviewFilter) -> list[int]:
    """Every entry id awaiting review that matches the filter ("all N matching")."""
    require(user, workspace, Role.viewer)
    query = _query(workspace, filters).with_only_columns(Entry.id).order_by(Entry.run_id, Entry.seq)
    return list(db.session.scalars(query))
