"""Nothing is lost: a killed worker, an emptied Redis or a dead SMTP server."""

from __future__ import annotations

import signal
from datetime import timedelta
from functools import partial

from app.database import utcnow
from app.extensions import db, queues
from app.models import Entry, EntryDelivery
from app.runs.buckets import bucket_counts
from app.runs.create import start_run
from app.runs.prepare import prepare_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.helpers import entries_of, reload_run, start_worker
from tests.helpers import wait_for as _wait_for

# Enough table rows that WeasyPrint takes seconds: time to kill the worker mid-entry.
SLOW_TEMPLATE = (
    "<table>{% for i in range(6000) %}<tr><td>{{ people.name }} {{ i }}</td></tr>{% endfor %}"
    "</table>"
)


def later(seconds: int = 3600):
    return utcnow() + timedelta(seconds=seconds)


wait_for = partial(_wait_for, interval=0.05)


def test_an_entry_of_a_killed_worker_is_generated_again(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    job = make.mailing_job(ws, [{"name": "Ada", "email": "ada@example.com"}], SLOW_TEMPLATE)
    run_id = start_run(job, None).id
    worker = start_worker(app)
    try:
        wait_for(lambda: [e.status for e in entries_of(run_id)] == ["InProgress"])
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    (entry,) = entries_of(run_id)
    assert (entry.status, entry.attempts) == ("InProgress", 1)

    work()  # nothing queued any more: the job died with its worker
    assert [e.status for e in entries_of(run_id)] == ["InProgress"]

    counts = recover_stalled_work(now=later())
    assert counts["entries_recovered"] == 1
    assert "the worker stopped during attempt 1" in entries_of(run_id)[0].error
    work()

    (entry,) = entries_of(run_id)
    assert (entry.status, entry.attempts, entry.error) == ("Completed", 2, None)
    assert len(mailbox.messages) == 1
    assert reload_run(run_id).status == "finished"


def test_an_entry_that_keeps_killing_workers_ends_in_an_error_saying_why(app, work):
    ws = make.workspace()
    job = make.people_job(ws, [{"name": "Ada"}], "<p>{{ people.name }}</p>")
    run_id = start_run(job, None).id
    queues.connection.flushdb()
    prepare_run(run_id)
    queues.connection.flushdb()
    (entry,) = entries_of(run_id)
    # As if three workers had died holding it.
    db.session.execute(
        db.update(Entry)
        .where(Entry.id == entry.id)
        .values(status="InProgress", attempts=3, lease_expires_at=utcnow())
    )
    db.session.commit()

    recover_stalled_work(now=later())
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "GenerationFailed"
    assert entry.error == "gave up after 3 interrupted attempts"
    assert reload_run(run_id).status == "finished"


def test_work_lost_with_an_emptied_redis_is_queued_again(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]
    job = make.mailing_job(ws, rows, "<p>{{ people.name }}</p>")
    run_id = start_run(job, None).id
    queues.connection.flushdb()  # Redis restarted empty before prepare_run ran

    assert recover_stalled_work()["runs_requeued"] == 0  # not stale yet: nothing touched
    assert recover_stalled_work(now=later())["runs_requeued"] == 1
    queue = queues.queue("generate")
    assert queue.count == 1
    queue.empty()
    prepare_run(run_id)  # as a worker would, then Redis loses the generation jobs too
    queues.connection.flushdb()
    assert bucket_counts(run_id)["queued"] == 3

    assert recover_stalled_work(now=later())["entries_requeued"] == 3
    work()

    assert bucket_counts(run_id)["completed"] == 3
    assert sorted(env[0] for env in mailbox.envelopes) == [r["email"] for r in rows]


def test_queued_work_still_in_redis_is_not_queued_twice(app):
    ws = make.workspace()
    job = make.people_job(ws, [{"name": "Ada"}, {"name": "Bob"}], "<p>{{ people.name }}</p>")
    run_id = start_run(job, None).id
    queues.queue("generate").empty()
    prepare_run(run_id)
    assert queues.queue("generate").count == 2
    assert recover_stalled_work(now=later())["entries_requeued"] == 0
    assert queues.queue("generate").count == 2


def test_deliveries_wait_for_a_dead_smtp_server_and_go_out_when_it_is_back(
    app, work, smtp_server, mailbox
):
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [
        {"name": "Ada", "email": "ada@example.com"},
        {"name": "Bob", "email": "bob@example.com"},
    ]
    job = make.mailing_job(ws, rows, "<p>{{ people.name }}</p>")
    smtp_server.stop()
    run_id = start_run(job, None).id
    work()

    assert bucket_counts(run_id)["queued"] == 2
    assert reload_run(run_id).status == "running"
    deliveries = db.session.scalars(db.select(EntryDelivery)).all()
    assert {d.status for d in deliveries} == {"pending"}
    assert all(
        "attempt 1 failed, will retry: cannot reach SMTP server" in d.last_error for d in deliveries
    )

    smtp_server.start()
    recover_stalled_work(now=later(1))
    work()

    assert bucket_counts(run_id)["completed"] == 2
    assert sorted(env[0] for env in mailbox.envelopes) == ["ada@example.com", "bob@example.com"]
    assert reload_run(run_id).status == "finished"


def test_a_server_that_never_comes_back_fails_the_delivery_after_the_last_retry(
    app, work, smtp_server
):
    ws = make.workspace(smtp=smtp_server.settings)
    job = make.mailing_job(
        ws, [{"name": "Ada", "email": "ada@example.com"}], "<p>{{ people.name }}</p>"
    )
    smtp_server.stop()
    run_id = start_run(job, None).id
    work()
    for _ in range(3):  # retry delays are [0, 0] in tests: three attempts in all
        recover_stalled_work(now=later(1))
        work()

    (entry,) = entries_of(run_id)
    assert entry.status == "DeliveryFailed"
    delivery = db.session.scalars(db.select(EntryDelivery)).one()
    assert delivery.attempts == 3
    assert delivery.last_error.startswith("gave up after 3 attempts: cannot reach SMTP server")


def test_a_rejected_recipient_fails_at_once_without_retries(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    job = make.mailing_job(
        ws, [{"name": "Ada", "email": "ada@example.com"}], "<p>{{ people.name }}</p>"
    )
    mailbox.reject_with = "550 5.1.1 No such user"
    run_id = start_run(job, None).id
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "DeliveryFailed"
    delivery = db.session.scalars(db.select(EntryDelivery)).one()
    assert delivery.attempts == 1
    assert "550" in delivery.last_error and "No such user" in delivery.last_error
