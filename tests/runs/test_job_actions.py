"""Duplicate, Pause/Resume and the run outcome filter as domain operations (no browser)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.database import utcnow
from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.jobs.drafts import commit_draft, duplicate_job, free_code, start_draft
from app.jobs.service import set_scheduled
from app.models import Entry, Run
from app.runs.outcome import run_outcome
from app.runs.queries import OUTCOMES, run_counts, runs_page
from app.runs.scheduled import fire_due_jobs
from tests import factories as make
from tests.runs.test_clock import runs_of, scheduled_job

DAILY = {"start": "2026-01-01T07:00", "timezone": "Europe/Berlin", "trigger": "daily"}


def test_duplicate_opens_a_draft_with_a_new_code_and_scheduling_off(app):
    ws = make.workspace()
    editor = make.user("ed@acme.example", ws, "editor")
    job = scheduled_job(ws, DAILY, code="daily")

    first = duplicate_job(ws, editor, job)
    second = duplicate_job(ws, editor, job)

    assert first.job_id is None and first.data["code"] == "daily-copy"
    assert second.data["code"] == "daily-copy-2"  # the first copy's draft holds daily-copy
    assert first.data["name"] == "Test job (copy)"
    assert first.data["scheduled"] is False and first.data["schedule"] == job.schedule
    assert first.data["reports"] == job.reports
    copy = commit_draft(first, editor)
    assert (copy.code, copy.scheduled, copy.next_fire_at) == ("daily-copy", False, None)
    db.session.refresh(job)
    assert job.code == "daily" and job.scheduled  # the original is untouched


def test_a_viewer_may_not_duplicate(app):
    ws = make.workspace()
    viewer = make.user("v@acme.example", ws, "viewer")
    job = scheduled_job(ws, DAILY)
    with pytest.raises(Forbidden):
        duplicate_job(ws, viewer, job)


def test_free_code_skips_codes_of_jobs_and_drafts(app):
    ws = make.workspace()
    editor = make.user("ed@acme.example", ws, "editor")
    scheduled_job(ws, DAILY, code="x-copy")
    draft = start_draft(ws, editor)
    draft.data = {**draft.data, "code": "x-copy-2"}
    db.session.commit()
    assert free_code(ws, "x-copy") == "x-copy-3"
    assert free_code(ws, "y") == "y"


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


def _run(job, status: str, *entry_statuses: str) -> Run:
    run = Run(workspace_id=job.workspace_id, job_id=job.id, trigger="manual", status=status)
    db.session.add(run)
    db.session.flush()
    for seq, entry_status in enumerate(entry_statuses, 1):
        db.session.add(Entry(run_id=run.id, seq=seq, status=entry_status, row={}))
    db.session.commit()
    return run


def test_the_outcome_filter_agrees_with_run_outcome(app):
    ws = make.workspace()
    make.template(ws, "t", "<p>x</p>")
    job = make.job(ws, reports=[{"template": "t"}])
    runs = [
        _run(job, "finished", "Completed", "Completed"),
        _run(job, "finished", "Completed", "DeliveryFailed"),
        _run(job, "finished", "Completed", "PendingReview"),
        _run(job, "finished", "PendingReview", "GenerationFailed"),
        _run(job, "running", "Completed", "Queued"),
        _run(job, "finished", "InProgress"),  # a retry put work back in the queue
        _run(job, "failed"),
        _run(job, "cancelled", "Cancelled"),
        _run(job, "pending"),
        _run(job, "preparing"),
        _run(job, "finished"),  # 0 rows
    ]
    expected = {run.id: run_outcome(run) for run in runs}
    for word in OUTCOMES:
        found = {r.id for r in runs_page(ws.id, outcome=word, per_page=100).items}
        assert found == {i for i, w in expected.items() if w == word}, word
    assert set(expected.values()) == set(OUTCOMES)  # every word was exercised
    assert run_counts(ws.id, [job.id]) == {job.id: len(runs)}
    with pytest.raises(ValueError):
        runs_page(ws.id, outcome="finished")


def test_runs_are_filtered_by_creation_time(app):
    ws = make.workspace()
    make.template(ws, "t", "<p>x</p>")
    job = make.job(ws, reports=[{"template": "t"}])
    old, new = _run(job, "failed"), _run(job, "failed")
    old.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    since = utcnow() - timedelta(days=1)
    assert [r.id for r in runs_page(ws.id, created_from=since).items] == [new.id]
    assert [r.id for r in runs_page(ws.id, created_before=since).items] == [old.id]
