"""A job's schedule in the database: the next fire time it is due at."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Job, ScheduleMiss
from app.scheduling import (
    ScheduleRule,
    ScheduleRuleError,
    describe,
    empty_preview_reason,
    explain_preview,
    line_note,
    next_fire_after,
    parse_rule,
    short_date,
)


def rule_of(job: Job) -> ScheduleRule | None:
    """The job's schedule rule (validated when the job was saved)."""
    return _parsed(json.dumps(job.schedule, sort_keys=True)) if job.schedule else None


@lru_cache(maxsize=1024)
def _parsed(rule_json: str) -> ScheduleRule:
    # The clock reads the same rules every minute; validating them once is enough.
    return parse_rule(json.loads(rule_json))


def refresh_next_fire(job: Job, after: datetime | None = None) -> None:
    """Set next_fire_at from the rule: None when disabled, ended, or a fired `once` rule."""
    rule = rule_of(job) if job.scheduled else None
    job.next_fire_at = next_fire_after(rule, after or utcnow()) if rule else None


def schedule_summary(job: Job, now: datetime | None = None, count: int = 5) -> dict | None:
    """What the job page shows of a schedule: a description, the next `count` fire times,
    and `lines`: each fire or skipped holiday with its note ('moved from Sat 15 Aug')."""
    rule = rule_of(job)
    return None if rule is None else rule_summary(rule, now, count)


def draft_schedule_summary(
    data: dict[str, Any], now: datetime | None = None, count: int = 5
) -> dict | None:
    """`schedule_summary` of a definition not saved yet (the wizard's Review step): None when
    it has no schedule or an invalid one (its error is shown beside the Schedule step)."""
    if not data.get("schedule"):
        return None
    try:
        rule = parse_rule(data["schedule"])
    except ScheduleRuleError:
        return None
    return rule_summary(rule, now, count)


def rule_summary(rule: ScheduleRule, now: datetime | None = None, count: int = 5) -> dict:
    """The summary dict of `schedule_summary` for a parsed rule: `description`, `fires`
    (aware instants), `lines` ({instant, day 'Fri 14 Aug', note}) and `empty_reason`."""
    now = now or utcnow()
    lines = explain_preview(rule, now, count)
    fires = [line.instant for line in lines if line.instant is not None]
    return {
        "description": describe(rule),
        "fires": fires,
        # Each fire with the holiday or weekend that moved it, and holidays skipped between.
        "lines": [
            {"instant": line.instant, "day": short_date(line.day), "note": line_note(line)}
            for line in lines
        ],
        "empty_reason": None if fires else empty_preview_reason(rule, now),
    }


def recent_misses(job: Job, limit: int = 10) -> list[ScheduleMiss]:
    return list(
        db.session.scalars(
            select(ScheduleMiss)
            .filter_by(job_id=job.id)
            .order_by(ScheduleMiss.scheduled_for.desc())
            .limit(limit)
        )
    )
