"""Cancelling a run ends every unfinished entry Cancelled and sends nothing afterwards: entries
held for review, waiting for a delivery's retry, or waiting for a throttle slot, worked off by
in-process RQ workers against real Redis and real SMTP servers. (A worker that already holds a
delivery when the run is cancelled: tests/faults/test_cancel.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import update

from app.errors import ValidationFailed
from app.extensions import QUEUE_NAMES, db, queues
from app.models import Entry, EntryDelivery
from app.review.redeliver import deliver_entries, deliver_held_entries, retry_delivery
from app.runs.create import cancel_run, start_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.delivery.smtp_rig import scripted_smtp
from tests.helpers import Api, entries_of, reload_run, token_for

ROWS = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob")]


def _deliveries(run_id: int) -> list[EntryDelivery]:
    return [d for e in entries_of(run_id) for d in e.deliveries]


def _counts(client, run_id: int) -> dict:
    """The run's status as the API's status endpoint shows it; its detail agrees."""
    api = Api(client, token_for("editor@acme.example", "acme", ["jobs:read"]))
    run = f"/api/v1/ws/acme/jobs/test-job/runs/{run_id}"
    body, detail = api.get(f"{run}/status").get_json(), api.get(run).get_json()
    assert (detail["status"], detail["cancelled"]) == (body["status"], body["cancelled"])
    return {**body, **body["status"]}


def _work_jobs(count: int) -> None:
    """Run the next `count` queued jobs in this process, as a real RQ worker does."""
    worker = SimpleWorker([queues.queue(n) for n in QUEUE_NAMES], connection=queues.connection)
    worker.work(burst=True, max_jobs=count, logging_level="WARNING")
    db.session.expire_all()


def _retries_come(run_id: int, work) -> None:
    """The waiting deliveries' next attempts come: the clock's sweep queues their entries."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    db.session.execute(update(EntryDelivery).values(next_attempt_at=past))
    db.session.execute(update(Entry).where(Entry.run_id == run_id).values(lease_expires_at=past))
    db.session.commit()
    recover_stalled_work()
    work()


def test_a_cancelled_run_held_for_review_cancels_its_held_entries(
    app, client, work, smtp_server, mailbox
):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    editor = make.user("editor@acme.example", ws, "editor")
    run_id = start_run(make.mailing_job(ws, ROWS, hold_for_review=True), None).id
    _work_jobs(2)  # the run's preparation and its first entry: held; the second waits
    assert [e.status for e in entries_of(run_id)] == ["PendingReview", "Queued"]

    assert cancel_run(reload_run(run_id), None) == 2

    assert [e.status for e in entries_of(run_id)] == ["Cancelled"] * 2
    # The held entry's delivery is skipped; the other never started (shown "not sent").
    assert [(d.status, d.last_error) for d in _deliveries(run_id)] == [
        ("skipped", "run cancelled"),
        ("pending", None),
    ]
    body = _counts(client, run_id)
    assert (body["runStatus"], body["review"], body["queued"], body["cancelled"]) == (
        "cancelled",
        0,
        0,
        2,
    )
    with pytest.raises(ValidationFailed, match="cancelled"):
        deliver_held_entries(reload_run(run_id), editor)
    work()
    assert mailbox.envelopes == []


def _held_run(ws) -> int:
    """A held run whose every entry is generated and waits in the review queue: the run
    reads finished (nothing queued), yet nothing has been sent."""
    run_id = start_run(make.mailing_job(ws, ROWS, hold_for_review=True), None).id
    _work_jobs(3)  # the run's preparation and both entries
    assert [e.status for e in entries_of(run_id)] == ["PendingReview"] * 2
    assert reload_run(run_id).status == "finished"
    return run_id


def _after_the_cancel(client, run_id: int, editor, work, mailbox) -> None:
    """Held entries Cancelled, their deliveries skipped, gone from the review queue; an
    approval afterwards is refused and nothing is ever sent."""
    assert [e.status for e in entries_of(run_id)] == ["Cancelled"] * 2
    assert {(d.status, d.last_error) for d in _deliveries(run_id)} == {("skipped", "run cancelled")}
    body = _counts(client, run_id)
    assert (body["runStatus"], body["review"], body["cancelled"]) == ("cancelled", 0, 2)
    api = Api(client, token_for("editor@acme.example", "acme", ["jobs:read"]))
    assert api.get("/api/v1/ws/acme/review").get_json()["items"] == []
    with pytest.raises(ValidationFailed, match="cancelled"):
        deliver_held_entries(reload_run(run_id), editor)
    work()
    assert mailbox.envelopes == []


def test_the_api_cancels_a_run_whose_entries_all_wait_for_review(
    app, client, work, smtp_server, mailbox
):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    editor = make.user("editor@acme.example", ws, "editor")
    run_id = _held_run(ws)
    api = Api(client, token_for("editor@acme.example", "acme", ["jobs:read", "jobs:write"]))
    review = api.get("/api/v1/ws/acme/review").get_json()["items"]
    assert [item["jobRunId"] for item in review] == [run_id, run_id]

    response = api.post(f"/api/v1/ws/acme/jobs/test-job/runs/{run_id}/cancel")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cancelledNow"] == 2
    _after_the_cancel(client, run_id, editor, work, mailbox)
    # Ended now, with nothing held: a second cancel is refused.
    again = api.post(f"/api/v1/ws/acme/jobs/test-job/runs/{run_id}/cancel")
    assert again.status_code == 409


def test_the_run_page_cancels_a_run_whose_entries_all_wait_for_review(
    app, client, auth, work, smtp_server, mailbox
):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    editor = make.user("editor@acme.example", ws, "editor")
    run_id = _held_run(ws)
    auth.login("editor@acme.example", make.PASSWORD)
    page = f"/w/acme/runs/{run_id}"
    assert "Cancel run" in client.get(page).text
    assert f"/runs/{run_id}" in client.get("/w/acme/review").text  # the queue lists them

    response = auth.post(f"{page}/cancel", page=page, follow_redirects=True)

    assert f"Run #{run_id} cancelled: 2 entries held for review will not be sent" in response.text
    assert "Cancel run" not in response.text
    assert f"/runs/{run_id}" not in client.get("/w/acme/review").text
    _after_the_cancel(client, run_id, editor, work, mailbox)


def test_a_finished_run_with_nothing_held_still_cannot_be_cancelled(
    app, work, smtp_server, mailbox
):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, ROWS), None).id
    work()
    assert reload_run(run_id).status == "finished"
    with pytest.raises(ValidationFailed, match="a finished run cannot be cancelled"):
        cancel_run(reload_run(run_id), None)
    assert [e.status for e in entries_of(run_id)] == ["Completed"] * 2
    assert reload_run(run_id).status == "finished"


def test_a_delivery_waiting_for_its_retry_is_not_sent_after_the_cancel(app, client, auth, work):
    # Greylisted: each first try is refused for now (451), a retry would be accepted.
    greylist = {row["email"] for row in ROWS}
    with scripted_smtp(greylist=greylist) as (server, settings):
        ws = make.workspace("acme", smtp=settings)
        make.user("editor@acme.example", ws, "editor")
        run_id = start_run(make.mailing_job(ws, ROWS), None).id
        work()
        assert [e.status for e in entries_of(run_id)] == ["InProgress"] * 2
        assert {d.status for d in _deliveries(run_id)} == {"pending"}  # waiting for the retry

        assert cancel_run(reload_run(run_id), None) == 2
        assert all(e.lease_expires_at is None for e in entries_of(run_id))  # final: no lease
        _retries_come(run_id, work)

        assert server.messages == []
    assert [e.status for e in entries_of(run_id)] == ["Cancelled"] * 2
    assert {(d.status, d.last_error) for d in _deliveries(run_id)} == {("skipped", "run cancelled")}
    body = _counts(client, run_id)
    assert (body["runStatus"], body["completed"], body["cancelled"]) == ("cancelled", 0, 2)
    auth.login("editor@acme.example", make.PASSWORD)
    page = client.get(f"/w/acme/runs/{run_id}").text
    assert "entries (2 cancelled)" in page and 'data-bucket="completed">0<' in page


def test_a_finished_entry_of_a_cancelled_run_stays_and_is_not_sent_again(
    app, work, smtp_server, mailbox
):
    # One message per minute: the first entry is sent, the second waits for its slot.
    ws = make.workspace("acme", smtp={**smtp_server.settings, "max_per_minute": 1})
    editor = make.user("editor@acme.example", ws, "editor")
    run_id = start_run(make.mailing_job(ws, ROWS), None).id
    work()
    assert sorted(e.status for e in entries_of(run_id)) == ["Completed", "InProgress"]

    assert cancel_run(reload_run(run_id), None) == 1

    cancelled, done = sorted(entries_of(run_id), key=lambda e: e.status)
    assert (done.status, cancelled.status) == ("Completed", "Cancelled")
    with pytest.raises(ValidationFailed, match="cancelled"):
        deliver_entries(reload_run(run_id), [done.id], editor)
    with pytest.raises(ValidationFailed, match="cancelled"):
        retry_delivery(cancelled.deliveries[0].id, editor)
    work()
    assert len(mailbox.envelopes) == 1
