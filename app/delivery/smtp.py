"""SMTP sessions kept open per worker process, so a burst reuses one connection."""

from __future__ import annotations

import contextlib
import smtplib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_mail import Connection as MailConnection
from flask_mail import Message
from flask_mail import _Mail as MailState

from app.delivery.errors import DeliveryError, TransientDeliveryError

# Written by Herald on every message, naming the workspace that sent it; the development
# Outbox shows a message only to admins of that workspace.
WORKSPACE_HEADER = "X-Herald-Workspace"


def mark_workspace(message: Message, workspace_id: int) -> None:
    """Name the sending workspace in `message`'s headers (WORKSPACE_HEADER)."""
    message.extra_headers = {**(message.extra_headers or {}), WORKSPACE_HEADER: str(workspace_id)}


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


class _TimedConnection(MailConnection):
    """Flask-Mail's connection with a socket timeout, so a dead server cannot hang a worker."""

    def __init__(self, state: MailState, timeout: float):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        mail = self.mail
        cls = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        host = cls(mail.server, mail.port, timeout=self.timeout)
        if mail.use_tls:
            host.starttls()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


class SmtpSession:
    """One open SMTP connection, reconnected when the server drops it, throttled if configured."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._connection: _TimedConnection | None = None
        self._sent_at: list[float] = []

    def _open(self) -> _TimedConnection:
        s = self.settings
        state = MailState(
            s.host,
            s.username,
            s.password,
            s.port,
            s.use_tls,
            s.use_ssl,
            None,
            0,
            None,
            False,
            False,
        )
        connection = _TimedConnection(state, current_app.config["SMTP_TIMEOUT_SECONDS"])
        connection.host = connection.configure_host()
        return connection

    def close(self) -> None:
        if self._connection is not None and self._connection.host is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.host.quit()
        self._connection = None

    def _throttle(self) -> None:
        limit = self.settings.max_per_minute
        if not limit:
            return
        now = time.monotonic()
        self._sent_at = [t for t in self._sent_at if now - t < 60]
        if len(self._sent_at) >= limit:
            time.sleep(60 - (now - self._sent_at[0]))
        self._sent_at.append(time.monotonic())

    def send(self, message: Message) -> None:
        """Send one message, reconnecting once if the kept connection went stale."""
        self._throttle()
        for attempt in (1, 2):
            try:
                if self._connection is None:
                    self._connection = self._open()
                self._connection.send(message)
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
