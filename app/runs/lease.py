"""Leases with a heartbeat: while a worker process lives, what it holds stays leased to it.

A worker holds one item at a time (SimpleWorker runs one job at a time in its main thread).
A small daemon thread renews that item's lease every `HEARTBEAT_SECONDS`, so a lease only
expires when the process is gone (killed, out of memory, machine lost) — the lease can be
short (`LEASE_SECONDS`, default 60 s) and a dead worker's item is taken back within about a
minute by recovery, while a live render that takes longer than the lease is never started a
second time. The heartbeat writes through its own database connection, never the job's
session, and only ever extends a lease.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import or_, update

from app.database import utcnow
from app.extensions import db, queues
from app.models import Entry, Run

log = logging.getLogger(__name__)

_lock = threading.Lock()
_held: tuple[str, int | str] | None = None
_heartbeat: threading.Thread | None = None


def lease_until(now: datetime | None = None) -> datetime:
    """When a lease taken now ends unless renewed (now + `LEASE_SECONDS`), naive UTC."""
    return (now or utcnow()) + timedelta(seconds=current_app.config["LEASE_SECONDS"])


@contextmanager
def holding(kind: str, item_id: int | str) -> Iterator[None]:
    """Mark `item_id` ("entry", "run" or "file") as held by this process while the block runs.

    A file's lease starts at once (it has no claim that sets one); entries and runs are
    leased by their claim."""
    global _held
    with _lock:
        previous, _held = _held, (kind, item_id)
    if kind == "file":
        renew(kind, item_id)
    try:
        yield
    finally:
        with _lock:
            _held = previous


def held() -> tuple[str, int | str] | None:
    """What this process holds now: (kind, id), or None."""
    with _lock:
        return _held


def renew(kind: str, item_id: int | str, now: datetime | None = None) -> bool:
    """Extend the lease of an item still being worked on; True when it was renewed.

    An entry's lease is only ever moved later (a delivery waiting for its retry keeps its
    later lease); a preparing run's lease is its `updated_at`; a temporary file being built
    (a review document) is leased by a Redis key that expires with the lease — its job lives
    in Redis too. Database leases commit on their own connection.
    """
    now = now or utcnow()
    until = lease_until(now)
    if kind == "file":
        seconds = current_app.config["LEASE_SECONDS"]
        return bool(queues.connection.set(file_lease_key(str(item_id)), 1, ex=seconds))
    if kind == "entry":
        statement = (
            update(Entry)
            .where(
                Entry.id == item_id,
                Entry.status == "InProgress",
                or_(Entry.lease_expires_at.is_(None), Entry.lease_expires_at < until),
            )
            .values(lease_expires_at=until)
        )
    elif kind == "run":
        statement = (
            update(Run).where(Run.id == item_id, Run.status == "preparing").values(updated_at=now)
        )
    else:
        raise ValueError(f"unknown kind {kind!r}")
    with db.engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def file_lease_key(file_id: str) -> str:
    """The Redis key present while a live worker builds temporary file `file_id`."""
    return f"herald:lease:file:{file_id}"


def start_heartbeat(app: Flask, every: float) -> threading.Thread:
    """Start the daemon thread renewing this process's held item every `every` seconds (once
    per process; later calls return the running thread)."""
    global _heartbeat
    if _heartbeat is not None:
        return _heartbeat

    def beat() -> None:
        while True:
            time.sleep(every)
            item = held()
            if item is None:
                continue
            try:
                with app.app_context():
                    renew(*item)
            except Exception:  # a database hiccup: the next beat tries again
                log.exception("lease renewal for %s %s failed", *item)

    _heartbeat = threading.Thread(target=beat, name="herald-heartbeat", daemon=True)
    _heartbeat.start()
    return _heartbeat
