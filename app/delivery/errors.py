"""Delivery failures: permanent ones fail the delivery, transient ones are retried later."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DeliveryError(Exception):
    """The delivery cannot succeed as configured (no recipient, rejected address...).

    `partial` records what the attempt did before it failed (the files a Drive upload created),
    so the next attempt of the same delivery completes the work instead of repeating it.
    """

    def __init__(self, message: str, *, partial: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class TransientDeliveryError(DeliveryError):
    """The channel is down or busy; the same delivery may succeed later."""
