"""Fire instants of a rule: wall time to instant, DST policy, preview and catch-up."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from app.scheduling.calendars import holiday_name
from app.scheduling.recurrence import Candidate, candidate_days, elapsed_hours
from app.scheduling.rule import ScheduleRule

HORIZON_YEARS = 100
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
# No zone's UTC offset (historic local mean time included) reaches 16 hours.
_MAX_OFFSET = timedelta(hours=16)
_LAST_DATE = date(9999, 12, 30)  # keeps every UTC conversion inside datetime's range


def format_instant(dt: datetime) -> str:
    """ISO 8601 with offset and seconds, e.g. '2026-03-30T07:00:00+02:00'."""
    if dt.utcoffset() is None:
        raise ValueError("format_instant needs an aware datetime")
    return dt.isoformat(timespec="seconds")


def preview(rule: ScheduleRule, after: datetime, count: int) -> list[datetime]:
    """The first `count` fires strictly after `after`, ascending, in the rule's zone."""
    # The results share one tzinfo, and Python compares such datetimes by wall time,
    # ignoring DST fold: callers comparing or de-duplicating them should use UTC.
    if count < 0:
        raise ValueError("count must be ≥ 0")
    zone = rule.zone
    return [_to_zone(u, zone) for u in islice(_fire_instants(rule, _naive_utc(after)), count)]


def next_fire_after(rule: ScheduleRule, after: datetime) -> datetime | None:
    """The first fire strictly after `after`, or None within the preview horizon."""
    fires = preview(rule, after, 1)
    return fires[0] if fires else None


def fires_between(
    rule: ScheduleRule, start_exclusive: datetime, end_inclusive: datetime, limit: int
) -> list[datetime]:
    """The latest `limit` fires in (start_exclusive, end_inclusive], ascending."""
    # The latest, not the earliest: the last element is then always the most recent
    # missed fire, which is the one a clock coalesces to.
    low, high = _naive_utc(start_exclusive), _naive_utc(end_inclusive)
    if limit <= 0 or high <= low:
        return []
    # Widen a window backwards from the end so dense rules never walk the whole gap.
    span = _DAY
    while True:
        window_low = low if span >= high - low else high - span
        latest: deque[datetime] = deque(maxlen=limit)
        found = 0
        for instant in _fire_instants(rule, window_low, stop=high):
            latest.append(instant)
            found += 1
        if found >= limit or window_low == low:
            return [_to_zone(u, rule.zone) for u in latest]
        span *= 8


def _fire_instants(
    rule: ScheduleRule, after: datetime, stop: datetime | None = None
) -> Iterator[datetime]:
    """Fires as naive UTC datetimes, ascending, strictly after `after` (naive UTC)."""
    # Without `stop` the walk ends about 100 years past max(after, start); with it, at stop.
    zone = rule.zone
    start = _wall_to_utc(rule.start, zone)
    if rule.trigger == "once":
        if start > after and (stop is None or start <= stop):
            yield start
        return
    # Bounds are computed from a clamped `after` so extreme inputs stay in range.
    after_local = _utc_to_wall(min(max(after, start - 3 * _DAY), datetime(9999, 1, 1)), zone)
    lo = max(rule.start_date, after_local.date() - 2 * _DAY)
    if stop is None:
        hi = _add_years(max(after_local.date(), rule.start_date), HORIZON_YEARS + 1)
    else:
        hi = min(_utc_to_wall(min(stop, datetime(9999, 12, 1)), zone).date() + _DAY, _LAST_DATE)
    if rule.trigger == "hourly":
        instants = _hourly(rule, start, after, hi)
    else:
        instants = _merged(candidate_days(rule, lo, min(hi, rule.until or hi)), zone)
    instant_calendar = rule.holidays if rule.trigger in ("hourly", "cron") else None
    previous = None
    for instant in instants:
        if stop is not None and instant > stop:
            return
        if instant <= after or instant < start or instant == previous:
            continue
        if rule.until is not None and _utc_to_wall(instant, zone).date() > rule.until:
            continue
        if instant_calendar is not None and holiday_name(
            instant_calendar, _utc_to_wall(instant, zone).date()
        ):
            continue  # SCHEDULE.md: hourly and cron instants on a holiday do not fire
        previous = instant
        yield instant


def _hourly(rule: ScheduleRule, start: datetime, after: datetime, hi: date) -> Iterator[datetime]:
    """Hourly fires: start + k·every hours in elapsed time, on allowed local weekdays."""
    zone = rule.zone
    step = rule.every * 3600
    k = 0 if after < start else (after - start) // _SECOND // step + 1
    if rule.until is not None:
        hi = min(hi, rule.until + _DAY)
    limit = (_wall_to_utc(datetime.combine(hi + _DAY, time()), zone) - start) // _SECOND
    if k * step > limit:
        return
    first = start + timedelta(seconds=k * step)
    allowed = rule.allowed_weekdays
    for instant in elapsed_hours(rule.every, first, start + timedelta(seconds=limit)):
        if _utc_to_wall(instant, zone).weekday() in allowed:
            yield instant


def _merged(candidates: Iterable[Candidate], zone: ZoneInfo) -> Iterator[datetime]:
    """Instants of ascending candidate dates, in ascending order even across DST shifts."""
    pending: list[datetime] = []
    for day, times in candidates:
        pending.extend(_day_instants(day, times, zone))
        pending.sort()
        # Any later date's wall time maps to at least its midnight minus the largest offset.
        ready = bisect_left(pending, datetime.combine(day, time()) + _DAY - _MAX_OFFSET)
        if ready:
            yield from pending[:ready]
            del pending[:ready]
    yield from pending


def _day_instants(day: date, times: tuple[timedelta, ...], zone: ZoneInfo) -> list[datetime]:
    """UTC instants of one local date's wall times, sorted, shifted wall times merged."""
    midnight = datetime.combine(day, time())
    if len(times) == 1:
        return [_wall_to_utc(midnight + times[0], zone)]
    offset = midnight.replace(tzinfo=zone).utcoffset()
    if offset == (midnight + _DAY).replace(tzinfo=zone).utcoffset():
        base = midnight - offset  # no transition this day: one offset serves every time
        return [base + t for t in times]
    return sorted({_wall_to_utc(midnight + t, zone) for t in times})


def _wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """Naive UTC of a wall time; fold=0 puts skipped times after the gap, repeated ones first."""
    return wall - wall.replace(tzinfo=zone).utcoffset()


def _utc_to_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _to_zone(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(zone)


def _naive_utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError("expected an aware datetime (with a UTC offset)")
    return moment.astimezone(UTC).replace(tzinfo=None)


def _add_years(day: date, years: int) -> date:
    if day.year + years > _LAST_DATE.year:
        return _LAST_DATE
    return min(day.replace(year=day.year + years, day=min(day.day, 28)), _LAST_DATE)
