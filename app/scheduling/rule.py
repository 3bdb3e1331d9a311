"""The schedule rule: its JSON form, validation and defaults (see SCHEDULE.md)."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from app.scheduling.calendars import HolidayCalendar, parse_calendar
from app.scheduling.cron import CronError, CronSpec, parse_cron
from app.scheduling.errors import ScheduleRuleError
from app.validation_messages import message_for

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Keeps every instant the engine computes far from datetime's year 1 and 9999 limits.
MIN_YEAR, MAX_YEAR = 1900, 9000
TRIGGERS = ("yearly", "monthly", "weekly", "daily", "hourly", "once", "cron")
Trigger = Literal["yearly", "monthly", "weekly", "daily", "hourly", "once", "cron"]

# Fields each trigger reads; the others are ignored (reset to their defaults).
_COMMON = {"start", "timezone", "trigger"}
_MONTHLY = {"every", "until", "days", "day", "occurrence", "from_end", "shift", "holidays"}
_APPLIES: dict[str, set[str]] = {
    "yearly": _COMMON | _MONTHLY | {"month"},
    "monthly": _COMMON | _MONTHLY,
    "weekly": _COMMON | {"every", "until", "days", "holidays"},
    "daily": _COMMON | {"every", "until", "days", "holidays"},
    "hourly": _COMMON | {"every", "until", "days", "holidays"},
    "once": _COMMON,
    "cron": _COMMON | {"until", "cron", "holidays"},
}
SHIFTS = ("none", "following", "preceding", "modified_following", "modified_preceding")
Shift = Literal["none", "following", "preceding", "modified_following", "modified_preceding"]

_START = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:00)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ZONE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")
# Keys zoneinfo can load from a system tz directory that are not IANA zone names.
_NOT_ZONES = {"localtime", "posixrules"}
_NOT_PREFIXES = ("posix/", "right/")


class ScheduleRule(BaseModel):
    """A validated schedule rule; `None` on an optional field means its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime
    timezone: str = "UTC"
    trigger: Trigger
    every: int = 1
    until: date | None = None
    days: tuple[str, ...] = ()
    month: int | None = None
    day: int | None = None
    occurrence: int | None = None
    from_end: bool = False
    shift: Shift = "none"
    holidays: HolidayCalendar | None = None
    cron: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_defaults_and_ignored(cls, data: Any) -> Any:
        """Treat null as the default and drop fields the trigger does not read."""
        if not isinstance(data, dict):
            raise ScheduleRuleError("rule", "must be a JSON object")
        data = {key: value for key, value in data.items() if value is not None}
        trigger = data.get("trigger")
        applies = _APPLIES.get(trigger) if isinstance(trigger, str) else None
        if applies is not None:
            known = set(cls.model_fields)
            data = {k: v for k, v in data.items() if k in applies or k not in known}
            if data.get("occurrence") is not None:
                # SCHEDULE.md: `day` and `shift` apply to fixed dates only.
                data.pop("day", None)
                data.pop("shift", None)
        return data

    @field_validator("start", mode="before")
    @classmethod
    def _check_start(cls, value: Any) -> datetime:
        if isinstance(value, str) and _START.fullmatch(value):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise ScheduleRuleError("start", f"{value!r} is not a real date and time") from None
        if not isinstance(value, datetime):
            raise ScheduleRuleError("start", "must be a local date-time like '2026-01-01T07:00'")
        if value.tzinfo is not None:
            raise ScheduleRuleError("start", "must be a local time without offset; set timezone")
        if value.second or value.microsecond:
            raise ScheduleRuleError("start", "must be a whole minute (no seconds)")
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ScheduleRuleError("start", f"year must be between {MIN_YEAR} and {MAX_YEAR}")
        return value

    @field_validator("timezone", mode="before")
    @classmethod
    def _check_timezone(cls, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ScheduleRuleError("timezone", "must be an IANA zone name like 'Europe/Berlin'")
        if value in _NOT_ZONES or not _ZONE_KEY.fullmatch(value) or value.startswith(_NOT_PREFIXES):
            raise ScheduleRuleError("timezone", f"unknown timezone {value!r}")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ScheduleRuleError("timezone", f"unknown timezone {value!r}") from None
        return value

    @field_validator("trigger", mode="before")
    @classmethod
    def _check_trigger(cls, value: Any) -> str:
        if value not in TRIGGERS:
            raise ScheduleRuleError(
                "trigger", f"unknown trigger {value!r}; expected one of {', '.join(TRIGGERS)}"
            )
        return value

    @field_validator("every", mode="before")
    @classmethod
    def _check_every(cls, value: Any) -> int:
        return _whole_number("every", value, 1, None)

    @field_validator("month", mode="before")
    @classmethod
    def _check_month(cls, value: Any) -> int:
        return _whole_number("month", value, 1, 12)

    @field_validator("occurrence", mode="before")
    @classmethod
    def _check_occurrence(cls, value: Any) -> int:
        return _whole_number("occurrence", value, 1, 5)

    @field_validator("day", mode="before")
    @classmethod
    def _check_day(cls, value: Any) -> int:
        if value == -1 and type(value) is int:
            return -1
        try:
            return _whole_number("day", value, 1, 31)
        except ScheduleRuleError:
            raise ScheduleRuleError("day", "must be 1..31, or -1 for the last day") from None

    @field_validator("from_end", mode="before")
    @classmethod
    def _check_from_end(cls, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ScheduleRuleError("from_end", "must be true or false")
        return value

    @field_validator("until", mode="before")
    @classmethod
    def _check_until(cls, value: Any) -> date:
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ScheduleRuleError("until", f"{value!r} is not a real date") from None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        raise ScheduleRuleError("until", "must be a date like '2026-12-31' or null")

    @field_validator("days", mode="before")
    @classmethod
    def _check_days(cls, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise ScheduleRuleError("days", "must be a list of weekdays (mon..sun)")
        chosen = set()
        for item in value:
            if not isinstance(item, str) or item.lower() not in WEEKDAYS:
                raise ScheduleRuleError("days", f"unknown weekday {item!r}")
            chosen.add(item.lower())
        return tuple(day for day in WEEKDAYS if day in chosen)

    @field_validator("shift", mode="before")
    @classmethod
    def _check_shift(cls, value: Any) -> str:
        if value not in SHIFTS:
            raise ScheduleRuleError(
                "shift", f"unknown shift {value!r}; expected one of {', '.join(SHIFTS)}"
            )
        return value

    @field_validator("holidays", mode="before")
    @classmethod
    def _check_holidays(cls, value: Any) -> HolidayCalendar:
        return parse_calendar(value)

    @field_validator("cron", mode="before")
    @classmethod
    def _check_cron(cls, value: Any) -> str:
        try:
            return parse_cron(value).expression
        except CronError as error:
            raise ScheduleRuleError("cron", str(error)) from None

    @model_validator(mode="after")
    def _check_together(self) -> ScheduleRule:
        if self.trigger == "cron" and self.cron is None:
            raise ScheduleRuleError("cron", "is required when trigger is 'cron'")
        if self.until is not None and self.until < self.start.date():
            raise ScheduleRuleError(
                "until", f"{self.until} is before the start date {self.start.date()}"
            )
        return self

    @field_serializer("start", when_used="json")
    def _serialize_start(self, value: datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M")

    @property
    def zone(self) -> ZoneInfo:
        """The rule's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def start_date(self) -> date:
        """The local start date S."""
        return self.start.date()

    @property
    def effective_month(self) -> int:
        """The month a yearly rule anchors on."""
        return self.month if self.month is not None else self.start.month

    @property
    def effective_day(self) -> int:
        """The fixed day of month for monthly/yearly rules without occurrence."""
        return self.day if self.day is not None else self.start.day

    @cached_property
    def allowed_weekdays(self) -> frozenset[int]:
        """Allowed weekdays as Python numbers (0 = Monday); weekly defaults to S's weekday."""
        if self.days:
            return frozenset(WEEKDAYS.index(day) for day in self.days)
        if self.trigger == "weekly":
            return frozenset({self.start.weekday()})
        return frozenset(range(7))

    @property
    def cron_spec(self) -> CronSpec | None:
        """The parsed cron expression of a cron rule."""
        return parse_cron(self.cron) if self.cron is not None else None


def _whole_number(field: str, value: Any, low: int, high: int | None) -> int:
    """A JSON integer within bounds, else a ScheduleRuleError naming the field."""
    if type(value) is not int:
        raise ScheduleRuleError(field, f"must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ScheduleRuleError(field, f"must be {bounds}, got {value}")
    return value


def parse_rule(data: Any) -> ScheduleRule:
    """Validate rule JSON (a dict) into a ScheduleRule or raise ScheduleRuleError."""
    try:
        return ScheduleRule.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None


def _first_error(exc: ValidationError) -> ScheduleRuleError:
    """Turn pydantic's first error into a ScheduleRuleError naming its field."""
    error = exc.errors()[0]
    original = error.get("ctx", {}).get("error")
    if isinstance(original, ScheduleRuleError):
        return original
    field = str(error["loc"][0]) if error["loc"] else "rule"
    kind = error["type"]
    if kind == "extra_forbidden":
        return ScheduleRuleError(field, "unknown field")
    if kind == "missing":
        return ScheduleRuleError(field, "is required")
    return ScheduleRuleError(field, message_for(error, field))
