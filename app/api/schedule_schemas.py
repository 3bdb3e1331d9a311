"""Bodies of the schedule preview (POST …/fire-times, a job's GET …/fire-times)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.api.schemas import Model

MAX_FIRE_TIMES = 1000


class FireTimesRequest(Model):
    """A rule to preview: `rule` as SCHEDULE.md describes it, or the short cron form (`cron`,
    `timezone` default UTC, `start` a local YYYY-MM-DDTHH:MM default `after`, `until` a
    YYYY-MM-DD); `count` instants strictly after `after` (ISO 8601, default now)."""

    rule: dict[str, Any] | None = None
    cron: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    start: str | None = Field(default=None, max_length=40)
    until: str | None = Field(default=None, max_length=40)
    count: int = Field(default=10, ge=1, le=MAX_FIRE_TIMES)
    after: str | None = Field(default=None, max_length=40)


class FireTime(Model):
    """One fire (SCHEDULE.md "Business days"): `at` as in `fireTimes`, its local `date`; for a
    fire a `shift` moved, `movedFrom` (the fixed date, YYYY-MM-DD), the `holiday` that moved it
    (null for a weekend or a day not allowed) and `note` as the screens show it."""

    at: str
    date: str
    movedFrom: str | None
    holiday: str | None
    note: str | None


class SkippedDate(Model):
    """A local date the rule would fire on but for a public holiday of its `holidays`."""

    date: str
    holiday: str
    note: str


class FireTimes(Model):
    """Instants as `schedule preview` prints them (ISO 8601 with the rule zone's offset);
    `fires` the same instants in the same order with their business-day notes; `skipped`
    the holidays left out up to the last fire; `emptyReason` says why none fire (null when
    some do)."""

    timezone: str
    description: str
    fireTimes: list[str]
    fires: list[FireTime]
    skipped: list[SkippedDate]
    emptyReason: str | None
