"""Finding, creating, replacing and trying out data sources, content checked before saving."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import ArgumentError

from app.access import require
from app.datasources.csvfile import AUTO, DELIMITERS, ENCODINGS, CsvError, CsvTable, read_csv
from app.datasources.fetch import (
    fetch_rows,
    parse_json_rows,
    source_columns,
    source_snapshot,
)
from app.datasources.sql import READ_ONLY_START, QueryError
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.limits import SOURCE, size_error
from app.models import Connection, DataSource, Role, User, Workspace
from app.workspace_items import find_by_code, identity_errors

KINDS = ("sql", "csv", "json")
# URL words next to /sources/<code>: a source with one of these codes could not be opened.
RESERVED_CODES = {"new", "test"}
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Sample:
    """What trying a data source shows: columns, the first SAMPLE_ROWS rows, the row count.

    `csv` is the table read from an unsaved CSV (its encoding and delimiter are shown).
    """

    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    csv: CsvTable | None = None


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
    content: str | bytes | None = None,
    connection: str | None = None,
    query: str | None = None,
    encoding: str = AUTO,
    delimiter: str = AUTO,
    source: DataSource | None = None,
    replace: bool = True,
) -> DataSource:
    """Create the data source `code`, or replace it; `user` None is a trusted operator.

    With `source` that one is updated (its code may change, not to another source's);
    without it an existing `code` is replaced, or refused when `replace` is False.
    `content` is text, or an uploaded file's bytes; a CSV is read by `read_csv` with
    `encoding` and `delimiter` and stored as normalized comma CSV (docs/CSV.md).
    Raises ValidationFailed (nothing saved) for bad identity or content, including content
    or a query larger than HERALD_MAX_SOURCE_BYTES (keyed `content` / `query`).
    """
    if user is not None:
        require(user, workspace, Role.editor)
    if source is not None and source.workspace_id != workspace.id:
        raise NotFound("data source not found")
    errors, checked = _check(workspace, kind, content, connection, query, encoding, delimiter)
    errors = {**_check_identity(workspace, code, name, source, replace), **errors}
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
        stored = checked.normalized() if kind == "csv" else checked
        source.connection_id, source.query, source.content = None, None, stored
    db.session.add(source)
    db.session.commit()
    return source


def test_source(
    workspace: Workspace,
    user: User | None,
    *,
    kind: str | None = None,
    content: str | bytes | None = None,
    connection: str | None = None,
    query: str | None = None,
    encoding: str = AUTO,
    delimiter: str = AUTO,
    binds: Mapping[str, Any],
    source: DataSource | None = None,
) -> Sample:
    """Columns, the first SAMPLE_ROWS rows and the row count of a data source for `binds`.

    With `source` its saved definition is tried (a viewer may); otherwise the unsaved one
    given by kind/content/connection/query (an editor's draft; a CSV draft is the preview
    before saving, read exactly as `save_source` would read it). Raises QueryError or
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
        errors, checked = _check(
            workspace,
            kind or "",
            content,
            connection,
            query,
            encoding,
            delimiter,
            ask_database=False,
        )
        if errors:
            raise ValidationFailed(errors)
        if kind == "csv":
            return Sample(checked.columns, checked.rows[:SAMPLE_ROWS], len(checked.rows), checked)
        found = _sql_connection(workspace, connection) if kind == "sql" else None
        snapshot = {
            "code": "draft",
            "kind": kind,
            "connection_id": found.id if found else None,
            "query": query,
            "content": checked,
        }
    rows = fetch_rows(snapshot, binds)
    columns = list(dict.fromkeys(column for row in rows for column in row))
    return Sample(columns, rows[:SAMPLE_ROWS], len(rows))


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
    content: str | bytes | None,
    connection: str | None,
    query: str | None,
    encoding: str = AUTO,
    delimiter: str = AUTO,
    *,
    ask_database: bool = True,
) -> tuple[dict[str, str], Any]:
    """Errors by field, and the content read: a CsvTable for CSV, JSON text, None for SQL.

    With `ask_database` an SQL query is also put to its database (`_query_errors`)."""
    errors: dict[str, str] = {}
    checked: Any = None
    # Measured before parsing: a file over the limit is refused without reading it as rows.
    field, given = ("query", query) if kind == "sql" else ("content", content)
    if given and (too_large := size_error(SOURCE, given)):
        return {field: too_large}, None
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
    elif kind == "csv":
        if encoding != AUTO and encoding not in ENCODINGS:
            errors["encoding"] = f"choose auto or one of {', '.join(ENCODINGS)}"
        if delimiter != AUTO and delimiter not in DELIMITERS:
            errors["delimiter"] = f"choose auto or one of {', '.join(DELIMITERS)}"
        if not errors:
            try:
                checked = read_csv(content or "", encoding=encoding, delimiter=delimiter)
            except CsvError as exc:
                errors["content"] = str(exc)
    else:
        try:
            checked = _json_text(content)
            parse_json_rows(checked)
        except QueryError as exc:
            errors["content"] = str(exc)
    return errors, checked


def _json_text(content: str | bytes | None) -> str:
    if not isinstance(content, bytes):
        return content or ""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QueryError("the file is not UTF-8 text") from None
