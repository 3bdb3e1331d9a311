"""SMTP sessions kept open per worker process, so a burst reuses one connection."""

from __future__ import annotations

import contextlib
import io
import re
import smtplib
import threading
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import EmailMessage
from typing import Any

from flask import current_app

from app.mail.recipients import Mailbox
from app.outbound.errors import DeliveryError, TransientDeliveryError


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
    max_per_minute: int = 0  # 0 = unthrottled; kept by app.delivery.throttle
    max_recipients: int | None = None  # RCPT per transaction; None = SMTP_MAX_RECIPIENTS

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
            max_recipients=int(settings.get("max_recipients") or 0) or None,
        )


class SmtpSession:
    """One open SMTP connection, reconnected when the server drops it (the rate limit of its
    connection is kept by `app.delivery.throttle`, shared by every worker)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._host: smtplib.SMTP | None = None

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

    def _connected(self) -> smtplib.SMTP:
        if self._host is None:
            self._host = self._open()
        return self._host

    def send(self, email: OutgoingEmail, recipients: list[str]) -> dict[str, dict[str, str]]:
        """Offer the message to each envelope recipient; return each one's outcome.

        Outcome: `{"status": accepted | deferred | refused | uncertain, "reply": "..."}`.
        The SMTP transactions are run here, not by `sendmail`, because its refused-recipients
        result and the moment the data went out are both needed:

        - at most the connection's `max_recipients` (else SMTP_MAX_RECIPIENTS) RCPT per
          transaction; a 452 after some were accepted
          (RFC 5321 §4.5.3.1.10, "too many recipients") moves the rest to a next transaction;
        - a RCPT answered 4xx is `deferred` (retried in a later attempt), 5xx `refused`;
        - the data's final reply settles the accepted ones: 250 accepted, 4xx deferred,
          5xx refused (e.g. 552 over the size limit);
        - the connection lost after the data was sent, before the final reply, leaves them
          `uncertain` (possibly delivered: never resent automatically); lost before the data
          went out, the transaction is re-run once on a new connection.

        Raises a DeliveryError (TransientDeliveryError if 4xx or unreachable) when the
        session fails before any recipient has an outcome (connect, TLS, AUTH 535...).
        """
        size = self.settings.max_recipients or current_app.config["SMTP_MAX_RECIPIENTS"]
        payload, mail_options = _payload(email)
        outcomes: dict[str, dict[str, str]] = {}
        pending = list(recipients)
        reconnected = False
        while pending:
            batch = pending[:size]
            try:
                host = self._connected()
                _check_smtputf8(host, email)
                done, rest = _transaction(
                    host, email.sender.addr_spec, batch, payload, mail_options
                )
            except _Lost as lost:  # before the data went out: nobody can have it yet
                self.close()
                if not reconnected:
                    reconnected = True
                    continue
                _settle(outcomes, pending, "deferred", f"connection lost: {lost}")
                break
            except smtplib.SMTPServerDisconnected as exc:
                self.close()
                if not reconnected:
                    reconnected = True
                    continue
                error: DeliveryError = TransientDeliveryError(f"SMTP server disconnected: {exc}")
                if not outcomes:
                    raise error from None
                _settle(outcomes, pending, "deferred", str(error))
                break
            except smtplib.SMTPResponseException as exc:
                self.close()
                if not outcomes:
                    raise _response_error(exc.smtp_code, exc.smtp_error) from None
                status = "deferred" if 400 <= exc.smtp_code < 500 else "refused"
                _settle(outcomes, pending, status, f"{exc.smtp_code} {_decode(exc.smtp_error)}")
                break
            except smtplib.SMTPException as exc:  # e.g. AUTH not offered: a setup problem
                self.close()
                raise DeliveryError(f"SMTP error: {exc}") from None
            except (TimeoutError, OSError) as exc:  # after SMTPException, which is an OSError
                self.close()
                if not outcomes:
                    raise TransientDeliveryError(f"cannot reach SMTP server: {exc}") from None
                _settle(outcomes, pending, "deferred", f"cannot reach SMTP server: {exc}")
                break
            if any(o["status"] == "uncertain" for o in done.values()):
                self.close()  # the session's state is unknown
            outcomes.update(done)
            pending = rest + pending[len(batch) :]
            if pending and not done and rest == batch:
                # A 452 for the very first RCPT: the server takes none now; try later.
                _settle(outcomes, pending, "deferred", "452 too many recipients")
                break
        return outcomes


class _Lost(Exception):
    """The connection ended before the message data was sent (safe to send again)."""


def _settle(outcomes: dict[str, dict[str, str]], addrs: list[str], status: str, reply: str) -> None:
    for addr in addrs:
        outcomes.setdefault(addr, {"status": status, "reply": reply})


def _payload(email: OutgoingEmail) -> tuple[bytes, list[str]]:
    """The message as sent (CRLF lines) and the MAIL FROM options, as `send_message` makes
    them: SMTPUTF8 and 8BITMIME only when an address needs them (RFC 6531)."""
    international = bool(email.needing_smtputf8())
    options: list[str] = []
    with io.BytesIO() as buffer:
        if international:
            generator = BytesGenerator(buffer, policy=email.message.policy.clone(utf8=True))
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        else:
            generator = BytesGenerator(buffer)
        generator.flatten(email.message, linesep="\r\n")
        return buffer.getvalue(), options


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _transaction(
    host: smtplib.SMTP, sender: str, batch: list[str], payload: bytes, mail_options: list[str]
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """One MAIL/RCPT.../DATA transaction; (outcomes of the batch, recipients left for a next
    transaction after a 452). Raises _Lost when the connection ends before the data is sent."""
    options = list(mail_options)
    if host.does_esmtp and host.has_extn("size"):
        options.append(f"SIZE={len(payload)}")  # RFC 1870: an oversize message is refused now
    try:
        code, reply = host.mail(sender, options)
        if code != 250:
            host.rset()
            status = "deferred" if 400 <= code < 500 else "refused"
            return {a: {"status": status, "reply": f"{code} {_decode(reply)}"} for a in batch}, []
        outcomes: dict[str, dict[str, str]] = {}
        accepted: list[str] = []
        rest: list[str] = []
        for index, addr in enumerate(batch):
            code, reply = host.rcpt(addr)
            text = f"{code} {_decode(reply)}"
            if code in (250, 251):
                accepted.append(addr)
            elif code == 452:  # RFC 5321 §4.5.3.1.10: send these in a next transaction
                rest = batch[index:]
                break
            else:
                status = "deferred" if 400 <= code < 500 else "refused"
                outcomes[addr] = {"status": status, "reply": text}
        if not accepted:
            host.rset()
            return outcomes, rest
        host.putcmd("data")
        code, reply = host.getreply()
        if code != 354:
            host.rset()
            status = "deferred" if 400 <= code < 500 else "refused"
            text = f"{code} {_decode(reply)}"
            return {**outcomes, **{a: {"status": status, "reply": text} for a in accepted}}, rest
        data = _LEADING_DOT.sub(b"..", payload)  # RFC 5321 §4.5.2 transparency
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        host.send(data + b".\r\n")
    except smtplib.SMTPServerDisconnected as exc:
        raise _Lost(str(exc)) from None
    try:
        code, reply = host.getreply()
    except smtplib.SMTPServerDisconnected as exc:
        text = f"connection lost after the message was sent, before the server's reply ({exc})"
        return {**outcomes, **{a: {"status": "uncertain", "reply": text} for a in accepted}}, rest
    text = f"{code} {_decode(reply)}"
    status = "accepted" if code == 250 else "deferred" if 400 <= code < 500 else "refused"
    return {**outcomes, **{a: {"status": status, "reply": text} for a in accepted}}, rest


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
