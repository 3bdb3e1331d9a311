"""SCHEDULE.md's worked examples and date rules, as explicit fire lists."""

from __future__ import annotations

WORKWEEK = ["mon", "tue", "wed", "thu", "fri"]
NEW_YEAR = "2026-01-01T00:00:00+00:00"


def test_first_monday_of_every_month_at_nine(fires):
    rule = {
        "start": "2026-01-01T09:00",
        "timezone": "Europe/Berlin",
        "trigger": "monthly",
        "days": ["mon"],
        "occurrence": 1,
    }
    assert fires(rule, NEW_YEAR, 5) == [
        "2026-01-05T09:00:00+01:00",
        "2026-02-02T09:00:00+01:00",
        "2026-03-02T09:00:00+01:00",
        "2026-04-06T09:00:00+02:00",
        "2026-05-04T09:00:00+02:00",
    ]


def test_last_business_day_of_every_quarter_at_six_pm(fires):
    rule = {
        "start": "2026-03-01T18:00",
        "timezone": "Europe/Berlin",
        "trigger": "monthly",
        "every": 3,
        "days": WORKWEEK,
        "occurrence": 1,
        "from_end": True,
    }
    assert fires(rule, NEW_YEAR, 5) == [
        "2026-03-31T18:00:00+02:00",
        "2026-06-30T18:00:00+02:00",
        "2026-09-30T18:00:00+02:00",
        "2026-12-31T18:00:00+01:00",
        "2027-03-31T18:00:00+02:00",
    ]


def test_last_weekday_skips_a_weekend_month_end(fires):
    rule = {"trigger": "monthly", "days": WORKWEEK, "occurrence": 1, "from_end": True}
    # 2026-01-31 is a Saturday, 2026-05-31 a Sunday.
    assert fires(rule, NEW_YEAR, 5) == [
        "2026-01-30T07:00:00+00:00",
        "2026-02-27T07:00:00+00:00",
        "2026-03-31T07:00:00+00:00",
        "2026-04-30T07:00:00+00:00",
        "2026-05-29T07:00:00+00:00",
    ]


def test_every_weekday_at_seven(fires):
    rule = {"trigger": "daily", "days": WORKWEEK}
    assert fires(rule, NEW_YEAR, 6) == [
        "2026-01-01T07:00:00+00:00",
        "2026-01-02T07:00:00+00:00",
        "2026-01-05T07:00:00+00:00",
        "2026-01-06T07:00:00+00:00",
        "2026-01-07T07:00:00+00:00",
        "2026-01-08T07:00:00+00:00",
    ]


def test_monthly_day_one_fires_on_the_first_of_following_months(fires):
    rule = {"start": "2026-01-15T07:00", "trigger": "monthly", "day": 1}
    assert fires(rule, NEW_YEAR, 3) == [
        "2026-02-01T07:00:00+00:00",
        "2026-03-01T07:00:00+00:00",
        "2026-04-01T07:00:00+00:00",
    ]


def test_day_31_skips_short_months(fires):
    rule = {"start": "2026-01-31T07:00", "trigger": "monthly"}
    assert fires(rule, NEW_YEAR, 5) == [
        "2026-01-31T07:00:00+00:00",
        "2026-03-31T07:00:00+00:00",
        "2026-05-31T07:00:00+00:00",
        "2026-07-31T07:00:00+00:00",
        "2026-08-31T07:00:00+00:00",
    ]


def test_day_minus_one_is_the_last_day_of_each_month(fires):
    rule = {"start": "2028-01-10T07:00", "trigger": "monthly", "day": -1}
    assert fires(rule, NEW_YEAR, 4) == [
        "2028-01-31T07:00:00+00:00",
        "2028-02-29T07:00:00+00:00",
        "2028-03-31T07:00:00+00:00",
        "2028-04-30T07:00:00+00:00",
    ]


def test_fixed_date_on_a_disallowed_weekday_is_skipped_not_shifted(fires):
    rule = {"start": "2026-01-15T07:00", "trigger": "monthly", "days": WORKWEEK}
    # Feb 15 and Mar 15 are Sundays, Aug 15 a Saturday.
    assert fires(rule, NEW_YEAR, 6) == [
        "2026-01-15T07:00:00+00:00",
        "2026-04-15T07:00:00+00:00",
        "2026-05-15T07:00:00+00:00",
        "2026-06-15T07:00:00+00:00",
        "2026-07-15T07:00:00+00:00",
        "2026-09-15T07:00:00+00:00",
    ]


def test_weekly_every_two_weeks_on_several_days(fires):
    # Start is a Wednesday: that week's Monday is before the start and is not back-filled.
    rule = {"start": "2026-01-07T07:00", "trigger": "weekly", "every": 2, "days": ["thu", "mon"]}
    assert fires(rule, NEW_YEAR, 5) == [
        "2026-01-08T07:00:00+00:00",
        "2026-01-19T07:00:00+00:00",
        "2026-01-22T07:00:00+00:00",
        "2026-02-02T07:00:00+00:00",
        "2026-02-05T07:00:00+00:00",
    ]


def test_weekly_without_days_uses_the_start_weekday(fires):
    rule = {"start": "2026-01-07T07:00", "trigger": "weekly"}
    assert fires(rule, NEW_YEAR, 3) == [
        "2026-01-07T07:00:00+00:00",
        "2026-01-14T07:00:00+00:00",
        "2026-01-21T07:00:00+00:00",
    ]


def test_yearly_second_sunday_of_march_in_new_york(fires):
    rule = {
        "start": "2026-01-01T09:00",
        "timezone": "America/New_York",
        "trigger": "yearly",
        "month": 3,
        "days": ["sun"],
        "occurrence": 2,
    }
    # The US switches to daylight time on exactly these Sundays, at 02:00.
    assert fires(rule, NEW_YEAR, 3) == [
        "2026-03-08T09:00:00-04:00",
        "2027-03-14T09:00:00-04:00",
        "2028-03-12T09:00:00-04:00",
    ]


def test_yearly_february_29_fires_only_in_leap_years(fires):
    rule = {"start": "2026-01-01T07:00", "trigger": "yearly", "month": 2, "day": 29}
    assert fires(rule, NEW_YEAR, 3) == [
        "2028-02-29T07:00:00+00:00",
        "2032-02-29T07:00:00+00:00",
        "2036-02-29T07:00:00+00:00",
    ]


def test_yearly_month_defaults_to_the_start_month(fires):
    rule = {"start": "2026-06-30T07:00", "trigger": "yearly", "every": 2}
    assert fires(rule, NEW_YEAR, 2) == ["2026-06-30T07:00:00+00:00", "2028-06-30T07:00:00+00:00"]


def test_once_fires_exactly_at_start(fires):
    rule = {"start": "2026-05-01T07:00", "trigger": "once", "every": 3, "until": "2026-01-01"}
    assert fires(rule, NEW_YEAR, 5) == ["2026-05-01T07:00:00+00:00"]
    assert fires(rule, "2026-05-01T07:00:00+00:00", 5) == []


def test_until_is_inclusive(fires):
    rule = {"trigger": "daily", "until": "2026-01-03"}
    assert fires(rule, NEW_YEAR, 5) == [
        "2026-01-01T07:00:00+00:00",
        "2026-01-02T07:00:00+00:00",
        "2026-01-03T07:00:00+00:00",
    ]


def test_until_compares_the_local_date(fires):
    rule = {
        "start": "2026-01-01T23:30",
        "timezone": "Asia/Tokyo",
        "trigger": "daily",
        "until": "2026-01-02",
    }
    assert fires(rule, NEW_YEAR, 5) == [
        "2026-01-01T23:30:00+09:00",
        "2026-01-02T23:30:00+09:00",
    ]


def test_every_is_counted_from_start_not_from_after(fires):
    daily = {"start": "2026-01-02T07:00", "trigger": "daily", "every": 3}
    assert fires(daily, "2026-01-04T00:00:00+00:00", 3) == [
        "2026-01-05T07:00:00+00:00",
        "2026-01-08T07:00:00+00:00",
        "2026-01-11T07:00:00+00:00",
    ]
    monthly = {"start": "2026-02-10T07:00", "trigger": "monthly", "every": 2}
    assert fires(monthly, "2026-03-20T00:00:00+00:00", 2) == [
        "2026-04-10T07:00:00+00:00",
        "2026-06-10T07:00:00+00:00",
    ]
    hourly = {"start": "2026-01-01T00:00", "trigger": "hourly", "every": 5}
    assert fires(hourly, "2026-01-01T03:00:00+00:00", 5) == [
        "2026-01-01T05:00:00+00:00",
        "2026-01-01T10:00:00+00:00",
        "2026-01-01T15:00:00+00:00",
        "2026-01-01T20:00:00+00:00",
        "2026-01-02T01:00:00+00:00",
    ]


def test_earlier_ticks_are_never_back_filled(fires):
    rule = {"start": "2026-03-10T12:00", "trigger": "daily"}
    assert fires(rule, NEW_YEAR, 2) == ["2026-03-10T12:00:00+00:00", "2026-03-11T12:00:00+00:00"]


def test_after_is_strict(fires):
    rule = {"trigger": "daily"}
    assert fires(rule, "2026-01-02T07:00:00+00:00", 1) == ["2026-01-03T07:00:00+00:00"]
    assert fires(rule, "2026-01-02T06:59:59+00:00", 1) == ["2026-01-02T07:00:00+00:00"]


def test_after_in_another_zone_is_the_same_instant(fires):
    rule = {"trigger": "daily"}
    assert fires(rule, "2026-01-02T08:00:00+01:00", 1) == ["2026-01-03T07:00:00+00:00"]


def test_hourly_on_allowed_days_only(fires):
    rule = {"start": "2026-01-02T22:00", "trigger": "hourly", "every": 2, "days": ["fri", "mon"]}
    # 2026-01-02 is a Friday; the weekend is skipped but the 2-hour grid continues.
    assert fires(rule, NEW_YEAR, 3) == [
        "2026-01-02T22:00:00+00:00",
        "2026-01-05T00:00:00+00:00",
        "2026-01-05T02:00:00+00:00",
    ]


def test_cron_rule_fires_from_start(fires):
    rule = {
        "start": "2026-01-05T09:20",
        "timezone": "Europe/Berlin",
        "trigger": "cron",
        "cron": "*/15 9-17 * * mon-fri",
    }
    assert fires(rule, NEW_YEAR, 3) == [
        "2026-01-05T09:30:00+01:00",
        "2026-01-05T09:45:00+01:00",
        "2026-01-05T10:00:00+01:00",
    ]


def test_cron_rule_respects_until(fires):
    rule = {
        "start": "2026-01-01T00:00",
        "trigger": "cron",
        "cron": "0 12 * * *",
        "until": "2026-01-02",
    }
    assert fires(rule, NEW_YEAR, 5) == ["2026-01-01T12:00:00+00:00", "2026-01-02T12:00:00+00:00"]
