"""Read-only SQL on a workspace connection: bound parameters, a row cap and a timeout."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.datasources.isolation import DatabaseRefused, checked_url
from app.datasources.values import json_value
from app.errors import ValidationFailed


class QueryError(Exception):
    """A query that could not run; the message is safe to show to the job's author."""


class DatabaseUnreachable(QueryError):
    """The connection's database could not be reached: nothing is known about the query."""


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
READ_ONLY_START = re.compile(r"^\s*(select|with|values)\b", re.IGNORECASE)


def connection_url(
    settings: Mapping[str, Any], secrets: Mapping[str, Any], *, sqlite_dir: Path, herald_url: str
) -> URL:
    """The SQLAlchemy URL of a SQL connection (the password lives in secrets), checked now,
    right before use, never to reach Herald's own database (see `isolation`); SQLite files
    open read-only, so the query cannot change them whatever it says. QueryError otherwise."""
    url = make_url(settings["url"])
    if secrets.get("password"):
        url = url.set(password=secrets["password"])
    try:
        return checked_url(url, sqlite_dir=sqlite_dir, herald_url=herald_url)
    except DatabaseRefused as exc:
        raise QueryError(str(exc)) from None


def _engine(url: URL, timeout_seconds: int) -> Engine:
    key = url.render_as_string(hide_password=False) + f"#{timeout_seconds}"
    with _engines_lock:
        if key not in _engines:
            _engines[key] = _build_engine(url, timeout_seconds)
        return _engines[key]


def close_connections() -> None:
    """Close every pooled data-source connection of this process. A SQLite file replaced on
    disk (the demo database rebuilt) is otherwise still read through the old file's handle."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _build_engine(url: URL, timeout_seconds: int) -> Engine:
    backend = url.get_backend_name()
    if backend == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
        engine = create_engine(url, pool_pre_ping=True, pool_size=2)

        @event.listens_for(engine, "begin")
        def _read_only(conn: Any) -> None:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_seconds) * 1000}")

        return engine
    if backend == "sqlite":
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _query_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA query_only = ON")

        return engine
    raise QueryError(f"unsupported database '{backend}' (use postgresql or sqlite)")


def run_query(
    url: URL,
    query: str,
    binds: Mapping[str, Any],
    *,
    row_limit: int,
    timeout_seconds: int,
) -> list[dict[str, Any]]:
    """Run one read-only statement with named `:binds`; rows come back as JSON-ready dicts."""
    return list(iter_query(url, query, binds, row_limit=row_limit, timeout_seconds=timeout_seconds))


def iter_query(
    url: URL,
    query: str,
    binds: Mapping[str, Any],
    *,
    row_limit: int,
    timeout_seconds: int,
    batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """`run_query`, streamed: rows (JSON-ready dicts) read `batch` at a time, from a
    server-side cursor on PostgreSQL, so a million rows never sit in memory together.

    The statement is checked (read-only, binds present) before the first row; QueryError is
    raised where the query fails, or when it yields row `row_limit` + 1 (the consumer has
    seen `row_limit` rows by then: a caller that must not act on a run over the limit works
    in a transaction it can roll back). The timeout bounds each batch fetched, as
    PostgreSQL's statement_timeout does each FETCH of a cursor; time the consumer spends
    between batches does not count.
    """
    if not READ_ONLY_START.match(query or ""):
        raise QueryError("only SELECT (or WITH … SELECT) queries are allowed")
    statement = text(query)
    needed = set(statement.compile().params)
    missing = sorted(needed - set(binds))
    if missing:
        raise ValidationFailed({f"params.{m}": f"query needs parameter ':{m}'" for m in missing})
    return _stream(url, statement, {k: binds[k] for k in needed}, row_limit, timeout_seconds, batch)


def _stream(
    url: URL, statement: Any, binds: dict[str, Any], row_limit: int, timeout: int, batch: int
) -> Iterator[dict[str, Any]]:
    engine = _engine(url, timeout)
    seen = 0
    try:
        with engine.connect() as conn:
            deadline = (
                _arm_sqlite_deadline(conn, timeout) if engine.dialect.name == "sqlite" else None
            )
            # Options of this statement only: the read-only BEGIN must not run as a cursor.
            streamed = {"stream_results": True, "yield_per": batch}
            result = conn.execute(statement, binds, execution_options=streamed)
            columns = distinct_columns(list(result.keys()))
            for rows in result.partitions(batch):
                if deadline is not None:
                    deadline.renew()
                for row in rows:
                    seen += 1
                    if seen > row_limit:
                        raise QueryError(
                            f"query returned more than {row_limit} rows (the row limit)"
                        )
                    yield {c: json_value(v) for c, v in zip(columns, row, strict=True)}
                if deadline is not None:
                    deadline.renew()
            conn.rollback()
    except SQLAlchemyError as exc:
        raise QueryError(_short_error(exc)) from None


# PostgreSQL errors that a NULL bind (type unknown) may cause where the value a run binds,
# with its type, would not: "could not determine data type of parameter", "function/
# operator is not unique", and "does not exist" for a signature with an unknown argument.
_UNTYPED_BIND = {"42P18", "42725"}
_NO_SUCH_FUNCTION = "42883"


def query_columns(url: URL, query: str, *, timeout_seconds: int) -> list[str] | None:
    """The names of the columns `query` returns, asked of the database without reading a row.

    The query runs as a subquery under LIMIT 0 with every bind NULL, read-only and with
    the statement timeout of a run, so the database parses and plans it (syntax, tables,
    columns, functions) but returns nothing. None when a NULL bind leaves a type undecided.
    Raises QueryError when the database refuses the statement, DatabaseUnreachable when it
    cannot be reached.
    """
    if not READ_ONLY_START.match(query or ""):
        raise QueryError("only SELECT (or WITH … SELECT) queries are allowed")
    # The author's own SQL is the subquery (it is code, not data); the newlines keep a
    # trailing `-- comment` from swallowing the closing parenthesis.
    body = query.strip().rstrip(";").rstrip()
    statement = text(f"SELECT * FROM (\n{body}\n) AS herald_columns LIMIT 0")
    nulls = dict.fromkeys(statement.compile().params)
    engine = _engine(url, timeout_seconds)
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise DatabaseUnreachable(f"cannot reach the database: {_first_line(exc)}") from None
    with conn:
        if engine.dialect.name == "sqlite":
            _arm_sqlite_deadline(conn, timeout_seconds)
        try:
            columns = list(conn.execute(statement, nulls).keys())
            conn.rollback()
            if engine.dialect.name == "sqlite":
                columns = _sqlite_subquery_names(columns)
            distinct_columns(columns)
        except DBAPIError as exc:
            if nulls and _bind_types_matter(exc):
                return None
            raise QueryError(_short_error(exc)) from None
        except SQLAlchemyError as exc:
            raise QueryError(_short_error(exc)) from None
    return columns


def distinct_columns(columns: list[str]) -> list[str]:
    """`columns` when no two share a name; QueryError naming the first repeated one when
    they do. A row is a dict keyed by column name, so of `SELECT a.id, b.id` only the last
    `id` would survive and the report would show the wrong value without a word."""
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise QueryError(
                f"the query returns more than one column named '{column}': "
                f"give each its own name (… AS {column}_2)"
            )
        seen.add(column)
    return columns


def _sqlite_subquery_names(columns: list[str]) -> list[str]:
    # SQLite renames a subquery's column whose name repeats one before it (without case)
    # to `name:1`, `name:2`…; the query run on its own keeps the name, so this one does.
    seen: set[str] = set()
    out = []
    for column in columns:
        base, colon, number = column.rpartition(":")
        if colon and number.isdigit() and base.casefold() in seen:
            column = base
        seen.add(column.casefold())
        out.append(column)
    return out


def _bind_types_matter(exc: DBAPIError) -> bool:
    """Whether the database's objection may be only to the NULL binds' unknown type."""
    state = getattr(exc.orig, "sqlstate", None)
    if state in _UNTYPED_BIND:
        return True
    return state == _NO_SUCH_FUNCTION and "unknown" in _first_line(exc)


class _Deadline:
    """When a SQLite statement is aborted: `timeout` seconds from the last `renew`."""

    def __init__(self, timeout: int) -> None:
        self.timeout = timeout
        self.renew()

    def renew(self) -> None:
        self.at = time.monotonic() + self.timeout

    def passed(self) -> int:
        return int(time.monotonic() > self.at)


def _arm_sqlite_deadline(conn: Any, timeout_seconds: int) -> _Deadline:
    """Make SQLite abort the statement once the timeout passes; renew it to extend."""
    deadline = _Deadline(timeout_seconds)
    raw = conn.connection.driver_connection
    raw.set_progress_handler(deadline.passed, 10_000)
    return deadline


def _first_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _short_error(exc: SQLAlchemyError) -> str:
    message = _first_line(exc)
    if "interrupted" in message:
        return "query timed out"
    return f"query failed: {message}"
