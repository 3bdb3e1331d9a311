"""RQ job functions: take ids, open an app context, call domain code. Nothing else."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

from flask import Flask, current_app, has_app_context

from app import create_app
from app.config import SettingError
from app.delivery.service import deliver_entry as deliver
from app.logs import working_on
from app.review.document import build_review_document as build
from app.runs.generate import generate_entry as generate
from app.runs.lease import holding
from app.runs.outcome import finish_run_of_entry
from app.runs.prepare import prepare_run as prepare


@cache
def _app() -> Flask:
    return create_app()


def process_app(process: str) -> Flask:
    """The app for a worker or clock process `process` starting up. A setting it cannot use
    (app/config.py SettingError) ends the process with that one line, status 1, before any
    work: an operator's typo, not a fault to print a traceback for."""
    try:
        return _app()
    except SettingError as exc:
        sys.exit(f"herald {process}: {exc}")


@contextmanager
def _context() -> Iterator[None]:
    """A fresh app context per job, so each job gets its own database session, closed after.

    Inside a caller's context (an in-process test worker) the caller's app is reused.
    """
    app = current_app._get_current_object() if has_app_context() else _app()  # type: ignore[attr-defined]
    with app.app_context():
        yield


def _done(what: str, item_id: int) -> None:
    # One line per step: with HERALD_LOG_FORMAT=json it carries the run and entry ids.
    logging.getLogger("herald.worker").info("%s %s done", what, item_id)


def _run(
    func: Callable[[int], None],
    kind: str,
    item_id: int,
    then: Callable[[int], object] | None = None,
) -> None:
    """Run `func(item_id)` holding the item: the worker's heartbeat renews its lease meanwhile;
    then `then(item_id)`, still holding it."""
    with _context(), holding(kind, item_id), working_on(**{f"{kind}_id": item_id}):
        func(item_id)
        _done(func.__name__, item_id)
        if then is not None:
            then(item_id)


def prepare_run(run_id: int) -> None:
    _run(prepare, "run", run_id)


def generate_entry(entry_id: int) -> None:
    """Generate an entry and, when it goes on to delivery, deliver it in this same job: its
    files are still in memory, and a second job would cost a trip through Redis and a fresh
    start (the `deliver` queue carries retries, approvals, redeliveries and the sweep's)."""
    with _context(), holding("entry", entry_id), working_on(entry_id=entry_id):
        contents = generate(entry_id)
        _done("generate_entry", entry_id)
        if contents is not None:
            deliver(entry_id, contents)
            _done("deliver_entry", entry_id)
        finish_run_of_entry(entry_id)  # after the commits: see there why


def deliver_entry(entry_id: int) -> None:
    _run(deliver, "entry", entry_id, then=finish_run_of_entry)  # after the commits: see there


def build_review_document(file_id: str) -> None:
    with _context(), holding("file", file_id):
        build(file_id)
