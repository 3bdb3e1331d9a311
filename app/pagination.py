"""The one way lists are paged (web and API alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.extensions import db


def paginate(statement: Any, page: int, per_page: int) -> Any:
    """One page of `statement` (a select of one model) as Flask-SQLAlchemy's `Pagination`
    (`items`, `page`, `per_page`, `total`, `has_next`).

    `page` counts from 1; the caller has checked both numbers (an out-of-range page is an
    empty page, never a 404, so each face can answer bad input its own way)."""
    return db.paginate(
        statement, page=page, per_page=per_page, max_per_page=None, error_out=False, count=True
    )


@dataclass(frozen=True)
class Slice:
    """What a list request asks for (seed 002's list conventions): a search text `q`, a sort
    key of the list's own SORTS (`descending` for the `-key` form), and `limit` rows from
    offset `start`. The face has bounded the numbers; each list says what `q` searches."""

    q: str | None = None
    sort: str | None = None
    descending: bool = False
    start: int = 0
    limit: int = 30


@dataclass(frozen=True)
class Window:
    """Rows `start` .. `start + limit` of a list, and how many rows the whole list has."""

    items: list[Any]
    total: int
    start: int
    limit: int


def window(statement: Any, start: int, limit: int) -> Window:
    """`limit` rows of `statement` (a select of one model, ordered) from offset `start`, and
    the count of all its rows: the offset form of `paginate`. An offset past the end is an
    empty window, never an error."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = list(db.session.scalars(statement.offset(start).limit(limit)))
    return Window(items, int(total or 0), start, limit)


def ordered(column: Any, descending: bool) -> list[Any]:
    """ORDER BY terms for `column` in either direction, rows without a value last."""
    return [column.is_(None), column.desc() if descending else column.asc()]
