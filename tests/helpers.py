"""Small helpers shared by tests (imported from here, never from a conftest.py)."""

from __future__ import annotations

import asyncio
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from pypdf import PdfReader

from app.config import sqlite_dir
from app.datasources.sql import close_connections
from app.demo.data import DEMO_CUSTOMER_WITHOUT_EMAIL
from app.demo.seed import DEMO_DATABASE, seed_demo
from app.extensions import db
from app.models import Entry, Job, Run, User, Workspace
from app.scheduling import format_instant, parse_rule, preview
from app.tokens import create_token
from tests import factories as make


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 60,
    interval: float = 0.1,
    explain: Callable[[], str] | None = None,
) -> None:
    """Poll `predicate` every `interval` seconds until it is true; fail after `timeout` seconds,
    with what `explain()` returns then (e.g. the output of the processes waited for)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(
                "condition not reached in time" + (f"\n{explain()}" if explain else "")
            )
        time.sleep(interval)


# The environment variables of the storage settings (app/config.py), for processes started.
STORAGE_ENV = {
    "STORAGE_URL": "HERALD_STORAGE_URL",
    "S3_ENDPOINT_URL": "HERALD_S3_ENDPOINT_URL",
    "S3_REGION": "AWS_REGION",
    "S3_ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY",
    "S3_PRESIGN_SECONDS": "HERALD_S3_PRESIGN_SECONDS",
}


def worker_env(app: Flask) -> dict[str, str]:
    """Environment for a real worker process sharing this test's database, Redis and storage."""
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "HERALD_STORAGE_DIR": app.config["STORAGE_DIR"],
        # Always the test's store: a HERALD_STORAGE_URL of the developer's must not leak in.
        "HERALD_STORAGE_URL": app.config.get("STORAGE_URL") or "",
        **{env: str(app.config[key]) for key, env in STORAGE_ENV.items() if app.config.get(key)},
        "SECRET_KEY": app.config["SECRET_KEY"],
        "HERALD_INSTANCE_PATH": app.instance_path,
        "HERALD_ALLOW_PRIVATE_WEBHOOKS": "1",
    }


# For `@pytest.mark.customers(FEW_CUSTOMERS)`: the fewest demo customers that still include the
# one without an email address, so a run of them has sent entries and one failed delivery, for
# a quarter of the 30 statements' rendering (each PDF ~0.3-0.5 s).
FEW_CUSTOMERS = DEMO_CUSTOMER_WITHOUT_EMAIL


def seed_demo_with(smtp_settings: dict[str, Any], customers: int) -> Workspace:
    """The demo workspace with exactly `customers` customers. The test app's instance (and so
    its SQLite data directory) lives for the whole session and seeding keeps an existing demo
    database, so the file another test made, with another number of customers, goes first."""
    (sqlite_dir(current_app) / DEMO_DATABASE).unlink(missing_ok=True)
    close_connections()
    return seed_demo(smtp_settings, customers=customers)


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


def failed_jobs() -> list[str]:
    """Every job in RQ's failed registries, each as its id, function and traceback."""
    from rq.job import Job as RqJob
    from rq.registry import FailedJobRegistry

    from app.extensions import QUEUE_NAMES, queues

    found = []
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(name, connection=queues.connection)
        for job_id in registry.get_job_ids():
            job_ = RqJob.fetch(job_id, connection=queues.connection)
            result = job_.latest_result()
            trace = result.exc_string if result is not None else "(no result recorded)"
            found.append(f"{name}/{job_id} {job_.func_name}{job_.args}:\n{trace}")
    return found


def drain(app: Flask, *, allow_failed: bool = False) -> None:
    """Run every queued job to completion in this process, as a real RQ worker does.

    A job that raised lands in RQ's failed registry, which a worker only logs; here it fails
    the test with the job's traceback (a crashing job must not look like "nothing happened").
    `allow_failed` is for the tests that crash a job on purpose and look at the registry.
    """
    from rq import SimpleWorker

    from app.extensions import QUEUE_NAMES, queues

    worker = SimpleWorker([queues.queue(n) for n in QUEUE_NAMES], connection=queues.connection)
    worker.work(burst=True, logging_level="WARNING")
    # The worker wrote through its own session; what this test's session holds is stale now.
    db.session.expire_all()
    if not allow_failed and (failed := failed_jobs()):
        pytest.fail("a queued job failed:\n" + "\n".join(failed), pytrace=False)


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
        # While set, DATA is kept but not answered: the server has the message, the client
        # never hears so (tests/faults).
        self.stall_data = False
        self.data_stalled = 0

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
        if self.stall_data:
            self.data_stalled += 1
            while self.stall_data:
                await asyncio.sleep(0.05)
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
            self.stall_data = False
            self.data_stalled = 0


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


def working_pid(worker: subprocess.Popen) -> int:
    """The pid of the process doing the jobs of `python -m workers.worker` started as `worker`:
    the child it forks (workers/recycle.py), once RQ runs in it (RQ titles it `rq:worker:…`;
    any short-lived helper process the parent starts while loading is not it)."""
    found: list[int] = []

    def working() -> bool:
        try:
            children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text()
            found[:] = [
                int(pid)
                for pid in children.split()
                if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"rq:worker:")
            ]
        # The worker, or a child, ended meanwhile: procfs answers ENOENT, or ESRCH
        # (ProcessLookupError) for a process that is exiting while it is read.
        except (FileNotFoundError, ProcessLookupError):
            found.clear()
        return len(found) == 1

    wait_for(working)
    return found[0]


def start_process(
    app: Flask, module: str, log: Path | None = None, *, cwd: Path | None = None, **env: str
) -> subprocess.Popen:
    """Start `python -m module` (workers.worker, workers.clock) sharing the test's database,
    Redis and storage; extra environment as keyword arguments; its output to `log` if given
    (read it with `output_of` when a wait fails), else discarded."""
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=cwd,
            env={**worker_env(app), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log is not None:
            out.close()


def start_worker(
    app: Flask, log: Path | None = None, *, cwd: Path | None = None, **env: str
) -> subprocess.Popen:
    """A real worker process (`python -m workers.worker`): see `start_process`."""
    return start_process(app, "workers.worker", log, cwd=cwd, **env)


def output_of(*logs: Path) -> Callable[[], str]:
    """For `wait_for(..., explain=)`: the last lines each process wrote to its log."""

    def explain() -> str:
        return "\n".join(
            f"--- {log.name}:\n{log.read_text(errors='replace')[-4000:]}"
            for log in logs
            if log.exists()
        )

    return explain


# --- a small recording HTTP server (webhook and chat receivers) ---------------------------


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    content_type: str = "text/plain"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class LocalServer:
    """A threaded HTTP server; `handle(request) -> Reply` decides each answer."""

    def __init__(self, handle: Callable[[Received], Reply]) -> None:
        self.handle = handle
        self.received: list[Received] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                parts = urllib.parse.urlsplit(self.path)
                request = Received(
                    self.command,
                    parts.path,
                    urllib.parse.parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                owner.received.append(request)
                reply = owner.handle(request)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the JSON API with a real Personal Access Token ----------------------------------------


class Api:
    """A test client that sends `Authorization: Bearer <token>` with every request."""

    def __init__(self, client: Any, token: str):
        self.client, self.token = client, token

    def _headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def put(self, path: str, json: Any = None) -> Any:
        return self.client.put(path, json=json, headers=self._headers())

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self._headers())


def token_for(email: str, workspace: str, permissions: list[str], **kwargs: Any) -> str:
    """A new token's secret for the member `email` of the workspace coded `workspace`."""
    user = db.session.scalars(db.select(User).filter_by(email=email)).one()
    ws = db.session.scalars(db.select(Workspace).filter_by(code=workspace)).one()
    kwargs.setdefault("name", "test")
    return create_token(user, ws, permissions=permissions, **kwargs)[1]


# --- schedules and the clock ----------------------------------------------------------------

RULE_BASE = {"start": "2026-01-01T07:00", "timezone": "UTC"}


def fire_strings(data: dict, after: str, count: int = 8) -> list[str]:
    """Preview a rule given as JSON data and format the fires as ISO strings."""
    rule = parse_rule({**RULE_BASE, **data})
    return [format_instant(f) for f in preview(rule, datetime.fromisoformat(after), count)]


def utc(text: str) -> datetime:
    """An aware UTC datetime from an ISO text without offset."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def scheduled_job(ws: Workspace, rule: dict, code: str = "test-job", **extra: Any) -> Job:
    """A scheduled job on `rule` with one report whose template prints the period."""
    make.template(ws, f"t-{code}", "<p>{{ job_params.period }}</p>")
    definition = {
        "code": code,
        "scheduled": True,
        "schedule": rule,
        "parameters": [{"name": "period", "type": "date", "default": "start_of_month"}],
        "reports": [{"template": f"t-{code}"}],
        **extra,
    }
    return make.job(ws, **definition)


def runs_of(job_id: int) -> list[Run]:
    """The job's runs, oldest first, read afresh from the database."""
    db.session.expire_all()
    return list(db.session.scalars(db.select(Run).filter_by(job_id=job_id).order_by(Run.id)))


def set_next_fire(job: Job, when: datetime) -> None:
    """Make the clock see `job` due at `when`."""
    job.next_fire_at = when
    db.session.commit()


# --- the browser ----------------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def htmx_ready(locator: Any) -> None:
    """Wait until htmx has wired up an element swapped in by a boosted navigation."""
    locator.wait_for()
    locator.evaluate(
        """el => new Promise(resolve => {
            const ready = () => el["htmx-internal-data"] && el["htmx-internal-data"].initHash;
            const poll = () => ready() ? resolve() : setTimeout(poll, 10);
            poll();
        })"""
    )


@contextmanager
def watched_page(browser, timezone_id: str = "UTC") -> Iterator[Any]:
    """A browser tab in a fresh context; on leaving, fails if any page it showed broke the
    Content-Security-Policy (Chromium reports each refused script, style or frame, inline
    style attributes set by scripts included, on the console)."""
    # A fixed browser zone: pages render times in it (app/web/timezones.py), whatever the host's.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=timezone_id)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert violations == [], "CSP violations:\n" + "\n".join(violations)
