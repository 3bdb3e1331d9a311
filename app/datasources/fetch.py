"""Fetching rows from a data source of any kind."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from flask import current_app

from app.config import sqlite_dir
from app.datasources.csvfile import iter_csv_rows
from app.datasources.sql import (
    DatabaseUnreachable,
    QueryError,
    connection_url,
    iter_query,
    query_columns,
)
from app.datasources.text import clean_value
from app.extensions import db
from app.models import Connection
from app.outbound.secrets import get_secrets


def source_snapshot(source: Any) -> dict[str, Any]:
    """The parts of a DataSource a run needs, frozen when the run starts."""
    return {
        "code": source.code,
        "kind": source.kind,
        "connection_id": source.connection_id,
        "query": source.query,
        "content": source.content,
    }


def _sql_url(snapshot: Mapping[str, Any]) -> Any:
    connection = db.session.get(Connection, snapshot["connection_id"])
    if connection is None or connection.kind != "sql":
        raise QueryError(f"data source '{snapshot['code']}' has no SQL connection")
    return connection_url(
        connection.settings,
        get_secrets(connection),
        sqlite_dir=sqlite_dir(current_app),
        herald_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
    )


def fetch_rows(snapshot: Mapping[str, Any], binds: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of a data source snapshot; SQL sources receive `binds` as named parameters."""
    return list(iter_rows(snapshot, binds))


def iter_rows(
    snapshot: Mapping[str, Any], binds: Mapping[str, Any], *, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """`fetch_rows`, one row at a time: an SQL source is read `batch` rows at a time (a
    server-side cursor on PostgreSQL), a CSV's stored text parsed as the rows are consumed;
    JSON content is parsed whole (it is at most HERALD_MAX_SOURCE_BYTES).

    Problems known before the first row (a refused query, a missing bind, a CSV without a
    header) raise at once; the rest (the row limit, a bad CSV line, a query failing midway)
    raise QueryError where the iteration reaches them.
    """
    kind = snapshot["kind"]
    if kind == "sql":
        url = _sql_url(snapshot)
        return iter_query(
            url,
            snapshot["query"],
            binds,
            row_limit=current_app.config["SQL_ROW_LIMIT"],
            timeout_seconds=current_app.config["SQL_TIMEOUT_SECONDS"],
            batch=batch,
        )
    if kind == "csv":
        return iter_csv_rows(snapshot["content"] or "", ",", strict=False)[1]
    if kind == "json":
        return iter(parse_json_rows(snapshot["content"] or "[]"))
    raise QueryError(f"unknown data source kind '{kind}'")


def source_columns(snapshot: Mapping[str, Any]) -> list[str] | None:
    """The columns every row of a data source snapshot has, read as cheaply as its kind
    allows: an SQL query is asked for them under LIMIT 0 (binds NULL), CSV and JSON content
    is read (for JSON every key some row has).

    None when they cannot be known now: no rows to read them from, or the database is not
    reachable. Raises QueryError when the source is known to fail (its query is refused,
    its content does not parse).
    """
    if snapshot["kind"] == "sql":
        try:
            return query_columns(
                _sql_url(snapshot),
                snapshot["query"] or "",
                timeout_seconds=current_app.config["SQL_TIMEOUT_SECONDS"],
            )
        except DatabaseUnreachable:
            return None
    rows = fetch_rows(snapshot, {})
    if not rows:
        return None
    return list(dict.fromkeys(column for row in rows for column in row))


def parse_csv(content: str) -> list[dict[str, Any]]:
    """Rows of a CSV data source's stored content: comma CSV whose first line names the columns.

    Content saved since docs/CSV.md is normalized comma CSV; content saved before it is
    read leniently, as it was then (see `parse_csv_text`'s `strict`).
    """
    return list(iter_csv_rows(content, ",", strict=False)[1])


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _one_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python keeps the last of two equal keys without a word (RFC 8259 leaves it open): a
    # row {"id": 1, "id": 2} would lose a value nobody sees was there.
    row = dict(pairs)
    if len(row) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise QueryError(f"invalid JSON: an object has the key '{key}' more than once")
            seen.add(key)
    return row


def _no_constant(token: str) -> Any:
    # Python's json module reads NaN, Infinity and -Infinity; RFC 8259 JSON has no such
    # values and PostgreSQL's json type refuses them where a run stores its rows.
    raise QueryError(f"invalid JSON: {token} is not a JSON value (write null or a string)")


def parse_json_rows(content: str) -> list[dict[str, Any]]:
    """Rows of an inline JSON data source: a list of objects (or one object). QueryError
    for text that is not JSON (RFC 8259), including Python's NaN and Infinity tokens, and
    for an object holding one key twice."""
    try:
        value = json.loads(content, parse_constant=_no_constant, object_pairs_hook=_one_each)
    except json.JSONDecodeError as exc:
        raise QueryError(f"invalid JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise QueryError("JSON data must be an object or a list of objects")
    # A lone surrogate escape ("\udcff") is the one way JSON holds text UTF-8 cannot.
    return clean_value(value) if _SURROGATE_ESCAPE.search(content) else value
