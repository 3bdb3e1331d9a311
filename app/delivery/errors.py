"""Delivery failures: permanent ones fail the delivery, transient ones are retried later."""

from __future__ import annotations


class DeliveryError(Exception):
    """The delivery cannot succeed as configured (no recipient, rejected address...)."""


class TransientDeliveryError(DeliveryError):
    """The channel is down or busy; the same delivery may succeed later."""
