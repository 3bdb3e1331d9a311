"""Finding, creating, replacing and trying out data sources, content checked before saving."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import ArgumentError

from app.access import require
from app.datasources.fetch import (
    fetch_rows,
    parse_csv,
    parse_json_rows,
    source_columns,
    source_snapshot,
)
from app.datasources.sql import READ_ONLY_START, QueryError
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Connection, DataSource, Role, User, Workspace
from app.workspace_items import find_by_code, identity_errors

KINDS = ("sql", "csv", "json")
# URL words next to /sources/<code>: a source with one of these codes could not be opened.
RESERVED_CODES = {"new", "test"}
SAMPLE_ROWS = 20


def get_source(
    workspace: Workspace, code: str, user: User | None, need: Role = Role.viewer
) -> DataSource:
    """The workspace's data source `code`: NotFound if absent, Forbidden below `need`."""
    return find_by_code(DataSource, workspace, code, user, need, "data source")


def save_source(
    workspace: Workspace,
    user: User | None,
    *,
    code: str,
    name: str,
    kind: str,
    content: str | None = None,
    connection: str | None = None,
    query: str | None = None,
    source: DataSource | None = None,
    replace: bool = True,
) -> DataSource:
    """Create the data source `code`, or replace it; `user` None is a trusted operator.

    With `source` that one is updated (its code may change, not to another source's);
    without it an existing `code` is replaced, or refused when `replace` is False.
    """
    if user is not None:
        require(user, workspace, Role.editor)
    if source is not None and source.workspace_id != workspace.id:
        raise NotFound("data source not found")
    errors = {
        **_check_identity(workspace, code, name, source, replace),
        **_check(workspace, kind, content, connection, query),
    }
    if errors:
        raise ValidationFailed(errors)
    if source is None:
        source = db.session.scalars(
            select(DataSource).filter_by(workspace_id=workspace.id, code=code)
        ).first() or DataSource(workspace_id=workspace.id)
    source.code, source.name, source.kind = code, (name or "").strip() or code, kind
    if kind == "sql":
        source.connection_id = _sql_connection(workspace, connection).id
        source.query, source.content = query, None
    else:
        source.connection_id, source.query, source.content = None, None, content
    db.session.add(source)
    db.session.commit()
    return source


def test_source(
    workspace: Workspace,
    user: User | None,
    *,
    kind: str | None = None,
    content: str | None = None,
    connection: str | None = None,
    query: str | None = None,
    binds: Mapping[str, Any],
    source: DataSource | None = None,
) -> tuple[list[str], list[dict[str, Any]], int]:
    """Columns, the first SAMPLE_ROWS rows and the row count of a data source for `binds`.

    With `source` its saved definition is tried (a viewer may); otherwise the unsaved one
    given by kind/content/connection/query (an editor's draft). Raises QueryError or
    ValidationFailed (a bad draft, a missing bind) with a message to show.
    """
    if source is not None:
        if user is not None:
            require(user, workspace, Role.viewer)
        if source.workspace_id != workspace.id:
            raise NotFound("data source not found")
        snapshot = source_snapshot(source)
    else:
        if user is not None:
            require(user, workspace, Role.editor)
        # The run below reports a refused query itself, with the binds the person typed.
        errors = _check(workspace, kind or "", content, connection, query, ask_database=False)
        if errors:
            raise ValidationFailed(errors)
        found = _sql_connection(workspace, connection) if kind == "sql" else None
        snapshot = {
            "code": "draft",
            "kind": kind,
            "connection_id": found.id if found else None,
            "query": query,
            "content": content,
        }
    rows = fetch_rows(snapshot, binds)
    columns = list(dict.fromkeys(column for row in rows for column in row))
    return columns, rows[:SAMPLE_ROWS], len(rows)


# Not a test, whatever its name says: keep pytest from collecting it where it is imported.
test_source.__test__ = False  # type: ignore[attr-defined]


def bind_names(query: str | None) -> list[str]:
    """The `:name` binds of a SQL query, in order of appearance."""
    try:
        return list(text(query or "").compile().params)
    except (ArgumentError, ValueError):
        return []


def _sql_connection(workspace: Workspace, code: str | None) -> Connection | None:
    return db.session.scalars(
        select(Connection).filter_by(workspace_id=workspace.id, code=code, kind="sql")
    ).first()


def _check_identity(
    workspace: Workspace, code: str, name: str, source: DataSource | None, replace: bool
) -> dict[str, str]:
    # A missing name becomes the code; replacing by code (the CLI) may reuse a taken code.
    return identity_errors(
        DataSource,
        workspace,
        code,
        name,
        current=source,
        reserved=RESERVED_CODES,
        what="data source",
        name_required=False,
        unique=source is not None or not replace,
    )


def _query_errors(workspace: Workspace, connection: str, query: str) -> dict[str, str]:
    """The database's objection to a query (syntax, unknown table or column), asked without
    running it (`query_columns`); binds are NULL there, so a query whose binds come from job
    parameters is checked as well. An unreachable database is no objection: nothing is
    known about the query then, and the job's runs will say so."""
    snapshot = {"code": "draft", "kind": "sql", "query": query, "content": None}
    snapshot["connection_id"] = _sql_connection(workspace, connection).id
    try:
        source_columns(snapshot)
    except QueryError as exc:
        return {"query": str(exc)}
    return {}


def _check(
    workspace: Workspace,
    kind: str,
    content: str | None,
    connection: str | None,
    query: str | None,
    *,
    ask_database: bool = True,
) -> dict[str, str]:
    """Problems of a data source's content or query; with `ask_database` the query is also
    put to its database (`_query_errors`)."""
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    elif kind == "sql":
        if not connection:
            errors["connection"] = "choose a SQL connection"
        elif _sql_connection(workspace, connection) is None:
            errors["connection"] = f"no SQL connection '{connection}' in this workspace"
        if not READ_ONLY_START.match(query or ""):
            errors["query"] = "only SELECT (or WITH … SELECT) queries are allowed"
        elif ask_database and not errors:
            errors |= _query_errors(workspace, connection, query)
    else:
        try:
            (parse_csv if kind == "csv" else parse_json_rows)(content or "")
        except QueryError as exc:
            errors["content"] = str(exc)
    return errors
