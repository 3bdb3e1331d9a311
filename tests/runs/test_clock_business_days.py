"""The clock with shifted and holiday-aware rules (SCHEDULE.md, "Business days"): each
fire once, on the moved date; the job page names the holidays that moved or removed fires."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import Job
from app.runs.scheduled import fire_due_jobs
from tests import factories as make
from tests.helpers import runs_of, scheduled_job, set_next_fire, utc

WORKWEEK = ["mon", "tue", "wed", "thu", "fri"]


def test_a_shifted_monthly_rule_fires_once_on_the_business_day_before(app):
    ws = make.workspace()
    rule = {
        "start": "2026-01-01T18:00",
        "timezone": "Europe/Berlin",
        "trigger": "monthly",
        "days": WORKWEEK,
        "day": 15,
        "shift": "preceding",
        "holidays": {"country": "DE"},
    }
    job = scheduled_job(ws, rule)
    assert job.schedule["shift"] == "preceding"
    assert job.schedule["holidays"] == {"country": "DE"}
    fire = utc("2026-08-14T16:00:00")  # Sat 15 Aug -> Fri 14 Aug, 18:00 CEST
    set_next_fire(job, fire)

    (run_id,) = fire_due_jobs(now=fire + timedelta(seconds=2))
    assert fire_due_jobs(now=fire + timedelta(seconds=3)) == []
    assert fire_due_jobs(now=fire + timedelta(hours=1)) == []

    assert [(r.id, r.scheduled_for) for r in runs_of(job.id)] == [(run_id, fire)]
    assert db.session.get(Job, job.id).next_fire_at == utc("2026-09-15T16:00:00")


def test_a_daily_rule_skips_public_holidays_and_fires_each_day_once(app):
    ws = make.workspace()
    rule = {
        "start": "2026-01-01T18:00",
        "timezone": "Europe/Berlin",
        "trigger": "daily",
        "days": WORKWEEK,
        "holidays": {"country": "DE"},
    }
    job = scheduled_job(ws, rule)
    set_next_fire(job, utc("2026-12-24T17:00:00"))
    fired = []
    for now in ["2026-12-24T17:00:01", "2026-12-25T17:00:01", "2026-12-28T17:00:01"]:
        fired += fire_due_jobs(now=utc(now))
        fired += fire_due_jobs(now=utc(now) + timedelta(seconds=1))
    assert len(fired) == 2
    # Christmas Day (Fri 25) and the weekend are not business days.
    assert [r.scheduled_for for r in runs_of(job.id)] == [
        utc("2026-12-24T17:00:00"),
        utc("2026-12-28T17:00:00"),
    ]
    assert db.session.get(Job, job.id).next_fire_at == utc("2026-12-29T17:00:00")


def test_the_job_page_names_the_holidays_that_moved_or_removed_fires(auth, client, demo):
    from tests.helpers import job as demo_job

    job = demo_job(demo)
    zone = {"start": "2026-01-01T09:00", "timezone": "Europe/Berlin"}
    job.schedule = {
        **zone,
        "trigger": "cron",
        "cron": "0 9 24-27 12 *",
        "holidays": {"country": "DE"},
    }
    db.session.commit()
    auth.login()
    page = client.get("/w/demo/jobs/monthly-statements").text
    assert "(not on public holidays in Germany)" in page
    assert "— skipped: Christmas Day" in page
    assert "— skipped: Second Day of Christmas" in page

    job = demo_job(demo)
    job.schedule = {
        **zone,
        "trigger": "yearly",
        "month": 12,
        "day": 25,
        "shift": "following",
        "holidays": {"country": "DE"},
    }
    db.session.commit()
    page = client.get("/w/demo/jobs/monthly-statements").text
    assert "or the next business day" in page
    assert "— moved from " in page and "25 Dec (Christmas Day)" in page
