"""Daylight saving: skipped and repeated wall times, hourly in elapsed time."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from app.scheduling import fires_between, format_instant, parse_rule


def _per_local_day(data: dict, first: str, last: str) -> Counter:
    """How many fires land on each local date between two instants."""
    rule = parse_rule(data)
    found = fires_between(
        rule, datetime.fromisoformat(first), datetime.fromisoformat(last), limit=1000
    )
    return Counter(f.date().isoformat() for f in found)


def test_berlin_spring_forward_daily_0230_shifts_to_0330(fires):
    rule = {"start": "2026-03-01T02:30", "timezone": "Europe/Berlin", "trigger": "daily"}
    assert fires(rule, "2026-03-27T12:00:00+00:00", 3) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


def test_berlin_fall_back_daily_0230_fires_once_at_the_first_occurrence(fires):
    rule = {"start": "2026-10-01T02:30", "timezone": "Europe/Berlin", "trigger": "daily"}
    assert fires(rule, "2026-10-23T12:00:00+00:00", 3) == [
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_new_york_spring_forward(fires):
    rule = {"start": "2026-03-01T02:30", "timezone": "America/New_York", "trigger": "daily"}
    assert fires(rule, "2026-03-06T12:00:00+00:00", 3) == [
        "2026-03-07T02:30:00-05:00",
        "2026-03-08T03:30:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


def test_new_york_fall_back(fires):
    rule = {"start": "2026-10-01T01:30", "timezone": "America/New_York", "trigger": "daily"}
    assert fires(rule, "2026-10-30T12:00:00+00:00", 3) == [
        "2026-10-31T01:30:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]


def test_auckland_spring_forward(fires):
    rule = {"start": "2026-09-01T02:30", "timezone": "Pacific/Auckland", "trigger": "daily"}
    assert fires(rule, "2026-09-25T00:00:00+00:00", 3) == [
        "2026-09-26T02:30:00+12:00",
        "2026-09-27T03:30:00+13:00",
        "2026-09-28T02:30:00+13:00",
    ]


def test_auckland_fall_back(fires):
    rule = {"start": "2026-03-01T02:30", "timezone": "Pacific/Auckland", "trigger": "daily"}
    assert fires(rule, "2026-04-02T20:00:00+00:00", 3) == [
        "2026-04-04T02:30:00+13:00",
        "2026-04-05T02:30:00+13:00",
        "2026-04-06T02:30:00+12:00",
    ]


def test_hourly_in_berlin_has_23_and_25_fires_on_dst_days():
    rule = {"start": "2026-01-01T00:00", "timezone": "Europe/Berlin", "trigger": "hourly"}
    spring = _per_local_day(rule, "2026-03-27T22:59:00+00:00", "2026-03-30T21:59:00+00:00")
    assert spring == {"2026-03-28": 24, "2026-03-29": 23, "2026-03-30": 24}
    autumn = _per_local_day(rule, "2026-10-23T21:59:00+00:00", "2026-10-26T22:00:00+00:00")
    assert autumn == {"2026-10-24": 24, "2026-10-25": 25, "2026-10-26": 24}


def test_hourly_fall_back_fires_both_0230s(fires):
    rule = {"start": "2026-10-25T01:30", "timezone": "Europe/Berlin", "trigger": "hourly"}
    assert fires(rule, "2026-10-24T00:00:00+00:00", 4) == [
        "2026-10-25T01:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:30:00+01:00",
    ]


def test_lord_howe_hourly_quarter_past_becomes_quarter_to(fires):
    rule = {"start": "2026-04-04T22:15", "timezone": "Australia/Lord_Howe", "trigger": "hourly"}
    assert fires(rule, "2026-04-01T00:00:00+00:00", 6) == [
        "2026-04-04T22:15:00+11:00",
        "2026-04-04T23:15:00+11:00",
        "2026-04-05T00:15:00+11:00",
        "2026-04-05T01:15:00+11:00",
        "2026-04-05T01:45:00+10:30",
        "2026-04-05T02:45:00+10:30",
    ]


def test_lord_howe_daily_skipped_half_hour(fires):
    # 02:00-02:30 does not exist on 2026-10-04; 02:15 moves forward by the 30-minute gap.
    rule = {"start": "2026-10-01T02:15", "timezone": "Australia/Lord_Howe", "trigger": "daily"}
    assert fires(rule, "2026-10-02T00:00:00+00:00", 3) == [
        "2026-10-03T02:15:00+10:30",
        "2026-10-04T02:45:00+11:00",
        "2026-10-05T02:15:00+11:00",
    ]


def test_cron_skipped_time_fires_once_shifted_forward(fires):
    rule = {
        "start": "2026-03-01T00:00",
        "timezone": "Europe/Berlin",
        "trigger": "cron",
        "cron": "30 2 * * *",
    }
    assert fires(rule, "2026-03-27T12:00:00+00:00", 3) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


def test_cron_shifted_time_landing_on_another_fire_time_fires_once(fires):
    rule = {
        "start": "2026-03-01T00:00",
        "timezone": "Europe/Berlin",
        "trigger": "cron",
        "cron": "30 2,3 * * *",
    }
    assert fires(rule, "2026-03-28T12:00:00+00:00", 3) == [
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-30T03:30:00+02:00",
    ]


def test_cron_repeated_time_fires_once(fires):
    rule = {
        "start": "2026-10-01T00:00",
        "timezone": "Europe/Berlin",
        "trigger": "cron",
        "cron": "*/30 2 * * *",
    }
    assert fires(rule, "2026-10-24T12:00:00+00:00", 3) == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:00:00+01:00",
    ]


def test_cron_on_the_hour_counts_wall_hours_on_dst_days():
    rule = {
        "start": "2026-01-01T00:00",
        "timezone": "Europe/Berlin",
        "trigger": "cron",
        "cron": "0 * * * *",
    }
    spring = _per_local_day(rule, "2026-03-28T22:59:00+00:00", "2026-03-29T21:59:00+00:00")
    assert spring == {"2026-03-29": 23}
    autumn = _per_local_day(rule, "2026-10-24T21:59:00+00:00", "2026-10-25T22:59:00+00:00")
    assert autumn == {"2026-10-25": 24}


def test_start_inside_the_gap_fires_at_the_shifted_time():
    rule = parse_rule({"start": "2026-03-29T02:30", "timezone": "Europe/Berlin", "trigger": "once"})
    fire = fires_between(
        rule,
        datetime.fromisoformat("2026-03-29T00:00:00+00:00"),
        datetime.fromisoformat("2026-03-30T00:00:00+00:00"),
        5,
    )
    assert [format_instant(f) for f in fire] == ["2026-03-29T03:30:00+02:00"]


def test_apia_skipped_day_fires_once(fires):
    # Samoa skipped 2011-12-30 entirely; its 07:00 lands on the same instant as the 31st's.
    rule = {"start": "2011-12-27T07:00", "timezone": "Pacific/Apia", "trigger": "daily"}
    assert fires(rule, "2011-12-27T18:00:00+00:00", 4) == [
        "2011-12-28T07:00:00-10:00",
        "2011-12-29T07:00:00-10:00",
        "2011-12-31T07:00:00+14:00",
        "2012-01-01T07:00:00+14:00",
    ]
