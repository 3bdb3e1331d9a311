"""Edges of the rrule mapping: rules it must answer without searching to year 9999, and
the end of datetime's range."""

from __future__ import annotations

from datetime import datetime

import pytest
from dateutil.rrule import rrule

from app.scheduling import parse_rule
from app.scheduling.recurrence import candidate_days, elapsed_hours
from tests.helpers import fire_strings

LATE = "9999-12-30T00:00:00+00:00"


@pytest.mark.parametrize("days", [["sat"], ["sun"], ["sat", "sun"], []])
def test_a_weekly_rule_in_the_last_week_of_year_9999_ends_quietly(days):
    # dateutil builds the week of 9999-12-31 whole, which reaches year 10000.
    data = {"start": "8999-01-04T07:00", "trigger": "weekly", "days": days}  # a Friday
    assert fire_strings(data, "9999-12-26T00:00:00+00:00") == (
        ["9999-12-26T07:00:00+00:00"] if "sun" in days else []
    )
    assert fire_strings(data, LATE) == []


@pytest.mark.parametrize(
    ("data", "first"),
    [
        # Dates that exist in one month only through the leap day: never treated as impossible.
        (
            {"trigger": "monthly", "every": 12, "start": "2027-02-01T07:00", "day": 29},
            "2028-02-29T07:00:00+00:00",
        ),
        (
            {"trigger": "yearly", "month": 2, "day": 29, "start": "2025-03-01T07:00"},
            "2028-02-29T07:00:00+00:00",
        ),
        (
            {"trigger": "yearly", "month": 2, "day": 29, "every": 2, "start": "2026-01-01T07:00"},
            "2028-02-29T07:00:00+00:00",
        ),
        (
            {"trigger": "yearly", "month": 2, "day": 29, "every": 100, "start": "2000-01-01T07:00"},
            "2000-02-29T07:00:00+00:00",
        ),
        (
            {
                "trigger": "monthly",
                "every": 24,
                "start": "2026-02-01T07:00",
                "occurrence": 5,
                "days": ["tue"],
            },
            "2028-02-29T07:00:00+00:00",
        ),
        (
            {"trigger": "daily", "every": 14, "start": "2026-01-05T07:00", "days": ["mon"]},
            "2026-01-05T07:00:00+00:00",
        ),
        (
            {"trigger": "cron", "cron": "0 7 29 feb *", "start": "2026-01-01T00:00"},
            "2028-02-29T07:00:00+00:00",
        ),
        (
            {"trigger": "cron", "cron": "0 7 30 feb 1", "start": "2026-01-01T00:00"},
            "2026-02-02T07:00:00+00:00",  # restricted day fields are ORed: any Feb Monday
        ),
    ],
)
def test_rules_on_rare_dates_fire(data, first):
    assert fire_strings(data, "1999-01-01T00:00:00+00:00", 1) == [first]


@pytest.mark.parametrize(
    "data",
    [
        {"trigger": "monthly", "every": 12, "start": "2026-04-01T07:00", "day": 31},
        {"trigger": "monthly", "every": 24, "start": "2026-02-01T07:00", "day": 30},
        {"trigger": "yearly", "month": 2, "day": 30},
        # February 29 or a fifth weekday in February, in years that are never leap years.
        {"trigger": "yearly", "month": 2, "day": 29, "every": 2, "start": "2025-01-01T07:00"},
        {"trigger": "monthly", "every": 48, "start": "2025-02-01T07:00", "day": 29},
        {
            "trigger": "monthly",
            "every": 24,
            "start": "2027-02-01T07:00",
            "occurrence": 5,
            "days": ["tue"],
            "from_end": True,
        },
        {"trigger": "daily", "every": 7, "start": "2026-01-05T07:00", "days": ["tue"]},
        {"trigger": "cron", "cron": "0 7 30,31 2 *"},
        {"trigger": "cron", "cron": "0 7 31 apr,jun */2"},
    ],
)
def test_rules_that_select_no_date_have_no_recurrence(data):
    rule = parse_rule({"start": "2026-01-01T07:00", **data})
    lo, hi = datetime(2026, 1, 1).date(), datetime(9999, 12, 30).date()
    assert list(candidate_days(rule, lo, hi)) == []
    assert fire_strings(data, "2026-01-01T00:00:00+00:00") == []


def test_restricted_cron_day_fields_are_the_union_of_two_rrules():
    rule = parse_rule({"start": "2026-01-01T00:00", "trigger": "cron", "cron": "0 9 13 * fri"})
    lo, hi = datetime(2026, 2, 1).date(), datetime(2026, 3, 31).date()
    days = [day.isoformat() for day, _times in candidate_days(rule, lo, hi)]
    # Friday the 13th of February and March is listed once.
    assert days == [
        "2026-02-06", "2026-02-13", "2026-02-20", "2026-02-27",
        "2026-03-06", "2026-03-13", "2026-03-20", "2026-03-27",
    ]  # fmt: skip


def test_elapsed_hours_is_an_hourly_rrule_on_naive_time():
    hours = elapsed_hours(5, datetime(2026, 3, 28, 22), datetime(2026, 3, 29, 12))
    assert isinstance(hours, rrule)
    # 2026-03-29 is a DST day in Europe; naive time knows no DST, so steps stay 5 hours.
    assert list(hours) == [
        datetime(2026, 3, 28, 22),
        datetime(2026, 3, 29, 3),
        datetime(2026, 3, 29, 8),
    ]
