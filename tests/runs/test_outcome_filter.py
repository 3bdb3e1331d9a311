"""The run outcome filter and the creation-time filter of the run list (app/runs/queries.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.database import utcnow
from app.extensions import db
from app.models import Entry, Run
from app.runs.outcome import run_outcome
from app.runs.queries import OUTCOMES, run_counts, runs_page
from tests import factories as make


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
