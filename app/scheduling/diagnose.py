"""Why a rule's preview is empty, in words a wizard user can act on."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from app.scheduling.describe import ordinal
from app.scheduling.engine import HORIZON_YEARS, format_instant, next_fire_after
from app.scheduling.recurrence import LONGEST_MONTH, reachable_months
from app.scheduling.rule import ScheduleRule


def empty_preview_reason(rule: ScheduleRule, after: datetime | None = None) -> str:
    """A likely reason why `preview(rule, after, n)` is empty (`after` defaults to now)."""
    after = after or datetime.now(UTC)
    zone = rule.zone
    start = rule.start.replace(tzinfo=zone)
    if rule.trigger == "once":
        return f"This one-time schedule already fired at {format_instant(start)}."
    if rule.until is not None and rule.until < after.astimezone(zone).date():
        return f"The schedule ended on its until date, {rule.until:%Y-%m-%d}."
    forever = rule.model_copy(update={"until": None})
    first = next_fire_after(forever, start - timedelta(seconds=1))
    if first is None:
        return _never_fires_reason(rule)
    if rule.until is not None:
        if first.date() > rule.until and _fixed_date_with_days(rule):
            return (
                f"Allowed days exclude the weekday the fixed date {rule.effective_day} falls on "
                f"in every month up to the until date, {rule.until:%Y-%m-%d}; a fixed date is "
                "skipped, never shifted."
            )
        if first.date() > rule.until:
            return (
                f"The first fire ({format_instant(first)}) comes after the until date, "
                f"{rule.until:%Y-%m-%d}."
            )
        return f"The schedule ends on {rule.until:%Y-%m-%d} and its last fire has passed."
    return f"The next fire is more than {HORIZON_YEARS} years away."


def _fixed_date_with_days(rule: ScheduleRule) -> bool:
    """Whether a monthly/yearly fixed-date rule also restricts weekdays."""
    return (
        rule.trigger in ("monthly", "yearly")
        and rule.occurrence is None
        and rule.shift == "none"
        and len(rule.allowed_weekdays) < 7
    )


def _never_fires_reason(rule: ScheduleRule) -> str:
    """Explain a rule that selects no date at all."""
    weekday_names = list(calendar.day_name)
    if rule.trigger == "daily" and rule.every % 7 == 0:
        weekday = weekday_names[rule.start.weekday()]
        return (
            f"Every {rule.every} days always lands on a {weekday}, which the allowed days exclude."
        )
    if rule.trigger == "hourly":
        return f"Every {rule.every} hours keeps landing on weekdays the allowed days exclude."
    if rule.trigger == "cron":
        return (
            f"The cron expression '{rule.cron}' selects no date that exists "
            "(for example day 30 of February, or a day-of-month and weekday that never meet)."
        )
    if rule.trigger in ("monthly", "yearly"):
        return _month_rule_reason(rule)
    return f"No date within {HORIZON_YEARS} years matches the rule."


def _month_rule_reason(rule: ScheduleRule) -> str:
    """Explain a monthly or yearly rule that selects no date."""
    months = reachable_months(rule)
    names = " and ".join(calendar.month_name[m] for m in sorted(months))
    if rule.occurrence is not None:
        return (
            f"No month the schedule reaches ({names}) has a {ordinal(rule.occurrence)} allowed day."
        )
    day = rule.effective_day
    if day != -1 and all(day > LONGEST_MONTH[m] for m in months):
        return f"Day {day} does not exist in {names}."
    if rule.shift != "none" or rule.holidays is not None:
        return (
            "No date the schedule reaches is a business day (an allowed weekday that is not a "
            "public holiday), and no business day lies within 31 days of it."
        )
    return (
        f"Allowed days exclude the weekday the fixed date {day} falls on; a fixed date is "
        "skipped, never shifted. Pick an occurrence (e.g. the 1st weekday) instead."
    )
