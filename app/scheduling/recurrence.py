"""The recurrence of a rule as a `dateutil.rrule`, in naive local wall time (no time zones).

Each trigger maps onto one rrule (SCHEDULE.md, "Which local dates and times fire"):
- daily:   DAILY, INTERVAL = every, BYWEEKDAY = the allowed days.
- weekly:  WEEKLY, INTERVAL = every, WKST = Monday, BYWEEKDAY = the allowed days.
- monthly: MONTHLY, INTERVAL = every, and either BYWEEKDAY + BYSETPOS (the Nth allowed day,
  negative when counted from the end) or BYMONTHDAY (-1 = last day) + BYWEEKDAY.
- yearly:  as monthly from the anchor month, INTERVAL = 12 · every (YEARLY + BYMONTH
  selects the same dates, slower).
- cron:    MONTHLY over the dates, BYMONTH + BYMONTHDAY + BYWEEKDAY; when both day fields
  are restricted Vixie cron ORs them, which one rrule cannot say (its BY* parts always
  intersect), so that case is an rruleset of a BYMONTHDAY rule and a BYWEEKDAY rule.
The cron text itself stays hand-parsed (app.scheduling.cron): rrule has no cron syntax.
UNTIL bounds every walk. The engine turns wall times into instants (the DST policy).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import MAXYEAR, date, datetime, time, timedelta
from functools import lru_cache
from math import gcd
from typing import Any

from dateutil.rrule import (
    DAILY,
    HOURLY,
    MONTHLY,
    WEEKLY,
    rrule,
    rruleset,
    weekday,
)
from dateutil.rrule import weekdays as rrule_weekdays

from app.scheduling.business import business_dates, needs_business_path
from app.scheduling.calendars import holiday_name
from app.scheduling.rule import ScheduleRule

# A candidate: a local date and the wall times (offsets from midnight) it fires at.
Candidate = tuple[date, tuple[timedelta, ...]]

_WEEKDAY = rrule_weekdays  # rrule's MO..SU; index 0 = Monday, as date.weekday()
# Longest length of each month (index 1..12); February counts its leap day.
LONGEST_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def candidate_days(rule: ScheduleRule, lo: date, hi: date) -> Iterator[Candidate]:
    """Dates in [lo, hi] a daily/weekly/monthly/yearly/cron rule selects, ascending.

    Each date comes with its wall times as offsets from midnight (one for most triggers,
    the cron's hour × minute list for cron), ascending. Raises nothing for valid rules.
    """
    if needs_business_path(rule):
        start_time = (timedelta(hours=rule.start.hour, minutes=rule.start.minute),)
        for day in business_dates(rule, lo, hi):
            yield day, start_time
        return
    recurrence = _cron_dates(rule, lo, hi) if rule.trigger == "cron" else _rule_dates(rule, lo, hi)
    if recurrence is None:
        return
    # Daily and weekly skip holidays (SCHEDULE.md, "Business days"); cron instants are
    # tested on their own local date by the engine.
    calendar = rule.holidays if rule.trigger in ("daily", "weekly") else None
    if rule.trigger == "cron":
        assert rule.cron_spec is not None
        times = _deltas(rule.cron_spec.times)
    else:
        times = (timedelta(hours=rule.start.hour, minutes=rule.start.minute),)
    walls = iter(recurrence)
    while True:
        try:
            wall = next(walls)
        except StopIteration:
            return
        except ValueError:
            # WEEKLY builds a whole week before filtering it, so the week of 9999-12-31
            # reaches year 10000; hi is never after that date, so nothing is lost.
            if hi.year < MAXYEAR:
                raise
            return
        # A period's start (dtstart) may precede lo: the first period is taken whole.
        if wall.date() >= lo and holiday_name(calendar, wall.date()) is None:
            yield wall.date(), times


def elapsed_hours(every: int, first: datetime, last: datetime) -> rrule:
    """Every `every` hours from `first` to `last` (inclusive), as naive datetimes.

    Used on naive UTC, where rrule's hour arithmetic is elapsed time, as SCHEDULE.md asks
    of hourly rules (a DST day has 23 or 25 hourly fires).
    """
    return rrule(HOURLY, dtstart=first, interval=every, until=last, cache=False)


def _rule_dates(rule: ScheduleRule, lo: date, hi: date) -> rrule | None:
    """The rrule of a daily/weekly/monthly/yearly rule, or None when it selects nothing."""
    if _never_selects(rule):
        return None
    start, every = rule.start_date, rule.every
    days = [_WEEKDAY[d] for d in sorted(rule.allowed_weekdays)]
    # dtstart is moved to the first period (day, week, month, year) that counts from
    # start and reaches lo: rrule walks from dtstart, and a preview far after start must
    # not walk all the periods in between. Periods still count from start's.
    common: dict[str, Any] = {"interval": every, "until": datetime.combine(hi, time.max)}
    if rule.trigger == "daily":
        ordinal = start.toordinal() + max(0, _ceil_div((lo - start).days, every)) * every
        if ordinal > hi.toordinal():
            return None
        return _rrule(DAILY, rule, date.fromordinal(ordinal), byweekday=days, **common)
    if rule.trigger == "weekly":
        first_monday = start.toordinal() - start.weekday()
        k = max(0, _ceil_div((lo.toordinal() - first_monday) // 7, every))
        if first_monday + 7 * k * every > hi.toordinal():
            return None
        monday = date.fromordinal(first_monday + 7 * k * every)
        return _rrule(WEEKLY, rule, monday, wkst=rrule_weekdays[0], byweekday=days, **common)
    # A yearly rule is the monthly rule of its anchor month every 12·every months: the
    # same dates as YEARLY + BYMONTH, which builds and filters a whole year per period
    # (about three times slower).
    first = start.year * 12 + start.month - 1
    if rule.trigger == "yearly":
        first += rule.effective_month - start.month
        every = common["interval"] = 12 * every
    index = first + max(0, _ceil_div(lo.year * 12 + lo.month - 1 - first, every)) * every
    if index > hi.year * 12 + hi.month - 1:
        return None
    year, month0 = divmod(index, 12)
    return _rrule(MONTHLY, rule, date(year, month0 + 1, 1), **_pick_in_month(rule, days), **common)


def _rrule(freq: int, rule: ScheduleRule, first: date, **parts: Any) -> rrule:
    """An rrule from `first` at the rule's time of day (so BYHOUR/BYMINUTE are T's)."""
    dtstart = datetime.combine(first, rule.start.time())
    return rrule(freq, dtstart=dtstart, cache=False, **parts)


def _pick_in_month(rule: ScheduleRule, days: list[weekday]) -> dict[str, Any]:
    """BY* parts choosing a monthly/yearly rule's date within its month."""
    # BYWEEKDAY lists all seven days when `days` is empty, so BYSETPOS counts every day.
    if rule.occurrence is not None:
        position = -rule.occurrence if rule.from_end else rule.occurrence
        return {"byweekday": days, "bysetpos": position}
    return {"bymonthday": rule.effective_day, "byweekday": days}


def _never_selects(rule: ScheduleRule) -> bool:
    """Whether a rule can never select a date, for the rules rrule would search to 9999 for.

    rrule's UNTIL only ends a walk at a selected date past it, so a rule that selects
    nothing walks period by period to year 9999. These cases are answered here; any other
    rule that selects nothing steps many years at a time (a fixed date whose weekday
    `every` never moves), so its walk stays short.
    """
    if rule.trigger == "daily":
        # Every 7k days keeps start's weekday: if that is not allowed, nothing ever is.
        return rule.every % 7 == 0 and rule.start.weekday() not in rule.allowed_weekdays
    if rule.trigger not in ("monthly", "yearly"):
        return False
    months = reachable_months(rule)
    if rule.occurrence is None and all(rule.effective_day > LONGEST_MONTH[m] for m in months):
        return True  # day 31 in April only, day 30 in February
    if months == {2} and _needs_leap_day(rule):
        # The years reached are start's year + k·step; none is a multiple of 4 (so none
        # is a leap year) exactly when start's year is not a multiple of gcd(step, 4).
        step = rule.every if rule.trigger == "yearly" else rule.every // 12
        return rule.start.year % gcd(step, 4) != 0
    return False


def _needs_leap_day(rule: ScheduleRule) -> bool:
    """Whether a February rule can only select in a leap year (Feb 29, or a 5th weekday)."""
    if rule.occurrence is None:
        return rule.effective_day == 29
    # A 28-day February has exactly four of each weekday.
    return rule.occurrence == 5 and len(rule.allowed_weekdays) == 1


def reachable_months(rule: ScheduleRule) -> set[int]:
    """The months (1..12) a monthly or yearly rule can fire in, counted from start's month."""
    if rule.trigger == "yearly":
        return {rule.effective_month}
    return {(rule.start.month - 1 + k * rule.every) % 12 + 1 for k in range(12)}


def _cron_dates(rule: ScheduleRule, lo: date, hi: date) -> rrule | rruleset | None:
    """The dates (at midnight) a cron rule selects from lo on, or None if it never does."""
    spec = rule.cron_spec
    assert spec is not None
    either = not (spec.dom_star or spec.dow_star)  # Vixie: restricted day fields are ORed
    # When no chosen month has any chosen day of month (Feb 30), a BYMONTHDAY rule would
    # walk to year 9999 (see _never_selects): leave it out.
    days_exist = any(d <= LONGEST_MONTH[m] for m in spec.months for d in spec.days_of_month)
    if not either and not days_exist:
        return None
    # MONTHLY: a dense cron needs one month's day set, not a year's (YEARLY), and a sparse
    # one (Feb 29 on a Sunday) walks months, not days (DAILY).
    common: dict[str, Any] = {
        "dtstart": datetime.combine(lo, time()),
        "until": datetime.combine(hi, time.max),
        "bymonth": sorted(spec.months),
        "cache": False,
    }
    days = [_WEEKDAY[d] for d in sorted(spec.weekdays)]
    if not either:
        return rrule(MONTHLY, bymonthday=sorted(spec.days_of_month), byweekday=days, **common)
    by_weekday = rrule(MONTHLY, byweekday=days, **common)
    if not days_exist:
        return by_weekday
    union = rruleset(cache=False)
    union.rrule(rrule(MONTHLY, bymonthday=sorted(spec.days_of_month), **common))
    union.rrule(by_weekday)
    return union


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@lru_cache(maxsize=256)
def _deltas(minutes: tuple[int, ...]) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=m) for m in minutes)
