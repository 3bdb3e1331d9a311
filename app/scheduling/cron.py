"""Five-field cron expressions with Vixie cron semantics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

_NUMBER = re.compile(r"[0-9]+")


class CronError(ValueError):
    """A cron expression that cannot be parsed."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTH_NAMES, 1),
    # Vixie allows 0-7 so that both 0 and 7 mean Sunday.
    _Field("day-of-week", 0, 7, DOW_NAMES, 0),
)


@dataclass(frozen=True)
class CronSpec:
    """A parsed cron expression: the allowed values of each field."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]  # cron numbering: 0 = Sunday .. 6 = Saturday
    dom_star: bool
    dow_star: bool
    weekdays: frozenset[int]  # days_of_week in Python numbering: 0 = Monday
    times: tuple[int, ...]  # sorted minutes after midnight

    def matches_date(self, day: date) -> bool:
        """Whether the cron selects this calendar date (month and day fields)."""
        if day.month not in self.months:
            return False
        dom = day.day in self.days_of_month
        dow = day.weekday() in self.weekdays
        # Vixie: if either day field starts with '*' both must match, else either may.
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow

    def matches(self, wall: datetime) -> bool:
        """Whether the cron selects this wall-clock minute."""
        return wall.minute in self.minutes and wall.hour in self.hours and self.matches_date(wall)


@lru_cache(maxsize=1024)
def parse_cron(expression: str) -> CronSpec:
    """Parse a 5-field cron expression or raise CronError."""
    if not isinstance(expression, str):
        raise CronError("must be a string of 5 fields")
    parts = expression.split()
    if len(parts) != 5:
        raise CronError(
            "expected 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(parts)} in {expression!r}"
        )
    values = [_parse_field(text, field) for text, field in zip(parts, _FIELDS, strict=True)]
    dows = frozenset(v % 7 for v in values[4])
    minutes, hours = values[0], values[1]
    return CronSpec(
        expression=" ".join(parts),
        minutes=values[0],
        hours=values[1],
        days_of_month=values[2],
        months=values[3],
        days_of_week=dows,
        dom_star=parts[2].startswith("*"),
        dow_star=parts[4].startswith("*"),
        weekdays=frozenset((d - 1) % 7 for d in dows),
        times=tuple(sorted(h * 60 + m for h in hours for m in minutes)),
    )


def _parse_field(text: str, field: _Field) -> frozenset[int]:
    """Expand one field (list of ranges, steps, names) into its set of values."""
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise CronError(f"{field.name} field {text!r} has an empty list item")
        values.update(_parse_item(item, field))
    return frozenset(values)


def _parse_item(item: str, field: _Field) -> range:
    """Expand one list item: '*', 'a', 'a-b', '*/s' or 'a-b/s'."""
    span, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not _NUMBER.fullmatch(step_text) or int(step_text) < 1:
            raise CronError(f"{field.name} field: step {step_text!r} must be a number ≥ 1")
        step = int(step_text)
    if span == "*":
        return range(field.low, field.high + 1, step)
    if "-" in span:
        first_text, _, last_text = span.partition("-")
        first, last = _value(first_text, field), _value(last_text, field)
        if first > last:
            raise CronError(f"{field.name} field: range {span!r} runs backwards")
        return range(first, last + 1, step)
    if slash:
        # Vixie rejects 'a/s'; only '*' or a range may carry a step.
        raise CronError(
            f"{field.name} field: step in {item!r} needs '*' or a range before '/', "
            f"e.g. '*/{step}' or '{span}-{field.high}/{step}'"
        )
    return range(_value(span, field), _value(span, field) + 1)


def _value(token: str, field: _Field) -> int:
    """One number or name of a field, range-checked."""
    if _NUMBER.fullmatch(token):
        number = int(token)
        if not field.low <= number <= field.high:
            raise CronError(f"{field.name} {number} is out of range {field.low}-{field.high}")
        return number
    lowered = token.lower()
    if lowered in field.names:
        return field.names.index(lowered) + field.name_base
    if not token:
        raise CronError(f"{field.name} field has an empty value")
    raise CronError(f"{field.name} field: {token!r} is not a valid value")
