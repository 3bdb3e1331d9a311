"""Dry run: the first entry's reports and the exact emails it would send. Sends nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.access import require
from app.database import utcnow
from app.datasources.sql import QueryError
from app.delivery.channels.drive import file_names
from app.delivery.email import Attachment, build_message, send_now, smtp_connection
from app.errors import ValidationFailed
from app.jobs.channels import TEMPLATED_FIELDS
from app.jobs.checks import check_references
from app.jobs.schema import JobDefinition, parse_definition
from app.models import Entry, Role, User, Workspace
from app.outbound.errors import DeliveryError
from app.outbound.secrets import get_secrets
from app.placeholders import PlaceholderError, substitute
from app.runs.context import RunContext
from app.runs.generate import RenderedReport, entry_narrative, entry_values, render_reports
from app.runs.prepare import run_inputs
from app.runs.snapshot import snapshot_of


@dataclass
class DryRunEmail:
    """What one delivery would send (an email in full; other channels their filled fields)."""

    kind: str = "email"
    detail: dict[str, Any] = field(default_factory=dict)
    sender: str = ""
    reply_to: str | None = None
    html: str = ""
    text: str = ""
    error: str | None = None


@dataclass
class DryRun:
    row: dict[str, Any] | None = None
    rows: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    reports: list[RenderedReport] = field(default_factory=list)
    emails: list[DryRunEmail] = field(default_factory=list)
    error: str | None = None


def dry_run(workspace: Workspace, user: User, data: dict[str, Any]) -> DryRun:
    """Render the first entry as a run started now would; build its emails without sending.

    Raises ValidationFailed when the definition itself is invalid.
    """
    require(user, workspace, Role.editor)
    result = DryRun()
    first = _first_entry(workspace, data, result)
    if first is None:
        return result
    definition, attachments, values = first
    for config in definition.deliveries:
        email = DryRunEmail(kind=config.kind)
        try:
            if config.kind == "email":
                connection = smtp_connection(workspace.id, config.connection)
                message, email.detail = build_message(config, values, attachments, connection)
                email.sender = str(message.sender)
                email.reply_to = ", ".join(str(m) for m in message.reply_to) or None
                email.html, email.text = message.html, message.text
            elif config.kind == "drive":  # the files it would create
                email.detail = {"filename": file_names(config, values, attachments)}
                email.detail["attachments"] = [a.filename for a in attachments]
            else:  # what the channel would carry, with its placeholders filled in
                email.detail = {
                    name: substitute(getattr(config, name), values)
                    for name in TEMPLATED_FIELDS.get(config.kind, ())
                }
                email.detail["attachments"] = [a.filename for a in attachments]
        except (DeliveryError, PlaceholderError) as exc:
            email.error = str(exc)
        result.emails.append(email)
    return result


def _first_entry(
    workspace: Workspace, data: dict[str, Any], result: DryRun
) -> tuple[JobDefinition, list[Attachment], dict[str, Any]] | None:
    """Render the first entry into `result`; its definition, attachments and placeholder
    values, or None (with `result.error` saying why) when there is no entry to show."""
    definition = parse_definition(data)
    check_references(workspace, definition)
    snapshot = snapshot_of(workspace.id, definition)
    try:
        params, shared, rows = run_inputs(definition, snapshot["sources"], {}, {}, utcnow())
    except (ValidationFailed, QueryError) as exc:
        result.error = str(exc)
        return None
    result.params, result.rows = params, len(rows)
    if not rows:
        result.error = (
            "0 rows: the Repeating data source returned nothing, so nothing would be sent"
        )
        return None
    result.row = rows[0]
    ctx = RunContext(
        0, workspace.id, definition, snapshot["templates"], snapshot["sources"], params, {}, shared
    )
    entry = Entry(id=0, seq=1, row=rows[0])
    result.reports = render_reports(ctx, entry)
    entry.narrative = entry_narrative(result.reports)  # {narrative.text} as a run would fill it
    attachments = [
        Attachment(r.report_code, f.filename, f.content, f.content_type)
        for r in result.reports
        for f in r.files
    ]
    return definition, attachments, entry_values(ctx, entry)


def send_test_to_me(workspace: Workspace, user: User, data: dict[str, Any]) -> str:
    """Send the first entry's real message (the job's first email delivery, its reports
    attached) to `user`'s own address only — never to the row's recipients, Cc or Bcc.

    Returns the address it went to. Raises ValidationFailed for an invalid definition,
    DeliveryError saying why nothing was sent (no email delivery, no rows, SMTP refused)."""
    require(user, workspace, Role.editor)
    result = DryRun()
    first = _first_entry(workspace, data, result)
    if first is None:
        raise DeliveryError(result.error or "no entry to send")
    definition, attachments, values = first
    config = next((d for d in definition.deliveries if d.kind == "email"), None)
    if config is None:
        raise DeliveryError("the job has no email delivery to test")
    only_me = config.model_copy(
        update={"to": user.email, "cc": "", "bcc": "", "subject": f"[Test] {config.subject}"}
    )
    connection = smtp_connection(workspace.id, config.connection)
    try:
        message, _detail = build_message(only_me, values, attachments, connection)
    except PlaceholderError as exc:
        raise DeliveryError(str(exc)) from None
    send_now(message, connection.settings, get_secrets(connection), workspace.id)
    return user.email
