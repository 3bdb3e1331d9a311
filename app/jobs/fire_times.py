"""Fire times of any schedule rule, saved or not: what `schedule preview` prints, with the
rule's plain-language description, each fire's business-day note (moved from which date, for
which holiday), the holidays skipped in between and, when nothing fires, the likely reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import ValidationFailed
from app.scheduling import (
    PreviewLine,
    ScheduleRule,
    ScheduleRuleError,
    describe,
    empty_preview_reason,
    explain_preview,
    format_instant,
    line_note,
    parse_rule,
)


@dataclass(frozen=True)
class Fire:
    """One fire: `at` as `schedule preview` prints it, its local `date` (YYYY-MM-DD) and, for
    a fire a business-day `shift` moved, the fixed date it was `moved_from`, the `holiday` that
    moved it (None for a weekend) and the `note` the screens show ('moved from Sat 15 Aug')."""

    at: str
    date: str
    moved_from: str | None
    holiday: str | None
    note: str | None


@dataclass(frozen=True)
class SkippedDate:
    """A local date the rule would fire on but for a public holiday (SCHEDULE.md `holidays`,
    shift "none"): its `date` (YYYY-MM-DD), the `holiday`'s name and the note shown."""

    date: str
    holiday: str
    note: str


@dataclass(frozen=True)
class FirePreview:
    timezone: str
    description: str
    fire_times: list[str]  # ISO 8601 with the zone's offset, as `schedule preview` prints
    empty_reason: str | None  # why no instant fires after `after`; None when some do
    fires: list[Fire]  # fire_times with their notes, in the same order
    skipped: list[SkippedDate]  # holidays skipped up to the last fire, ascending


def preview_rule(rule: ScheduleRule, after: datetime, count: int) -> FirePreview:
    """The first `count` fire instants of `rule` strictly after `after` (aware), with notes.

    Raises ValueError as `app.scheduling.preview` does."""
    lines = explain_preview(rule, after, count)
    fires = [_fire(line, line.instant) for line in lines if line.instant is not None]
    return FirePreview(
        rule.timezone,
        describe(rule),
        [fire.at for fire in fires],
        None if fires or not count else empty_preview_reason(rule, after),
        fires,
        [_skipped(line) for line in lines if line.instant is None],
    )


def _fire(line: PreviewLine, instant: datetime) -> Fire:
    moved = line.moved_from.isoformat() if line.moved_from else None
    return Fire(
        format_instant(instant),
        line.day.isoformat(),
        moved,
        line.holiday if moved else None,
        line_note(line) or None,
    )


def _skipped(line: PreviewLine) -> SkippedDate:
    return SkippedDate(line.day.isoformat(), line.holiday or "", line_note(line))


def preview_rule_data(data: dict[str, Any], after: datetime, count: int, field: str) -> FirePreview:
    """`preview_rule` for rule JSON (SCHEDULE.md); ValidationFailed naming `field`.<the rule's
    field> (or `field` itself for a problem with the whole rule) when it is not a valid rule."""
    try:
        rule = parse_rule(data)
    except ScheduleRuleError as exc:
        name = f"{field}.{exc.field}" if field and exc.field != "rule" else (field or exc.field)
        raise ValidationFailed({name: exc.message}) from None
    return preview_rule(rule, after, count)
