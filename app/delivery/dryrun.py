"""Dry run: the first entry's reports and the exact emails it would send. Sends nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.access import require
from app.database import utcnow
from app.datasources.sql import QueryError
from app.delivery.channels.drive import file_names
from app.delivery.email import Attachment, build_message, smtp_connection
from app.errors import ValidationFailed
from app.jobs.channels import TEMPLATED_FIELDS
from app.jobs.checks import check_references
from app.jobs.schema import parse_definition
from app.models import Entry, Role, User, Workspace
from app.outbound.errors import DeliveryError
from app.placeholders import PlaceholderError, substitute
from app.runs.context import RunContext
from app.runs.generate import RenderedReport, entry_values, render_reports
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
    definition = parse_definition(data)
    check_references(workspace, definition)
    snapshot = snapshot_of(workspace.id, definition)
    result = DryRun()
    try:
        params, shared, rows = run_inputs(definition, snapshot["sources"], {}, {}, utcnow())
    except (ValidationFailed, QueryError) as exc:
        result.error = str(exc)
        return result
    result.params, result.rows = params, len(rows)
    if not rows:
        result.error = (
            "0 rows: the Repeating data source returned nothing, so nothing would be sent"
        )
        return result
    result.row = rows[0]
    ctx = RunContext(
        0, workspace.id, definition, snapshot["templates"], snapshot["sources"], params, {}, shared
    )
    entry = Entry(id=0, seq=1, row=rows[0])
    result.reports = render_reports(ctx, entry)
    attachments = [Attachment(r.report_code, r.filename, r.pdf) for r in result.reports if r.pdf]
    values = entry_values(ctx, entry)
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
