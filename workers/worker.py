"""A Herald worker: one process taking jobs from the `generate` and `deliver` queues.

SimpleWorker runs jobs in this process instead of forking one per job: a fork costs more
than 10% of a one-page render, and one long-lived process keeps WeasyPrint's font cache warm.
A daemon thread renews the lease of the item being worked on (app/runs/lease.py), so a lease
only runs out when the process dies.
"""

from __future__ import annotations

import argparse
import logging

from rq import SimpleWorker

from app.extensions import QUEUE_NAMES, queues
from app.runs.lease import start_heartbeat
from workers.tasks import _app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(name)s %(message)s")
    for name in ("app", "herald", "rq.worker"):
        logging.getLogger(name).setLevel(logging.INFO)
    app = _app()
    start_heartbeat(app, app.config["HEARTBEAT_SECONDS"])
    with app.app_context():
        worker = SimpleWorker(
            [queues.queue(name) for name in QUEUE_NAMES],
            connection=queues.connection,
            name=args.name,
        )
        worker.work(burst=args.burst, logging_level="WARNING")


if __name__ == "__main__":
    main()
