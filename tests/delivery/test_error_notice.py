"""A job's error notice (issue 15 point 6): one email per run that ends with errors, to the
owner or the job's addresses, with the counts and a link; never twice."""

from __future__ import annotations

import threading

import pytest

from app.delivery.error_notice import send_due_error_notices
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.service import definition_of, replace_job
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import reload_run
from workers.clock import recover


@pytest.fixture
def failing(app, smtp_server):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    owner = make.user("owner@example.com", ws, "editor")
    job = make.job_failing_for_bob(ws, owner)
    return ws, owner, job


def _with(ws, job, **changes):
    data = definition_of(job).model_dump(mode="json", by_alias=True) | changes
    return replace_job(ws, None, job, data)


def test_owner_gets_one_notice_per_failed_run_however_often_the_clock_sweeps(
    app, failing, work, mailbox
):
    ws, owner, job = failing
    assert job.owner_id == owner.id and job.error_notice == "owner"  # the default
    run_id = start_run(job, None).id
    work()
    assert reload_run(run_id).error_notice_status == "pending"
    # Two clocks sweeping at once, then more sweeps: one email.
    claims: list[int] = []
    sweeps = [threading.Thread(target=lambda: claims.append(_sweep(app))) for _ in range(2)]
    for sweep in sweeps:
        sweep.start()
    for sweep in sweeps:
        sweep.join()
    recover()  # the clock's own sweep sends due notices too: still one email
    assert send_due_error_notices() == 0
    assert sorted(claims) == [0, 1]
    assert [env for env in mailbox.envelopes] == [["owner@example.com"]]
    message = mailbox.messages[0]
    assert message["Subject"] == f"Herald: run #{run_id} of Statements ended with errors"
    text = message.get_body(("plain",)).get_content()
    assert "Entries: 3" in text and "Completed: 2" in text and "Errors: 1" in text
    assert f"http://localhost:8000/w/acme/runs/{run_id}" in text
    assert reload_run(run_id).error_notice_status == "sent"


def _sweep(app) -> int:
    with app.app_context():  # each sweep in its own context and database session, as a clock
        return send_due_error_notices()


def test_named_addresses_instead_of_the_owner(failing, work, mailbox):
    ws, owner, job = failing
    _with(ws, job, error_notice="addresses", error_notice_to="ops@example.com, lead@example.com")
    start_run(job, None)
    work()
    assert send_due_error_notices() == 1
    assert mailbox.envelopes == [["ops@example.com", "lead@example.com"]]


def test_off_or_a_clean_run_sends_nothing(failing, work, mailbox, smtp_server):
    ws, owner, job = failing
    _with(ws, job, error_notice="off")
    start_run(job, None)
    make.template(ws, "plain", "<p>All well</p>")
    ok = make.job(ws, code="fine", reports=[{"template": "plain"}])
    clean_id = start_run(ok, None).id
    work()
    assert send_due_error_notices() == 0
    assert mailbox.messages == []
    assert reload_run(clean_id).error_notice_status is None


def test_addresses_are_checked_beside_the_field(failing):
    ws, owner, job = failing
    with pytest.raises(ValidationFailed) as empty:
        _with(ws, job, error_notice="addresses", error_notice_to="")
    assert "error_notice_to" in empty.value.errors
    with pytest.raises(ValidationFailed) as bad:
        _with(ws, job, error_notice="addresses", error_notice_to="not an address")
    assert "error_notice_to" in bad.value.errors
    db.session.rollback()
    assert db.session.get(type(job), job.id).error_notice == "owner"  # nothing changed
