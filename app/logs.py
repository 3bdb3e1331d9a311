"""Log lines: plain text by default, or one JSON object per line (HERALD_LOG_FORMAT=json)
carrying the request id, run id and entry id of whatever the line was written for."""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

from flask import has_request_context, request
from pythonjsonlogger.json import JsonFormatter

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_run_id: ContextVar[int | None] = ContextVar("herald_run_id", default=None)
_entry_id: ContextVar[int | None] = ContextVar("herald_entry_id", default=None)
# Inside a worker's job (`working_on`): only there may code name the run it works on. A web
# process that reads a run's context must not stamp its id on the requests that follow.
_in_job: ContextVar[bool] = ContextVar("herald_in_job", default=False)
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"


def request_id() -> str:
    """The caller's X-Request-ID / X-Correlation-ID when it looks sane (1-128 of A-Z a-z 0-9
    . _ : -), else a new uuid; one per request. Needs a request context."""
    # Kept on the request itself: an app context (and `g`) may outlive one request.
    if "herald.request_id" not in request.environ:
        given = request.headers.get("X-Request-ID") or request.headers.get("X-Correlation-ID")
        safe = given if given and _SAFE_ID.match(given) else str(uuid.uuid4())
        request.environ["herald.request_id"] = safe
    return request.environ["herald.request_id"]


@contextmanager
def working_on(*, run_id: int | None = None, entry_id: int | None = None) -> Iterator[None]:
    """Lines logged inside carry this run id and entry id (a worker's job); both are
    restored after, so the next job's lines do not carry this one's ids."""
    run_token, entry_token = _run_id.set(run_id), _entry_id.set(entry_id)
    job_token = _in_job.set(True)
    try:
        yield
    finally:
        _in_job.reset(job_token)
        _entry_id.reset(entry_token)
        _run_id.reset(run_token)


def set_run_id(run_id: int) -> None:
    """The run of the entry being worked on, once it is known (until the job's context ends);
    nothing outside a worker's job (`working_on`)."""
    if _in_job.get():
        _run_id.set(run_id)


class ContextIds(logging.Filter):
    """Adds request_id, run_id and entry_id (None where there is none) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id() if has_request_context() else None
        record.run_id = _run_id.get()
        record.entry_id = _entry_id.get()
        return True


def log_handler(process: str, fmt: str, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to `stream` (stderr) in `fmt` ("json": JSON lines, else text), every
    record carrying request_id, run_id and entry_id; `process` names the writer (web, worker,
    clock)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextIds())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
                static_fields={"service": process},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {process} %(name)s %(message)s"))
    return handler


def configure_logging(process: str, fmt: str | None = None) -> None:
    """Set up the root logger for a Herald process (`process`: web, worker, clock), in the
    format `fmt` or HERALD_LOG_FORMAT: "json" for JSON lines, anything else for text."""
    root = logging.getLogger()
    root.handlers = [log_handler(process, fmt or os.environ.get("HERALD_LOG_FORMAT", "text"))]
    root.setLevel(logging.WARNING)
    for name in ("app", "herald", "rq.worker"):
        logging.getLogger(name).setLevel(logging.INFO)
