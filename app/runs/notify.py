"""The optional per-run completion webhook: one signed POST when a run ends, retried if the
receiver is down, never lost (the clock sends what is due)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.database import utcnow
from app.errors import ValidationFailed
from app.extensions import db
from app.faults import pause_point
from app.models import Connection, Job, Run
from app.outbound.errors import DeliveryError, PossiblyDeliveredError, TransientDeliveryError
from app.outbound.post import check_public_http_url, json_bytes, post_json, sign
from app.outbound.secrets import connection_secret, decrypt_json, find_connection
from app.runs.buckets import bucket_counts

MAX_HEADERS = 20
# Headers Herald sets itself (or the HTTP client does): a caller's header may not replace them.
RESERVED_HEADERS = {"content-type", "content-length", "host", "user-agent", "transfer-encoding"}
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")


def header_errors(headers: dict[str, str] | None) -> dict[str, str]:
    """Problems with a caller's extra webhook headers, by "webhook.headers.<name>": names are
    RFC 9110 tokens, values printable without line breaks (≤ 1000 characters), at most
    MAX_HEADERS, none of Herald's own (X-Herald-*, Content-Type, …)."""
    errors: dict[str, str] = {}
    if headers and len(headers) > MAX_HEADERS:
        return {"webhook.headers": f"at most {MAX_HEADERS} headers"}
    for name, value in (headers or {}).items():
        field = f"webhook.headers.{name}"
        if not HEADER_NAME.match(name):
            errors[field] = "not a valid header name"
        elif name.lower() in RESERVED_HEADERS or name.lower().startswith("x-herald-"):
            errors[field] = "is set by Herald"
        elif not isinstance(value, str) or len(value) > 1000 or not value.isprintable():
            errors[field] = "must be printable text of at most 1000 characters, one line"
    return errors


def check_notify(
    workspace_id: int,
    url: str | None,
    connection: str | None,
    headers: dict[str, str] | None = None,
) -> None:
    """Validate a completion webhook request (URL, the signing connection if named, and the
    caller's extra headers: `header_errors`)."""
    if url is None:
        if connection or headers:
            raise ValidationFailed({"webhook.url": "a signing connection or headers need a URL"})
        return
    if errors := header_errors(headers):
        raise ValidationFailed(errors)
    try:
        check_public_http_url(url)
    except ValueError as exc:
        raise ValidationFailed({"webhook.url": str(exc)}) from None
    if (
        connection
        and db.session.scalars(
            select(Connection).filter_by(workspace_id=workspace_id, code=connection, kind="webhook")
        ).first()
        is None
    ):
        raise ValidationFailed(
            {"webhook.secretConnection": f"no webhook connection '{connection}'"}
        )


def mark_due(run_id: int) -> None:
    """Called as a run ends: its notification (if it asked for one) becomes due now. No commit."""
    db.session.execute(
        update(Run)
        .where(Run.id == run_id, Run.notify_url.is_not(None), Run.notify_status.is_(None))
        .values(notify_status="pending", notify_next_at=utcnow())
    )


# Run outcomes (app.runs.outcome.run_outcome) that the job's error notice reports.
ERROR_OUTCOMES = frozenset({"failed", "completed_with_errors"})


def mark_error_notice_due(run_id: int, outcome: str) -> None:
    """Called as a run ends with `outcome`: when that is an error and its job tells someone,
    the error notice becomes pending — once per run, whoever ends it first. No commit."""
    if outcome not in ERROR_OUTCOMES:
        return
    tells = select(Job.id).where(Job.id == Run.job_id, Job.error_notice != "off").exists()
    db.session.execute(
        update(Run)
        .where(Run.id == run_id, Run.error_notice_status.is_(None), tells)
        .values(error_notice_status="pending")
        .execution_options(synchronize_session=False)
    )


def payload(run: Run) -> dict:
    counts = bucket_counts(run.id)
    return {
        "event": "run.finished",
        "jobRunId": run.id,
        "job": {"id": run.job_id, "code": run.job.code},
        "runStatus": run.status,
        "finished": True,
        "entries": counts["total"],
        "status": {k: counts[k] for k in ("queued", "completed", "errors", "review")},
        "error": run.error,
    }


def send_due(now: datetime | None = None, limit: int = 100) -> int:
    """POST every due completion notification; returns how many were attempted."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Run).where(Run.notify_status == "pending", Run.notify_next_at <= now).limit(limit)
    ).all()
    for run in due:
        _send(run)
    return len(due)


def _send(run: Run) -> None:
    body = json_bytes(payload(run))
    headers = {"X-Herald-Event": "run.finished", "X-Herald-Delivery": f"run-{run.id}"}
    run.notify_attempts += 1
    try:
        # The caller's own headers first, so that Herald's (checked not to clash) win.
        headers = {**(decrypt_json(run.notify_headers) if run.notify_headers else {}), **headers}
        if run.notify_connection:
            connection = find_connection(run.workspace_id, "webhook", run.notify_connection)
            secret = connection_secret(connection, "secret", "signing secret")
            timestamp = str(int(time.time()))
            headers |= {
                "X-Herald-Timestamp": timestamp,
                "X-Herald-Signature": sign(secret, timestamp, body),
            }
        pause_point("completion_webhook.before_post")
        post_json(run.notify_url, body, label="completion webhook", headers=headers)
        pause_point("completion_webhook.after_post")
    except (TransientDeliveryError, PossiblyDeliveredError) as exc:
        # Unlike an entry's delivery, a completion notice is sent again after a lost answer:
        # it carries X-Herald-Delivery run-<id>, so the receiver can drop the repeat.
        delays = current_app.config["DELIVERY_RETRY_DELAYS"]
        if run.notify_attempts > len(delays):
            run.notify_status = "failed"
            run.notify_error = f"gave up after {run.notify_attempts} attempts: {exc}"
        else:
            run.notify_next_at = utcnow() + timedelta(seconds=delays[run.notify_attempts - 1])
            run.notify_error = f"attempt {run.notify_attempts} failed, will retry: {exc}"
    except DeliveryError as exc:
        run.notify_status, run.notify_error = "failed", str(exc)
    else:
        run.notify_status, run.notify_error = "sent", None
    db.session.commit()
