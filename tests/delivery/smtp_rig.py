"""A scripted SMTP server for delivery tests: it answers as real servers do when they push back.

`ScriptedSmtp` is an aiosmtpd handler; each test sets what it does and then counts what it
received (`messages`: one (envelope recipients, raw bytes) per accepted DATA).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.helpers import free_port


class ScriptedSmtp:
    """What the server does, set per test:

    - `max_recipients`: RCPT beyond this many in one transaction get 452 4.5.3;
    - `refuse`: address → reply for its RCPT (e.g. "550 5.1.1 No such user");
    - `greylist`: addresses answered 451 4.7.1 on their first RCPT only (greylisting);
    - `max_size`: a message larger than this many bytes gets 552 5.3.4 after its data;
    - `drop_after_data`: read the whole message, then close without a reply (N times).
    """

    def __init__(self) -> None:
        self.max_recipients: int | None = None
        self.refuse: dict[str, str] = {}
        self.greylist: set[str] = set()
        self.max_size: int | None = None
        self.drop_after_data = 0
        self.messages: list[tuple[list[str], bytes]] = []
        self.accepted_at: list[float] = []  # time.monotonic() of each accepted message
        self.data_received = 0  # every DATA read to its end, answered or not
        self.data: list[bytes] = []  # the content of each of those, in order
        self.transactions = 0  # MAIL FROM commands
        self._greylisted: set[str] = set()
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        self.transactions += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        if address in self.greylist and address not in self._greylisted:
            self._greylisted.add(address)
            return "451 4.7.1 Greylisted, please try again later"
        if self.max_recipients is not None and len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        with self.lock:
            self.data_received += 1
            self.data.append(envelope.original_content)
            if self.drop_after_data:
                self.drop_after_data -= 1
                server.transport.abort()  # the whole message was read; no reply is sent
                return "250 never sent"
            if self.max_size is not None and len(envelope.original_content) > self.max_size:
                return "552 5.3.4 Message size exceeds fixed limit"
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
            self.accepted_at.append(time.monotonic())
        return "250 Message accepted"

    @property
    def delivered_to(self) -> list[str]:
        """Every recipient of every accepted message, in order (a duplicate shows twice)."""
        return [addr for rcpts, _ in self.messages for addr in rcpts]


def _reject_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    return AuthResult(success=False, handled=False)


@contextmanager
def scripted_smtp(*, auth: str | None = None, **script: Any) -> Iterator[tuple[ScriptedSmtp, dict]]:
    """Start a ScriptedSmtp on a free port; yield it and the SMTP connection settings.

    auth="reject": every AUTH attempt gets 535; auth="required": MAIL without AUTH gets 530.
    """
    handler = ScriptedSmtp()
    for name, value in script.items():
        setattr(handler, name, value)
    port = free_port()
    options: dict[str, Any] = {"auth_require_tls": False, "authenticator": _reject_login}
    if auth == "required":
        options["auth_required"] = True
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "from": "Northwind Billing <billing@northwind.example>",
    }
    if auth == "reject":
        settings.update(username="herald", password="wrong")
    try:
        yield handler, settings
    finally:
        controller.stop()
