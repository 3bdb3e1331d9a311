"""Delivery failures: permanent ones fail the delivery, transient ones are retried later,
ambiguous ones (the channel may have received it) are not resent automatically."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DeliveryError(Exception):
    """The delivery cannot succeed as configured (no recipient, rejected address...).

    `partial` records what the attempt did before it failed (the files a Drive upload created,
    each email recipient's outcome), so the next attempt of the same delivery completes the
    work instead of repeating it. `detail` is what was sent, for the run history.
    `partly_delivered` is True when some of it reached its destination (some recipients
    accepted the message): the delivery then ends "partial", never plain "sent" or "failed".
    """

    def __init__(
        self,
        message: str,
        *,
        partial: Mapping[str, Any] | None = None,
        detail: Mapping[str, Any] | None = None,
        partly_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.partial = partial
        self.detail = detail
        self.partly_delivered = partly_delivered


class TransientDeliveryError(DeliveryError):
    """The channel is down or busy; the same delivery may succeed later.

    `retry_after` (seconds) is the channel's own answer to "when" (HTTP Retry-After on 429
    and 503, RFC 9110 §10.2.3): the next attempt waits that long (capped by
    RETRY_AFTER_MAX_SECONDS) and this attempt is not counted against the retry budget.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class PossiblyDeliveredError(DeliveryError):
    """The connection was lost after the whole message was sent but before the channel's
    answer: it may have been delivered. Not resent automatically (that could duplicate it);
    a person may choose Retry."""
