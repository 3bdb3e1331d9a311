"""deliver_entry: send each pending delivery of a generated entry, then settle the entry."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app import storage
from app.conditions import (
    ConditionEvalError,
    ConditionSyntaxError,
    evaluate,
    parse_condition,
)
from app.database import utcnow
from app.delivery.channels import CHANNEL_SENDERS, DeliveryContext
from app.delivery.email import Attachment, send_email
from app.extensions import db
from app.faults import pause_point
from app.models import Artifact, Entry, EntryDelivery
from app.outbound.errors import DeliveryError, PossiblyDeliveredError, TransientDeliveryError
from app.placeholders import PlaceholderError
from app.runs.context import run_context
from app.runs.generate import entry_values, lease_until
from app.runs.links import signed_artifact_url
from app.runs.outcome import settle_entry
from app.runs.states import DeliveryStatus, EntryStatus, move_delivery

log = logging.getLogger(__name__)
D = DeliveryStatus

CHANNELS = {"email": send_email, **CHANNEL_SENDERS}


def deliver_entry(entry_id: int) -> None:
    """Attempt every due pending delivery of an entry in its delivery stage."""
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.status != EntryStatus.InProgress or entry.stage != "deliver":
        return
    entry.lease_expires_at = lease_until()
    db.session.commit()
    ctx = run_context(entry.run_id)
    values = entry_values(ctx, entry)
    artifacts = db.session.scalars(
        select(Artifact)
        .filter_by(entry_id=entry.id, status="generated")
        .order_by(Artifact.position)
    ).all()
    now = utcnow()
    due = db.session.scalars(
        select(EntryDelivery)
        .filter_by(entry_id=entry.id, status=D.pending)
        .where((EntryDelivery.next_attempt_at.is_(None)) | (EntryDelivery.next_attempt_at <= now))
        .order_by(EntryDelivery.position)
    ).all()
    files = (
        [
            Attachment(a.report_code, a.filename, storage.load(a.storage_key), a.content_type)
            for a in artifacts
        ]
        if due
        else []
    )
    context = DeliveryContext(
        job_id=ctx.job_id,
        job_code=ctx.definition.code,
        job_name=ctx.definition.name,
        run_id=entry.run_id,
        entry_id=entry.id,
        entry_seq=entry.seq,
        entry_status=str(entry.status),
        row=entry.row,
        params=ctx.params,
        download_url=lambda i: signed_artifact_url(artifacts[i].id),
    )
    for delivery in due:
        config = ctx.definition.deliveries[delivery.position]
        if not _gated(delivery.id, config, values):
            _attempt(
                delivery.id,
                config,
                values,
                files,
                ctx.workspace_id,
                replace(context, delivery_id=delivery.id, partial=_partial(delivery)),
            )
    waiting = db.session.execute(
        select(func.min(EntryDelivery.next_attempt_at), func.count()).where(
            EntryDelivery.entry_id == entry.id,
            EntryDelivery.status.in_([D.pending, D.sending]),
        )
    ).one()
    if waiting[1]:
        # Transient failures wait for their next attempt; the sweeper re-queues the entry then.
        entry.lease_expires_at = waiting[0] or lease_until()
        db.session.commit()
        return
    settle_entry(entry.id, entry.run_id)
    db.session.commit()


def _gated(delivery_id: int, config: Any, values: Any) -> bool:
    """Settle a delivery whose condition is false (skipped) or cannot be decided (failed)."""
    try:
        if evaluate(parse_condition(config.condition), values):
            return False
        status, error = D.skipped, "condition is false"
    except (ConditionSyntaxError, ConditionEvalError) as exc:
        status, error = D.failed, f"condition: {exc}"
    move_delivery(
        delivery_id,
        status,
        from_=[D.pending],
        last_error=error,
        lease_expires_at=None,
        next_attempt_at=None,
    )
    db.session.commit()
    return True


def _attempt(
    delivery_id: int,
    config: Any,
    values: Any,
    files: list[Attachment],
    workspace_id: int,
    context: DeliveryContext,
) -> None:
    if not move_delivery(
        delivery_id,
        D.sending,
        from_=[D.pending],
        attempts=EntryDelivery.attempts + 1,
        lease_expires_at=lease_until(),
    ):
        db.session.rollback()
        return
    db.session.commit()
    attempts = db.session.scalar(select(EntryDelivery.attempts).filter_by(id=delivery_id))
    pause_point("deliver.before_send")
    try:
        detail = CHANNELS[config.kind](config, values, files, workspace_id, context)
    except TransientDeliveryError as exc:
        _retry_later(delivery_id, attempts, exc)
    except PossiblyDeliveredError as exc:
        _fail(delivery_id, str(exc), _partial_detail(exc), status=D.uncertain)
    except DeliveryError as exc:
        _fail(delivery_id, str(exc), _partial_detail(exc), status=_failed_status(exc))
    except PlaceholderError as exc:
        _fail(delivery_id, str(exc))
    except Exception as exc:  # a bug in one channel must not strand the delivery in "sending"
        log.exception("delivery %s failed", delivery_id)
        _fail(delivery_id, f"{type(exc).__name__}: {exc}")
    else:
        move_delivery(
            delivery_id,
            D.sent,
            from_=[D.sending],
            detail=detail,
            last_error=None,
            lease_expires_at=None,
            next_attempt_at=None,
        )
    db.session.commit()
    pause_point("deliver.after_send")


def _partial(delivery: EntryDelivery) -> dict[str, Any] | None:
    """What an earlier, failed attempt of this delivery already did (see DeliveryError)."""
    return (delivery.detail or {}).get("partial")


def _partial_detail(exc: DeliveryError) -> dict[str, Any]:
    """Fields keeping a failed attempt's partial work and what it sent on the delivery
    (none: nothing to keep)."""
    detail = dict(exc.detail or {})
    if exc.partial:
        detail["partial"] = dict(exc.partial)
    return {"detail": detail} if detail else {}


def _failed_status(exc: DeliveryError) -> DeliveryStatus:
    """`partial` when some of the delivery arrived (some recipients accepted it), else failed."""
    return D.partial if exc.partly_delivered else D.failed


def _fail(
    delivery_id: int,
    error: str,
    fields: dict[str, Any] | None = None,
    *,
    status: DeliveryStatus = D.failed,
) -> None:
    move_delivery(
        delivery_id,
        status,
        from_=[D.sending],
        last_error=error,
        lease_expires_at=None,
        **(fields or {}),
    )


def _retry_later(delivery_id: int, attempts: int, exc: TransientDeliveryError) -> None:
    """Back to pending for a later attempt, or failed once the retry delays are used up.

    A channel that said when to come back (Retry-After on 429/503, RFC 9110 §10.2.3) is
    believed, capped by RETRY_AFTER_MAX_SECONDS, and the attempt is not counted: the
    channel was busy, not failing."""
    error, fields = str(exc), _partial_detail(exc)
    if exc.retry_after is not None:
        wait = min(max(exc.retry_after, 0.0), current_app.config["RETRY_AFTER_MAX_SECONDS"])
        move_delivery(
            delivery_id,
            D.pending,
            from_=[D.sending],
            attempts=EntryDelivery.attempts - 1,
            last_error=f"busy, will retry in {wait:g} s as asked (Retry-After): {error}",
            lease_expires_at=None,
            next_attempt_at=utcnow() + timedelta(seconds=wait),
            **fields,
        )
        return
    delays = current_app.config["DELIVERY_RETRY_DELAYS"]
    if attempts > len(delays):
        _fail(
            delivery_id,
            f"gave up after {attempts} attempts: {error}",
            fields,
            status=_failed_status(exc),
        )
        return
    move_delivery(
        delivery_id,
        D.pending,
        from_=[D.sending],
        last_error=f"attempt {attempts} failed, will retry: {error}",
        lease_expires_at=None,
        next_attempt_at=utcnow() + timedelta(seconds=delays[attempts - 1]),
        **fields,
    )


