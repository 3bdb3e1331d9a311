"""A Herald worker: one process taking jobs from the `generate` and `deliver` queues.

SimpleWorker runs jobs in this process instead of forking one per job: a fork costs more
than 10% of a one-page render, and one long-lived process keeps WeasyPrint's font cache warm.
It is long-lived, not endless: after HERALD_WORKER_MAX_JOBS jobs (default 1,000) a fresh
process takes over, because rendering gathers memory that only the end of a process gives back
(workers/recycle.py). A daemon thread renews the lease of the item being worked on
(app/runs/lease.py), so a lease only runs out when the process dies.

Redis going away is an outage of the queue, not a reason to exit: the worker waits, reconnects
with backoff and carries on (work it held is in the database; the clock's sweep requeues it).
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import time
from typing import Any

from flask import Flask
from rq import SimpleWorker

from app import metrics
from app.extensions import QUEUE_NAMES, db, queues
from app.logs import configure_logging
from app.runs.dispatch import QueueUnavailable
from app.runs.lease import start_heartbeat
from workers.recycle import RECYCLE, supervise
from workers.tasks import process_app

log = logging.getLogger("herald.worker")
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 10.0
# How long RQ keeps an idle worker's record (its heartbeat renews it): RQ's default, 420 s
# (+60), kept a SIGKILLed worker on /system, in herald_workers and in "a worker is alive" for up
# to eight minutes. At 60 s an idle worker wakes every 45 s to renew it (RQ's dequeue timeout is
# the TTL - 15), and a killed one is gone within two minutes. While it works a job, RQ keeps
# the record for that job's timeout + 60 s.
WORKER_TTL_SECONDS = 60


def wait_for_redis(
    first: float = FIRST_WAIT_SECONDS, longest: float = LONGEST_WAIT_SECONDS
) -> None:
    """Block until the app's Redis answers PING, waiting `first` seconds after the first failure
    and doubling up to `longest` (seconds) between tries. A Redis still loading its append-only
    file answers BusyLoadingError (a ConnectionError), so it counts as not there yet."""
    wait = first
    while True:
        try:
            queues.connection.ping()
            return
        except QueueUnavailable as exc:
            log.warning("Redis is unavailable (%s); trying again in %.1f s", exc, wait)
            time.sleep(wait)
            wait = min(wait * 2, longest)


def work(
    app: Flask, *, burst: bool = False, name: str | None = None, max_jobs: int | None = None
) -> bool:
    """Take jobs until stopped (or, with `burst`, until the queues are empty, or after
    `max_jobs` jobs), riding over Redis outages: RQ retries a lost connection while it waits for
    a job, but gives up when one fails elsewhere (its heartbeat, its bookkeeping after a job);
    then this waits until Redis answers and starts a fresh RQ worker on the same queues.

    Returns True when it stopped because `max_jobs` were done (the caller starts a successor),
    False when stopped by a signal or, with `burst`, for want of work."""
    try:
        return _work(app, burst=burst, name=name, max_jobs=max_jobs)
    except KeyboardInterrupt:
        # Ctrl+C outside RQ's loop (waiting for Redis, starting a fresh RQ worker), where no
        # job is in hand: a stop like one inside it, not a failure with a traceback.
        return False


def _work(app: Flask, *, burst: bool, name: str | None, max_jobs: int | None) -> bool:
    previous: HeraldWorker | None = None
    done = 0
    while True:
        worker: HeraldWorker | None = None
        with app.app_context():
            try:
                wait_for_redis()
                if previous is not None:
                    # Its record may have survived in the append-only file; a worker with the
                    # same name could not register while it looks alive.
                    previous.register_death()
                worker = HeraldWorker(
                    [queues.queue(queue) for queue in QUEUE_NAMES],
                    connection=queues.connection,
                    name=name,
                    worker_ttl=WORKER_TTL_SECONDS,
                )
                left = None if max_jobs is None else max_jobs - done
                try:
                    worker.work(burst=burst, logging_level="WARNING", max_jobs=left)
                finally:
                    done += worker.jobs_done
                    # RQ's handlers would turn a stop signal from here on into nothing.
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.default_int_handler)
                if worker.stop_signalled:
                    return False
                if max_jobs is not None and done >= max_jobs:
                    return True
                if burst:
                    return False
                log.warning("the RQ worker quit on an error; starting it again")
                time.sleep(FIRST_WAIT_SECONDS)  # an error that repeats does not spin
            except QueueUnavailable as exc:
                if worker is not None and worker.stop_signalled:
                    return False
                log.warning("lost Redis while working (%s); reconnecting", exc)
            finally:
                if worker is not None and worker.pubsub_thread is not None:
                    # RQ's command listener retries forever on its own; without Redis its
                    # unsubscribe() cannot run, so the thread is only told to end.
                    worker.pubsub_thread.stop()
            previous = worker or previous


class HeraldWorker(SimpleWorker):
    """RQ's SimpleWorker that remembers a stop signal (SIGTERM, Ctrl+C), so that a Redis
    failure while stopping is not taken for an outage to ride over."""

    stop_signalled = False
    jobs_done = 0

    def execute_job(self, job: Any, queue: Any) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            self.jobs_done += 1

    def request_stop(self, signum: int, frame: object) -> None:
        self.stop_signalled = True
        super().request_stop(signum, frame)


def job_count(text: str) -> int:
    """`--max-jobs`'s value: a whole number of 0 or more; argparse says the error and exits."""
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of 0 or more, not {text!r}")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", default=None)
    parser.add_argument(
        "--max-jobs",
        type=job_count,
        default=None,
        help="jobs per worker process before a fresh one takes over; 0: one process for ever "
        "(default: HERALD_WORKER_MAX_JOBS, 1000)",
    )
    args = parser.parse_args()
    configure_logging("worker")
    app = process_app("worker")
    keep_for_life()  # before the children are forked: they share these pages untouched
    max_jobs = app.config["WORKER_MAX_JOBS"] if args.max_jobs is None else args.max_jobs
    if max_jobs <= 0:
        # No parent to fork a fresh process: a service manager's reload (SIGHUP) must not end
        # this one in the middle of a job.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        work_here(app, burst=args.burst, name=args.name)
        return
    sys.exit(
        supervise(
            lambda: (
                RECYCLE
                if work_here(app, burst=args.burst, name=args.name, max_jobs=max_jobs)
                else 0
            ),
            on_child_exit=metrics.process_ended,
        )
    )


def work_here(app: Flask, **options: Any) -> bool:
    """Be a worker in this process: count it, renew leases, take jobs (`work`'s options)."""
    with app.app_context():
        # A forked child must not share the parent's database connections (none are expected:
        # the parent only imported the app).
        db.engine.dispose(close=False)
    metrics.process_started("worker")
    start_heartbeat(app, app.config["HEARTBEAT_SECONDS"])
    keep_for_life()
    return work(app, **options)


def keep_for_life() -> None:
    """Move every object this process has made so far (the app, its imports, the worker's
    setup: ~200,000 objects) out of the garbage collector's sight for the rest of its life.

    A render allocates enough to set off dozens of full collections per hundred statements,
    and each full collection walks every live object: with the startup heap frozen a statement
    renders ~15% faster (bench/render_heap.py). Before a fork it also keeps the collector from
    writing to the shared pages, as CPython's gc.freeze() documentation advises. Objects made
    later (caches included) are collected as usual."""
    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    main()
