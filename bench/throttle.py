"""The shared email throttle's cost per message (app/delivery/throttle.py), against a private
redis-server on a unix socket:

    .venv/bin/python bench/throttle.py [--messages 5000]

Prints microseconds per `acquire` when the message may go (one round trip: the moving
window's Lua script) and when it must wait (three: the hit, the window's stats and the slot
reservation), and how far apart the reserved slots of 1,000 waiting messages are.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.delivery.throttle import Throttled, acquire  # noqa: E402
from app.embedded_redis import start_redis  # noqa: E402


def timed(n: int, connection_id: int, limit: int) -> tuple[float, list[Throttled]]:
    """Median microseconds of `n` acquires, and the Throttled ones raised."""
    took, waits = [], []
    for _ in range(n):
        start = time.perf_counter()
        try:
            acquire(connection_id, limit)
        except Throttled as exc:
            waits.append(exc)
        took.append(time.perf_counter() - start)
    return statistics.median(took) * 1e6, waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis, url = start_redis(Path(tmp), persist=False)
        try:
            app = create_app({"REDIS_URL": url, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.db"})
            with app.app_context():
                allowed, _ = timed(args.messages, 1, args.messages * 10)
                timed(30, 2, 30)  # fill the window of connection 2
                refused, waits = timed(1000, 2, 30)
        finally:
            redis.terminate()
            redis.wait(5)
    slots = sorted(w.retry_at for w in waits)
    gaps = [(b - a).total_seconds() for a, b in zip(slots, slots[1:], strict=False)]
    print(f"acquire, message may go:    {allowed:7.1f} µs median ({args.messages} calls)")
    print(f"acquire, message must wait: {refused:7.1f} µs median (1000 calls, 30/min)")
    print(
        f"reserved slots of 1000 waiting messages: {len(set(slots))} distinct, "
        f"{min(gaps):.3f}-{max(gaps):.3f} s apart, last in "
        f"{(slots[-1] - slots[0]).total_seconds() / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
