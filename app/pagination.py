"""The one way lists are paged (web and API alike)."""

from __future__ import annotations

from typing import Any

from app.extensions import db


def paginate(statement: Any, page: int, per_page: int) -> Any:
    """One page of `statement` (a select of one model) as Flask-SQLAlchemy's `Pagination`
    (`items`, `page`, `per_page`, `total`, `has_next`).

    `page` counts from 1; the caller has checked both numbers (an out-of-range page is an
    empty page, never a 404, so each face can answer bad input its own way)."""
    return db.paginate(
        statement, page=page, per_page=per_page, max_per_page=None, error_out=False, count=True
    )
