"""Fire times of any schedule rule, saved or not: what `schedule preview` prints, with the
rule's plain-language description and, when nothing fires, the likely reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import ValidationFailed
from app.scheduling import (
    ScheduleRule,
    ScheduleRuleError,
    describe,
    empty_preview_reason,
    format_instant,
    parse_rule,
    preview,
)


@dataclass(frozen=True)
class FirePreview:
    timezone: str
    description: str
    fire_times: list[str]  # ISO 8601 with the zone's offset, as `schedule preview` prints
    empty_reason: str | None  # why no instant fires after `after`; None when some do


def preview_rule(rule: ScheduleRule, after: datetime, count: int) -> FirePreview:
    """The first `count` fire instants of `rule` strictly after `after` (aware)."""
    fires = [format_instant(t) for t in preview(rule, after, count)]
    return FirePreview(
        rule.timezone,
        describe(rule),
        fires,
        None if fires or not count else empty_preview_reason(rule, after),
    )


def preview_rule_data(data: dict[str, Any], after: datetime, count: int, field: str) -> FirePreview:
    """`preview_rule` for rule JSON (SCHEDULE.md); ValidationFailed naming `field`.<the rule's
    field> (or `field` itself for a problem with the whole rule) when it is not a valid rule."""
    try:
        rule = parse_rule(data)
    except ScheduleRuleError as exc:
        name = f"{field}.{exc.field}" if field and exc.field != "rule" else (field or exc.field)
        raise ValidationFailed({name: exc.message}) from None
    return preview_rule(rule, after, count)
