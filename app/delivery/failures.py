"""How a delivery attempt that did not succeed is recorded: failed (or partial, when some
recipients accepted it), back to pending for a retry per `app.delivery.retry.next_retry`, or
deferred as a receiver's Retry-After asked. Each moves the delivery out of `sending` and
keeps what the attempt already did (`DeliveryError.partial`) for the next one. No commits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.database import utcnow
from app.delivery.retry import next_retry
from app.extensions import db
from app.models import EntryDelivery
from app.outbound.errors import DeliveryError, TransientDeliveryError
from app.runs.states import DeliveryStatus, move_delivery

D = DeliveryStatus


def partial_detail(exc: DeliveryError) -> dict[str, Any]:
    """Fields keeping a failed attempt's partial work and what it sent on the delivery
    (none: nothing to keep)."""
    detail = dict(exc.detail or {})
    if exc.partial:
        detail["partial"] = dict(exc.partial)
    return {"detail": detail} if detail else {}


def failed_status(exc: DeliveryError) -> DeliveryStatus:
    """`partial` when some of the delivery arrived (some recipients accepted it), else failed."""
    return D.partial if exc.partly_delivered else D.failed


def fail(
    delivery_id: int,
    error: str,
    fields: dict[str, Any] | None = None,
    *,
    status: DeliveryStatus = D.failed,
) -> None:
    """End the attempt as `status` (failed, partial, uncertain) with `error` and `fields`."""
    move_delivery(
        delivery_id,
        status,
        from_=[D.sending],
        last_error=error,
        lease_expires_at=None,
        **(fields or {}),
    )


def retry_later(delivery_id: int, attempts: int, exc: TransientDeliveryError) -> None:
    """Back to pending for a later attempt, or failed once the retry delays are used up
    (the policy: `app.delivery.retry.next_retry`).

    A channel that said when to come back (Retry-After on 429/503) is deferred instead
    (`defer_by_receiver`): the attempt is not counted, the deferral is."""
    error, fields = str(exc), partial_detail(exc)
    if exc.retry_after is not None:
        defer_by_receiver(delivery_id, attempts, exc.retry_after, error, fields, exc)
        return
    decision = next_retry(attempts, current_app.config["DELIVERY_RETRY_DELAYS"], None, 0)
    if decision.wait is None:
        fail(
            delivery_id,
            f"gave up after {attempts} attempts: {error}",
            fields,
            status=failed_status(exc),
        )
        return
    move_delivery(
        delivery_id,
        D.pending,
        from_=[D.sending],
        last_error=f"attempt {attempts} failed, will retry: {error}",
        lease_expires_at=None,
        next_attempt_at=utcnow() + timedelta(seconds=decision.wait),
        **fields,
    )


def defer_by_receiver(
    delivery_id: int,
    attempts: int,
    retry_after: float,
    error: str,
    fields: dict[str, Any],
    exc: TransientDeliveryError,
) -> None:
    """Pending again after the channel's Retry-After, or failed past MAX_DEFERRALS of them."""
    earlier = db.session.scalar(select(EntryDelivery.detail).filter_by(id=delivery_id)) or {}
    deferrals = int(earlier.get("deferrals", 0)) + 1
    detail = {**(fields.pop("detail", None) or earlier), "deferrals": deferrals}
    most = current_app.config["MAX_DEFERRALS"]
    if deferrals > most:
        fail(
            delivery_id,
            f"gave up after {most} deferrals: the receiver answered busy (Retry-After) every "
            f"time: {error}",
            {**fields, "detail": detail},
            status=failed_status(exc),
        )
        return
    config = current_app.config
    wait = next_retry(
        attempts, config["DELIVERY_RETRY_DELAYS"], retry_after, config["RETRY_AFTER_MAX_SECONDS"]
    ).wait
    move_delivery(
        delivery_id,
        D.pending,
        from_=[D.sending],
        attempts=EntryDelivery.attempts - 1,
        last_error=f"busy, will retry in {wait:g} s as asked (Retry-After, deferral "
        f"{deferrals} of at most {most}): {error}",
        lease_expires_at=None,
        next_attempt_at=utcnow() + timedelta(seconds=wait),
        detail=detail,
        **fields,
    )
