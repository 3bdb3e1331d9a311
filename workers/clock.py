"""The clock: one small process that keeps work moving.

Every few seconds it puts stalled work back in line (dead workers, an emptied Redis, deliveries
due for another attempt). Any number of clocks may run: everything it does is idempotent.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time

from workers.tasks import _app

log = logging.getLogger("herald.clock")
TICK_SECONDS = 5.0


def tick() -> None:
    """One pass of the clock's duties."""
    from app.runs.recovery import recover_stalled_work

    counts = recover_stalled_work()
    if any(counts.values()):
        log.info("recovered stalled work: %s", counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="run one tick and exit")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s clock %(name)s %(message)s")
    for name in ("app", "herald", "rq.worker"):
        logging.getLogger(name).setLevel(logging.INFO)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app = _app()
    while not stopping:
        started = time.monotonic()
        with app.app_context():
            try:
                tick()
            except Exception:  # the clock must outlive a failed tick (database restarting, ...)
                log.exception("clock tick failed")
        if args.once:
            return
        time.sleep(max(0.0, TICK_SECONDS - (time.monotonic() - started)))


if __name__ == "__main__":
    main()
