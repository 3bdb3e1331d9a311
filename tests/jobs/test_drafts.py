"""Duplicating a job opens a draft with a free code (app/jobs/drafts.py)."""

from __future__ import annotations

import pytest

from app.errors import Forbidden
from app.extensions import db
from app.jobs.drafts import commit_draft, duplicate_job, free_code, start_draft
from tests import factories as make
from tests.helpers import scheduled_job

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
