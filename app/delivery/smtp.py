"""SMTP sessions kept open per worker process, so a burst reuses one connection."""

from __future__ import annotations

import contextlib
import smtplib
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from flask import current_app

from app.delivery.errors import DeliveryError, TransientDeliveryError
from app.delivery.recipients import Mailbox


@dataclass(frozen=True)
class OutgoingEmail:
    """A message ready for SMTP: the MIME message and its RFC 5321 envelope."""

    message: EmailMessage
    sender: Mailbox
    recipients: list[Mailbox]  # To, Cc and Bcc: the envelope's RCPT TO, in that order
    html: str
    text: str
    reply_to: list[Mailbox] = field(default_factory=list)

    @property
    def envelope_to(self) -> list[str]:
        return list(dict.fromkeys(m.addr_spec for m in self.recipients))

    def needing_smtputf8(self) -> list[str]:
        """Addresses whose local part is not ASCII (RFC 6531): sendable only with SMTPUTF8."""
        everyone = [self.sender, *self.reply_to, *self.recipients]
        return list(dict.fromkeys(m.addr_spec for m in everyone if m.needs_smtputf8))

# Written by Herald on every message, naming the workspace that sent it; the development
# Outbox shows a message only to admins of that workspace.
WORKSPACE_HEADER = "X-Herald-Workspace"


def mark_workspace(email: OutgoingEmail, workspace_id: int) -> None:
    """Name the sending workspace in the message's headers (WORKSPACE_HEADER)."""
    del email.message[WORKSPACE_HEADER]
    email.message[WORKSPACE_HEADER] = str(workspace_id)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    use_tls: bool = False
    use_ssl: bool = False
    max_per_minute: int = 0  # 0 = unthrottled

    @classmethod
    def from_connection(cls, settings: dict[str, Any], secrets: dict[str, Any]) -> SmtpSettings:
        return cls(
            host=settings.get("host", "localhost"),
            port=int(settings.get("port", 25)),
            username=settings.get("username") or None,
            password=secrets.get("password") or None,
            use_tls=bool(settings.get("use_tls", False)),
            use_ssl=bool(settings.get("use_ssl", False)),
            max_per_minute=int(settings.get("max_per_minute", 0) or 0),
        )


class SmtpSession:
    """One open SMTP connection, reconnected when the server drops it, throttled if configured."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._host: smtplib.SMTP | None = None
        self._sent_at: list[float] = []

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        cls = smtplib.SMTP_SSL if s.use_ssl else smtplib.SMTP
        # A socket timeout, so a dead server cannot hang a worker.
        host = cls(s.host, s.port, timeout=current_app.config["SMTP_TIMEOUT_SECONDS"])
        if s.use_tls:
            host.starttls()
        if s.username and s.password:
            host.login(s.username, s.password)
        host.ehlo_or_helo_if_needed()
        return host

    def close(self) -> None:
        if self._host is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._host.quit()
        self._host = None

    def _throttle(self) -> None:
        limit = self.settings.max_per_minute
        if not limit:
            return
        now = time.monotonic()
        self._sent_at = [t for t in self._sent_at if now - t < 60]
        if len(self._sent_at) >= limit:
            time.sleep(60 - (now - self._sent_at[0]))
        self._sent_at.append(time.monotonic())

    def send(self, email: OutgoingEmail) -> None:
        """Send one message, reconnecting once if the kept connection went stale."""
        self._throttle()
        for attempt in (1, 2):
            try:
                if self._host is None:
                    self._host = self._open()
                _check_smtputf8(self._host, email)
                # send_message adds SMTPUTF8 and writes UTF-8 headers only when an address
                # needs it (RFC 6531); otherwise every header is already ASCII.
                self._host.send_message(email.message, email.sender.addr_spec, email.envelope_to)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self.close()
                if attempt == 2:
                    raise TransientDeliveryError(f"SMTP server disconnected: {exc}") from None
            except smtplib.SMTPRecipientsRefused as exc:
                raise _recipients_error(exc) from None
            except smtplib.SMTPResponseException as exc:
                self.close()
                raise _response_error(exc.smtp_code, exc.smtp_error) from None
            except smtplib.SMTPException as exc:  # e.g. AUTH not offered: a setup problem
                self.close()
                raise DeliveryError(f"SMTP error: {exc}") from None
            except (TimeoutError, OSError) as exc:  # after SMTPException, which is an OSError
                self.close()
                raise TransientDeliveryError(f"cannot reach SMTP server: {exc}") from None


def _check_smtputf8(host: smtplib.SMTP, email: OutgoingEmail) -> None:
    """Refuse non-ASCII local parts unless the server offers SMTPUTF8 (RFC 6531 §3.4)."""
    needing = email.needing_smtputf8()
    if needing and not host.has_extn("smtputf8"):
        raise DeliveryError(
            f"invalid address {', '.join(repr(a) for a in needing)}: the part before @ is not "
            "ASCII and the SMTP server does not offer SMTPUTF8"
        )


def _decode(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _response_error(code: int, text: bytes | str) -> DeliveryError:
    message = f"SMTP error {code}: {_decode(text)}"
    return TransientDeliveryError(message) if 400 <= code < 500 else DeliveryError(message)


def _recipients_error(exc: smtplib.SMTPRecipientsRefused) -> DeliveryError:
    refused = "; ".join(
        f"{addr}: {code} {_decode(text)}" for addr, (code, text) in exc.recipients.items()
    )
    transient = all(400 <= code < 500 for code, _ in exc.recipients.values())
    cls = TransientDeliveryError if transient else DeliveryError
    return cls(f"SMTP server refused recipients: {refused}")


_sessions: dict[SmtpSettings, SmtpSession] = {}
_lock = threading.Lock()


def session_for(settings: SmtpSettings) -> SmtpSession:
    """The process's session for these settings (a changed password gets a new one)."""
    with _lock:
        if settings not in _sessions:
            _sessions[settings] = SmtpSession(settings)
        return _sessions[settings]


def close_all() -> None:
    with _lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()
