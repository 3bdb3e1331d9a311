"""Plain-language summaries of schedule rules."""

from __future__ import annotations

import calendar

from app.scheduling.calendars import country_names, subdivision_names
from app.scheduling.rule import WEEKDAYS, ScheduleRule

_DAY_NAMES = dict(zip(WEEKDAYS, calendar.day_name, strict=True))
_WORKWEEK = set(WEEKDAYS[:5])
_WEEKEND = set(WEEKDAYS[5:])


def describe(rule: ScheduleRule) -> str:
    """A one-line summary such as 'Every weekday at 07:00, UTC'."""
    if rule.trigger == "cron":
        text = f"Cron '{rule.cron}'"
    elif rule.trigger == "once":
        return f"Once on {rule.start:%Y-%m-%d} at {rule.start:%H:%M}, {rule.timezone}"
    elif rule.trigger == "hourly":
        text = _hourly(rule)
    elif rule.trigger == "daily":
        text = _daily(rule)
    elif rule.trigger == "weekly":
        text = _weekly(rule)
    else:
        text = _monthly_or_yearly(rule)
    if rule.holidays is not None:
        text += f" (not on public holidays in {calendar_label(rule)})"
    if rule.until is not None:
        text += f" until {rule.until:%Y-%m-%d}"
    return f"{text}, {rule.timezone}"


def calendar_label(rule: ScheduleRule) -> str:
    """'Germany' or 'United States (NY)' for a rule's holiday calendar ('' without one)."""
    if rule.holidays is None:
        return ""
    name = country_names().get(rule.holidays.country, rule.holidays.country)
    sub = rule.holidays.subdivision
    return f"{name} ({subdivision_names(rule.holidays.country).get(sub, sub)})" if sub else name


def ordinal(number: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _join(words: list[str], conjunction: str) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _day_noun(days: tuple[str, ...], conjunction: str = "or") -> str | None:
    """A noun for the allowed days ('weekday', 'Monday or Friday'); None when all days."""
    chosen = set(days)
    if not chosen or len(chosen) == 7:
        return None
    if chosen == _WORKWEEK:
        return "weekday"
    if chosen == _WEEKEND:
        return "weekend day"
    return _join([_DAY_NAMES[day] for day in days], conjunction)


def _only_on(days: tuple[str, ...]) -> str:
    """' on weekdays' style suffix, empty when every day is allowed."""
    noun = _day_noun(days)
    if noun is None:
        return ""
    if noun in ("weekday", "weekend day"):
        return f" on {noun}s"
    return f" on {_join([_DAY_NAMES[day] + 's' for day in days], 'and')}"


def _hourly(rule: ScheduleRule) -> str:
    if rule.every == 1:
        text = f"Every hour at :{rule.start:%M}"
    else:
        text = f"Every {rule.every} hours from {rule.start:%H:%M}"
    return text + _only_on(rule.days)


def _daily(rule: ScheduleRule) -> str:
    at = f"at {rule.start:%H:%M}"
    if rule.every == 1:
        noun = _day_noun(rule.days, "and")
        return f"Every {noun or 'day'} {at}"
    return f"Every {ordinal(rule.every)} day {at}{_only_on(rule.days)}"


def _weekly(rule: ScheduleRule) -> str:
    days = rule.days or (WEEKDAYS[rule.start.weekday()],)
    names = _join([_DAY_NAMES[day] for day in days], "and")
    if rule.every == 1:
        return f"Every {names} at {rule.start:%H:%M}"
    return f"Every {ordinal(rule.every)} week on {names} at {rule.start:%H:%M}"


def _monthly_or_yearly(rule: ScheduleRule) -> str:
    if rule.trigger == "monthly":
        period = "every month" if rule.every == 1 else f"every {ordinal(rule.every)} month"
        of_what = f"of {period}"
        fixed = f"Day {rule.effective_day} {of_what}"
    else:
        month = calendar.month_name[rule.effective_month]
        period = "every year" if rule.every == 1 else f"every {ordinal(rule.every)} year"
        of_what = f"of {month} {period}"
        fixed = f"{month} {rule.effective_day} {period}"
    at = f"at {rule.start:%H:%M}"
    if rule.occurrence is not None:
        if rule.from_end:
            which = "Last" if rule.occurrence == 1 else f"{ordinal(rule.occurrence)}-to-last"
        else:
            which = ordinal(rule.occurrence)
        return f"{which} {_day_noun(rule.days) or 'day'} {of_what} {at}"
    if rule.shift != "none":
        return _shifted(rule, of_what, at)
    if rule.effective_day == -1:
        fixed = f"Last day {of_what}"
    noun = _day_noun(rule.days)
    condition = "" if noun is None else f" if it falls on a {noun}"
    return f"{fixed} {at}{condition}"


# How each convention reads after "…, or " (SCHEDULE.md, "Business days").
_SHIFT_WORDS = {
    "following": "the next business day",
    "preceding": "the business day before",
    "modified_following": "the next business day in that month, else the one before",
    "modified_preceding": "the business day before in that month, else the next one",
}


def _shifted(rule: ScheduleRule, of_what: str, at: str) -> str:
    """'On the 15th of every month at 18:00, or the business day before'."""
    day = rule.effective_day
    if rule.trigger == "monthly":
        which = "the last day" if day == -1 else f"the {ordinal(day)}"
        fixed = f"{which} {of_what}"
    else:
        month = calendar.month_name[rule.effective_month]
        period = of_what.removeprefix(f"of {month} ")
        fixed = f"the last day of {month} {period}" if day == -1 else f"{month} {day} {period}"
    return f"On {fixed} {at}, or {_SHIFT_WORDS[rule.shift]}"
