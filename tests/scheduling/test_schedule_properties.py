"""Property tests: the engine against a brute-force reading of SCHEDULE.md.

The checker below walks local dates one by one and applies the contract's definitions
directly; it shares no code with app.scheduling. Cron rules are generated together with
the sets their fields denote, so the checker does not rely on the cron parser either.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.scheduling import fires_between, parse_rule, preview

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "America/Sao_Paulo",  # its DST used to begin at midnight
    "America/Santiago",
    "Asia/Kolkata",
    "Asia/Tehran",
]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DOWS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
WINDOW = timedelta(days=366 * 30)  # how far the checker walks before giving up

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class CronTruth:
    """What a generated cron expression means, known from how it was generated."""

    minutes: frozenset[int]
    hours: frozenset[int]
    doms: frozenset[int]
    months: frozenset[int]
    dows: frozenset[int]  # 0 = Sunday
    dom_star: bool
    dow_star: bool


@st.composite
def cron_field(draw, low: int, high: int, names: list[str] | None = None, base: int = 0):
    """(text, values, starts_with_star) for one cron field."""

    def token(value: int) -> str:
        if names and 0 <= value - base < len(names) and draw(st.booleans()):
            name = names[value - base]
            return draw(st.sampled_from([name, name.upper(), name.capitalize()]))
        return str(value)

    kind = draw(st.sampled_from(["star", "star_step", "list"]))
    if kind == "star":
        return "*", set(range(low, high + 1)), True
    if kind == "star_step":
        step = draw(st.integers(1, high - low + 1))
        return f"*/{step}", set(range(low, high + 1, step)), True
    items, values = [], set()
    for _ in range(draw(st.integers(1, 3))):
        first = draw(st.integers(low, high))
        form = draw(st.sampled_from(["one", "range", "range_step"]))
        if form == "one":
            items.append(token(first))
            values.add(first)
            continue
        last = draw(st.integers(first, high))
        step = draw(st.integers(1, 4)) if form == "range_step" else 1
        items.append(f"{token(first)}-{token(last)}" + (f"/{step}" if form == "range_step" else ""))
        values.update(range(first, last + 1, step))
    return ",".join(items), values, False


@st.composite
def cron_rules(draw):
    minute, minutes, _ = draw(cron_field(0, 59))
    hour, hours, _ = draw(cron_field(0, 23))
    dom, doms, dom_star = draw(cron_field(1, 31))
    month, months, _ = draw(cron_field(1, 12, MONTHS, 1))
    dow, dows, dow_star = draw(cron_field(0, 7, DOWS, 0))
    truth = CronTruth(
        frozenset(minutes),
        frozenset(hours),
        frozenset(doms),
        frozenset(months),
        frozenset(d % 7 for d in dows),
        dom_star,
        dow_star,
    )
    return f"{minute} {hour} {dom} {month} {dow}", truth


@st.composite
def rules(draw):
    """(rule JSON, CronTruth or None) for any trigger."""
    trigger = draw(
        st.sampled_from(["yearly", "monthly", "weekly", "daily", "hourly", "once", "cron"])
    )
    day = draw(st.dates(date(2005, 1, 1), date(2030, 12, 31)))
    hour = draw(st.sampled_from([0, 1, 2, 3, 12, 23]) | st.integers(0, 23))
    minute = draw(st.sampled_from([0, 15, 30, 45]) | st.integers(0, 59))
    data = {
        "start": f"{day.isoformat()}T{hour:02d}:{minute:02d}",
        "timezone": draw(st.sampled_from(ZONES)),
        "trigger": trigger,
    }
    every_max = {"yearly": 4, "monthly": 13, "weekly": 4, "daily": 15, "hourly": 50}
    if trigger in every_max:
        data["every"] = draw(st.integers(1, every_max[trigger]))
        data["days"] = draw(st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=7))
    if trigger != "once" and draw(st.booleans()):
        data["until"] = (day + timedelta(days=draw(st.integers(0, 1500)))).isoformat()
    if trigger in ("monthly", "yearly"):
        if draw(st.booleans()):
            data["occurrence"] = draw(st.integers(1, 5))
            data["from_end"] = draw(st.booleans())
        else:
            data["day"] = draw(st.none() | st.just(-1) | st.integers(1, 31))
    if trigger == "yearly":
        data["month"] = draw(st.none() | st.integers(1, 12))
    truth = None
    if trigger == "cron":
        data["cron"], truth = draw(cron_rules())
    return data, truth


# --- the independent checker ------------------------------------------------------------


def _allowed(data: dict, start: date) -> set[int]:
    days = {WEEKDAYS.index(d) for d in data.get("days") or []}
    if not days:
        return {start.weekday()} if data["trigger"] == "weekly" else set(range(7))
    return days


def _picked_in_month(data: dict, d: date, allowed: set[int], start: datetime) -> bool:
    """SCHEDULE.md's monthly selection of D within D's month."""
    length = calendar.monthrange(d.year, d.month)[1]
    if data.get("occurrence"):
        month_days = [date(d.year, d.month, n) for n in range(1, length + 1)]
        chosen = [m for m in month_days if m.weekday() in allowed]
        if data.get("from_end"):
            chosen.reverse()
        return len(chosen) >= data["occurrence"] and chosen[data["occurrence"] - 1] == d
    wanted = data.get("day") or start.day
    wanted = length if wanted == -1 else wanted
    return d.day == wanted and d.weekday() in allowed


def _selected(data: dict, d: date, start: datetime, truth: CronTruth | None) -> bool:
    """Whether local date D is chosen by the rule (before wall time and bounds)."""
    s = start.date()
    allowed = _allowed(data, s)
    every = data.get("every", 1)
    trigger = data["trigger"]
    if trigger == "daily":
        return (d - s).days % every == 0 and d.weekday() in allowed
    if trigger == "weekly":
        weeks = ((d - timedelta(d.weekday())) - (s - timedelta(s.weekday()))).days // 7
        return weeks % every == 0 and d.weekday() in allowed
    if trigger == "monthly":
        months = (d.year - s.year) * 12 + d.month - s.month
        return months % every == 0 and _picked_in_month(data, d, allowed, start)
    if trigger == "yearly":
        month = data.get("month") or s.month
        return (
            (d.year - s.year) % every == 0
            and d.month == month
            and _picked_in_month(data, d, allowed, start)
        )
    assert truth is not None
    dom = d.day in truth.doms
    dow = d.isoweekday() % 7 in truth.dows
    day_ok = (dom and dow) if (truth.dom_star or truth.dow_star) else (dom or dow)
    return d.month in truth.months and day_ok


def expected_fires(data: dict, truth: CronTruth | None, after: datetime, count: int):
    """(first `count` fires after `after` as UTC datetimes, last local date checked)."""
    zone = ZoneInfo(data["timezone"])
    start = datetime.fromisoformat(data["start"])
    start_instant = start.replace(tzinfo=zone).astimezone(UTC)
    until = date.fromisoformat(data["until"]) if data.get("until") else None
    if data["trigger"] == "once":
        return ([start_instant] if start_instant > after else []), date.max
    last_day = (max(after, start_instant) + WINDOW).date()

    def valid(instant: datetime) -> bool:
        local_date = instant.astimezone(zone).date()
        return (
            instant > after and instant >= start_instant and (until is None or local_date <= until)
        )

    found: set[datetime] = set()
    if data["trigger"] == "hourly":
        allowed = _allowed(data, start.date())
        step = timedelta(hours=data["every"])
        k = max(0, (after - start_instant) // step)
        while (instant := start_instant + k * step).date() <= last_day:
            local = instant.astimezone(zone)
            if until is not None and local.date() > until + timedelta(days=1):
                break
            if local.weekday() in allowed and valid(instant):
                found.add(instant)
                if len(found) >= count:
                    break
            k += 1
    else:
        if truth is not None:
            times = [time(h, m) for h in sorted(truth.hours) for m in sorted(truth.minutes)]
        else:
            times = [start.time()]
        d = max(start.date(), after.astimezone(zone).date() - timedelta(days=3))
        extra_days = 0
        while d <= last_day and extra_days < 3:
            if _selected(data, d, start, truth):
                for t in times:
                    instant = datetime.combine(d, t, tzinfo=zone).astimezone(UTC)  # fold=0
                    if valid(instant):
                        found.add(instant)
            if len(found) >= count:
                extra_days += 1  # a few more days: a DST shift may still reorder fires
            d += timedelta(days=1)
        if extra_days >= 3:
            # Dates up to d - 1 were walked; a fire's local date is never before its date.
            last_day = d - timedelta(days=2)
    fires = sorted(found)
    return fires[:count], last_day


@st.composite
def cases(draw):
    data, truth = draw(rules())
    rule = parse_rule(data)
    start = rule.start.replace(tzinfo=rule.zone).astimezone(UTC)
    after = start + timedelta(minutes=draw(st.integers(-60 * 24 * 60, 60 * 24 * 366 * 3)))
    return data, truth, rule, after, draw(st.integers(1, 12))


def _utc(fires: list[datetime]) -> list[datetime]:
    return [f.astimezone(UTC) for f in fires]


# --- properties --------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(cases())
def test_preview_matches_the_brute_force_checker(case):
    data, truth, rule, after, count = case
    expected, last_day = expected_fires(data, truth, after, count)
    zone = ZoneInfo(data["timezone"])
    actual = [f for f in _utc(preview(rule, after, count)) if f.astimezone(zone).date() <= last_day]
    assert actual == [f for f in expected if f.astimezone(zone).date() <= last_day], (data, after)


@PROPERTY_SETTINGS
@given(cases())
def test_fires_ascend_and_stay_within_start_and_until(case):
    data, _truth, rule, after, count = case
    fires = preview(rule, after, count)
    instants = _utc(fires)
    assert all(a < b for a, b in zip(instants, instants[1:], strict=False))
    start = rule.start.replace(tzinfo=rule.zone)
    for fire in fires:
        assert fire > after
        assert fire >= start
        assert fire.tzinfo == rule.zone
        if rule.until is not None:
            assert fire.date() <= rule.until


@PROPERTY_SETTINGS
@given(cases())
def test_each_fire_satisfies_the_rule_on_its_own(case):
    data, truth, rule, after, count = case
    zone = ZoneInfo(data["timezone"])
    start = datetime.fromisoformat(data["start"])
    start_instant = start.replace(tzinfo=zone).astimezone(UTC)
    for fire in _utc(preview(rule, after, count)):
        if data["trigger"] == "once":
            assert fire == start_instant
        elif data["trigger"] == "hourly":
            elapsed = fire - start_instant
            assert elapsed % timedelta(hours=data["every"]) == timedelta(0)
            assert fire.astimezone(zone).weekday() in _allowed(data, start.date())
        else:
            assert _explained(data, truth, start, fire, zone), (data, fire)


def _explained(data, truth, start, fire, zone) -> bool:
    """Whether some selected local date and wall time produce exactly this instant."""
    times = [time(h, m) for h in truth.hours for m in truth.minutes] if truth else [start.time()]
    local_date = fire.astimezone(zone).date()
    # A skipped wall time is pushed forward, possibly past midnight: check the day before.
    for d in (local_date, local_date - timedelta(days=1)):
        if _selected(data, d, start, truth):
            for t in times:
                if datetime.combine(d, t, tzinfo=zone).astimezone(UTC) == fire:
                    return True
    return False


@PROPERTY_SETTINGS
@given(cases(), st.data())
def test_preview_can_be_resumed_from_its_last_fire(case, more):
    _data, _truth, rule, after, count = case
    whole = preview(rule, after, count)
    k = more.draw(st.integers(1, count))
    head = preview(rule, after, k)
    if len(head) < k:
        assert _utc(whole) == _utc(head)
        return
    tail = preview(rule, head[-1], count - k)
    if len(whole) == count:
        assert _utc(whole) == _utc(head + tail)
    else:
        # The whole preview stopped at its 100-year horizon; resuming later looks further.
        assert _utc(head + tail)[: len(whole)] == _utc(whole)


@PROPERTY_SETTINGS
@given(cases(), st.integers(1, 5))
def test_fires_between_is_the_tail_of_the_preview(case, limit):
    _data, _truth, rule, after, count = case
    fires = preview(rule, after, count)
    if fires:
        window = fires_between(rule, after, fires[-1], limit)
        assert _utc(window) == _utc(fires)[-limit:]
