"""Property tests: shift and holidays against a brute-force reading of SCHEDULE.md's
"Business days" section. The checker shares no code with app.scheduling: it reads the
`holidays` package directly and walks months and days one by one."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays as holiday_package
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.scheduling import fires_between, parse_rule, preview

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
]
CALENDARS = [
    None,
    {"country": "US"},
    {"country": "US", "subdivision": "NY"},
    {"country": "DE"},
    {"country": "DE", "subdivision": "BY"},
    {"country": "GB", "subdivision": "SCT"},
    {"country": "NZ"},
    {"country": "BR"},
    {"country": "JP"},
]
SHIFTS = ["none", "following", "preceding", "modified_following", "modified_preceding"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
YEARS_WALKED = 12  # the checker's horizon past max(after, start)

SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@cache
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holiday_package.country_holidays(country, subdiv=subdivision, years=year))


def is_holiday(data: dict, d: date) -> bool:
    cal = data.get("holidays")
    return cal is not None and d in _holiday_dates(cal["country"], cal.get("subdivision"), d.year)


def allowed(data: dict, d: date, start: date) -> bool:
    days = {WEEKDAYS.index(x) for x in data.get("days") or []}
    if not days:
        days = {start.weekday()} if data["trigger"] == "weekly" else set(range(7))
    return d.weekday() in days and not is_holiday(data, d)


def shift(data: dict, d: date, start: date) -> date | None:
    """The ISDA conventions as SCHEDULE.md words them, day by day, 31 days at most."""
    if allowed(data, d, start):
        return d

    def walk(sign: int) -> date | None:
        for n in range(1, 32):
            if allowed(data, d + timedelta(days=sign * n), start):
                return d + timedelta(days=sign * n)
        return None

    convention = data.get("shift", "none")
    if convention == "none":
        return None
    if convention == "following":
        return walk(1)
    if convention == "preceding":
        return walk(-1)
    if convention == "modified_following":
        found = walk(1)
        return walk(-1) if found is None or found.month != d.month else found
    found = walk(-1)
    return walk(1) if found is None or found.month != d.month else found


def selected(data: dict, year: int, month: int, start: date) -> date | None:
    length = calendar.monthrange(year, month)[1]
    if data.get("occurrence"):
        days = [date(year, month, n) for n in range(1, length + 1)]
        if data.get("from_end"):
            days.reverse()
        chosen = [d for d in days if allowed(data, d, start)]
        return chosen[data["occurrence"] - 1] if len(chosen) >= data["occurrence"] else None
    day = data.get("day") or start.day
    day = length if day == -1 else day
    if day > length:
        return None
    return shift(data, date(year, month, day), start)


def local_fire_dates(data: dict, start: date, last: date) -> list[date]:
    """The local dates the rule fires on, from start's date to `last`, before bounds."""
    found = []
    every = data.get("every", 1)
    trigger = data["trigger"]
    if trigger in ("monthly", "yearly"):
        if trigger == "monthly":
            months = ((start.year * 12 + start.month - 1) + k * every for k in range(10**6))
        else:
            anchor = data.get("month") or start.month
            months = ((start.year + k * every) * 12 + anchor - 1 for k in range(10**6))
        for index in months:
            year, month0 = divmod(index, 12)
            if date(year, month0 + 1, 1) > last + timedelta(days=40):
                break
            if (year, month0 + 1) < (start.year, start.month):
                continue  # never an earlier month than start's
            d = selected(data, year, month0 + 1, start)
            if d is not None:
                found.append(d)
        return found
    d = start
    while d <= last:
        if trigger == "daily":
            ok = (d - start).days % every == 0
        else:
            weeks = ((d - timedelta(d.weekday())) - (start - timedelta(start.weekday()))).days
            ok = (weeks // 7) % every == 0
        if ok and allowed(data, d, start):
            found.append(d)
        d += timedelta(days=1)
    return found


def expected(data: dict, after: datetime, count: int) -> tuple[list[datetime], datetime]:
    """The first `count` fires after `after` (UTC) and the instant up to which it is sure."""
    zone = ZoneInfo(data["timezone"])
    start = datetime.fromisoformat(data["start"])
    start_instant = start.replace(tzinfo=zone).astimezone(UTC)
    until = date.fromisoformat(data["until"]) if data.get("until") else None
    horizon = max(after, start_instant).astimezone(zone).date()
    last = horizon.replace(year=horizon.year + YEARS_WALKED, day=1)
    fires = set()
    if data["trigger"] == "hourly":
        k = 0
        step = timedelta(hours=data["every"])
        while (instant := start_instant + k * step).astimezone(zone).date() <= last:
            local = instant.astimezone(zone).date()
            if until is not None and local > until:
                break
            if instant > after and allowed(data, local, start.date()):
                fires.add(instant)
                if len(fires) >= count:
                    break
            k += 1
    else:
        for d in local_fire_dates(data, start.date(), last):
            instant = datetime.combine(d, start.time(), tzinfo=zone).astimezone(UTC)
            if d >= start.date() and (until is None or d <= until) and instant > after:
                fires.add(instant)
    sure = datetime.combine(last, start.time(), tzinfo=zone).astimezone(UTC)
    return sorted(f for f in fires if f <= sure)[:count], sure


@st.composite
def cases(draw):
    trigger = draw(st.sampled_from(["monthly", "monthly", "yearly", "daily", "weekly", "hourly"]))
    # Years 2020..2032 keep the checker's holiday lookups few; day 1 and month ends often.
    day = draw(st.dates(date(2020, 1, 1), date(2032, 12, 31)))
    if draw(st.booleans()):
        day = day.replace(day=draw(st.sampled_from([1, 15, 28]))) + timedelta(
            days=draw(st.integers(-3, 3))
        )
    hour = draw(st.sampled_from([0, 2, 3, 12, 18, 23]))
    data = {
        "start": f"{day.isoformat()}T{hour:02d}:{draw(st.sampled_from([0, 30])):02d}",
        "timezone": draw(st.sampled_from(ZONES)),
        "trigger": trigger,
        "every": draw(st.integers(1, {"hourly": 30, "daily": 9, "weekly": 3}.get(trigger, 4))),
        "days": draw(
            st.sampled_from([WEEKDAYS[:5], WEEKDAYS[:5], WEEKDAYS[:5], [], ["mon"], ["sat"]])
            | st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=7)
        ),
        "holidays": draw(st.sampled_from(CALENDARS)),
    }
    if draw(st.booleans()):
        data["until"] = (day + timedelta(days=draw(st.integers(0, 800)))).isoformat()
    if trigger in ("monthly", "yearly"):
        if draw(st.integers(0, 3)) == 0:
            data["occurrence"] = draw(st.integers(1, 5))
            data["from_end"] = draw(st.booleans())
        else:
            # Month ends and firsts are where a shift crosses a month or year boundary.
            data["day"] = draw(st.sampled_from([None, -1, -1, -1, 1, 1, 1, 15, 29, 30, 31]))
            data["shift"] = draw(st.sampled_from(SHIFTS[1:]) | st.just("none"))
    if trigger == "yearly":
        data["month"] = draw(st.none() | st.integers(1, 12))
    rule = parse_rule(data)
    start = rule.start.replace(tzinfo=rule.zone).astimezone(UTC)
    after = start + timedelta(days=draw(st.integers(-40, 900)), hours=draw(st.integers(0, 23)))
    return data, rule, after, draw(st.integers(1, 12))


@SETTINGS
@given(cases())
def test_preview_matches_the_brute_force_checker(case):
    data, rule, after, count = case
    want, sure = expected(data, after, count)
    got = [f.astimezone(UTC) for f in preview(rule, after, count)]
    assert [f for f in got if f <= sure] == want


@SETTINGS
@given(cases())
def test_fires_ascend_once_each_on_allowed_days(case):
    data, rule, after, count = case
    got = [f.astimezone(UTC) for f in preview(rule, after, count)]
    assert got == sorted(set(got))
    zone = ZoneInfo(data["timezone"])
    for fire in got:
        local = fire.astimezone(zone).date()
        assert allowed(data, local, rule.start.date())
        assert not data.get("until") or local <= date.fromisoformat(data["until"])


@SETTINGS
@given(cases(), st.integers(1, 4))
def test_fires_between_is_the_tail_of_the_preview(case, limit):
    _, rule, after, count = case
    fires = [f.astimezone(UTC) for f in preview(rule, after, count)]
    if not fires:
        return
    assert [f.astimezone(UTC) for f in fires_between(rule, after, fires[-1], limit)] == fires[
        -limit:
    ]
