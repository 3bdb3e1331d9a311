"""Scheduled runs: next fire times, exactly-once creation, misfires and the clock process."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from app.database import utcnow
from app.extensions import db
from app.jobs.schedule import refresh_next_fire
from app.models import Job, ScheduleMiss
from app.runs.scheduled import fire_due_jobs
from tests import factories as make
from tests.helpers import job as demo_job
from tests.helpers import reload_run, runs_of, scheduled_job, set_next_fire, utc, worker_env


def test_a_due_job_fires_once_with_saved_defaults_resolved_in_its_zone(app, work):
    ws = make.workspace()
    rule = {"start": "2026-01-01T01:00", "timezone": "Pacific/Auckland", "trigger": "daily"}
    job = scheduled_job(ws, rule)
    # 01:00 on 1 December in Auckland is still 30 November in UTC.
    fire = utc("2026-11-30T12:00:00")
    set_next_fire(job, fire)

    (run_id,) = fire_due_jobs(now=fire + timedelta(seconds=3))
    assert fire_due_jobs(now=fire + timedelta(seconds=4)) == []
    work()

    run = reload_run(run_id)
    assert (run.trigger, run.scheduled_for) == ("schedule", fire)
    assert run.params == {"period": "2026-12-01"}
    assert run.status == "finished"
    job = db.session.get(Job, job.id)
    assert job.next_fire_at == utc("2026-12-01T12:00:00")
    assert job.last_run_status == "completed"


def test_two_clock_processes_create_one_run_per_fire(app):
    ws = make.workspace()
    rule = {"start": "2026-01-01T00:00", "timezone": "UTC", "trigger": "hourly"}
    fire = utc("2026-11-26T10:00:00")
    jobs = [scheduled_job(ws, rule, code=f"job-{n}") for n in range(12)]
    for job in jobs:
        set_next_fire(job, fire)
    command = [
        sys.executable,
        "-m",
        "workers.clock",
        "--once",
        "--now",
        "2026-11-26T10:00:01+00:00",
    ]
    clocks = [
        subprocess.Popen(command, env=worker_env(app), stderr=subprocess.PIPE) for _ in range(3)
    ]
    for clock in clocks:
        _, err = clock.communicate(timeout=60)
        assert clock.returncode == 0, err.decode()

    for job in jobs:
        assert [(r.trigger, r.scheduled_for) for r in runs_of(job.id)] == [("schedule", fire)]


def test_downtime_past_the_grace_records_a_miss_and_runs_nothing(app):
    ws = make.workspace()
    rule = {"start": "2026-01-01T00:00", "timezone": "UTC", "trigger": "daily"}
    job = scheduled_job(ws, rule)
    set_next_fire(job, utc("2026-11-20T00:00:00"))

    assert fire_due_jobs(now=utc("2026-11-26T03:00:00")) == []

    assert runs_of(job.id) == []
    (miss,) = db.session.scalars(db.select(ScheduleMiss)).all()
    assert (miss.scheduled_for, miss.missed_fires) == (utc("2026-11-26T00:00:00"), 7)
    assert "7 fires were missed" in miss.reason and "180 min late" in miss.reason
    assert db.session.get(Job, job.id).next_fire_at == utc("2026-11-27T00:00:00")


def test_downtime_within_the_grace_coalesces_into_one_run(app):
    ws = make.workspace()
    rule = {"start": "2026-01-01T00:00", "timezone": "UTC", "trigger": "hourly"}
    job = scheduled_job(ws, rule)
    set_next_fire(job, utc("2026-11-26T05:00:00"))

    (run_id,) = fire_due_jobs(now=utc("2026-11-26T10:10:00"))

    assert reload_run(run_id).scheduled_for == utc("2026-11-26T10:00:00")
    (miss,) = db.session.scalars(db.select(ScheduleMiss)).all()
    assert (miss.scheduled_for, miss.missed_fires) == (utc("2026-11-26T09:00:00"), 5)
    assert f"coalesced into run {run_id}" in miss.reason
    assert db.session.get(Job, job.id).next_fire_at == utc("2026-11-26T11:00:00")


def test_disabled_ended_and_fired_once_jobs_never_fire_again(app):
    ws = make.workspace()
    disabled = scheduled_job(
        ws, {"start": "2026-01-01T00:00", "trigger": "hourly"}, code="disabled"
    )
    disabled.scheduled = False
    # Saved while it still had fires ahead (a schedule with none is refused); it ended since.
    ended = scheduled_job(
        ws, {"start": "2026-01-01T00:00", "trigger": "daily", "until": "2099-02-01"}, code="ended"
    )
    ended.schedule = {**ended.schedule, "until": "2026-02-01"}
    refresh_next_fire(ended)
    once = scheduled_job(ws, {"start": "2099-11-26T10:00", "trigger": "once"}, code="once")
    once.schedule = {**once.schedule, "start": "2026-11-26T10:00"}
    assert ended.next_fire_at is None  # after its until: nothing left
    set_next_fire(disabled, utc("2026-11-26T10:00:00"))
    set_next_fire(once, utc("2026-11-26T10:00:00"))

    created = fire_due_jobs(now=utc("2026-11-26T10:00:30"))
    assert [reload_run(r).job_id for r in created] == [once.id]
    assert db.session.get(Job, once.id).next_fire_at is None
    assert fire_due_jobs(now=utc("2026-11-27T10:00:30")) == []
    assert runs_of(disabled.id) == [] and runs_of(ended.id) == []


def test_a_job_that_cannot_start_records_why_and_moves_on(app):
    from app.models import ReportTemplate

    ws = make.workspace()
    job = scheduled_job(ws, {"start": "2026-01-01T00:00", "trigger": "hourly"})
    set_next_fire(job, utc("2026-11-26T10:00:00"))
    db.session.execute(db.delete(ReportTemplate))
    db.session.commit()

    assert fire_due_jobs(now=utc("2026-11-26T10:00:01")) == []
    (miss,) = db.session.scalars(db.select(ScheduleMiss)).all()
    assert "the run could not start: report template not found: t-test-job" in miss.reason
    assert db.session.get(Job, job.id).next_fire_at == utc("2026-11-26T11:00:00")


def test_the_job_page_shows_the_schedule_next_fires_and_misses(auth, client, app, demo):
    job = demo_job(demo)
    job.scheduled = True
    set_next_fire(job, utc("2026-05-01T14:00:00"))
    fire_due_jobs(now=utc("2026-05-02T14:00:00"))  # a day late: past the grace
    auth.login()
    page = client.get("/w/demo/jobs/monthly-statements").text
    assert "Day 1 of every month at 07:00, America/Los_Angeles" in page
    assert "07:00 PST" in page or "07:00 PDT" in page
    assert "missed while the clock was not running" in page


def test_the_clock_process_fires_a_job_due_in_the_past_minute_once(app):
    import time

    ws = make.workspace()
    # A daily rule whose fire was a minute ago: the next one is a day away, so no minute
    # boundary during the test can coalesce it into a later fire.
    due = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1)
    job = scheduled_job(ws, {"start": due.strftime("%Y-%m-%dT%H:%M"), "trigger": "daily"})
    set_next_fire(job, due)
    clock = subprocess.Popen(
        [sys.executable, "-m", "workers.clock"],
        env=worker_env(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not runs_of(job.id) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.5)  # a few more clock ticks: they must not create it again
    finally:
        clock.terminate()
        clock.wait(10)
    runs = runs_of(job.id)
    assert [r.scheduled_for for r in runs] == [due]
    assert runs[0].trigger == "schedule"
    assert db.session.get(Job, job.id).next_fire_at > due
