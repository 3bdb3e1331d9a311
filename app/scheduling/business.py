"""Business days: allowed days with holidays, and shifting a fixed date (SCHEDULE.md).

SCHEDULE.md, "Business days: shifting and holidays": an allowed day is a local date whose
weekday is allowed and which is not a public holiday of the rule's calendar. A monthly or
yearly rule with `holidays` or a `shift` picks its date D month by month here (rrule's
BYSETPOS cannot leave holidays out of its count), then moves a fixed D that is not an
allowed day by the ISDA convention in `shift`, searching at most 31 days.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

from app.scheduling.calendars import holiday_name
from app.scheduling.rule import ScheduleRule

SEARCH_DAYS = 31  # SCHEDULE.md: "a search looks at most 31 days from D"
_ONE = timedelta(days=1)


def needs_business_path(rule: ScheduleRule) -> bool:
    """Whether a monthly/yearly rule's dates come from here rather than from rrule."""
    return rule.trigger in ("monthly", "yearly") and (
        rule.holidays is not None or rule.shift != "none"
    )


def is_allowed(rule: ScheduleRule, day: date) -> bool:
    """An allowed day: weekday allowed and not a public holiday of `rule.holidays`."""
    return day.weekday() in rule.allowed_weekdays and holiday_name(rule.holidays, day) is None


def shifted(rule: ScheduleRule, day: date) -> date | None:
    """Where a fixed date D fires under `rule.shift`: D itself when allowed, else the
    convention's day, or None when it finds none (SCHEDULE.md's ISDA conventions)."""
    if is_allowed(rule, day):
        return day
    convention = rule.shift
    if convention == "none":
        return None
    if convention in ("following", "preceding"):
        return _search(rule, day, _ONE if convention == "following" else -_ONE)
    first, then = (_ONE, -_ONE) if convention == "modified_following" else (-_ONE, _ONE)
    found = _search(rule, day, first)
    if found is None or (found.year, found.month) != (day.year, day.month):
        return _search(rule, day, then)
    return found


def _search(rule: ScheduleRule, day: date, step: timedelta) -> date | None:
    """The first allowed day after (step +1 day) or before (−1 day) `day`, within 31 days."""
    for n in range(1, SEARCH_DAYS + 1):
        try:
            candidate = day + n * step
        except OverflowError:
            return None
        if is_allowed(rule, candidate):
            return candidate
    return None


def selected_in_month(rule: ScheduleRule, year: int, month: int) -> date | None:
    """The date D a monthly/yearly rule selects in a month, before any shift.

    With `occurrence`: the Nth allowed day (from the end when `from_end`), holidays left
    out of the count. Without: the fixed day (-1 = last), None when the month lacks it.
    """
    length = calendar.monthrange(year, month)[1]
    if rule.occurrence is None:
        day = length if rule.effective_day == -1 else rule.effective_day
        return date(year, month, day) if day <= length else None
    days = [date(year, month, d) for d in range(1, length + 1)]
    allowed = [d for d in (reversed(days) if rule.from_end else days) if is_allowed(rule, d)]
    return allowed[rule.occurrence - 1] if len(allowed) >= rule.occurrence else None


def fire_date(rule: ScheduleRule, selected: date) -> date | None:
    """The date a selected D fires on: shifted for fixed dates, None when it does not fire."""
    if rule.occurrence is not None:
        return selected  # already an allowed day
    return shifted(rule, selected)


def business_dates(rule: ScheduleRule, lo: date, hi: date) -> Iterator[date]:
    """Fire dates in [lo, hi] of a monthly/yearly rule with holidays or a shift, ascending.

    Months are counted from start's month (never an earlier one); a D up to 31 days
    outside [lo, hi] is still looked at, since its shift may land inside. Two D that
    shift onto one date give it once.
    """
    last = None
    wide_hi = date.max if hi > date.max - SEARCH_DAYS * _ONE else hi + SEARCH_DAYS * _ONE
    for selected in selected_dates(rule, lo - SEARCH_DAYS * _ONE, wide_hi):
        fired = fire_date(rule, selected)
        if fired is not None and lo <= fired <= hi and fired != last:
            last = fired
            yield fired


def selected_dates(rule: ScheduleRule, lo: date, hi: date) -> Iterator[date]:
    """The dates D (before shifting) of the rule's months that meet [lo, hi], ascending."""
    start = rule.start_date
    start_index = start.year * 12 + start.month - 1
    first, step = start_index, rule.every
    if rule.trigger == "yearly":
        first = start.year * 12 + rule.effective_month - 1
        step = 12 * rule.every
        if first < start_index:
            first += step  # an anchor month before start's month is never counted
    lo_index, hi_index = lo.year * 12 + lo.month - 1, hi.year * 12 + hi.month - 1
    index = first + max(0, -(-(lo_index - first) // step)) * step
    while index <= hi_index:
        year, month0 = divmod(index, 12)
        selected = selected_in_month(rule, year, month0 + 1)
        if selected is not None:
            yield selected
        index += step
