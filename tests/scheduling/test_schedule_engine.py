"""Engine entry points: next fire, catch-up windows, formatting, horizon, empty previews."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.scheduling import (
    empty_preview_reason,
    fires_between,
    format_instant,
    next_fire_after,
    parse_rule,
    preview,
)

NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)
DAILY = {"start": "2026-01-01T07:00", "trigger": "daily"}


def _iso(fires: list[datetime]) -> list[str]:
    return [format_instant(f) for f in fires]


def test_format_instant_keeps_offset_and_seconds():
    berlin = ZoneInfo("Europe/Berlin")
    assert format_instant(datetime(2026, 3, 30, 7, tzinfo=berlin)) == "2026-03-30T07:00:00+02:00"
    assert format_instant(datetime(2026, 1, 1, 7, 0, 0, 123, tzinfo=UTC)) == (
        "2026-01-01T07:00:00+00:00"
    )
    with pytest.raises(ValueError):
        format_instant(datetime(2026, 1, 1))


def test_preview_returns_aware_datetimes_in_the_rule_zone():
    rule = parse_rule({**DAILY, "timezone": "Europe/Berlin"})
    fires = preview(rule, NEW_YEAR, 2)
    assert all(f.tzinfo == ZoneInfo("Europe/Berlin") for f in fires)


def test_preview_count_zero_and_naive_after():
    rule = parse_rule(DAILY)
    assert preview(rule, NEW_YEAR, 0) == []
    with pytest.raises(ValueError):
        preview(rule, datetime(2026, 1, 1), 3)
    with pytest.raises(ValueError):
        preview(rule, NEW_YEAR, -1)


def test_next_fire_after():
    rule = parse_rule(DAILY)
    assert format_instant(next_fire_after(rule, NEW_YEAR)) == "2026-01-01T07:00:00+00:00"
    once = parse_rule({**DAILY, "trigger": "once"})
    assert next_fire_after(once, datetime(2026, 2, 1, tzinfo=UTC)) is None


def test_fires_between_is_exclusive_then_inclusive():
    rule = parse_rule(DAILY)
    found = fires_between(
        rule, datetime(2026, 1, 1, 7, tzinfo=UTC), datetime(2026, 1, 3, 7, tzinfo=UTC), 10
    )
    assert _iso(found) == ["2026-01-02T07:00:00+00:00", "2026-01-03T07:00:00+00:00"]


def test_fires_between_keeps_the_latest_when_limited():
    rule = parse_rule({"start": "2026-01-01T00:00", "trigger": "cron", "cron": "* * * * *"})
    found = fires_between(rule, NEW_YEAR, datetime(2026, 3, 1, tzinfo=UTC), 3)
    assert _iso(found) == [
        "2026-02-28T23:58:00+00:00",
        "2026-02-28T23:59:00+00:00",
        "2026-03-01T00:00:00+00:00",
    ]


def test_fires_between_with_a_long_gap_and_a_sparse_rule():
    rule = parse_rule({"start": "2026-01-01T07:00", "trigger": "yearly", "every": 40})
    found = fires_between(rule, NEW_YEAR, datetime(2200, 1, 1, tzinfo=UTC), 10)
    assert _iso(found) == [
        "2026-01-01T07:00:00+00:00",
        "2066-01-01T07:00:00+00:00",
        "2106-01-01T07:00:00+00:00",
        "2146-01-01T07:00:00+00:00",
        "2186-01-01T07:00:00+00:00",
    ]


def test_fires_between_empty_window():
    rule = parse_rule(DAILY)
    assert fires_between(rule, NEW_YEAR, NEW_YEAR, 5) == []
    assert fires_between(rule, NEW_YEAR, NEW_YEAR + timedelta(days=3), 0) == []


def test_preview_looks_at_least_a_hundred_years_ahead():
    rule = parse_rule({"start": "2026-01-01T07:00", "trigger": "yearly", "every": 99})
    assert _iso(preview(rule, datetime(2027, 1, 1, tzinfo=UTC), 3)) == [
        "2125-01-01T07:00:00+00:00",
    ]


def test_sparse_rule_returns_fewer_than_count():
    rule = parse_rule({"start": "2026-01-01T07:00", "trigger": "yearly", "every": 30})
    assert len(preview(rule, NEW_YEAR, 20)) in (4, 5)


def test_preview_near_the_end_of_the_calendar_does_not_crash():
    rule = parse_rule(
        {"start": "2026-01-01T07:00", "timezone": "Pacific/Kiritimati", "trigger": "daily"}
    )
    far = datetime(9999, 12, 1, tzinfo=UTC)
    assert len(preview(rule, far, 5)) <= 5
    cron = parse_rule(
        {
            "start": "2026-01-01T00:00",
            "timezone": "Etc/GMT+12",
            "trigger": "cron",
            "cron": "59 23 * * *",
        }
    )
    assert len(preview(cron, far, 5)) <= 5


def test_huge_every_is_harmless():
    for trigger in ("hourly", "daily", "weekly", "monthly", "yearly"):
        rule = parse_rule({**DAILY, "trigger": trigger, "every": 10**12})
        assert _iso(preview(rule, NEW_YEAR, 3)) == ["2026-01-01T07:00:00+00:00"]


@pytest.mark.parametrize(
    ("data", "after", "fragment"),
    [
        ({**DAILY, "trigger": "once"}, "2026-02-01T00:00:00+00:00", "already fired"),
        (
            {**DAILY, "until": "2026-01-10"},
            "2026-02-01T00:00:00+00:00",
            "ended on its until date, 2026-01-10",
        ),
        ({**DAILY, "until": "2026-01-10"}, "2026-01-10T12:00:00+00:00", "last fire has passed"),
        (
            {
                "start": "2026-01-07T07:00",
                "trigger": "weekly",
                "days": ["mon"],
                "until": "2026-01-10",
            },
            "2026-01-01T00:00:00+00:00",
            "comes after the until date",
        ),
        (
            {"start": "2026-04-01T07:00", "trigger": "monthly", "every": 12, "day": 31},
            "2026-01-01T00:00:00+00:00",
            "Day 31 does not exist in April",
        ),
        (
            {"start": "2026-01-01T07:00", "trigger": "yearly", "month": 2, "day": 30},
            "2026-01-01T00:00:00+00:00",
            "Day 30 does not exist in February",
        ),
        (
            {**DAILY, "every": 7, "days": ["mon"]},
            "2026-01-01T00:00:00+00:00",
            "always lands on a Thursday",
        ),
        (
            {"start": "2026-01-01T00:00", "trigger": "cron", "cron": "0 0 30 2 *"},
            "2026-01-01T00:00:00+00:00",
            "selects no date",
        ),
        (
            {
                "start": "2026-01-01T07:00",
                "trigger": "yearly",
                "month": 2,
                "occurrence": 5,
                "days": ["mon"],
                "every": 12,
            },
            "2026-01-01T00:00:00+00:00",
            "No month the schedule reaches (February) has a 5th allowed day",
        ),
        (
            {"start": "2026-01-01T07:00", "trigger": "yearly", "every": 400},
            "2027-01-01T00:00:00+00:00",
            "more than 100 years away",
        ),
    ],
)
def test_empty_preview_reason(data, after, fragment):
    rule = parse_rule(data)
    moment = datetime.fromisoformat(after)
    assert preview(rule, moment, 5) == []
    assert fragment in empty_preview_reason(rule, moment)


@pytest.mark.parametrize(
    "data",
    [
        # Only January 2026 is reachable within the horizon, and its 15th is a Thursday.
        {"start": "2026-01-15T07:00", "trigger": "monthly", "every": 2400, "days": ["mon"]},
        # Jan 15 is a Thursday and Feb 15 a Sunday: no Monday the 15th before the until date.
        {"start": "2026-01-15T07:00", "trigger": "monthly", "days": ["mon"], "until": "2026-03-01"},
    ],
)
def test_empty_preview_reason_for_a_fixed_date_on_a_disallowed_weekday(data):
    rule = parse_rule(data)
    assert preview(rule, NEW_YEAR, 5) == []
    assert empty_preview_reason(rule, NEW_YEAR).startswith(
        "Allowed days exclude the weekday the fixed date 15 falls on"
    )


def test_twenty_fire_preview_is_fast():
    rules = [
        parse_rule(
            {
                "start": "2026-01-01T18:00",
                "timezone": "Europe/Berlin",
                "trigger": "monthly",
                "every": 3,
                "occurrence": 1,
                "from_end": True,
                "days": ["mon", "tue", "wed", "thu", "fri"],
            }
        ),
        parse_rule(
            {
                "start": "2026-01-01T00:00",
                "timezone": "Europe/Berlin",
                "trigger": "cron",
                "cron": "*/15 9-17 * * mon-fri",
            }
        ),
        parse_rule(
            {"start": "2026-01-01T00:15", "timezone": "Australia/Lord_Howe", "trigger": "hourly"}
        ),
    ]
    for rule in rules:
        preview(rule, NEW_YEAR, 20)
        began = time.perf_counter()
        for _ in range(20):
            preview(rule, NEW_YEAR, 20)
        assert (time.perf_counter() - began) / 20 < 0.01
