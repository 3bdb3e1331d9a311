"""The Email channel: one message per entry with each report PDF attached."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from flask_mail import Message
from sqlalchemy import select

from app.connections.secrets import get_secrets
from app.delivery.errors import DeliveryError
from app.delivery.placeholders import substitute
from app.delivery.smtp import SmtpSettings, mark_workspace, session_for
from app.extensions import db
from app.jobs.schema import EmailDelivery
from app.models import Connection

_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr)>", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def smtp_connection(workspace_id: int, code: str | None) -> Connection:
    """The SMTP connection a delivery names, else the workspace's default one."""
    query = select(Connection).filter_by(workspace_id=workspace_id, kind="smtp")
    if code:
        query = query.filter_by(code=code)
    else:
        query = query.order_by(Connection.is_default.desc(), Connection.id)
    connection = db.session.scalars(query.limit(1)).first()
    if connection is None:
        raise DeliveryError(
            f"no SMTP connection '{code}'" if code else "the workspace has no SMTP connection"
        )
    return connection


def _header(value: str) -> str:
    # Row values may hold line breaks; in a header they would inject new headers.
    return " ".join(value.split())


def parse_recipients(field: str, text: str) -> list[str]:
    """Addresses from a comma/semicolon separated field; an invalid one raises DeliveryError."""
    addresses = []
    for part in re.split(r"[,;]", text):
        part = _header(part)
        if not part:
            continue
        name, address = parseaddr(part)
        if not address and part.endswith("<>"):
            continue  # "{name} <{email}>" with an empty email column: no address at all
        if not _ADDRESS.match(address or ""):
            raise DeliveryError(f"invalid {field} address '{part}'")
        addresses.append(formataddr((name, address)) if name else address)
    return addresses


def html_to_text(markup: str) -> str:
    """A plain-text alternative of the HTML message."""
    text = _BREAK.sub("\n", _BLOCK_END.sub("\n\n", markup))
    text = html.unescape(_TAG.sub("", text))
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class Attachment:
    report_code: str
    filename: str
    content: bytes
    content_type: str = "application/pdf"


def build_message(
    config: EmailDelivery,
    values: Mapping[str, Mapping[str, Any]],
    attachments: Sequence[Attachment],
    connection: Connection,
) -> tuple[Message, dict[str, Any]]:
    """The message for one entry and a summary of it for the run history."""
    to = parse_recipients("To", substitute(config.to, values))
    cc = parse_recipients("CC", substitute(config.cc, values))
    bcc = parse_recipients("BCC", substitute(config.bcc, values))
    if not (to or cc or bcc):
        raise DeliveryError("no recipient")
    sender_text = substitute(config.from_address, values) or connection.settings.get("from", "")
    sender = parse_recipients("From", sender_text)
    if not sender:
        raise DeliveryError("no From address (set one on the delivery or the SMTP connection)")
    reply_to_text = substitute(config.reply_to, values) or connection.settings.get("reply_to", "")
    reply_to = parse_recipients("Reply-To", reply_to_text)
    subject = _header(substitute(config.subject, values))
    body_html = substitute(config.message, values, escape=html.escape)
    message = Message(
        subject=subject,
        recipients=to,
        cc=cc,
        bcc=bcc,
        sender=sender[0],
        reply_to=reply_to[0] if reply_to else None,
        html=body_html,
        body=html_to_text(body_html),
    )
    names = []
    for attachment in attachments:
        name = attachment.filename
        if config.attachment_name:
            report = {"code": attachment.report_code, "name": attachment.report_code}
            name = substitute(config.attachment_name, {**values, "report": report})
        name = _header(name) or attachment.filename
        names.append(name)
        message.attach(name, attachment.content_type, attachment.content)
    detail = {"to": to, "cc": cc, "bcc": bcc, "subject": subject, "attachments": names}
    return message, detail


def send_email(
    config: EmailDelivery,
    values: Mapping[str, Mapping[str, Any]],
    attachments: Sequence[Attachment],
    workspace_id: int,
    context: Any = None,
) -> dict[str, Any]:
    """Send one entry's email over the workspace's SMTP connection; return what was sent."""
    connection = smtp_connection(workspace_id, config.connection)
    message, detail = build_message(config, values, attachments, connection)
    mark_workspace(message, workspace_id)
    settings = SmtpSettings.from_connection(connection.settings, get_secrets(connection))
    session_for(settings).send(message)
    return detail
