"""The development mail catcher: an aiosmtpd server that stores each message as an .eml file."""

from __future__ import annotations

import email
import email.policy
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class OutboxHandler:
    """Writes every accepted message to `directory` atomically, named so they sort by arrival."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / f".{name}.tmp"
        header = f"X-Herald-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        tmp.write_bytes(header + envelope.original_content)
        os.replace(tmp, self.directory / name)
        return "250 Message accepted for delivery"


def start_catcher(directory: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    """Start the catcher in a background thread; call .stop() on the result to end it."""
    controller = Controller(OutboxHandler(directory), hostname=host, port=port)
    controller.start()
    return controller


@dataclass
class OutboxMessage:
    name: str
    message: EmailMessage

    @property
    def attachments(self) -> list[Any]:
        return list(self.message.iter_attachments())

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        return part.get_content() if part else ""


def _safe_name(name: str) -> bool:
    return name.endswith(".eml") and "/" not in name and not name.startswith(".")


def read_message(directory: Path, name: str) -> OutboxMessage | None:
    """One stored message by file name, or None."""
    path = directory / name
    if not _safe_name(name) or not path.is_file():
        return None
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return OutboxMessage(name, parsed)  # type: ignore[arg-type]


def list_messages(
    directory: Path,
    offset: int = 0,
    limit: int = 100,
    visible: Callable[[Message], bool] | None = None,
) -> tuple[list[OutboxMessage], int]:
    """Newest messages first, and how many there are in all; only those whose headers
    `visible` accepts, when given."""
    if not directory.is_dir():
        return [], 0
    names = sorted((n for n in os.listdir(directory) if _safe_name(n)), reverse=True)
    if visible is not None:
        names = [n for n in names if (head := read_headers(directory, n)) and visible(head)]
    page = [read_message(directory, n) for n in names[offset : offset + limit]]
    return [m for m in page if m is not None], len(names)


def read_headers(directory: Path, name: str) -> Message | None:
    """The header section of one stored message (its body is not parsed), or None."""
    path = directory / name
    if not _safe_name(name) or not path.is_file():
        return None
    with path.open("rb") as file:
        return BytesParser(policy=email.policy.default).parse(file, headersonly=True)
