"""The clock: one small process that creates scheduled runs and keeps work moving.

It wakes at the earliest next fire time (at least every 2 s, so edits are noticed), creates
due runs exactly once, and every few seconds puts stalled work back in line (dead workers,
an emptied Redis, deliveries due for another attempt). Any number of clocks may run.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time
from datetime import datetime

from app import metrics
from app.database import utcnow
from app.delivery.error_notice import send_due_error_notices
from app.logs import configure_logging
from app.review.document import delete_expired_files
from app.runs.dispatch import QueueUnavailable
from app.runs.health import record_clock_tick
from app.runs.recovery import recover_stalled_work
from app.runs.scheduled import earliest_next_fire, fire_due_jobs
from workers.tasks import process_app

log = logging.getLogger("herald.clock")
MAX_SLEEP_SECONDS = 2.0
RECOVERY_EVERY_SECONDS = 5.0


def fire(now: datetime | None = None) -> list[int]:
    """Create the runs that are due; log what was created."""
    created = fire_due_jobs(now)
    if created:
        log.info("created scheduled runs %s", created)
    return created


def recover() -> None:
    """Put stalled work back in line and drop expired temporary files."""
    counts = recover_stalled_work()
    if any(counts.values()):
        log.info("recovered stalled work: %s", counts)
    # Error notices are mail (the delivery layer): the clock sends them, the sweep does not.
    if notices := send_due_error_notices():
        log.info("sent %d error notices", notices)
    if expired := delete_expired_files():
        log.info("deleted %d expired temporary files", expired)


def seconds_until_next_fire() -> float:
    upcoming = earliest_next_fire()
    if upcoming is None:
        return MAX_SLEEP_SECONDS
    return min(MAX_SLEEP_SECONDS, max(0.0, (upcoming - utcnow()).total_seconds()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="fire due runs once and exit")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="with --once: the instant to fire for (ISO 8601 with offset)",
    )
    args = parser.parse_args()
    configure_logging("clock")
    app = process_app("clock")
    metrics.process_started("clock")
    if args.once:
        with app.app_context():
            fire(args.now)
        return
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A service manager's reload: the settings were read at start, so there is nothing to
    # reload, and SIGHUP's default action would end the schedule until someone notices.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    last_recovery = 0.0
    while not stopping:
        with app.app_context():
            try:
                fire()
                if time.monotonic() - last_recovery >= RECOVERY_EVERY_SECONDS:
                    recover()
                    last_recovery = time.monotonic()
                pause = seconds_until_next_fire()
                record_clock_tick()  # the system page and /metrics show how long ago
            except QueueUnavailable as exc:  # due runs were still created; they wait for it
                log.warning("Redis is unavailable (%s); new runs wait in the database", exc)
                pause = MAX_SLEEP_SECONDS
            except Exception:  # the clock must outlive a failed tick (database restarting, ...)
                log.exception("clock tick failed")
                pause = MAX_SLEEP_SECONDS
        time.sleep(pause)


if __name__ == "__main__":
    main()
