"""RQ job functions: take ids, open an app context, call domain code. Nothing else."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from functools import cache
from typing import Any

from flask import Flask, has_app_context


@cache
def _app() -> Flask:
    from app import create_app

    return create_app()


@contextmanager
def _context() -> Any:
    """Reuse the caller's app context (in-process test workers), else this process's app."""
    if has_app_context():
        yield
        return
    with _app().app_context():
        yield


def _run(func: Callable[[int], None], item_id: int) -> None:
    with _context():
        from app.extensions import db

        try:
            func(item_id)
        finally:
            db.session.remove()


def prepare_run(run_id: int) -> None:
    from app.runs.prepare import prepare_run as prepare

    _run(prepare, run_id)


def generate_entry(entry_id: int) -> None:
    from app.runs.generate import generate_entry as generate

    _run(generate, entry_id)


def deliver_entry(entry_id: int) -> None:
    from app.delivery.service import deliver_entry as deliver

    _run(deliver, entry_id)
