"""Read queries on job definitions that the screens and the API share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, or_, select

from app.extensions import db
from app.models import Job
from app.pagination import Slice, Window, paginate, window

# Sortable columns; jobs with no value (never run, manual only) come last in either direction.
SORTS = {
    "name": func.lower(Job.name),
    "code": Job.code,
    "next_run": case((Job.scheduled, Job.next_fire_at), else_=None),
    "last_run": Job.last_run_at,
}


def _jobs(workspace_id: int, q: str | None, sort: str, direction: str) -> Select:
    query = select(Job).filter_by(workspace_id=workspace_id)
    if q:
        query = query.where(
            or_(*(c.icontains(q, autoescape=True) for c in (Job.name, Job.code, Job.description)))
        )
    column = SORTS[sort]
    ordered = column.desc() if direction == "desc" else column.asc()
    return query.order_by(column.is_(None), ordered, Job.name, Job.id)


def jobs_page(
    workspace_id: int,
    *,
    q: str | None = None,
    sort: str = "name",
    direction: str = "asc",
    page: int = 1,
    per_page: int = 25,
) -> Any:
    """A page of the workspace's jobs whose name, code or description contains `q`
    (case-insensitively), ordered by a key of SORTS, "asc" or "desc": a `Pagination`.
    Raises KeyError for an unknown sort."""
    return paginate(_jobs(workspace_id, q, sort, direction), page, per_page)


def all_jobs(workspace_id: int) -> list[Job]:
    """Every job of the workspace, in the job list's default order (name, case-insensitively)."""
    return list(db.session.scalars(_jobs(workspace_id, None, "name", "asc")))


def jobs_window(workspace_id: int, wanted: Slice) -> Window:
    """The API's job list: jobs whose name, code or description contains `wanted.q`, ordered
    by a key of SORTS (default name), `wanted.limit` from offset `wanted.start`.
    Raises KeyError for an unknown sort."""
    sort = wanted.sort or "name"
    query = _jobs(workspace_id, wanted.q, sort, "desc" if wanted.descending else "asc")
    return window(query, wanted.start, wanted.limit)
