"""deliver_entry: send each pending delivery of a generated entry, then settle the entry."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from app import metrics, storage
from app.conditions import (
    ConditionEvalError,
    ConditionSyntaxError,
    evaluate,
    parse_condition,
)
from app.database import utcnow
from app.delivery.cancelled import stopped_by_cancel
from app.delivery.channels import CHANNEL_SENDERS, DeliveryContext
from app.delivery.email import Attachment, send_email
from app.delivery.failures import fail, failed_status, partial_detail, retry_later
from app.delivery.throttle import Throttled, wait_for_slot, without_wait
from app.extensions import db
from app.faults import pause_point
from app.models import Artifact, Entry, EntryDelivery
from app.outbound.errors import DeliveryError, PossiblyDeliveredError, TransientDeliveryError
from app.placeholders import PlaceholderError
from app.runs.context import run_context
from app.runs.generate import entry_values, lease_until
from app.runs.links import signed_artifact_url
from app.runs.outcome import finish_run_if_done, settle_entry
from app.runs.recovery import reset_interrupted
from app.runs.states import DeliveryStatus, EntryStatus, move_delivery, move_entry

log = logging.getLogger(__name__)
D = DeliveryStatus

CHANNELS = {"email": send_email, **CHANNEL_SENDERS}


def deliver_entry(entry_id: int, contents: Mapping[str, bytes] | None = None) -> None:
    """Attempt every due pending delivery of an entry in its delivery stage.

    `contents`: stored files' bytes by storage key, when the caller has them in memory (it
    just generated them); the rest are read from storage.

    An exception escaping the job (a lost stored PDF, a bug) is counted on the entry's pending
    deliveries before it is re-raised for RQ's failed-job registry; see `_count_job_error`.
    """
    try:
        _deliver_entry(entry_id, contents or {})
    except Exception as exc:
        db.session.rollback()
        try:
            _count_job_error(entry_id, f"{type(exc).__name__}: {exc}")
        except Exception:  # e.g. the database is down too: the sweep re-queues the entry
            db.session.rollback()
            log.exception("could not record the failure of delivery job for entry %s", entry_id)
        raise


def _deliver_entry(entry_id: int, contents: Mapping[str, bytes]) -> None:
    taken = db.session.execute(
        update(Entry)
        .where(
            Entry.id == entry_id,
            Entry.status == EntryStatus.InProgress,
            Entry.stage == "deliver",
        )
        .values(lease_expires_at=lease_until())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    entry = db.session.get(Entry, entry_id) if taken.rowcount == 1 else None
    if entry is None:
        return
    # A snapshot as taken (every later change is an UPDATE statement): the commits between
    # the sends do not expire it, so reading its row or run never queries it again.
    db.session.expunge(entry)
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
            Attachment(
                a.report_code,
                a.filename,
                contents[a.storage_key]
                if a.storage_key in contents
                else storage.load(a.storage_key),
                a.content_type,
            )
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
        if (delivery.detail or {}).get("waiting"):
            delivery.detail = without_wait(delivery.detail)  # its throttle wait is over
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
        # (An entry cancelled meanwhile is final: it keeps no lease.)
        db.session.execute(
            update(Entry)
            .where(Entry.id == entry.id, Entry.status == EntryStatus.InProgress)
            .values(lease_expires_at=waiting[0] or lease_until())
            .execution_options(synchronize_session=False)
        )
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
    # The email's Message-ID is chosen, and committed, before anything is sent: an attempt
    # cut off after the server took the message sends it again under the same one.
    chosen = f"herald.{uuid.uuid4().hex}"
    keep_or_choose = func.coalesce(EntryDelivery.message_id_left, chosen)
    if not move_delivery(
        delivery_id,
        D.sending,
        from_=[D.pending],
        attempts=EntryDelivery.attempts + 1,
        lease_expires_at=lease_until(),
        **({"message_id_left": keep_or_choose} if config.kind == "email" else {}),
    ):
        db.session.rollback()
        return
    db.session.commit()
    attempts, message_id_left = db.session.execute(
        select(EntryDelivery.attempts, EntryDelivery.message_id_left).filter_by(id=delivery_id)
    ).one()
    context = replace(context, message_id_left=message_id_left)
    pause_point("deliver.before_send")
    if stopped_by_cancel(delivery_id):
        return
    outcome = "sent"
    try:
        detail = CHANNELS[config.kind](config, values, files, workspace_id, context)
    except Throttled as exc:  # nothing was sent; waiting spends no attempt and is no failure
        outcome = "throttled"
        wait_for_slot(delivery_id, exc)
    except TransientDeliveryError as exc:
        outcome = "retry"
        retry_later(delivery_id, attempts, exc)
    except PossiblyDeliveredError as exc:
        outcome = "uncertain"
        fail(delivery_id, str(exc), partial_detail(exc), status=D.uncertain)
    except DeliveryError as exc:
        outcome = failed_status(exc).value
        fail(delivery_id, str(exc), partial_detail(exc), status=failed_status(exc))
    except PlaceholderError as exc:
        outcome = "failed"
        fail(delivery_id, str(exc))
    except Exception as exc:  # a bug in one channel must not strand the delivery in "sending"
        outcome = "error"
        log.exception("delivery %s failed", delivery_id)
        fail(delivery_id, f"{type(exc).__name__}: {exc}")
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
    metrics.delivery_attempted(config.kind, outcome)
    db.session.commit()
    pause_point("deliver.after_send")


def _partial(delivery: EntryDelivery) -> dict[str, Any] | None:
    """What an earlier, failed attempt of this delivery already did (see DeliveryError)."""
    return (delivery.detail or {}).get("partial")


def _count_job_error(entry_id: int, reason: str) -> None:
    """Count a delivery job that raised against the entry's pending deliveries; commits.

    The sweep re-queues the entry when its lease runs out, so a job that keeps raising would
    be re-queued forever. It gets the same budget as a delivery's attempts (one plus
    DELIVERY_RETRY_DELAYS, waiting those delays between tries); after that its pending
    deliveries fail with the reason and the entry ends. Nothing pending (it failed while
    settling): the entry ends DeliveryFailed at once, as trying again would fail the same way.
    """
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.status != EntryStatus.InProgress or entry.stage != "deliver":
        return
    reset_interrupted(entry_id)  # a delivery left `sending` by the error: sent again once
    pending = db.session.scalars(
        select(EntryDelivery).filter_by(entry_id=entry_id, status=D.pending)
    ).all()
    if not pending:
        move_entry(
            entry_id,
            EntryStatus.DeliveryFailed,
            from_=[EntryStatus.InProgress],
            error=f"the delivery job failed: {reason}",
        )
        finish_run_if_done(entry.run_id)
        db.session.commit()
        return
    delays = current_app.config["DELIVERY_RETRY_DELAYS"]
    errors = max((d.detail or {}).get("job_errors", 0) for d in pending) + 1
    if errors > len(delays):
        for delivery in pending:
            move_delivery(
                delivery.id,
                D.failed,
                from_=[D.pending],
                lease_expires_at=None,
                next_attempt_at=None,
                last_error=f"not sent: the delivery job failed {errors} times; last: {reason}",
            )
        run_id = entry.run_id
        db.session.expire_all()  # the deliveries loaded above are stale now
        settle_entry(entry_id, run_id)
        db.session.commit()
        return
    for delivery in pending:
        # Still pending: a note on the delivery, not a status change (no state-machine move).
        delivery.detail = {**(delivery.detail or {}), "job_errors": errors}
        delivery.last_error = (
            f"the delivery job failed ({errors} of {len(delays) + 1}), will try again: {reason}"
        )
        delivery.updated_at = utcnow()
    # Not before the lease would run out anyway: RQ is still recording the failed job.
    wait = timedelta(seconds=delays[errors - 1])
    entry.lease_expires_at = max(lease_until(), utcnow() + wait)
    db.session.commit()
