"""The rrule engine against the hand-written engine it replaced (the oracle, kept here only).

`schedule preview` prints `format_instant` of each `preview` fire, so equal strings here
mean byte-identical command output. Rules are generated more widely than the property
tests do: extreme years, large `every`, sparse and impossible dates, odd zones.
"""

from __future__ import annotations

import calendar
import json
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.commands.schedule import schedule_cli
from app.scheduling import ScheduleRule, fires_between, format_instant, parse_rule, preview

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Auckland",
    "America/Sao_Paulo",  # DST used to begin at midnight
    "Asia/Tehran",
    "Pacific/Apia",  # skipped a whole day in 2011
    "Pacific/Kiritimati",  # UTC+14
    "Europe/Dublin",  # negative DST in tzdata
    "Antarctica/Troll",  # 2-hour DST
    "Africa/Casablanca",  # DST suspended during Ramadan
    "Pacific/Chatham",  # UTC+12:45 / +13:45
]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SETTINGS = settings(
    max_examples=250, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@st.composite
def cron_texts(draw) -> str:
    """A valid 5-field cron expression (numbers, names, ranges, steps, lists)."""
    bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    fields = []
    for low, high in bounds:
        kind = draw(st.sampled_from(["*", "*/", "one", "range", "list"]))
        if kind == "*":
            fields.append("*")
        elif kind == "*/":
            fields.append(f"*/{draw(st.integers(1, high - low + 1))}")
        else:
            items = []
            for _ in range(1 if kind != "list" else draw(st.integers(2, 4))):
                first = draw(st.integers(low, high))
                if kind == "one" or draw(st.booleans()):
                    items.append(str(first))
                else:
                    step = draw(st.sampled_from(["", "/2", "/3", "/7"]))
                    items.append(f"{first}-{draw(st.integers(first, high))}{step}")
            fields.append(",".join(items))
    if draw(st.booleans()):  # impossible or sparse dates: Feb 29/30/31, Apr 31, leap days
        fields[2] = draw(st.sampled_from(["29", "30", "31", "30,31", "29-31"]))
        fields[3] = draw(st.sampled_from(["2", "feb", "4", "apr,jun", "2,4"]))
    return " ".join(fields)


@st.composite
def rule_data(draw) -> dict:
    """Rule JSON for any trigger, biased towards edges."""
    trigger = draw(st.sampled_from(["yearly", "monthly", "weekly", "daily", "hourly", "once"]))
    trigger = draw(st.sampled_from([trigger, "cron"]))
    year = draw(st.sampled_from([1900, 1901, 2000, 2011, 8999, 9000]) | st.integers(1995, 2040))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
    hour = draw(st.sampled_from([0, 1, 2, 3, 23]) | st.integers(0, 23))
    minute = draw(st.sampled_from([0, 30, 45]) | st.integers(0, 59))
    data: dict = {
        "start": f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}",
        "timezone": draw(st.sampled_from(ZONES)),
        "trigger": trigger,
    }
    every = st.integers(1, 15) | st.sampled_from([7, 12, 14, 24, 28, 48, 400, 4800, 10**6])
    data["every"] = draw(every)
    data["days"] = draw(st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=7))
    if draw(st.booleans()):
        until = date(year, month, day) + timedelta(days=draw(st.integers(0, 4000)))
        data["until"] = until.isoformat()
    if draw(st.booleans()):
        data["occurrence"] = draw(st.integers(1, 5))
        data["from_end"] = draw(st.booleans())
    else:
        data["day"] = draw(st.none() | st.just(-1) | st.integers(1, 31) | st.just(29))
    data["month"] = draw(st.none() | st.integers(1, 12))
    if trigger == "cron":
        data["cron"] = draw(cron_texts())
    return data


@st.composite
def cases(draw) -> tuple[ScheduleRule, datetime, int]:
    rule = parse_rule(draw(rule_data()))
    start = rule.start.replace(tzinfo=rule.zone).astimezone(UTC)
    minutes = st.integers(-60 * 24 * 400, 60 * 24 * 366 * 40)
    extreme = st.sampled_from([datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)])
    after = draw(st.builds(lambda m: start + timedelta(minutes=m), minutes) | extreme)
    return rule, after, draw(st.integers(0, 40))


def _outcome(call) -> list[str] | tuple[str, str]:
    """Formatted fires, or the exception's type and message (the command prints those)."""
    try:
        return [format_instant(fire) for fire in call()]
    except (ValueError, OverflowError) as error:
        return type(error).__name__, str(error)


@SETTINGS
@given(cases())
def test_preview_prints_what_the_old_engine_printed(case):
    rule, after, count = case
    old = _outcome(lambda: old_preview(rule, after, count))
    new = _outcome(lambda: preview(rule, after, count))
    assert new == old, (rule.model_dump_json(), after, count)


@SETTINGS
@given(cases(), st.integers(0, 60 * 24 * 366 * 3), st.integers(0, 12))
def test_fires_between_finds_what_the_old_engine_found(case, minutes, limit):
    rule, after, _count = case
    last = datetime(9999, 12, 30, tzinfo=UTC)
    end = after + min(timedelta(minutes=minutes), last - after)
    old = _outcome(lambda: old_fires_between(rule, after, end, limit))
    new = _outcome(lambda: fires_between(rule, after, end, limit))
    assert new == old, (rule.model_dump_json(), after, end)


@settings(SETTINGS, max_examples=25)
@given(st.lists(cases(), min_size=1, max_size=8))
def test_the_batch_command_prints_byte_for_byte_what_it_printed(batch):
    lines = [
        json.dumps({"rule": rule.model_dump(mode="json"), "after": after.isoformat(), "count": n})
        for rule, after, n in batch
    ]
    result = CliRunner().invoke(schedule_cli, ["preview", "--batch", "-"], "\n".join(lines))
    assert result.exit_code == 0, result.output
    expected = []
    for rule, after, count in batch:
        old = _outcome(lambda r=rule, a=after, c=count: old_preview(r, a, c))
        answer = {"fires": old} if isinstance(old, list) else {"error": old[1]}
        expected.append(json.dumps(answer, ensure_ascii=False) + "\n")
    assert result.stdout == "".join(expected)


# --- the oracle: the hand-written engine (app/scheduling engine.py + dates.py) as replaced --

_DAY, _SECOND, _MAX_OFFSET = timedelta(days=1), timedelta(seconds=1), timedelta(hours=16)
_LAST_DATE = date(9999, 12, 30)


def old_preview(rule: ScheduleRule, after: datetime, count: int) -> list[datetime]:
    if count < 0:
        raise ValueError("count must be ≥ 0")
    return [_to_zone(u, rule.zone) for u in islice(_fire_instants(rule, _naive_utc(after)), count)]


def old_fires_between(rule, start_exclusive, end_inclusive, limit) -> list[datetime]:
    low, high = _naive_utc(start_exclusive), _naive_utc(end_inclusive)
    if limit <= 0 or high <= low:
        return []
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


def _fire_instants(rule, after, stop=None) -> Iterator[datetime]:
    zone = rule.zone
    start = _wall_to_utc(rule.start, zone)
    if rule.trigger == "once":
        if start > after and (stop is None or start <= stop):
            yield start
        return
    after_local = _utc_to_wall(min(max(after, start - 3 * _DAY), datetime(9999, 1, 1)), zone)
    lo = max(rule.start_date, after_local.date() - 2 * _DAY)
    if stop is None:
        hi = _add_years(max(after_local.date(), rule.start_date), 100 + 1)
    else:
        hi = min(_utc_to_wall(min(stop, datetime(9999, 12, 1)), zone).date() + _DAY, _LAST_DATE)
    if rule.trigger == "hourly":
        instants = _hourly(rule, start, after, hi)
    else:
        instants = _merged(_candidate_days(rule, lo, min(hi, rule.until or hi)), zone)
    previous = None
    for instant in instants:
        if stop is not None and instant > stop:
            return
        if instant <= after or instant < start or instant == previous:
            continue
        if rule.until is not None and _utc_to_wall(instant, zone).date() > rule.until:
            continue
        previous = instant
        yield instant


def _hourly(rule, start, after, hi) -> Iterator[datetime]:
    zone, step = rule.zone, rule.every * 3600
    k = 0 if after < start else (after - start) // _SECOND // step + 1
    if rule.until is not None:
        hi = min(hi, rule.until + _DAY)
    limit = (_wall_to_utc(datetime.combine(hi + _DAY, time()), zone) - start) // _SECOND
    while k * step <= limit:
        instant = start + timedelta(seconds=k * step)
        if _utc_to_wall(instant, zone).weekday() in rule.allowed_weekdays:
            yield instant
        k += 1


def _merged(candidates, zone) -> Iterator[datetime]:
    pending: list[datetime] = []
    for day, times in candidates:
        pending.extend(_day_instants(day, times, zone))
        pending.sort()
        ready = bisect_left(pending, datetime.combine(day, time()) + _DAY - _MAX_OFFSET)
        if ready:
            yield from pending[:ready]
            del pending[:ready]
    yield from pending


def _day_instants(day, times, zone) -> list[datetime]:
    midnight = datetime.combine(day, time())
    if len(times) == 1:
        return [_wall_to_utc(midnight + times[0], zone)]
    offset = midnight.replace(tzinfo=zone).utcoffset()
    if offset == (midnight + _DAY).replace(tzinfo=zone).utcoffset():
        base = midnight - offset
        return [base + t for t in times]
    return sorted({_wall_to_utc(midnight + t, zone) for t in times})


def _wall_to_utc(wall, zone) -> datetime:
    return wall - wall.replace(tzinfo=zone).utcoffset()


def _utc_to_wall(instant, zone) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _to_zone(instant, zone) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(zone)


def _naive_utc(moment) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError("expected an aware datetime (with a UTC offset)")
    return moment.astimezone(UTC).replace(tzinfo=None)


def _add_years(day, years) -> date:
    if day.year + years > _LAST_DATE.year:
        return _LAST_DATE
    return min(day.replace(year=day.year + years, day=min(day.day, 28)), _LAST_DATE)


def _candidate_days(rule, lo, hi):
    if rule.trigger == "cron":
        spec = rule.cron_spec
        times = tuple(timedelta(minutes=m) for m in spec.times)
        for day in _cron_dates(spec, lo, hi):
            yield day, times
        return
    times = (timedelta(hours=rule.start.hour, minutes=rule.start.minute),)
    dates = {"daily": _daily, "weekly": _weekly, "monthly": _monthly, "yearly": _yearly}
    for day in dates[rule.trigger](rule, lo, hi):
        yield day, times


def _pick_in_month(rule, year, month) -> date | None:
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


def _ceil_div(numerator, denominator) -> int:
    return -(-numerator // denominator)


def _daily(rule, lo, hi):
    start, allowed = rule.start_date.toordinal(), rule.allowed_weekdays
    if rule.every % 7 == 0 and rule.start_date.weekday() not in allowed:
        return
    ordinal = start + max(0, _ceil_div(lo.toordinal() - start, rule.every)) * rule.every
    while ordinal <= hi.toordinal():
        if date.fromordinal(ordinal).weekday() in allowed:
            yield date.fromordinal(ordinal)
        ordinal += rule.every


def _weekly(rule, lo, hi):
    first_monday = rule.start_date.toordinal() - rule.start_date.weekday()
    weekdays = sorted(rule.allowed_weekdays)
    k = max(0, _ceil_div((lo.toordinal() - first_monday) // 7, rule.every))
    while (monday := first_monday + 7 * k * rule.every) <= hi.toordinal():
        for weekday in weekdays:
            if lo.toordinal() <= monday + weekday <= hi.toordinal():
                yield date.fromordinal(monday + weekday)
        k += 1


def _monthly(rule, lo, hi):
    first = rule.start_date.year * 12 + rule.start_date.month - 1
    k = max(0, _ceil_div(lo.year * 12 + lo.month - 1 - first, rule.every))
    while (index := first + k * rule.every) <= hi.year * 12 + hi.month - 1:
        year, month0 = divmod(index, 12)
        picked = _pick_in_month(rule, year, month0 + 1)
        if picked is not None and lo <= picked <= hi:
            yield picked
        k += 1


def _yearly(rule, lo, hi):
    first = rule.start_date.year
    k = max(0, _ceil_div(lo.year - first, rule.every))
    while (year := first + k * rule.every) <= hi.year:
        picked = _pick_in_month(rule, year, rule.effective_month)
        if picked is not None and lo <= picked <= hi:
            yield picked
        k += 1


def _cron_dates(spec, lo, hi):
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
