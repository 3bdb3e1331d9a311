"""Creating and replacing data sources, with their content checked before anything is saved."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.access import require
from app.datasources.fetch import parse_csv, parse_json_rows
from app.datasources.sql import READ_ONLY_START, QueryError
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.schema import CODE_PATTERN
from app.models import Connection, DataSource, Role, User, Workspace

KINDS = ("sql", "csv", "json")


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
) -> DataSource:
    """Create the data source `code`, or replace it; `user` None is a trusted operator."""
    if user is not None:
        require(user, workspace, Role.editor)
    errors = _check(workspace, code, kind, content, connection, query)
    if errors:
        raise ValidationFailed(errors)
    source = db.session.scalars(
        select(DataSource).filter_by(workspace_id=workspace.id, code=code)
    ).first() or DataSource(workspace_id=workspace.id, code=code)
    source.name, source.kind = name or code, kind
    if kind == "sql":
        source.connection_id = _sql_connection(workspace, connection).id
        source.query, source.content = query, None
    else:
        source.connection_id, source.query, source.content = None, None, content
    db.session.add(source)
    db.session.commit()
    return source


def _sql_connection(workspace: Workspace, code: str | None) -> Connection | None:
    return db.session.scalars(
        select(Connection).filter_by(workspace_id=workspace.id, code=code, kind="sql")
    ).first()


def _check(
    workspace: Workspace,
    code: str,
    kind: str,
    content: str | None,
    connection: str | None,
    query: str | None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not re.match(CODE_PATTERN, code or ""):
        errors["code"] = "use lowercase letters, digits and '-'"
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    elif kind == "sql":
        if _sql_connection(workspace, connection) is None:
            errors["connection"] = f"no SQL connection '{connection}' in this workspace"
        if not READ_ONLY_START.match(query or ""):
            errors["query"] = "only SELECT (or WITH … SELECT) queries are allowed"
    else:
        try:
            (parse_csv if kind == "csv" else parse_json_rows)(content or "")
        except QueryError as exc:
            errors["content"] = str(exc)
    return errors
