"""A job's error notice: one email per run that ends with errors, to the job's owner or the
addresses the job names, with the run's counts and a link to it.

A run is marked pending as it ends (app.runs.notify.mark_error_notice_due); the clock's
recovery sweep sends what is pending. Each notice is claimed with a conditional UPDATE
(pending -> sending) before it is sent, the once-only pattern of the completion webhook's
sweep: two clocks, or a sweep run again, never send a second copy.
"""

from __future__ import annotations

import html

from flask import current_app
from sqlalchemy import select, update

from app.delivery.email import compose, send_now, smtp_connection
from app.extensions import db
from app.mail.recipients import Mailbox, fill_recipients
from app.models import Job, Membership, Role, Run, User, Workspace
from app.outbound.errors import DeliveryError
from app.outbound.secrets import get_secrets
from app.runs.buckets import bucket_counts
from app.runs.outcome import run_outcome


def send_due_error_notices(limit: int = 100) -> int:
    """Send every pending error notice (at most `limit`); returns how many this call claimed."""
    due = db.session.scalars(
        select(Run.id).where(Run.error_notice_status == "pending").order_by(Run.id).limit(limit)
    ).all()
    claimed = 0
    for run_id in due:
        won = db.session.execute(
            update(Run)
            .where(Run.id == run_id, Run.error_notice_status == "pending")
            .values(error_notice_status="sending")
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if not won:
            continue  # another clock took it
        claimed += 1
        run = db.session.get(Run, run_id)
        db.session.refresh(run)
        try:
            send_error_notice(run)
        except (DeliveryError, RuntimeError) as exc:
            run.error_notice_status, run.error_notice_error = "failed", str(exc)[:2000]
        else:
            run.error_notice_status, run.error_notice_error = "sent", None
        db.session.commit()
    return claimed


def notice_recipients(job: Job) -> list[Mailbox]:
    """Who hears of the job's failed runs: its addresses, else its owner, else (a job made
    from the command line has no owner) the workspace's admins. Empty when it is off."""
    if job.error_notice == "off":
        return []
    if job.error_notice == "addresses":
        return fill_recipients("To", job.error_notice_to, {})
    if job.owner is not None and job.owner.active:
        return fill_recipients("To", job.owner.email, {})
    admins = db.session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == job.workspace_id, Membership.role == Role.admin)
        .where(User.active.is_(True))
        .order_by(User.email)
    ).all()
    return fill_recipients("To", ", ".join(admins), {}) if admins else []


def send_error_notice(run: Run) -> None:
    """Email the run's error notice now (no once-only check: see send_due_error_notices).

    Uses the workspace's default SMTP connection, else the DEFAULT_SMTP settings. Raises
    DeliveryError saying why it was not sent."""
    job = run.job
    to = notice_recipients(job)
    if not to:
        raise DeliveryError("nobody to tell: the job has no owner and the workspace no admin")
    settings, secrets = _mail_settings(run.workspace_id)
    sender = fill_recipients("From", settings.get("from") or "", {})
    if not sender:
        raise DeliveryError("the SMTP connection has no From address")
    workspace = db.session.get(Workspace, run.workspace_id)
    counts = bucket_counts(run.id)
    link = f"{current_app.config['BASE_URL'].rstrip('/')}/w/{workspace.code}/runs/{run.id}"
    body = notice_body(run, job, counts, link)
    message = compose(
        sender=sender[0],
        to=to,
        subject=f"Herald: run #{run.id} of {job.name} ended with errors",
        body_html=body,
    )
    send_now(message, settings, secrets, run.workspace_id)


def notice_body(run: Run, job: Job, counts: dict[str, int], link: str) -> str:
    """The notice's HTML (a text alternative is derived from it): counts, outcome, link."""
    esc = html.escape
    rows = "".join(
        f"<li>{label}: {counts[key]}</li>"
        for key, label in (
            ("total", "Entries"),
            ("completed", "Completed"),
            ("errors", "Errors"),
            ("review", "Awaiting review"),
        )
    )
    cause = f": {esc(run.error)}" if run.error else ""
    outcome = run_outcome(run, counts).replace("_", " ")
    return (
        f"<p>Run #{run.id} of <strong>{esc(job.name)}</strong> ({esc(job.code)}) ended with "
        f"errors{cause}.</p><ul>{rows}</ul>"
        f"<p>Outcome: {outcome}. Open the run: <a href='{esc(link)}'>{esc(link)}</a></p>"
        "<p>You get this email because the job names you for its error notices; change that "
        "in the job's Configuration step.</p>"
    )


def _mail_settings(workspace_id: int) -> tuple[dict, dict]:
    try:
        connection = smtp_connection(workspace_id, None)
    except DeliveryError:
        default = current_app.config.get("DEFAULT_SMTP")
        if not default:
            raise DeliveryError(
                "the workspace has no SMTP connection and SMTP_HOST is not set"
            ) from None
        return default, {"password": default.get("password")}
    return connection.settings, get_secrets(connection)
