"""What keeps work moving, as operators see it: RQ workers, queues, the clock, database and Redis.

One place for these facts, so the system page, the JSON API, the run page and /metrics all
say the same thing. Redis being down is a fact to report, never an error to raise.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rq import Worker
from rq.job import Job
from sqlalchemy import func, select, text

from app.extensions import QUEUE_NAMES, db, queues
from app.models import Entry, EntryDelivery, Run
from app.runs.dispatch import QueueUnavailable
from app.runs.states import DeliveryStatus

# Written by every clock loop (workers/clock.py); any number of clocks share it, the newest wins.
CLOCK_TICK_KEY = "herald:clock:last-tick"
# Kept a day: a clock stopped for longer still shows when it last ticked.
CLOCK_TICK_TTL_SECONDS = 24 * 3600
# The RQ job ids of app/runs/dispatch.py: what a worker's current job works on.
_JOB_ID = re.compile(r"^(prepare-run|generate-entry|deliver-entry)-(\d+)-a\d+$")
_JOB_KINDS = {"prepare-run": "preparing run", "generate-entry": "generating entry",
              "deliver-entry": "delivering entry"}  # fmt: skip


@dataclass(frozen=True)
class WorkItem:
    """What a worker's current RQ job works on: a run being prepared, or an entry."""

    job_id: str
    action: str  # "preparing run" | "generating entry" | "delivering entry" | the RQ job id
    run_id: int | None = None
    entry_id: int | None = None
    workspace_id: int | None = None


@dataclass(frozen=True)
class WorkerFact:
    """One RQ worker as its registry record in Redis has it (times in UTC)."""

    name: str
    host: str | None
    pid: int | None
    queues: list[str]
    state: str  # RQ's: idle, busy, suspended, started...
    current: WorkItem | None
    last_heartbeat: datetime | None
    started_at: datetime | None


@dataclass(frozen=True)
class QueueFact:
    """One RQ queue: jobs waiting, the age (seconds) of the oldest, and jobs failed in RQ."""

    name: str
    depth: int
    oldest_age_seconds: float | None
    failed: int


@dataclass(frozen=True)
class ClockFact:
    """The clock's last loop: when (UTC), on which host/pid, and how long ago (seconds)."""

    last_tick: datetime | None
    host: str | None = None
    pid: int | None = None
    lag_seconds: float | None = None


@dataclass(frozen=True)
class SystemFacts:
    """Everything the system page shows. Worker, queue and clock facts live in Redis, so they
    are empty (and `redis_ok` False, `redis_error` saying why) while Redis is unreachable."""

    database_ok: bool
    database_error: str | None
    redis_ok: bool
    redis_error: str | None
    workers: list[WorkerFact] = field(default_factory=list)
    queues: list[QueueFact] = field(default_factory=list)
    clock: ClockFact = field(default_factory=lambda: ClockFact(None))
    # Pending deliveries held back until a later time (a rate-limit slot or a retry back-off):
    # they sit in the database, not in an RQ queue, until the clock's sweep queues each one.
    deliveries_scheduled: int = 0

    @property
    def failed_jobs(self) -> int:
        return sum(queue.failed for queue in self.queues)


def record_clock_tick(now: float | None = None) -> None:
    """Note that a clock loop ran (`now`: Unix seconds, default the current time).

    Raises QueueUnavailable when Redis is down; the clock carries on without it."""
    record = {"at": time.time() if now is None else now, "host": socket.gethostname(),
              "pid": os.getpid()}  # fmt: skip
    queues.connection.set(CLOCK_TICK_KEY, json.dumps(record), ex=CLOCK_TICK_TTL_SECONDS)


def clock_fact(now: float | None = None) -> ClockFact:
    """The clock's last tick and its lag: seconds since then (`now`: Unix seconds).

    A lag well over the clock's loop (2 s, 5 s for its recovery sweep) means no clock runs:
    scheduled runs are not created and stalled work is not put back in line.
    Raises QueueUnavailable when Redis is down."""
    raw = queues.connection.get(CLOCK_TICK_KEY)
    if raw is None:
        return ClockFact(None)
    record = json.loads(raw)
    at = float(record["at"])
    lag = max(0.0, (time.time() if now is None else now) - at)
    return ClockFact(datetime.fromtimestamp(at, UTC), record.get("host"), record.get("pid"), lag)


def live_workers() -> list[Worker]:
    """RQ's registered workers whose record has not expired (a killed worker's record lasts
    until its TTL, at most RQ's worker_ttl + 60 s). Raises QueueUnavailable when Redis is down."""
    return Worker.all(connection=queues.connection)


def workers_alive() -> bool | None:
    """Whether any worker is registered in RQ; None when Redis cannot be asked."""
    try:
        return bool(live_workers())
    except QueueUnavailable:
        return None


def _work_items(job_ids: list[str]) -> dict[str, WorkItem]:
    """The run/entry (and its workspace) each Herald job id works on, read in one query each."""
    parsed = {job_id: m for job_id in job_ids if (m := _JOB_ID.match(job_id))}
    entry_ids = [int(m[2]) for m in parsed.values() if m[1] != "prepare-run"]
    run_ids = [int(m[2]) for m in parsed.values() if m[1] == "prepare-run"]
    entries = {
        row.id: row
        for row in db.session.execute(
            select(Entry.id, Entry.run_id, Run.workspace_id)
            .join(Run, Run.id == Entry.run_id)
            .where(Entry.id.in_(entry_ids))
        )
    } if entry_ids else {}  # fmt: skip
    runs = dict(
        db.session.execute(select(Run.id, Run.workspace_id).where(Run.id.in_(run_ids))).tuples()
    ) if run_ids else {}  # fmt: skip
    items = {}
    for job_id in job_ids:
        match = parsed.get(job_id)
        if match is None:
            items[job_id] = WorkItem(job_id, job_id)
        elif match[1] == "prepare-run":
            run_id = int(match[2])
            items[job_id] = WorkItem(job_id, _JOB_KINDS[match[1]], run_id, None, runs.get(run_id))
        else:
            entry = entries.get(int(match[2]))
            items[job_id] = WorkItem(
                job_id,
                _JOB_KINDS[match[1]],
                entry.run_id if entry else None,
                int(match[2]),
                entry.workspace_id if entry else None,
            )
    return items


def _worker_facts(database_ok: bool) -> list[WorkerFact]:
    workers = sorted(live_workers(), key=lambda w: (w.hostname or "", w.pid or 0, w.name))
    current = {w.name: w.get_current_job_id() for w in workers}
    job_ids = [job_id for job_id in current.values() if job_id]
    # Without the database a job is shown by its RQ id alone.
    items = _work_items(job_ids) if database_ok else {j: WorkItem(j, j) for j in job_ids}
    return [
        WorkerFact(
            name=w.name,
            host=w.hostname,
            pid=w.pid,
            queues=w.queue_names(),
            state=str(w.get_state()),
            current=items.get(current[w.name] or ""),
            last_heartbeat=_aware(w.last_heartbeat),
            started_at=_aware(w.birth_date),
        )
        for w in workers
    ]


def _aware(value: datetime | None) -> datetime | None:
    """RQ keeps naive UTC datetimes."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def queue_facts(now: datetime | None = None) -> list[QueueFact]:
    """Depth, oldest waiting job's age and failed-job count of each Herald queue.

    Raises QueueUnavailable when Redis is down."""
    now = now or datetime.now(UTC)
    facts = []
    for name in QUEUE_NAMES:
        queue = queues.queue(name)
        oldest_age = None
        # The head of the list waited longest; fetch_many gives None if it was just taken.
        for job in Job.fetch_many(queue.get_job_ids(0, 1), connection=queues.connection):
            if job is not None and job.enqueued_at is not None:
                oldest_age = max(0.0, (now - _aware(job.enqueued_at)).total_seconds())
        facts.append(QueueFact(name, queue.count, oldest_age, queue.failed_job_registry.count))
    return facts


def _database_error() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to answer is the fact to report
        db.session.rollback()
        return f"{type(exc).__name__}: {exc}"[:300]


def _redis_error() -> str | None:
    try:
        queues.connection.ping()
        return None
    except QueueUnavailable as exc:
        return f"{type(exc).__name__}: {exc}"[:300]


def readiness() -> dict[str, bool]:
    """Whether the database and Redis answer now: {"database": bool, "redis": bool}."""
    return {"database": _database_error() is None, "redis": _redis_error() is None}


def deliveries_scheduled(now: datetime | None = None) -> int:
    """How many pending deliveries wait for a later time (`next_attempt_at` after `now`, aware UTC):
    a rate-limit slot (app/delivery/throttle.py) or a retry back-off (app/delivery/retry.py)."""
    now = now or datetime.now(UTC)
    query = select(func.count(EntryDelivery.id)).where(
        EntryDelivery.status == DeliveryStatus.pending, EntryDelivery.next_attempt_at > now
    )
    return db.session.scalar(query) or 0


def system_facts() -> SystemFacts:
    """Workers, queues, the clock, and whether the database and Redis answer.

    Never raises for an outage: an unreachable Redis leaves the Redis-held facts empty."""
    database_error = _database_error()
    redis_error = _redis_error()
    scheduled = deliveries_scheduled() if database_error is None else 0
    if redis_error is not None:
        database_ok = database_error is None
        return SystemFacts(
            database_ok, database_error, False, redis_error, deliveries_scheduled=scheduled
        )
    try:
        workers = _worker_facts(database_error is None)
        return SystemFacts(
            database_error is None,
            database_error,
            True,
            None,
            workers,
            queue_facts(),
            clock_fact(),
            scheduled,
        )
    except QueueUnavailable as exc:  # went away while being read
        return SystemFacts(database_error is None, database_error, False, str(exc)[:300])
