"""A Herald worker: one process taking jobs from the `generate` and `deliver` queues.

SimpleWorker runs jobs in this process instead of forking one per job: a fork costs more
than 10% of a one-page render, and one long-lived process keeps WeasyPrint's font cache warm.
A daemon thread renews the lease of the item being worked on (app/runs/lease.py), so a lease
only runs out when the process dies.

Redis going away is an outage of the queue, not a reason to exit: the worker waits, reconnects
with backoff and carries on (work it held is in the database; the clock's sweep requeues it).
"""

from __future__ import annotations

import argparse
import logging
import signal
import time

from flask import Flask
from rq import SimpleWorker

from app import metrics
from app.extensions import QUEUE_NAMES, queues
from app.logs import configure_logging
from app.runs.dispatch import QueueUnavailable
from app.runs.lease import start_heartbeat
from workers.tasks import _app

log = logging.getLogger("herald.worker")
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 10.0


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


def work(app: Flask, *, burst: bool = False, name: str | None = None) -> None:
    """Take jobs until stopped (or, with `burst`, until the queues are empty), riding over
    Redis outages: RQ retries a lost connection while it waits for a job, but gives up when
    one fails elsewhere (its heartbeat, its bookkeeping after a job); then this waits until
    Redis answers and starts a fresh RQ worker on the same queues."""
    previous: HeraldWorker | None = None
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
                )
                worker.work(burst=burst, logging_level="WARNING")
                if burst or worker.stop_signalled:
                    return
                log.warning("the RQ worker quit on an error; starting it again")
                time.sleep(FIRST_WAIT_SECONDS)  # an error that repeats does not spin
            except QueueUnavailable as exc:
                if worker is not None and worker.stop_signalled:
                    return
                log.warning("lost Redis while working (%s); reconnecting", exc)
            finally:
                if worker is not None and worker.pubsub_thread is not None:
                    # RQ's command listener retries forever on its own; without Redis its
                    # unsubscribe() cannot run, so the thread is only told to end.
                    worker.pubsub_thread.stop()
            previous = worker or previous
        # RQ's handlers would turn a stop signal during the wait into nothing.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)


class HeraldWorker(SimpleWorker):
    """RQ's SimpleWorker that remembers a stop signal (SIGTERM, Ctrl+C), so that a Redis
    failure while stopping is not taken for an outage to ride over."""

    stop_signalled = False

    def request_stop(self, signum: int, frame: object) -> None:
        self.stop_signalled = True
        super().request_stop(signum, frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    configure_logging("worker")
    metrics.process_started("worker")
    app = _app()
    start_heartbeat(app, app.config["HEARTBEAT_SECONDS"])
    work(app, burst=args.burst, name=args.name)


if __name__ == "__main__":
    main()
