"""Putting work on the RQ queues; job ids are derived from what they do, so repeats are harmless."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from app.extensions import queues

# Raised by every function here when Redis is unreachable, restarting or still loading its
# append-only file (redis-py's BusyLoadingError is a ConnectionError). Callers that can leave
# the work in the database for the clock's sweep catch it; the web and API answer 503.
QueueUnavailable = RedisError
# How long a caller is asked to wait before trying again while the queue is down (seconds).
RETRY_AFTER_SECONDS = 30

log = logging.getLogger(__name__)
RESULT_TTL = 0  # the database holds every outcome; Redis keeps nothing it doesn't need
FAILURE_TTL = 7 * 24 * 3600
JOB_TIMEOUT = 1800


@contextmanager
def or_leave_to_sweep(work: str) -> Iterator[None]:
    """Queue inside this block; if Redis is unavailable, log it and carry on.

    Only for work already committed in a state the clock's sweep (app.runs.recovery) queues
    by itself: a pending run, or entries whose lease runs out. The caller then answers as
    usual, and the work starts when Redis is back. `work` names it in the log line.
    """
    try:
        yield
    except QueueUnavailable as exc:
        log.warning("%s waits for the queue (Redis: %s)", work, exc)


def prepare_job_id(run_id: int, attempt: int) -> str:
    return f"prepare-run-{run_id}-a{attempt}"


def generate_job_id(entry_id: int, attempt: int) -> str:
    return f"generate-entry-{entry_id}-a{attempt}"


def deliver_job_id(entry_id: int, attempt: int) -> str:
    return f"deliver-entry-{entry_id}-a{attempt}"


def _enqueue_many(queue_name: str, func: str, items: Iterable[tuple[int, str]]) -> None:
    queue: Queue = queues.queue(queue_name)
    jobs = [
        Queue.prepare_data(
            func,
            args=(item_id,),
            job_id=job_id,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            timeout=JOB_TIMEOUT,
        )
        for item_id, job_id in items
    ]
    for start in range(0, len(jobs), 500):
        queue.enqueue_many(jobs[start : start + 500])


def enqueue_prepare(run_id: int, attempt: int) -> None:
    _enqueue_many(
        "generate", "workers.tasks.prepare_run", [(run_id, prepare_job_id(run_id, attempt))]
    )


def enqueue_generate(entries: Iterable[tuple[int, int]]) -> None:
    """Enqueue generation of (entry id, attempts so far) pairs."""
    _enqueue_many(
        "generate",
        "workers.tasks.generate_entry",
        [(entry_id, generate_job_id(entry_id, attempt)) for entry_id, attempt in entries],
    )


def enqueue_deliver(entries: Iterable[tuple[int, int]]) -> None:
    """Enqueue delivery of (entry id, attempts so far) pairs."""
    _enqueue_many(
        "deliver",
        "workers.tasks.deliver_entry",
        [(entry_id, deliver_job_id(entry_id, attempt)) for entry_id, attempt in entries],
    )


def prepare_waiting(run_id: int, attempt: int) -> bool:
    """Whether a pending run's preparation is not (yet) in Redis: Redis was down when the run
    was accepted, or is down now. The clock's sweep queues such a run once Redis answers.
    """
    try:
        return not queues.connection.exists(f"rq:job:{prepare_job_id(run_id, attempt)}")
    except QueueUnavailable:
        return True


# RQ job statuses of a job that a worker will still pick up.
WAITING = frozenset({b"queued", b"deferred", b"scheduled"})


def jobs_waiting(job_ids: list[str]) -> list[bool]:
    """Whether each RQ job is still waiting in a queue for a worker.

    False when the job is gone (Redis restarted empty) and when a worker already took it:
    the job record of a worker killed mid-job stays "started" with no expiry, so its mere
    presence says nothing. Callers only ask about items whose lease (renewed by a live
    worker's heartbeat) has run out, so a started job there belongs to a dead worker.
    """
    if not job_ids:
        return []
    pipe = queues.connection.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(f"rq:job:{job_id}", "status")
    return [status in WAITING for status in pipe.execute()]


def forget_jobs(job_ids: list[str]) -> None:
    """Drop the records a dead worker left (its job, its started-registry entry) before the
    same job id is queued again. Ids with no record (the usual case) cost one round trip."""
    if not job_ids:
        return
    pipe = queues.connection.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.exists(f"rq:job:{job_id}")
    for job_id, exists in zip(job_ids, pipe.execute(), strict=True):
        if exists:
            with contextlib.suppress(NoSuchJobError):
                Job.fetch(job_id, connection=queues.connection).delete()


def review_document_job_id(file_id: str) -> str:
    """The RQ job id of building a review document (one job per temporary file)."""
    return f"review-document-{file_id}"


def queue_review_document(file_id: str) -> None:
    """Put the building of a pending review document on the `generate` queue."""
    queues.queue("generate").enqueue(
        "workers.tasks.build_review_document",
        file_id,
        job_id=review_document_job_id(file_id),
        result_ttl=0,
        failure_ttl=7 * 24 * 3600,
        job_timeout=3600,
    )
