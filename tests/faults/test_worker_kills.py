"""Real worker processes killed (SIGKILL) at each stage: nothing is lost, nothing sent twice.

A worker is stopped at a named pause point (app/faults.py) or held by the SMTP server in the
middle of a conversation, killed there, and a healthy worker plus the clock's recovery sweep
finish the run. Leases are short here (2 s, renewed every 0.2 s); every wait polls with a
generous timeout, nothing asserts on elapsed time.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.models import EntryDelivery
from app.runs.create import start_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.faults.rig import (
    LEASE_SECONDS,
    ROWS,
    assert_each_sent_once,
    finish_with_recovery,
    kill,
    mailing_run,
    wait_for,
)
from tests.helpers import entries_of, reload_run, start_process


@pytest.mark.parametrize(
    "point",
    [
        "prepare",
        "generate.before_claim",  # the job taken from Redis, the entry still Queued
        "generate",
        "generate.stored",  # files stored, the entry not yet moved on
        "generate.delivery_stage",  # moved to delivery by the job that will deliver it in-job
        "deliver.before_send",
        "deliver.after_send",
    ],
)
def test_a_worker_killed_at_each_stage_loses_nothing_and_sends_nothing_twice(
    app, workers, smtp_server, mailbox, tmp_path: Path, point: str
):
    run_id = mailing_run(smtp_server)
    marker = tmp_path / "paused"
    doomed = workers(HERALD_FAULT_PAUSE=point, HERALD_FAULT_MARKER=str(marker))
    wait_for(marker.exists)
    kill(doomed)

    workers()
    finish_with_recovery(run_id)

    assert_each_sent_once(run_id, mailbox)
    deliveries = db.session.scalars(db.select(EntryDelivery)).all()
    assert {d.status for d in deliveries} == {"sent"}
    if point == "deliver.before_send":  # the cut-off delivery was attempted once more
        assert sorted(d.attempts for d in deliveries) == [1, 2]


def test_a_worker_killed_in_the_middle_of_the_smtp_conversation_sends_once(
    app, workers, smtp_server, mailbox
):
    run_id = mailing_run(smtp_server)
    mailbox.stall = True  # the server holds the worker before it has accepted any message
    doomed = workers()
    wait_for(lambda: mailbox.stalled > 0)
    kill(doomed)
    mailbox.stall = False

    workers()
    finish_with_recovery(run_id)

    assert_each_sent_once(run_id, mailbox)
    deliveries = db.session.scalars(db.select(EntryDelivery)).all()
    assert sorted(d.attempts for d in deliveries) == [1, 2]  # the cut-off one, once more


def test_a_message_the_server_took_before_its_worker_died_goes_again_as_the_same_message(
    app, workers, smtp_server, mailbox
):
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, ROWS[:1]), None).id
    mailbox.stall_data = True  # the server has the message; its "250" never reaches the worker
    doomed = workers()
    wait_for(lambda: mailbox.data_stalled > 0)
    kill(doomed)
    mailbox.stall_data = False

    workers()
    finish_with_recovery(run_id)

    # Herald cannot know the first one arrived, so it sends again (at least once), under the
    # same Message-ID: the receiving system can tell the copy and drop it (RFC 5322 3.6.4).
    first, again = mailbox.messages
    assert first["Message-ID"] == again["Message-ID"]
    delivery = db.session.scalars(db.select(EntryDelivery)).one()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.detail["message_id"] == first["Message-ID"]


def test_a_delivery_interrupted_twice_is_failed_not_sent_a_third_time(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, ROWS[:1]), None).id
    for attempt in (1, 2):
        marker = tmp_path / f"paused-{attempt}"
        doomed = workers(HERALD_FAULT_PAUSE="deliver.before_send", HERALD_FAULT_MARKER=str(marker))
        wait_for(lambda m=marker: (recover_stalled_work(), m.exists())[1])
        kill(doomed)

    workers()
    finish_with_recovery(run_id)

    (entry,) = entries_of(run_id)
    assert entry.status == "DeliveryFailed"
    delivery = db.session.scalars(db.select(EntryDelivery)).one()
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("interrupted twice while sending (attempt 2)")
    assert mailbox.envelopes == []


def test_a_live_render_longer_than_the_lease_is_not_started_twice(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    run_id = mailing_run(smtp_server)
    marker = tmp_path / "paused"
    # The first entry's render takes three leases; the heartbeat keeps it leased.
    workers(
        HERALD_FAULT_PAUSE="generate",
        HERALD_FAULT_MARKER=str(marker),
        HERALD_FAULT_PAUSE_SECONDS=str(3 * LEASE_SECONDS),
    )
    wait_for(marker.exists)
    recovered = 0

    def finished() -> bool:
        nonlocal recovered
        counts = recover_stalled_work()
        recovered += counts["entries_recovered"] + counts["entries_requeued"]
        return reload_run(run_id).status == "finished"

    wait_for(finished)

    assert recovered == 0
    assert [e.attempts for e in entries_of(run_id)] == [1, 1]
    assert_each_sent_once(run_id, mailbox)


# A template loop that never ends in practice (10^10 iterations; the sandbox caps each range).
ENDLESS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def test_an_entry_rendering_past_the_deadline_fails_and_frees_the_worker(
    app, workers, smtp_server, mailbox
):
    ws = make.workspace(smtp=smtp_server.settings)
    html = "{% if people.name == 'Ada' %}" + ENDLESS + "{% endif %}<p>{{ people.name }}</p>"
    run_id = start_run(make.mailing_job(ws, ROWS, html), None).id
    workers(HERALD_RENDER_TIMEOUT_SECONDS="1")  # the only worker: Bob's entry needs it freed

    finish_with_recovery(run_id)

    ada, bob = entries_of(run_id)
    assert (ada.status, ada.error) == ("GenerationFailed", "rendering took longer than 1 s")
    assert (ada.attempts, bob.status) == (1, "Completed")
    assert [env[0] for env in mailbox.envelopes] == ["bob@example.com"]
    skipped = db.session.scalars(db.select(EntryDelivery).filter_by(entry_id=ada.id)).one()
    assert (skipped.status, skipped.last_error) == (
        "skipped",
        "not sent: rendering took longer than 1 s",
    )


def test_a_worker_killed_building_a_review_document_is_replaced(
    app, work, workers, smtp_server, mailbox, tmp_path: Path
):
    from app.models import TemporaryFile
    from app.review.document import request_review_document

    ws = make.workspace(smtp=smtp_server.settings)
    job = make.mailing_job(ws, ROWS, hold_for_review=True)
    run_id = start_run(job, None).id
    work()
    ids = [e.id for e in entries_of(run_id)]
    file_id = request_review_document(ws, None, ids, "Review").id
    marker = tmp_path / "paused"
    doomed = workers(HERALD_FAULT_PAUSE="review_document", HERALD_FAULT_MARKER=str(marker))
    wait_for(marker.exists)
    kill(doomed)

    workers()

    def ready() -> bool:
        recover_stalled_work()
        db.session.expire_all()
        return db.session.get(TemporaryFile, file_id).status != "pending"

    wait_for(ready)
    file = db.session.get(TemporaryFile, file_id)
    assert (file.status, file.pages) == ("ready", 1 + len(ROWS))
    assert [e.status for e in entries_of(run_id)] == ["PendingReview"] * len(ROWS)
    assert mailbox.envelopes == []


@pytest.mark.parametrize(
    ("point", "posts"),
    [
        ("completion_webhook.before_post", 1),
        # The receiver had it: sent again, recognisable by the same X-Herald-Delivery.
        ("completion_webhook.after_post", 2),
    ],
)
def test_a_clock_killed_sending_the_completion_webhook_sends_it_again(
    app, work, short_leases, smtp_server, tmp_path: Path, point: str, posts: int
):
    from app.models import Run
    from tests.delivery.test_channels import LocalServer, Reply

    server = LocalServer(lambda request: Reply(200))
    try:
        ws = make.workspace(smtp=smtp_server.settings)
        job = make.mailing_job(ws, ROWS)
        run_id = start_run(job, None, notify_url=f"{server.base}/done").id
        work()
        assert reload_run(run_id).notify_status == "pending"
        marker = tmp_path / "paused"
        pause = {"HERALD_FAULT_PAUSE": point, "HERALD_FAULT_MARKER": str(marker)}
        clock = start_process(app, "workers.clock", **pause)
        try:
            wait_for(marker.exists)
        finally:
            kill(clock)

        def sent() -> bool:
            recover_stalled_work()  # the next clock's tick
            return reload_run(run_id).notify_status != "pending"

        wait_for(sent)
    finally:
        server.close()
    run = db.session.get(Run, run_id)
    assert (run.notify_status, run.notify_attempts) == ("sent", 1)
    assert len(server.received) == posts
    assert {r.headers["x-herald-delivery"] for r in server.received} == {f"run-{run_id}"}


def test_a_live_delivery_held_by_a_slow_server_is_not_sent_twice(
    app, workers, smtp_server, mailbox
):
    run_id = mailing_run(smtp_server)
    mailbox.stall = True
    workers()
    wait_for(lambda: mailbox.stalled > 0)
    first = entries_of(run_id)[0].lease_expires_at
    recovered = 0

    def sweep() -> None:
        nonlocal recovered
        counts = recover_stalled_work()
        recovered += counts["entries_recovered"] + counts["entries_requeued"]

    def held_for_three_leases() -> bool:
        sweep()
        lease = entries_of(run_id)[0].lease_expires_at
        return lease - first > timedelta(seconds=3 * LEASE_SECONDS)  # renewed all along

    wait_for(held_for_three_leases)
    mailbox.stall = False
    wait_for(lambda: (sweep(), reload_run(run_id).status == "finished")[1])

    assert recovered == 0
    assert_each_sent_once(run_id, mailbox)
    assert sorted(d.attempts for d in db.session.scalars(db.select(EntryDelivery))) == [1, 1]
