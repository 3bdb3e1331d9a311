"""Workspace connections: finding and saving them (passwords encrypted, never in settings).

Kinds and what they store (secrets encrypted with `set_secrets`, never in `settings`):

- smtp: settings host, port, username, from, …, max_per_minute, max_recipients (envelope
  recipients per transaction, 1..1000, default SMTP_MAX_RECIPIENTS); secrets {"password"}.
- sql: settings {"url"} without password; secrets {"password"}.
- webhook: no settings; secrets {"secret"}: the HMAC signing secret of webhook deliveries.
- slack, teams: no settings; secrets {"url"}: the incoming-webhook (Teams: Workflows) URL.
- google: settings {"api_endpoint"?, "scopes"?}; secrets {"key": <service-account JSON key>}.

Chat webhook URLs and a custom Google API endpoint must be https://. Plain http:// to
localhost / 127.0.0.1 / ::1 is accepted only when the app runs with TESTING, or with the
config flag ALLOW_INSECURE_WEBHOOKS set (for a local mock server in development); any other
http:// URL is always refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from app.access import require
from app.connections.settings import (
    CHANNEL_KINDS,
    channel_settings,
    password_in_url,
    refused_database,
    smtp_settings,
    sql_settings,
)
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Connection, Role, User, Workspace
from app.outbound.secrets import get_secrets, set_secrets
from app.workspace_items import find_by_code, identity_errors

KINDS = ("smtp", "sql", "webhook", "slack", "teams", "google")
RESERVED_CODES = {"new"}


def get_connection(workspace: Workspace, code: str, user: User | None) -> Connection:
    """The workspace's connection `code` (admins only): NotFound if absent, else Forbidden."""
    return find_by_code(Connection, workspace, code, user, Role.admin, "connection")


def save_connection(
    workspace: Workspace,
    user: User | None,
    *,
    kind: str,
    code: str,
    name: str,
    settings: Mapping[str, Any],
    password: str | None,
    connection: Connection | None = None,
    is_default: bool = False,
    clear_password: bool = False,
    secrets: Mapping[str, Any] | None = None,
) -> Connection:
    """Create a connection, or update `connection` (whose kind stays); admins only.

    An empty `password` keeps the stored one (`clear_password` removes it). Passwords are
    encrypted with `set_secrets`; a password inside a SQL URL is moved there too.

    Channel kinds (webhook, slack, teams, google) take their secret in `secrets` under its
    form field's name (`SECRET_FIELDS`: secret, url or key); an empty value keeps the stored
    one. Problems are reported per field in ValidationFailed.
    """
    if user is not None:
        require(user, workspace, Role.admin)
    if connection is not None:
        if connection.workspace_id != workspace.id:
            raise NotFound("connection not found")
        kind = connection.kind
    errors = _check_identity(workspace, kind, code, name, connection)
    stored: dict[str, Any] = {}
    if kind == "smtp":
        clean, problems = smtp_settings(settings)
    elif kind == "sql":
        clean, problems = sql_settings(settings)
        if not problems and (refused := refused_database(clean["url"])):
            problems = {"url": refused}
    elif kind in CHANNEL_KINDS:
        clean, stored, problems = channel_settings(kind, settings, secrets or {}, connection)
    else:
        clean, problems = {}, {}
    errors.update(problems)
    if errors:
        raise ValidationFailed(errors)
    if kind not in CHANNEL_KINDS:
        stored = dict(get_secrets(connection)) if connection and not clear_password else {}
        url_password = clean.pop("_password", None)
        if connection is not None and kind == "sql" and not clear_password:
            # A URL saved before passwords moved to the secrets still holds one: keep it.
            url_password = url_password or password_in_url(connection.settings.get("url"))
        if password or url_password:
            stored["password"] = password or url_password
    item = connection or Connection(workspace_id=workspace.id, kind=kind)
    item.code, item.name, item.settings = code, name.strip(), clean
    set_secrets(item, stored)
    if kind == "smtp":
        if is_default:
            _clear_defaults(workspace, except_id=item.id)
        item.is_default = is_default
    db.session.add(item)
    db.session.commit()
    return item


def _check_identity(
    workspace: Workspace, kind: str, code: str, name: str, connection: Connection | None
) -> dict[str, str]:
    errors = identity_errors(
        Connection,
        workspace,
        code,
        name,
        current=connection,
        reserved=RESERVED_CODES,
        what="connection",
    )
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    return errors


def _clear_defaults(workspace: Workspace, except_id: int | None) -> None:
    query = update(Connection).where(
        Connection.workspace_id == workspace.id, Connection.kind == "smtp"
    )
    if except_id is not None:
        query = query.where(Connection.id != except_id)
    db.session.execute(query.values(is_default=False))
