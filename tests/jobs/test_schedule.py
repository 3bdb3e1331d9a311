"""A job's schedule on saving, pausing and resuming: its next fire time (app/jobs/schedule.py,
app/jobs/service.py); the clock fires only what is due."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.database import utcnow
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.service import replace_job, set_scheduled
from app.models import Job
from app.runs.scheduled import fire_due_jobs
from tests import factories as make
from tests.helpers import runs_of, scheduled_job

DAILY = {"start": "2026-01-01T07:00", "timezone": "Europe/Berlin", "trigger": "daily"}


def test_saving_a_job_sets_its_next_fire_time(app):
    ws = make.workspace()
    rule = {
        "start": "2026-01-01T07:00",
        "timezone": "America/Los_Angeles",
        "trigger": "monthly",
        "day": 1,
    }
    job = scheduled_job(ws, rule)
    now = utcnow()
    assert job.next_fire_at > now
    local = job.next_fire_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert local.strftime("%d %H:%M") == "01 07:00"

    definition = {"code": "test-job", "name": "Test job", "scheduled": False, "schedule": rule}
    replace_job(ws, None, job, {**definition, "reports": [{"template": "t-test-job"}]})
    db.session.refresh(job)
    assert job.next_fire_at is None


def test_an_invalid_schedule_is_rejected_naming_the_field(app):
    ws = make.workspace()
    make.template(ws, "t", "<p>x</p>")
    with pytest.raises(ValidationFailed) as caught:
        make.job(
            ws,
            scheduled=True,
            reports=[{"template": "t"}],
            schedule={"start": "2026-01-01T07:00", "trigger": "weekly", "days": ["mom"]},
        )
    assert list(caught.value.errors) == ["schedule.days"]
    assert "mom" in caught.value.errors["schedule.days"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 0


def test_a_paused_job_is_not_fired_by_the_clock_and_resumes_without_backfill(app):
    ws = make.workspace()
    editor = make.user("ed@acme.example", ws, "editor")
    job = scheduled_job(ws, DAILY)
    job.next_fire_at = utcnow() - timedelta(minutes=1)  # due now
    db.session.commit()

    set_scheduled(ws, editor, job, False)
    assert job.next_fire_at is None
    job.next_fire_at = utcnow() - timedelta(minutes=1)  # even with a stale fire time left
    db.session.commit()
    assert fire_due_jobs(utcnow()) == []
    assert runs_of(job.id) == []

    set_scheduled(ws, editor, job, True)
    assert job.scheduled and job.next_fire_at > utcnow()  # the next fire from now on
    assert fire_due_jobs(utcnow()) == []
    assert fire_due_jobs(job.next_fire_at + timedelta(seconds=1)) != []
    assert len(runs_of(job.id)) == 1


def test_resuming_a_job_without_schedule_is_refused(app):
    ws = make.workspace()
    editor = make.user("ed@acme.example", ws, "editor")
    make.template(ws, "t", "<p>x</p>")
    job = make.job(ws, reports=[{"template": "t"}])
    with pytest.raises(ValidationFailed) as caught:
        set_scheduled(ws, editor, job, True)
    assert "no schedule" in caught.value.errors["scheduled"]
    assert job.scheduled is False
