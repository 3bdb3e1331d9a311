"""Rule validation, defaults, ignored fields and plain-language descriptions."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.scheduling import ScheduleRule, ScheduleRuleError, describe, parse_rule

DAILY = {"start": "2026-01-01T07:00", "trigger": "daily"}
MONTHLY = {"start": "2026-01-01T07:00", "trigger": "monthly"}
YEARLY = {"start": "2026-01-01T07:00", "trigger": "yearly"}


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({**DAILY, "colour": "red"}, "colour", "unknown field"),
        ({**DAILY, "trigger": "fortnightly"}, "trigger", "unknown trigger 'fortnightly'"),
        ({"start": "2026-01-01T07:00"}, "trigger", "is required"),
        ({"trigger": "daily"}, "start", "is required"),
        ({**DAILY, "start": None}, "start", "is required"),
        ({**DAILY, "start": "2026-01-01 07:00"}, "start", "local date-time"),
        ({**DAILY, "start": "2026-01-01"}, "start", "local date-time"),
        ({**DAILY, "start": "2026-01-01T07:00+02:00"}, "start", "local date-time"),
        ({**DAILY, "start": "2026-01-01T07:00:30"}, "start", "local date-time"),
        ({**DAILY, "start": "2026-02-30T07:00"}, "start", "not a real date"),
        ({**DAILY, "start": "1850-01-01T07:00"}, "start", "year"),
        ({**DAILY, "start": 20260101}, "start", "local date-time"),
        ({**DAILY, "timezone": "Mars/Olympus_Mons"}, "timezone", "unknown timezone"),
        ({**DAILY, "timezone": "europe/berlin"}, "timezone", "unknown timezone"),
        ({**DAILY, "timezone": "localtime"}, "timezone", "unknown timezone"),
        ({**DAILY, "timezone": "../etc/passwd"}, "timezone", "unknown timezone"),
        ({**DAILY, "timezone": "right/UTC"}, "timezone", "unknown timezone"),
        ({**DAILY, "timezone": ""}, "timezone", "IANA"),
        ({**DAILY, "timezone": 1}, "timezone", "IANA"),
        ({**DAILY, "every": 0}, "every", "at least 1"),
        ({**DAILY, "every": -3}, "every", "at least 1"),
        ({**DAILY, "every": "2"}, "every", "whole number"),
        ({**DAILY, "every": 1.5}, "every", "whole number"),
        ({**DAILY, "every": True}, "every", "whole number"),
        ({**DAILY, "until": "2025-12-31"}, "until", "before the start date"),
        ({**DAILY, "until": "2026-02-30"}, "until", "not a real date"),
        ({**DAILY, "until": "31.12.2026"}, "until", "date like"),
        ({**DAILY, "until": "2026-12-31T00:00"}, "until", "date like"),
        ({**DAILY, "days": ["mon", "mom"]}, "days", "unknown weekday 'mom'"),
        ({**DAILY, "days": "mon"}, "days", "list"),
        ({**DAILY, "days": [1]}, "days", "unknown weekday 1"),
        ({**MONTHLY, "day": 0}, "day", "1..31"),
        ({**MONTHLY, "day": -2}, "day", "1..31"),
        ({**MONTHLY, "day": 32}, "day", "1..31"),
        ({**MONTHLY, "day": "1"}, "day", "1..31"),
        ({**MONTHLY, "occurrence": 0}, "occurrence", "between 1 and 5"),
        ({**MONTHLY, "occurrence": 6}, "occurrence", "between 1 and 5"),
        ({**MONTHLY, "occurrence": 1, "from_end": "yes"}, "from_end", "true or false"),
        ({**YEARLY, "month": 0}, "month", "between 1 and 12"),
        ({**YEARLY, "month": 13}, "month", "between 1 and 12"),
        ({"start": "2026-01-01T00:00", "trigger": "cron"}, "cron", "required"),
        ({"start": "2026-01-01T00:00", "trigger": "cron", "cron": "* * *"}, "cron", "5 fields"),
        ({"start": "2026-01-01T00:00", "trigger": "cron", "cron": 5}, "cron", "string"),
    ],
)
def test_invalid_rules_name_the_field(data, field, fragment):
    with pytest.raises(ScheduleRuleError) as caught:
        parse_rule(data)
    assert caught.value.field == field
    assert fragment in caught.value.message
    assert str(caught.value) == f"{field}: {caught.value.message}"


@pytest.mark.parametrize("data", [None, [], "daily", 3])
def test_a_rule_must_be_an_object(data):
    with pytest.raises(ScheduleRuleError) as caught:
        parse_rule(data)
    assert caught.value.field == "rule"


def test_days_error_message_reads_naturally():
    with pytest.raises(ScheduleRuleError, match=r"^days: unknown weekday 'mom'$"):
        parse_rule({**DAILY, "days": ["mom"]})


def test_null_means_default():
    rule = parse_rule(
        {
            **YEARLY,
            "timezone": None,
            "every": None,
            "until": None,
            "days": None,
            "month": None,
            "day": None,
            "occurrence": None,
            "from_end": None,
            "cron": None,
        }
    )
    assert rule.timezone == "UTC"
    assert rule.every == 1
    assert rule.days == ()
    assert rule.from_end is False
    assert rule.effective_month == 1
    assert rule.effective_day == 1


def test_fields_that_do_not_apply_to_the_trigger_are_ignored():
    rule = parse_rule(
        {**DAILY, "month": 13, "day": 0, "occurrence": 9, "from_end": "x", "cron": "nonsense"}
    )
    assert (rule.month, rule.day, rule.occurrence, rule.from_end, rule.cron) == (
        None,
        None,
        None,
        False,
        None,
    )
    once = parse_rule(
        {
            "start": "2026-01-01T07:00",
            "trigger": "once",
            "every": 0,
            "days": ["xyz"],
            "until": "2000-01-01",
        }
    )
    assert (once.every, once.days, once.until) == (1, (), None)
    cron = parse_rule(
        {
            "start": "2026-01-01T00:00",
            "trigger": "cron",
            "cron": "0 9 * * *",
            "every": 0,
            "days": ["xyz"],
            "day": 99,
            "until": "2026-02-01",
        }
    )
    assert (cron.every, cron.days, cron.day, cron.until) == (1, (), None, date(2026, 2, 1))


def test_day_is_ignored_when_occurrence_is_set():
    rule = parse_rule({**MONTHLY, "day": 0, "occurrence": 2})
    assert rule.day is None
    assert rule.occurrence == 2


def test_unknown_fields_are_errors_even_when_null():
    with pytest.raises(ScheduleRuleError, match="^hour: unknown field$"):
        parse_rule({**DAILY, "hour": None, "start": "2026-01-01T07:00"} | {"hour": 3})


def test_days_are_normalised():
    rule = parse_rule({**DAILY, "days": ["FRI", "mon", "Fri"]})
    assert rule.days == ("mon", "fri")
    assert rule.allowed_weekdays == {0, 4}


def test_start_accepts_zero_seconds():
    assert parse_rule({**DAILY, "start": "2026-01-01T07:00:00"}).start == datetime(2026, 1, 1, 7)


def test_day_minus_one_and_until_on_the_start_date_are_valid():
    assert parse_rule({**MONTHLY, "day": -1}).effective_day == -1
    assert parse_rule({**DAILY, "until": "2026-01-01"}).until == date(2026, 1, 1)


def test_json_round_trip():
    data = {
        "start": "2026-01-01T07:00",
        "timezone": "Europe/Berlin",
        "trigger": "monthly",
        "every": 3,
        "until": "2027-01-01",
        "days": ["mon", "fri"],
        "occurrence": 1,
        "from_end": True,
    }
    rule = parse_rule(data)
    dumped = rule.model_dump(mode="json")
    assert dumped["start"] == "2026-01-01T07:00"
    assert dumped["until"] == "2027-01-01"
    assert dumped["days"] == ["mon", "fri"]
    assert parse_rule(dumped) == rule


def test_rules_are_immutable_and_hashable():
    rule = parse_rule(DAILY)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error type
        rule.every = 2  # type: ignore[misc]
    assert hash(rule) == hash(parse_rule(DAILY))
    assert isinstance(rule, ScheduleRule)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (
            {
                "start": "2026-01-01T18:00",
                "timezone": "Europe/Berlin",
                "trigger": "monthly",
                "every": 3,
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "occurrence": 1,
                "from_end": True,
            },
            "Last weekday of every 3rd month at 18:00, Europe/Berlin",
        ),
        ({**DAILY, "days": ["mon", "tue", "wed", "thu", "fri"]}, "Every weekday at 07:00, UTC"),
        (
            {
                "start": "2026-01-01T09:00",
                "timezone": "Europe/Berlin",
                "trigger": "monthly",
                "days": ["mon"],
                "occurrence": 1,
            },
            "1st Monday of every month at 09:00, Europe/Berlin",
        ),
        ({"start": "2026-05-01T07:00", "trigger": "once"}, "Once on 2026-05-01 at 07:00, UTC"),
        (
            {
                "start": "2026-01-01T00:00",
                "timezone": "Europe/Berlin",
                "trigger": "cron",
                "cron": "*/15 9-17 * * mon-fri",
            },
            "Cron '*/15 9-17 * * mon-fri', Europe/Berlin",
        ),
        (DAILY, "Every day at 07:00, UTC"),
        (
            {**DAILY, "every": 2, "days": ["sat", "sun"]},
            "Every 2nd day at 07:00 on weekend days, UTC",
        ),
        ({**DAILY, "until": "2026-06-30"}, "Every day at 07:00 until 2026-06-30, UTC"),
        ({"start": "2026-01-07T07:00", "trigger": "weekly"}, "Every Wednesday at 07:00, UTC"),
        (
            {"start": "2026-01-07T07:00", "trigger": "weekly", "every": 2, "days": ["mon", "thu"]},
            "Every 2nd week on Monday and Thursday at 07:00, UTC",
        ),
        ({"start": "2026-01-01T00:15", "trigger": "hourly"}, "Every hour at :15, UTC"),
        (
            {"start": "2026-01-01T00:15", "trigger": "hourly", "every": 3, "days": ["mon", "fri"]},
            "Every 3 hours from 00:15 on Mondays and Fridays, UTC",
        ),
        ({**MONTHLY, "day": -1}, "Last day of every month at 07:00, UTC"),
        (
            {**MONTHLY, "day": 31, "days": ["mon", "tue", "wed", "thu", "fri"]},
            "Day 31 of every month at 07:00 if it falls on a weekday, UTC",
        ),
        (
            {**MONTHLY, "occurrence": 2, "from_end": True, "days": ["fri"]},
            "2nd-to-last Friday of every month at 07:00, UTC",
        ),
        ({**YEARLY, "month": 3, "day": 15}, "March 15 every year at 07:00, UTC"),
        (
            {**YEARLY, "month": 3, "every": 2, "occurrence": 1, "days": ["sun"]},
            "1st Sunday of March every 2nd year at 07:00, UTC",
        ),
    ],
)
def test_describe(data, text):
    assert describe(parse_rule(data)) == text
