"""An entry that goes straight to delivery is delivered by the job that generated it."""

from __future__ import annotations

from datetime import timedelta

from rq import SimpleWorker
from sqlalchemy import update

from app import storage
from app.database import utcnow
from app.extensions import db, queues
from app.models import Artifact, Entry, EntryDelivery, Run
from app.runs.create import start_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.helpers import attachments, drain, entries_of, reload_run


def _work_generate_queue_only() -> None:
    worker = SimpleWorker([queues.queue("generate")], connection=queues.connection)
    worker.work(burst=True, logging_level="WARNING")
    db.session.expire_all()


def test_a_worker_of_the_generate_queue_alone_sends_what_it_generated(app, smtp_server, mailbox):
    rows = [{"name": f"Customer {n}", "email": f"c{n}@example.com"} for n in range(3)]
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, rows), None).id

    _work_generate_queue_only()

    assert reload_run(run_id).status == "finished"
    assert [e.status for e in entries_of(run_id)] == ["Completed"] * 3
    # Nothing went through the deliver queue: no job waits there for a worker.
    assert queues.queue("deliver").count == 0
    assert sorted(env[0] for env in mailbox.envelopes) == [r["email"] for r in rows]
    # What was sent from memory is byte for byte what was stored.
    for entry, message in zip(entries_of(run_id), _in_row_order(mailbox, rows), strict=True):
        (artifact,) = db.session.scalars(db.select(Artifact).filter_by(entry_id=entry.id))
        ((_, content),) = attachments(message)
        assert content == storage.load(artifact.storage_key)


def test_an_entry_left_in_its_delivery_stage_is_delivered_by_the_sweep(app, smtp_server, mailbox):
    """A worker that died between generating and delivering (its lease ran out) loses
    nothing: the sweep queues the delivery, which reads the files back from storage."""
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [{"name": "Ada", "email": "ada@example.com"}]
    run_id = start_run(make.mailing_job(ws, rows), None).id
    drain(app)
    (entry,) = entries_of(run_id)
    sent = mailbox.messages[0]
    mailbox.clear()
    # As the dead worker left it: generated, in its delivery stage, its deliveries pending.
    db.session.execute(
        update(Entry)
        .where(Entry.id == entry.id)
        .values(status="InProgress", stage="deliver", lease_expires_at=utcnow() - timedelta(1))
    )
    db.session.execute(
        update(EntryDelivery).where(EntryDelivery.entry_id == entry.id).values(status="pending")
    )
    db.session.execute(update(Run).where(Run.id == run_id).values(status="running"))
    db.session.commit()

    recover_stalled_work()
    drain(app)

    assert [e.status for e in entries_of(run_id)] == ["Completed"]
    assert reload_run(run_id).status == "finished"
    (message,) = mailbox.messages
    assert attachments(message) == attachments(sent)


def _in_row_order(mailbox, rows):
    by_address = {env[0]: msg for env, msg in zip(mailbox.envelopes, mailbox.messages, strict=True)}
    return [by_address[r["email"]] for r in rows]
