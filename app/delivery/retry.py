"""When a delivery that failed for a passing reason is attempted again (the back-off policy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryDecision:
    """`wait`: seconds until the next attempt, or None to give up. `counted`: whether the
    attempt that just failed spends one of the retries."""

    wait: float | None
    counted: bool = True


def next_retry(
    attempts: int, delays: Sequence[float], retry_after: float | None, retry_after_max: float
) -> RetryDecision:
    """What to do after attempt number `attempts` (1-based) failed transiently.

    Attempt n is retried after `delays[n - 1]` seconds (DELIVERY_RETRY_DELAYS; 30 s, 2 min,
    10 min, 30 min by default); once every delay is used the delivery fails. A channel that
    said when to come back (Retry-After on 429/503, RFC 9110 §10.2.3) is believed, clamped to
    0..`retry_after_max` seconds, and the attempt is not counted: the channel was busy, not
    failing.
    """
    if retry_after is not None:
        return RetryDecision(min(max(retry_after, 0.0), retry_after_max), counted=False)
    if attempts > len(delays):
        return RetryDecision(None)
    return RetryDecision(float(delays[attempts - 1]))
