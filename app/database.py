"""Declarative base and column types shared by all models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, PostgreSQL gets the same."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON},
    )


@lru_cache(maxsize=16)
def autocommit(engine: Engine) -> Engine:
    """`engine` for single-statement reads: no BEGIN before and no ROLLBACK after each use.

    On PostgreSQL that is one round trip per query instead of three, which is most of the cost
    of a status poll. SQLite's driver begins no transaction for a read anyway, and switching its
    isolation level on every checkout would cost more than it saves. Shares the engine's pool.
    """
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def paginate(statement: Any, page: int, per_page: int) -> Any:
    """One page of `statement` (a select of one model) as Flask-SQLAlchemy's `Pagination`
    (`items`, `page`, `per_page`, `total`, `has_next`): the one way lists are paged.

    `page` counts from 1; the caller has checked both numbers (an out-of-range page is an
    empty page, never a 404, so each face can answer bad input its own way)."""
    from app.extensions import db  # local: the models, which db needs, import this module

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
    from sqlalchemy import func, select

    from app.extensions import db  # local: the models, which db needs, import this module

    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = list(db.session.scalars(statement.offset(start).limit(limit)))
    return Window(items, int(total or 0), start, limit)


def ordered(column: Any, descending: bool) -> list[Any]:
    """ORDER BY terms for `column` in either direction, rows without a value last."""
    return [column.is_(None), column.desc() if descending else column.asc()]
