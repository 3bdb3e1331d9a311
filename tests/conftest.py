"""Fixtures: a real Redis, a real SMTP server, a migrated database and in-process RQ workers."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.embedded_redis import start_redis
from herald_procs.liveness import alive
from tests.helpers import (
    Auth,
    LocalServer,
    Mailbox,
    Received,
    Reply,
    drain,
    free_port,
    seed_demo_with,
)

# Every process a test starts inherits this mark, so one that outlives its test is found even
# after its parent died and it was handed to init.
SESSION_MARK = f"HERALD_TEST_SESSION={uuid.uuid4().hex}"
os.environ["HERALD_TEST_SESSION"] = SESSION_MARK.partition("=")[2]
# Herald's own long-running processes: the worker parent (python -m workers.worker), its working
# child (titled rq:worker:… by RQ), the clock and gunicorn.
HERALD_PROCESSES = (b"workers.worker", b"workers.clock", b"rq:worker", b"gunicorn")


def herald_processes_of_this_session() -> dict[int, str]:
    """{pid: command line} of Herald's processes started by this test session that still run
    (zombies excluded), this pytest process excepted (RQ retitles it while `drain` works)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if SESSION_MARK.encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if any(name in command for name in HERALD_PROCESSES) and alive(int(entry.name)):
            found[int(entry.name)] = command.replace(b"\0", b" ").decode(errors="replace")
    return found


@pytest.fixture(autouse=True)
def no_process_outlives_its_test() -> Iterator[None]:
    """Fail the test that leaves a worker, clock or web server running: on the suite's shared
    Redis such a process takes later tests' jobs (a worker paused at a fault point holds them).
    The leftovers are killed so the next test starts clean."""
    yield
    deadline = time.monotonic() + 10  # a stopped process may still be tidying up
    while (left := herald_processes_of_this_session()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived the test: {left}"


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
def demo(app: Flask, smtp_server: SmtpServer, request: pytest.FixtureRequest):
    """The demo workspace with 30 customers, mailing to the test SMTP server.

    `@pytest.mark.customers(n)` seeds n instead: a run renders one PDF per customer (~0.3 s
    each), so a test about runs, not about a full demo, pays for fewer (`helpers.FEW_CUSTOMERS`
    still includes the customer without an email address).
    """
    marker = request.node.get_closest_marker("customers")
    return seed_demo_with(smtp_server.settings, customers=marker.args[0] if marker else 30)


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def serve() -> Iterator[Callable[..., LocalServer]]:
    """Start recording HTTP receivers on 127.0.0.1 (`serve(Reply(...))`); closed afterwards."""
    servers: list[LocalServer] = []

    def start(handle: Callable[[Received], Reply] | Reply | None = None) -> LocalServer:
        reply = handle if isinstance(handle, Reply) else Reply()
        server = LocalServer(handle if callable(handle) else (lambda _request: reply))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
