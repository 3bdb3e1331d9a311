"""Small helpers shared by tests."""

from __future__ import annotations

import io
import os
import socket
from typing import Any

from flask import Flask
from pypdf import PdfReader

from app.extensions import db
from app.models import Entry, Job, Run, Workspace


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_env(app: Flask) -> dict[str, str]:
    """Environment for a real worker process sharing this test's database, Redis and storage."""
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "HERALD_STORAGE_DIR": app.config["STORAGE_DIR"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "HERALD_INSTANCE_PATH": app.instance_path,
        "HERALD_ALLOW_PRIVATE_WEBHOOKS": "1",
    }


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def job(workspace: Workspace, code: str = "monthly-statements") -> Job:
    return db.session.scalars(db.select(Job).filter_by(workspace_id=workspace.id, code=code)).one()


def reload_run(run_id: int) -> Run:
    db.session.expire_all()
    return db.session.get(Run, run_id)


def entries_of(run_id: int) -> list[Entry]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Entry).filter_by(run_id=run_id).order_by(Entry.seq)))


def attachments(message: Any) -> list[tuple[str, bytes]]:
    return [(part.get_filename(), part.get_content()) for part in message.iter_attachments()]


# A name in each script issue #11 asks for; the fonts ./dev installs must draw every one.
SCRIPT_NAMES = {
    "Chinese": "张伟",
    "Japanese": "山田さくら",
    "Korean": "김민준",
    "Hindi": "राहुल शर्मा",
    "Thai": "สมชาย ใจดี",
    "Arabic": "محمد علي",
    "Hebrew": "שרה כהן",
}
# Private-use code points: no font on a Debian machine has a glyph for them.
NO_FONT = ["\ue000", "\U0010fffd"]
