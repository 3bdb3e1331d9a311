"""The email throttle shared by every worker on every host: messages per window per SMTP
connection (the connection's "Max messages per minute"), counted in Redis.

The count is the `limits` library's moving window (`MovingWindowRateLimiter` on its Redis
storage): in any `THROTTLE_WINDOW_SECONDS` span (60 by default; tests shrink it) at most the
limit of messages reach the server over one connection, however many worker processes send
(each is counted for the window plus SEND_MARGIN_SECONDS, see there). A message
that finds the window full is not sent and not failed: `acquire` raises `Throttled`, and the
delivery service puts the delivery back to pending with its next attempt at a reserved slot
(`wait_for_slot`), so the worker is free at once and the clock's sweep queues the entry again
when the slot comes. The wait spends no attempt, no Retry-After deferral and counts as no
failure.

Slots are reserved so that waiting messages wake one by one, `(window + margin) / limit` s apart
from the moment the window frees, instead of all at once (a burst of 10,000 entries on a
30/min connection would otherwise wake every waiting entry each time one slot frees). A woken
message still passes through the moving window; one that loses its slot to a newcomer
reserves the next free one.

Redis unreachable: nothing is sent on that connection (a limit that cannot be counted cannot
be kept) and the delivery waits as if throttled, `OUTAGE_WAIT_SECONDS`; work waits in the
database and the sweep queues it when Redis is back (the Redis-outage policy of issue 12).

Times come from each worker host's clock (`time.time()`, as the `limits` library does): hosts
should keep their clocks in sync (NTP), as for the schedule.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from sqlalchemy import select

from app.extensions import db, queues
from app.models import EntryDelivery
from app.outbound.errors import TransientDeliveryError
from app.runs.states import DeliveryStatus, move_delivery

KEY_PREFIX = "herald:throttle"
# A message is counted from the moment it may start, but the server counts it when it
# arrives, a moment later (a new connection, the transfer of its PDFs); one that arrives later
# than the next one's start would put N+1 in the server's window. Each message is therefore
# counted for the window plus this margin (seconds): 61 s of a 60 s window, 1.6% of the rate.
SEND_MARGIN_SECONDS = 1
# How long a delivery waits when Redis cannot be asked (seconds).
OUTAGE_WAIT_SECONDS = 30

# Reserve the next free slot: max(the next unreserved slot, the moment the window frees);
# the slot after it is one interval later. The key lives until a window after the last slot.
# KEYS[1]: the connection's reservation key. ARGV: earliest slot (epoch s), interval (s),
# now (epoch s), window (s).
_RESERVE = """
local reserved = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(reserved, tonumber(ARGV[1]))
local after = slot + tonumber(ARGV[2])
local ttl = math.ceil((after - tonumber(ARGV[3]) + tonumber(ARGV[4])) * 1000)
redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', math.max(ttl, 1))
return string.format('%.6f', slot)
"""


class Throttled(TransientDeliveryError):
    """The connection's rate limit is reached: try again at `retry_at` (aware UTC).

    `limit` messages per `window` seconds; `outage` when Redis could not be asked."""

    def __init__(self, limit: int, window: int, retry_at: datetime, *, outage: bool = False):
        why = "Redis unavailable, rate limit not checked" if outage else "rate limit"
        super().__init__(f"waiting: {why} {rate_text(limit, window)}")
        self.limit, self.window, self.retry_at, self.outage = limit, window, retry_at, outage


def rate_text(limit: int, window: int) -> str:
    """A rate as people read it: "30/min" for a 60 s window, else "3 per 5 s"."""
    return f"{limit}/min" if window == 60 else f"{limit} per {window} s"


def window_seconds() -> int:
    """The throttle's window length in seconds (THROTTLE_WINDOW_SECONDS, default 60)."""
    return int(current_app.config["THROTTLE_WINDOW_SECONDS"])


def _limiter() -> MovingWindowRateLimiter:
    """The app's moving-window limiter on the queues' own Redis connection pool."""
    limiter = current_app.extensions.get("herald_throttle")
    if limiter is None:
        pool = queues.connection.connection_pool
        storage = RedisStorage("redis://", connection_pool=pool, key_prefix=KEY_PREFIX)
        limiter = current_app.extensions["herald_throttle"] = MovingWindowRateLimiter(storage)
    return limiter


def acquire(connection_id: int, limit: int, cost: int = 1) -> None:
    """Take `cost` messages (SMTP transactions) of SMTP connection `connection_id`'s
    allowance of `limit` per window; return when they may go out now.

    Raises Throttled with the reserved time of the next try when the window is full, or
    when Redis cannot be asked. `limit` ≤ 0 means no limit. A cost above the limit is
    counted as the limit (a message needing more transactions than a window allows would
    otherwise never go)."""
    if limit <= 0:
        return
    window = window_seconds()
    item = RateLimitItemPerSecond(limit, window + SEND_MARGIN_SECONDS)
    limiter = _limiter()
    try:
        if limiter.hit(item, "smtp", str(connection_id), cost=min(max(cost, 1), limit)):
            return
        frees_at = limiter.get_window_stats(item, "smtp", str(connection_id)).reset_time
        counted = window + SEND_MARGIN_SECONDS
        slot = _reserve(connection_id, max(frees_at, time.time()), counted / limit, counted)
    except RedisError:
        retry_at = datetime.now(UTC) + timedelta(seconds=OUTAGE_WAIT_SECONDS)
        raise Throttled(limit, window, retry_at, outage=True) from None
    raise Throttled(limit, window, datetime.fromtimestamp(slot, UTC))


def _reserve(connection_id: int, earliest: float, interval: float, window: int) -> float:
    """Reserve the next free slot at or after `earliest` (epoch seconds); return it."""
    key = f"{KEY_PREFIX}:next:{connection_id}"
    reserved = queues.connection.eval(_RESERVE, 1, key, earliest, interval, time.time(), window)
    return float(reserved)


def wait_for_slot(delivery_id: int, exc: Throttled) -> None:
    """Put a throttled delivery (now `sending`) back to pending until `exc.retry_at`.

    The attempt is given back and no deferral is counted; `detail["waiting"]` says why it
    waits (the pages show it with the next try). Does not commit."""
    earlier = db.session.scalar(select(EntryDelivery.detail).filter_by(id=delivery_id)) or {}
    waiting = {"reason": "rate limit", "limit": exc.limit, "window_seconds": exc.window}
    if exc.outage:
        waiting["reason"] = "rate limit not checked: Redis unavailable"
    move_delivery(
        delivery_id,
        DeliveryStatus.pending,
        from_=[DeliveryStatus.sending],
        attempts=EntryDelivery.attempts - 1,
        lease_expires_at=None,
        next_attempt_at=exc.retry_at,
        detail={**earlier, "waiting": waiting},
    )


def without_wait(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """A delivery's detail without the note of a throttle wait (its wait is over)."""
    if not detail or "waiting" not in detail:
        return detail
    return {k: v for k, v in detail.items() if k != "waiting"}


def waiting_text(status: str, detail: dict[str, Any] | None) -> str | None:
    """Why a pending delivery waits without an error (`detail["waiting"]`, written by
    `wait_for_slot`), as "rate limit 30/min"; None when it is not pending or has no such
    wait. The web pages and the API both show it beside the next attempt's time."""
    waiting = (detail or {}).get("waiting")
    if status != DeliveryStatus.pending or not waiting:
        return None
    return f"{waiting['reason']} {rate_text(waiting['limit'], waiting['window_seconds'])}"
