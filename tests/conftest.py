"""Fixtures: a real Redis, a real SMTP server, a migrated database and in-process RQ workers."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.embedded_redis import start_redis
from tests.helpers import drain


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """The suite's private redis-server; fault tests stop it and start it again on the same
    socket, so every connection the app holds sees the same outage a real restart causes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process, self.url = start_redis(directory, persist=False)

    def stop(self) -> None:
        """Kill it (SIGKILL: no shutdown, no goodbye to clients)."""
        self.process.kill()
        self.process.wait(5)

    def start(self) -> None:
        """Start it again, empty, on the same socket (a no-op while it runs)."""
        if self.process.poll() is None:
            return
        self.process, url = start_redis(self.directory, persist=False)
        assert url == self.url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.process.terminate()
    server.process.wait(5)


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


# Whitespace between two adjacent RFC 2047 encoded words in a header.
_EW_GAP = re.compile(rb"(\?=)(?:\r?\n)?[ \t]+(?==\?)")


def parse_message(raw: bytes) -> EmailMessage:
    """A received message read with Python's email package (policy.default).

    RFC 2047 §6.2: whitespace between adjacent encoded words is not part of the text. Python
    3.11's parser honours that in unstructured headers but keeps it in address headers
    (CPython gh-128110, fixed upstream), reading a long display name written as several
    encoded words with extra spaces. The gap is removed from the header block first, which is
    what a reader following the RFC does. A header block in UTF-8 (RFC 6532, sent with
    SMTPUTF8) is read as text, as the bytes parser would keep its non-ASCII as surrogates.
    """
    head, sep, body = raw.partition(b"\r\n\r\n")
    raw = _EW_GAP.sub(rb"\1", head) + sep + body
    if not head.isascii():
        return message_from_string(raw.decode("utf-8", "surrogateescape"), policy=policy.default)
    return message_from_bytes(raw, policy=policy.default)


class Mailbox:
    """What the test SMTP server received, parsed; `raw` holds the bytes as received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.raw: list[bytes] = []
        self.lock = threading.Lock()
        self.reject_with: str | None = None
        self.sessions = 0
        # While set, RCPT is not answered: a client is held mid-conversation (tests/faults).
        self.stall = False
        self.stalled = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.reject_with:
            return self.reject_with
        if self.stall:
            self.stalled += 1
            while self.stall:
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(parse_message(envelope.original_content))
            self.envelopes.append(list(envelope.rcpt_tos))
            self.raw.append(envelope.original_content)
        return "250 Message accepted"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()
            self.raw.clear()
            self.reject_with = None
            self.sessions = 0
            self.stall = False
            self.stalled = 0


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "from": "Northwind Billing <billing@northwind.example>",
            "reply_to": "billing@northwind.example",
        }


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _app(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Flask:
    from app import create_app
    from app.config import database_url as normalize_url

    instance = tmp_path_factory.mktemp("instance")
    database_url = normalize_url(
        os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{instance / 'test.db'}"
    )
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "STORAGE_DIR": str(instance / "storage"),
            "OUTBOX_DIR": None,
            "DELIVERY_RETRY_DELAYS": [0, 0],
            "SQL_TIMEOUT_SECONDS": 2,
            "ALLOW_PRIVATE_WEBHOOKS": True,  # the test receivers listen on 127.0.0.1
        }
    )
    app.instance_path = str(instance)
    with app.app_context():
        from flask_migrate import upgrade

        from app.extensions import db

        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()  # the real migrations, so they are tested on every run
    return app


@pytest.fixture
def app(_app: Flask, smtp_server: SmtpServer, redis_server: RedisServer) -> Iterator[Flask]:
    """The app inside an app context; every table is emptied and Redis flushed afterwards."""
    from app.delivery.smtp import close_all as close_smtp_sessions
    from app.extensions import db, queues

    with _app.app_context():
        yield _app
        db.session.remove()
        redis_server.start()  # a fault test may have left it stopped
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        queues.connection.flushdb()
        close_smtp_sessions()
        smtp_server.mailbox.clear()
        if smtp_server.controller is None:
            smtp_server.start()
        shutil.rmtree(_app.config["STORAGE_DIR"], ignore_errors=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Mailbox:
    return smtp_server.mailbox


@pytest.fixture
def work(app: Flask):
    """Drain the queues; fails the test when a job crashed (see `helpers.drain`)."""
    return lambda: drain(app)


@pytest.fixture
def demo(app: Flask, smtp_server: SmtpServer):
    """The demo workspace, mailing to the test SMTP server."""
    from app.demo.seed import seed_demo

    return seed_demo(smtp_server.settings, customers=30)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = CSRF.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


class Auth:
    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, email: str = "demo@herald.local", password: str = "herald-demo"):
        token = csrf_from(self.client, "/login")
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def post(self, url: str, data: dict | None = None, page: str | None = None, **kwargs: Any):
        """POST a form with the CSRF token taken from `page` (default: the URL itself)."""
        token = csrf_from(self.client, page or url)
        return self.client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


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


def start_worker(app: Flask) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workers.worker"],
        env=worker_env(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
