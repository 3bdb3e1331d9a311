"""The Email channel: one message per entry with each report file (PDF, CSV, XLSX) attached.

Recipient fields are parsed as typed and filled from the row as data
(`app.mail.recipients`); every address and text header is written by
`app.mail.headers`, so non-ASCII is encoded exactly once. The message is a stdlib
`EmailMessage`: multipart/mixed holding the text and HTML alternatives and one attachment
per report, file names cleaned by `app.filenames` and carried as RFC 2231 parameters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.delivery.smtp import (
    OutgoingEmail,
    SmtpSession,
    SmtpSettings,
    mark_workspace,
    session_for,
)
from app.delivery.throttle import acquire
from app.extensions import db
from app.filenames import named_like, unique_filenames
from app.jobs.schema import EmailDelivery
from app.mail.headers import address_header, single_line, text_header
from app.mail.recipients import Mailbox, fill_recipients
from app.models import Connection
from app.outbound.errors import DeliveryError, PossiblyDeliveredError, TransientDeliveryError
from app.outbound.secrets import get_secrets
from app.placeholders import substitute

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


def compose(
    *,
    sender: Mailbox,
    to: Sequence[Mailbox],
    cc: Sequence[Mailbox] = (),
    bcc: Sequence[Mailbox] = (),
    reply_to: Sequence[Mailbox] = (),
    subject: str,
    body_html: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    message_id_left: str | None = None,
) -> OutgoingEmail:
    """One message: headers written once each, HTML with a text alternative, attachments
    given as (file name, content type, bytes). Bcc travels only in the envelope.

    The Message-ID (RFC 5322 section 3.6.4) is `<message_id_left@sender's domain>` when
    `message_id_left` is given (the same message sent again keeps its identity), else a fresh
    one (`email.utils.make_msgid`)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = address_header("From", [_pair(sender)])
    for name, mailboxes in (("To", to), ("Cc", cc), ("Reply-To", reply_to)):
        if mailboxes:
            message[name] = address_header(name, [_pair(m) for m in mailboxes])
    message["Subject"] = text_header("Subject", single_line(subject))
    message["Date"] = formatdate(localtime=True)
    domain = sender.addr_spec.rpartition("@")[2]
    message["Message-ID"] = (
        f"<{message_id_left}@{domain}>" if message_id_left else make_msgid(domain=domain)
    )
    text = html_to_text(body_html)
    message.set_content(text)
    message.add_alternative(body_html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, _, subtype = content_type.partition("/")
        # A text attachment (a CSV) says its charset: Herald writes text files in UTF-8.
        params = {"charset": "utf-8"} if maintype == "text" else {}
        message.add_attachment(
            content, maintype, subtype or "octet-stream", filename=filename, params=params
        )
    return OutgoingEmail(message, sender, [*to, *cc, *bcc], body_html, text, list(reply_to))


def _pair(mailbox: Mailbox) -> tuple[str, str]:
    return mailbox.display_name, mailbox.addr_spec


def attachment_names(
    config: EmailDelivery, values: Mapping[str, Mapping[str, Any]], files: Sequence[Any]
) -> list[str]:
    """Each report's attachment name: the delivery's pattern, else the report's file name."""
    names = []
    for file in files:
        name = file.filename
        if config.attachment_name:
            report = {"code": file.report_code, "name": file.report_code, "filename": file.filename}
            name = substitute(config.attachment_name, {**values, "report": report})
        names.append(named_like(name, file.filename, default=file.report_code))
    return unique_filenames(names)


def build_message(
    config: EmailDelivery,
    values: Mapping[str, Mapping[str, Any]],
    attachments: Sequence[Attachment],
    connection: Connection,
    message_id_left: str | None = None,
) -> tuple[OutgoingEmail, dict[str, Any]]:
    """The message for one entry and a summary of it for the run history (`compose` for
    `message_id_left`)."""
    to = fill_recipients("To", config.to, values)
    cc = fill_recipients("CC", config.cc, values)
    bcc = fill_recipients("BCC", config.bcc, values)
    if not (to or cc or bcc):
        raise DeliveryError("no recipient")
    sender = fill_recipients("From", config.from_address, values) or fill_recipients(
        "From", connection.settings.get("from", ""), values
    )
    if not sender:
        raise DeliveryError("no From address (set one on the delivery or the SMTP connection)")
    if len(sender) > 1:
        raise DeliveryError(f"From must be one address, not {len(sender)}")
    reply_to = fill_recipients("Reply-To", config.reply_to, values) or fill_recipients(
        "Reply-To", connection.settings.get("reply_to", ""), values
    )
    subject = single_line(substitute(config.subject, values))
    names = attachment_names(config, values, attachments)
    email = compose(
        sender=sender[0],
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=subject,
        body_html=substitute(config.message, values, escape=html.escape),
        attachments=[
            (name, a.content_type, a.content) for name, a in zip(names, attachments, strict=True)
        ],
        message_id_left=message_id_left,
    )
    detail = {
        "to": [str(m) for m in to],
        "cc": [str(m) for m in cc],
        "bcc": [str(m) for m in bcc],
        "subject": subject,
        "attachments": names,
        "message_id": email.message["Message-ID"],
    }
    return email, detail


def send_email(
    config: EmailDelivery,
    values: Mapping[str, Mapping[str, Any]],
    attachments: Sequence[Attachment],
    workspace_id: int,
    context: Any = None,
) -> dict[str, Any]:
    """Send one entry's email over the workspace's SMTP connection; return what was sent,
    with each envelope recipient's outcome under `recipients` (see `SmtpSession.send`).

    A retry of the same delivery offers the message only to recipients without a final
    outcome (deferred by a 4xx): accepted, refused and possibly-delivered ones are not sent
    again. The connection's "Max messages per minute" is kept across workers before anything
    is sent: `app.delivery.throttle.Throttled` (a TransientDeliveryError) when it is reached.
    Raises TransientDeliveryError while some are deferred, PossiblyDeliveredError when
    the connection was lost before the server's reply to the data, DeliveryError naming the
    refused recipients otherwise; each carries the outcomes so far (`partial`) and marks
    `partly_delivered` when some recipient accepted the message.
    """
    connection = smtp_connection(workspace_id, config.connection)
    left = getattr(context, "message_id_left", None)
    email, detail = build_message(config, values, attachments, connection, left)
    mark_workspace(email, workspace_id)
    settings = SmtpSettings.from_connection(connection.settings, get_secrets(connection))
    earlier = dict(((getattr(context, "partial", None) or {}).get("recipients")) or {})
    todo = [a for a in email.envelope_to if earlier.get(a, {}).get("status") in (None, "deferred")]
    if todo:
        # One message per transaction: the recipients split into batches of max_recipients.
        size = settings.max_recipients or current_app.config["SMTP_MAX_RECIPIENTS"]
        acquire(connection.id, settings.max_per_minute, cost=-(-len(todo) // size))
    outcomes = {**earlier, **session_for(settings).send(email, todo)} if todo else earlier
    outcomes = {a: outcomes[a] for a in email.envelope_to if a in outcomes}
    detail = {**detail, "recipients": outcomes}
    raise_for_recipients(outcomes, detail)
    return detail


def send_now(
    email: OutgoingEmail,
    settings: Mapping[str, Any],
    secrets: Mapping[str, Any],
    workspace_id: int,
) -> None:
    """Send one message of Herald's own (a test email, an error notice, a test of a job's
    email) to every envelope recipient, on a fresh SMTP session closed after, marked as
    `workspace_id`'s. `settings`/`secrets` are an SMTP connection's (or DEFAULT_SMTP).

    Not throttled: a person or the clock sends one message now. Raises the DeliveryError
    the recipients' outcomes call for (`raise_for_recipients`), or the session's own."""
    mark_workspace(email, workspace_id)
    # A session of its own: it must open a connection now, not reuse a worker's kept one.
    session = SmtpSession(SmtpSettings.from_connection(dict(settings), dict(secrets)))
    try:
        outcomes = session.send(email, email.envelope_to)
    finally:
        session.close()
    raise_for_recipients(outcomes, {})


def raise_for_recipients(outcomes: Mapping[str, Mapping[str, str]], detail: dict[str, Any]) -> None:
    """Raise the DeliveryError that the recipients' outcomes call for; nothing if all accepted."""
    by_status: dict[str, list[str]] = {}
    for addr, outcome in outcomes.items():
        by_status.setdefault(outcome["status"], []).append(addr)
    if set(by_status) <= {"accepted"}:
        return
    accepted = len(by_status.get("accepted", []))
    kwargs: dict[str, Any] = {
        "partial": {"recipients": dict(outcomes)},
        "detail": detail,
        "partly_delivered": accepted > 0,
    }
    tail = f" ({accepted} of {len(outcomes)} recipients accepted it)" if accepted else ""
    if deferred := by_status.get("deferred"):
        raise TransientDeliveryError(
            f"SMTP server deferred {_listed(deferred, outcomes)}{tail}", **kwargs
        )
    if uncertain := by_status.get("uncertain"):
        raise PossiblyDeliveredError(
            f"possibly delivered to {', '.join(uncertain)}: the connection was lost after the "
            "message was sent, before the server's reply; not resent automatically to avoid a "
            f"duplicate — choose Retry to send it again{tail}",
            **kwargs,
        )
    refused = by_status.get("refused", [])
    raise DeliveryError(f"SMTP server refused {_listed(refused, outcomes)}{tail}", **kwargs)


def _listed(addrs: list[str], outcomes: Mapping[str, Mapping[str, str]], limit: int = 10) -> str:
    shown = "; ".join(f"{a}: {outcomes[a]['reply']}" for a in addrs[:limit])
    more = f"; and {len(addrs) - limit} more" if len(addrs) > limit else ""
    return f"{len(addrs)} recipient{'s' if len(addrs) != 1 else ''}: {shown}{more}"


def for_manual_retry(partial: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An email delivery's `partial` as a person's Retry should see it: only the recipients
    that accepted the message are kept, so refused and possibly-delivered ones are offered
    it again (the person chose to, told why)."""
    if not partial or "recipients" not in partial:
        return dict(partial) if partial else None
    kept = {a: o for a, o in partial["recipients"].items() if o.get("status") == "accepted"}
    return {**partial, "recipients": kept}
