"""Deleting a job is refused while one of its runs is in progress, on the page and in the API."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Job, Run
from app.runs.create import cancel_run, start_run
from app.tokens import create_token
from tests import factories as make

EDITOR = "editor@acme.example"


@pytest.fixture
def job_with_open_run(app):
    ws = make.workspace("acme")
    user = make.user(EDITOR, ws, "editor")
    make.template(ws, "t", "<p>x</p>")
    job = make.job(ws, reports=[{"template": "t"}])
    run = start_run(job, None)  # pending: no worker has taken it
    token = create_token(user, ws, name="t", permissions=["jobs:read", "jobs:write"])[1]
    return job, run, {"Authorization": f"Bearer {token}"}


def _job_and_runs(job_id: int) -> tuple[Job | None, int]:
    db.session.expire_all()
    runs = db.session.scalar(db.select(db.func.count()).select_from(Run).filter_by(job_id=job_id))
    return db.session.get(Job, job_id), runs


def test_the_api_refuses_with_a_conflict_then_deletes_once_the_run_ended(job_with_open_run, client):
    job, run, bearer = job_with_open_run
    url = f"/api/v1/ws/acme/jobs/{job.code}"
    refused = client.delete(url, headers=bearer)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "conflict"
    assert error["message"] == (
        "job 'test-job' has 1 run in progress; cancel them or wait until they finish, "
        "then delete it"
    )
    found, runs = _job_and_runs(job.id)
    assert found is not None and runs == 1  # nothing deleted

    cancel_run(run, None)
    assert client.delete(url, headers=bearer).status_code == 204
    assert _job_and_runs(job.id) == (None, 0)  # the job and its (ended) runs
    assert client.get(url, headers=bearer).status_code == 404


def test_the_page_says_why_it_refuses_and_deletes_once_the_run_ended(job_with_open_run, auth):
    job, run, _ = job_with_open_run
    auth.login(EDITOR, make.PASSWORD)
    page = f"/w/acme/jobs/{job.code}"
    refused = auth.post(f"{page}/delete", page=page, follow_redirects=True)
    assert refused.request.path == page
    assert "has 1 run in progress; cancel them or wait until they finish" in refused.text
    assert _job_and_runs(job.id)[0] is not None

    cancel_run(run, None)
    deleted = auth.post(f"{page}/delete", page=page, follow_redirects=True)
    assert deleted.request.path == "/w/acme/jobs"
    assert "Job &#39;test-job&#39; deleted." in deleted.text
    assert _job_and_runs(job.id) == (None, 0)


def test_a_viewer_may_not_delete(app, client, auth):
    ws = make.workspace("acme")
    make.user("viewer@acme.example", ws, "viewer")
    make.user(EDITOR, ws, "editor")
    make.template(ws, "t", "<p>x</p>")
    job = make.job(ws, reports=[{"template": "t"}])
    auth.login("viewer@acme.example", make.PASSWORD)
    page = f"/w/acme/jobs/{job.code}"
    assert auth.post(f"{page}/delete", page=page).status_code == 403
    assert _job_and_runs(job.id)[0] is not None
