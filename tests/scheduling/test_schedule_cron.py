"""Cron parsing and matching with Vixie semantics."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.scheduling import CronError, ScheduleRuleError, parse_cron, parse_rule

SUNDAY = 0


def test_numbers_ranges_lists_and_steps():
    spec = parse_cron("*/15 1-10/3 1,15,31 * *")
    assert spec.minutes == {0, 15, 30, 45}
    assert spec.hours == {1, 4, 7, 10}
    assert spec.days_of_month == {1, 15, 31}
    assert spec.months == set(range(1, 13))


def test_step_larger_than_the_range_keeps_its_first_value():
    assert parse_cron("*/45 */7 * * *").minutes == {0, 45}
    assert parse_cron("0 */7 * * *").hours == {0, 7, 14, 21}
    assert parse_cron("10-12/5 * * * *").minutes == {10}


@pytest.mark.parametrize("text", ["JAN,feb,Mar", "jan-mar", "1-3", "JAN-3"])
def test_month_names_in_any_case(text):
    assert parse_cron(f"0 0 1 {text} *").months == {1, 2, 3}


@pytest.mark.parametrize("text", ["MON-fri", "mon,Tue,wEd,thu,FRI", "1-5"])
def test_weekday_names_in_any_case(text):
    assert parse_cron(f"0 0 * * {text}").days_of_week == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("text", ["0", "7", "sun", "SUN", "0,7"])
def test_zero_and_seven_are_sunday(text):
    assert parse_cron(f"0 0 * * {text}").days_of_week == {SUNDAY}


def test_range_up_to_seven_includes_sunday():
    assert parse_cron("0 0 * * 5-7").days_of_week == {5, 6, SUNDAY}
    assert parse_cron("0 0 * * *").days_of_week == set(range(7))


def test_both_day_fields_restricted_match_either():
    spec = parse_cron("0 0 13 * fri")
    assert spec.matches_date(date(2026, 1, 13))  # a Tuesday, the 13th
    assert spec.matches_date(date(2026, 1, 16))  # a Friday
    assert not spec.matches_date(date(2026, 1, 14))


@pytest.mark.parametrize("dom", ["*/2", "*", "*/1"])
def test_star_prefixed_day_of_month_counts_as_unrestricted(dom):
    spec = parse_cron(f"0 0 {dom} * mon")
    assert spec.dom_star
    assert spec.matches_date(date(2026, 1, 5))  # Monday the 5th
    assert not spec.matches_date(date(2026, 1, 7))  # Wednesday the 7th
    if dom == "*/2":
        assert not spec.matches_date(date(2026, 1, 12))  # Monday, but an even day


def test_star_prefixed_day_of_week_counts_as_unrestricted():
    spec = parse_cron("0 0 1-7 * */2")
    assert spec.dow_star
    assert spec.matches_date(date(2026, 1, 4))  # Sunday the 4th: both fields match
    assert not spec.matches_date(date(2026, 1, 5))  # Monday: weekday 1 is not in */2
    assert not spec.matches_date(date(2026, 1, 11))  # Sunday, but not in 1-7


def test_month_field_restricts_dates():
    spec = parse_cron("0 0 * feb *")
    assert spec.matches_date(date(2026, 2, 3))
    assert not spec.matches_date(date(2026, 3, 3))


def test_matches_a_wall_minute():
    spec = parse_cron("30 9 * * mon-fri")
    assert spec.matches(datetime(2026, 1, 5, 9, 30))
    assert not spec.matches(datetime(2026, 1, 5, 9, 31))
    assert not spec.matches(datetime(2026, 1, 4, 9, 30))


def test_whitespace_between_fields_is_free():
    assert parse_cron("  0\t9  * *   1 ").expression == "0 9 * * 1"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "* * * *",
        "* * * * * *",
        "@daily",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * 32 * *",
        "* * * 13 *",
        "* * * * 8",
        "*/0 * * * *",
        "5/15 * * * *",
        "10-5 * * * *",
        "1,,2 * * * *",
        "-1 * * * *",
        "* * * * mon-",
        "* * * * monday",
        "* * * jan/2 *",
        "* * ? * *",
        "* * L * *",
        "* * * * 1#2",
        "1.5 * * * *",
        "٣ * * * *",
        "* * * * funday",
        "*/x * * * *",
    ],
)
def test_malformed_cron_is_rejected_naming_the_field(text):
    with pytest.raises(CronError):
        parse_cron(text)
    with pytest.raises(ScheduleRuleError) as caught:
        parse_rule({"start": "2026-01-01T00:00", "trigger": "cron", "cron": text})
    assert caught.value.field == "cron"
    assert str(caught.value).startswith("cron: ")


def test_error_message_names_the_cron_field():
    with pytest.raises(ScheduleRuleError) as caught:
        parse_rule({"start": "2026-01-01T00:00", "trigger": "cron", "cron": "0 25 * * *"})
    assert str(caught.value) == "cron: hour 25 is out of range 0-23"


def test_cron_rule_preview_uses_the_or_rule(fires):
    rule = {"start": "2026-01-01T00:00", "trigger": "cron", "cron": "0 8 13 * fri"}
    assert fires(rule, "2026-01-01T00:00:00+00:00", 4) == [
        "2026-01-02T08:00:00+00:00",
        "2026-01-09T08:00:00+00:00",
        "2026-01-13T08:00:00+00:00",
        "2026-01-16T08:00:00+00:00",
    ]


def test_cron_rule_preview_with_a_star_step_day_field_uses_and(fires):
    rule = {"start": "2026-01-01T00:00", "trigger": "cron", "cron": "0 8 */2 * mon"}
    # Mondays on odd days of the month only.
    assert fires(rule, "2026-01-01T00:00:00+00:00", 3) == [
        "2026-01-05T08:00:00+00:00",
        "2026-01-19T08:00:00+00:00",
        "2026-02-09T08:00:00+00:00",
    ]
