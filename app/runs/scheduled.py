"""The clock's work: create each due scheduled run exactly once, coalescing missed fires."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.database import utcnow
from app.errors import HeraldError
from app.extensions import db
from app.jobs.schedule import refresh_next_fire, rule_of
from app.models import Job, ScheduleMiss
from app.runs.create import start_run
from app.scheduling import fires_between, next_fire_after

log = logging.getLogger(__name__)
# How many missed fires are counted when the clock was down for a long time.
MISSED_FIRES_COUNTED = 10_000


def fire_due_jobs(now: datetime | None = None) -> list[int]:
    """Create the runs of every job whose next fire time has come; return the new run ids.

    Safe with any number of clocks: a run is unique on (job, scheduled_for), so a second
    clock's insert fails and it moves on. Missed fires are coalesced per SCHEDULE.md.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Job.id)
        .where(Job.scheduled.is_(True), Job.next_fire_at <= now)
        .order_by(Job.next_fire_at)
    ).all()
    created = []
    for job_id in due:
        run_id = _fire(job_id, now)
        if run_id is not None:
            created.append(run_id)
    return created


def _fire(job_id: int, now: datetime) -> int | None:
    job = db.session.get(Job, job_id)
    if job is None or not job.scheduled or job.next_fire_at is None or job.next_fire_at > now:
        return None
    rule = rule_of(job)
    following = next_fire_after(rule, job.next_fire_at)
    if following is None or following > now:
        # The usual case, the clock on time: only the stored fire is due (it is a fire of
        # the saved rule: saving a job recomputes it).
        missed = [job.next_fire_at]
    else:
        missed = fires_between(
            rule, job.next_fire_at - timedelta(microseconds=1), now, MISSED_FIRES_COUNTED
        )
        following = None
    latest = missed[-1]
    late = now - latest
    if late > timedelta(seconds=job.misfire_grace_seconds):
        minutes = int(late.total_seconds() // 60)
        fires = "fire was" if len(missed) == 1 else f"{len(missed)} fires were"
        reason = (
            f"{fires} missed while the clock was not running; the latest was {minutes} min "
            f"late, beyond the misfire grace of {job.misfire_grace_seconds // 60} min"
        )
        _record_miss(job, latest, len(missed), now, reason)
        return None
    # Committed with the run itself: either both the run and the advance happen, or neither.
    if following is not None:
        job.next_fire_at = following
    else:
        refresh_next_fire(job, now)
    try:
        run = start_run(job, None, trigger="schedule", scheduled_for=latest)
    except IntegrityError:
        db.session.rollback()  # another clock created this run first
        return None
    except HeraldError as exc:  # e.g. its template was deleted: say so, and move on
        db.session.rollback()
        _record_miss(job, latest, len(missed), now, f"the run could not start: {exc}")
        return None
    if len(missed) > 1:
        skipped = len(missed) - 1
        log.info("job %s: %d missed fires coalesced into run %s", job.code, skipped, run.id)
        _record_miss(
            job,
            missed[-2],
            skipped,
            now,
            f"missed while the clock was not running; coalesced into run {run.id}",
        )
    return run.id


def _record_miss(job: Job, latest: datetime, count: int, now: datetime, reason: str) -> None:
    db.session.add(
        ScheduleMiss(job_id=job.id, scheduled_for=latest, missed_fires=count, reason=reason)
    )
    refresh_next_fire(job, now)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another clock recorded it


def earliest_next_fire() -> datetime | None:
    """When the clock must wake up next for a scheduled job."""
    return db.session.scalar(
        select(Job.next_fire_at)
        .where(Job.scheduled.is_(True), Job.next_fire_at.is_not(None))
        .order_by(Job.next_fire_at)
        .limit(1)
    )
