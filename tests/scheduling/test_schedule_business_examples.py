"""SCHEDULE.md "Business days: shifting and holidays": every worked example, each
convention, holidays for every trigger, validation errors naming the field, description."""

from __future__ import annotations

import pytest

from app.scheduling import ScheduleRuleError, describe, parse_rule

WORKWEEK = ["mon", "tue", "wed", "thu", "fri"]
BERLIN = {"start": "2026-01-01T18:00", "timezone": "Europe/Berlin", "days": WORKWEEK}


def test_contract_example_day_15_preceding(fires):
    rule = {**BERLIN, "trigger": "monthly", "day": 15, "shift": "preceding"}
    # 2026-08-15 is a Saturday.
    assert fires(rule, "2026-08-01T00:00:00+00:00", 2) == [
        "2026-08-14T18:00:00+02:00",
        "2026-09-15T18:00:00+02:00",
    ]


def test_contract_example_month_end_modified_following(fires):
    rule = {**BERLIN, "trigger": "monthly", "day": -1, "shift": "modified_following"}
    # 2026-05-31 is a Sunday; following would be June 1, a later month.
    assert fires(rule, "2026-05-20T00:00:00+00:00", 2) == [
        "2026-05-29T18:00:00+02:00",
        "2026-06-30T18:00:00+02:00",
    ]


def test_contract_example_new_year_following_with_german_holidays(fires):
    rule = {
        **BERLIN,
        "trigger": "monthly",
        "day": 1,
        "shift": "following",
        "holidays": {"country": "DE"},
    }
    # 2027-01-01 is a Friday and New Year's Day.
    assert fires(rule, "2026-12-20T00:00:00+00:00", 2) == [
        "2027-01-04T18:00:00+01:00",
        "2027-02-01T18:00:00+01:00",
    ]


def test_contract_example_last_business_day_skips_memorial_day(fires):
    rule = {
        "start": "2026-01-01T18:00",
        "timezone": "America/New_York",
        "trigger": "monthly",
        "days": WORKWEEK,
        "occurrence": 1,
        "from_end": True,
        "holidays": {"country": "US"},
    }
    # The last weekday of May 2027 is Monday May 31, Memorial Day.
    assert fires(rule, "2027-05-01T00:00:00+00:00", 2) == [
        "2027-05-28T18:00:00-04:00",
        "2027-06-30T18:00:00-04:00",
    ]


@pytest.mark.parametrize(
    ("shift", "expected"),
    [
        ("none", ["2026-06-30T18:00:00+02:00"]),
        ("following", ["2026-06-01T18:00:00+02:00", "2026-06-30T18:00:00+02:00"]),
        ("preceding", ["2026-05-29T18:00:00+02:00", "2026-06-30T18:00:00+02:00"]),
        ("modified_following", ["2026-05-29T18:00:00+02:00", "2026-06-30T18:00:00+02:00"]),
        ("modified_preceding", ["2026-05-29T18:00:00+02:00", "2026-06-30T18:00:00+02:00"]),
    ],
)
def test_each_convention_on_a_sunday_month_end(fires, shift, expected):
    rule = {**BERLIN, "trigger": "monthly", "day": -1, "shift": shift}
    assert fires(rule, "2026-05-20T00:00:00+00:00", len(expected)) == expected


def test_modified_preceding_goes_forward_when_before_leaves_the_month(fires):
    # 2026-08-01 is a Saturday: preceding is Fri 31 Jul (an earlier month) -> Mon 3 Aug.
    rule = {**BERLIN, "trigger": "monthly", "day": 1, "shift": "modified_preceding"}
    assert fires(rule, "2026-07-20T00:00:00+00:00", 1) == ["2026-08-03T18:00:00+02:00"]
    rule["shift"] = "preceding"
    assert fires(rule, "2026-07-20T00:00:00+00:00", 1) == ["2026-07-31T18:00:00+02:00"]


def test_following_crosses_the_year_boundary(fires):
    # 2026-12-31 is a Thursday and an allowed day; 2027-12-31 is a Friday. With only
    # Mondays allowed the following Monday is in the next year.
    rule = {**BERLIN, "days": ["mon"], "trigger": "yearly", "month": 12, "day": 31}
    rule["shift"] = "following"
    assert fires(rule, "2026-01-01T00:00:00+00:00", 2) == [
        "2027-01-04T18:00:00+01:00",
        "2028-01-03T18:00:00+01:00",
    ]


def test_a_shifted_date_before_start_or_after_until_does_not_fire(fires):
    # Sat 2026-08-15 preceding -> Fri 14th, before the start date 2026-08-15: no fire.
    rule = {**BERLIN, "start": "2026-08-15T18:00", "trigger": "monthly", "day": 15}
    rule["shift"] = "preceding"
    assert fires(rule, "2026-01-01T00:00:00+00:00", 1) == ["2026-09-15T18:00:00+02:00"]
    # Following from a D before start (Sat 15th, start Sun 16th) lands after start: fires.
    rule.update(start="2026-08-16T18:00", shift="following")
    assert fires(rule, "2026-01-01T00:00:00+00:00", 1) == ["2026-08-17T18:00:00+02:00"]
    # until 2026-08-16 cuts Monday the 17th; a D after until may shift back before it.
    rule.update(start="2026-08-01T18:00", until="2026-08-16")
    assert fires(rule, "2026-01-01T00:00:00+00:00", 3) == []
    rule.update(day=17, until="2026-10-16", shift="preceding")  # Sat 17 Oct -> Fri 16 Oct
    assert fires(rule, "2026-01-01T00:00:00+00:00", 5) == [
        "2026-08-17T18:00:00+02:00",
        "2026-09-17T18:00:00+02:00",
        "2026-10-16T18:00:00+02:00",
    ]


def test_day_31_in_a_30_day_month_still_does_not_fire(fires):
    rule = {**BERLIN, "start": "2026-03-01T18:00", "trigger": "monthly", "day": 31}
    rule["shift"] = "preceding"
    # March 31 Tue; April has no 31st; May 31 Sun -> Fri 29th; June none; July 31 Fri.
    assert fires(rule, "2026-03-01T00:00:00+00:00", 3) == [
        "2026-03-31T18:00:00+02:00",
        "2026-05-29T18:00:00+02:00",
        "2026-07-31T18:00:00+02:00",
    ]


def test_shift_is_ignored_with_an_occurrence_and_outside_monthly_yearly():
    rule = parse_rule(
        {**BERLIN, "trigger": "monthly", "occurrence": 1, "shift": "following", "day": 3}
    )
    assert rule.shift == "none" and rule.day is None
    assert parse_rule({**BERLIN, "trigger": "daily", "shift": "following"}).shift == "none"


def test_holidays_on_daily_weekly_hourly_and_cron(fires):
    german = {"country": "DE"}
    after = "2026-12-23T00:00:00+00:00"
    daily = {**BERLIN, "trigger": "daily", "holidays": german}
    assert fires(daily, after, 4) == [
        "2026-12-23T18:00:00+01:00",
        "2026-12-24T18:00:00+01:00",
        "2026-12-28T18:00:00+01:00",  # 25th, 26th holidays, 26th/27th weekend
        "2026-12-29T18:00:00+01:00",
    ]
    weekly = {**BERLIN, "start": "2026-01-01T18:00", "days": ["fri"], "trigger": "weekly"}
    weekly["holidays"] = german
    assert fires(weekly, after, 2) == ["2027-01-08T18:00:00+01:00", "2027-01-15T18:00:00+01:00"]
    hourly = {**BERLIN, "days": [], "trigger": "hourly", "every": 6, "holidays": german}
    assert fires(hourly, "2026-12-24T10:00:00+00:00", 3) == [
        "2026-12-24T12:00:00+01:00",
        "2026-12-24T18:00:00+01:00",
        "2026-12-27T00:00:00+01:00",
    ]
    cron = {**BERLIN, "trigger": "cron", "cron": "30 9 24-27 12 *", "holidays": german}
    assert fires(cron, after, 2) == ["2026-12-24T09:30:00+01:00", "2026-12-27T09:30:00+01:00"]


def test_subdivision_holidays(fires):
    # Epiphany (Jan 6) is a holiday in Bavaria, not in Berlin.
    rule = {**BERLIN, "trigger": "monthly", "day": 6, "holidays": {"country": "DE"}}
    assert fires(rule, "2027-01-01T00:00:00+00:00", 1) == ["2027-01-06T18:00:00+01:00"]
    rule["holidays"] = {"country": "DE", "subdivision": "BY"}
    # Wed 6 Jan is Epiphany in Bavaria; 6 Feb and 6 Mar 2027 are Saturdays.
    assert fires(rule, "2027-01-01T00:00:00+00:00", 1) == ["2027-04-06T18:00:00+02:00"]


def test_once_ignores_shift_and_holidays(fires):
    rule = {
        "start": "2027-01-01T09:00",
        "timezone": "Europe/Berlin",
        "trigger": "once",
        "holidays": {"country": "XX"},
        "shift": "bogus",
    }
    assert fires(rule, "2026-01-01T00:00:00+00:00", 2) == ["2027-01-01T09:00:00+01:00"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"shift": "next"}, "shift", "unknown shift 'next'"),
        ({"shift": 1}, "shift", "unknown shift 1"),
        ({"holidays": {"country": "XX"}}, "holidays", "unknown country 'XX'"),
        ({"holidays": {"country": "de"}}, "holidays", "unknown country 'de'"),
        ({"holidays": {"country": "DEU"}}, "holidays", "unknown country 'DEU'"),
        ({"holidays": {"country": "US", "subdivision": "ZZ"}}, "holidays", "subdivision 'ZZ'"),
        ({"holidays": {"subdivision": "NY"}}, "holidays", "country is required"),
        ({"holidays": {"country": "US", "region": "NY"}}, "holidays", "unknown field 'region'"),
        ({"holidays": "US"}, "holidays", "must be null or an object"),
    ],
)
def test_invalid_fields_are_errors_naming_the_field(change, field, words):
    with pytest.raises(ScheduleRuleError) as caught:
        parse_rule({**BERLIN, "trigger": "monthly", "day": 15, **change})
    assert caught.value.field == field
    assert words in caught.value.message


def test_rule_json_round_trip_keeps_the_new_fields():
    data = {
        **BERLIN,
        "trigger": "monthly",
        "day": 15,
        "shift": "preceding",
        "holidays": {"country": "US", "subdivision": "NY"},
    }
    dumped = parse_rule(data).model_dump(mode="json", exclude_defaults=True)
    assert dumped["shift"] == "preceding"
    assert dumped["holidays"] == {"country": "US", "subdivision": "NY"}
    assert parse_rule(dumped) == parse_rule(data)
    assert "shift" not in parse_rule({**BERLIN, "trigger": "monthly"}).model_dump(
        mode="json", exclude_defaults=True
    )


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (
            {"trigger": "monthly", "day": 15, "shift": "preceding"},
            "On the 15th of every month at 18:00, or the business day before, Europe/Berlin",
        ),
        (
            {"trigger": "monthly", "day": -1, "shift": "following", "holidays": {"country": "DE"}},
            "On the last day of every month at 18:00, or the next business day "
            "(not on public holidays in Germany), Europe/Berlin",
        ),
        (
            {"trigger": "yearly", "month": 12, "day": 24, "shift": "modified_preceding"},
            "On December 24 every year at 18:00, or the business day before in that month, "
            "else the next one, Europe/Berlin",
        ),
        (
            {"trigger": "daily", "holidays": {"country": "US", "subdivision": "NY"}},
            "Every weekday at 18:00 (not on public holidays in United States (New York)), "
            "Europe/Berlin",
        ),
    ],
)
def test_description(change, text):
    assert describe(parse_rule({**BERLIN, **change})) == text


def test_a_yearly_anchor_month_before_starts_month_is_never_shifted_into_it(fires):
    # Start Mon 2026-03-02; anchor Feb 28. Sat 2026-02-28 following would be Mon Mar 2,
    # but February 2026 is an earlier month than start's: first fire is Mon 2027-03-01
    # (Sun 2027-02-28 following).
    rule = {**BERLIN, "start": "2026-03-02T18:00", "trigger": "yearly", "month": 2, "day": 28}
    rule["shift"] = "following"
    assert fires(rule, "2026-01-01T00:00:00+00:00", 1) == ["2027-03-01T18:00:00+01:00"]
