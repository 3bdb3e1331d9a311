"""Local dates a rule selects, by plain calendar arithmetic (no time zones)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache

from app.scheduling.cron import CronSpec
from app.scheduling.rule import ScheduleRule

# A candidate: a local date and the wall times (offsets from midnight) it fires at.
Candidate = tuple[date, tuple[timedelta, ...]]


def candidate_days(rule: ScheduleRule, lo: date, hi: date) -> Iterator[Candidate]:
    """Dates in [lo, hi] the rule selects, ascending, each with its wall times."""
    if rule.trigger == "cron":
        spec = rule.cron_spec
        assert spec is not None
        times = _deltas(spec.times)
        for day in _cron_dates(spec, lo, hi):
            yield day, times
        return
    times = (timedelta(hours=rule.start.hour, minutes=rule.start.minute),)
    dates = {
        "daily": _daily_dates,
        "weekly": _weekly_dates,
        "monthly": _monthly_dates,
        "yearly": _yearly_dates,
    }[rule.trigger]
    for day in dates(rule, lo, hi):
        yield day, times


def pick_in_month(rule: ScheduleRule, year: int, month: int) -> date | None:
    """The date a monthly/yearly rule selects in one month, or None when there is none."""
    length = calendar.monthrange(year, month)[1]
    allowed = rule.allowed_weekdays
    if rule.occurrence is not None:
        first_weekday = date(year, month, 1).weekday()
        days = [d for d in range(1, length + 1) if (first_weekday + d - 1) % 7 in allowed]
        if rule.from_end:
            days.reverse()
        if len(days) < rule.occurrence:
            return None
        return date(year, month, days[rule.occurrence - 1])
    day = length if rule.effective_day == -1 else rule.effective_day
    if day > length:
        return None
    picked = date(year, month, day)
    return picked if picked.weekday() in allowed else None


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _daily_dates(rule: ScheduleRule, lo: date, hi: date) -> Iterator[date]:
    start = rule.start_date.toordinal()
    allowed = rule.allowed_weekdays
    if rule.every % 7 == 0 and rule.start_date.weekday() not in allowed:
        return  # the weekday never changes, so no day can ever be allowed
    ordinal = start + max(0, _ceil_div(lo.toordinal() - start, rule.every)) * rule.every
    last = hi.toordinal()
    while ordinal <= last:
        day = date.fromordinal(ordinal)
        if day.weekday() in allowed:
            yield day
        ordinal += rule.every


def _weekly_dates(rule: ScheduleRule, lo: date, hi: date) -> Iterator[date]:
    first_monday = rule.start_date.toordinal() - rule.start_date.weekday()
    weekdays = sorted(rule.allowed_weekdays)
    k = max(0, _ceil_div((lo.toordinal() - first_monday) // 7, rule.every))
    while (monday := first_monday + 7 * k * rule.every) <= hi.toordinal():
        for weekday in weekdays:
            if lo.toordinal() <= monday + weekday <= hi.toordinal():
                yield date.fromordinal(monday + weekday)
        k += 1


def _monthly_dates(rule: ScheduleRule, lo: date, hi: date) -> Iterator[date]:
    first = rule.start_date.year * 12 + rule.start_date.month - 1
    k = max(0, _ceil_div(lo.year * 12 + lo.month - 1 - first, rule.every))
    last = hi.year * 12 + hi.month - 1
    while (index := first + k * rule.every) <= last:
        year, month0 = divmod(index, 12)
        picked = pick_in_month(rule, year, month0 + 1)
        if picked is not None and lo <= picked <= hi:
            yield picked
        k += 1


def _yearly_dates(rule: ScheduleRule, lo: date, hi: date) -> Iterator[date]:
    first = rule.start_date.year
    k = max(0, _ceil_div(lo.year - first, rule.every))
    while (year := first + k * rule.every) <= hi.year:
        picked = pick_in_month(rule, year, rule.effective_month)
        if picked is not None and lo <= picked <= hi:
            yield picked
        k += 1


def _cron_dates(spec: CronSpec, lo: date, hi: date) -> Iterator[date]:
    year, month = lo.year, lo.month
    while (year, month) <= (hi.year, hi.month):
        if month in spec.months:
            first_weekday = date(year, month, 1).weekday()
            first = lo.day if (year, month) == (lo.year, lo.month) else 1
            last = calendar.monthrange(year, month)[1]
            if (year, month) == (hi.year, hi.month):
                last = hi.day
            for day in range(first, last + 1):
                dom = day in spec.days_of_month
                dow = (first_weekday + day - 1) % 7 in spec.weekdays
                if (dom and dow) if (spec.dom_star or spec.dow_star) else (dom or dow):
                    yield date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@lru_cache(maxsize=256)
def _deltas(minutes: tuple[int, ...]) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=m) for m in minutes)
