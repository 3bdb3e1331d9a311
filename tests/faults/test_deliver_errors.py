"""A delivery job that raises (not killed) again and again is not re-queued forever (issue 12).

The stored PDFs of a generated run are lost before a real worker delivers it, so every
delivery job raises FileNotFoundError. The sweep re-queues it within the deliveries' attempt
budget; then its deliveries fail saying why, the entry ends and the run finishes.
"""

from __future__ import annotations

import shutil

from app.extensions import db
from app.models import EntryDelivery
from app.runs.recovery import recover_stalled_work
from tests.faults.rig import ROWS, finish_with_recovery, run_waiting_for_delivery, wait_for
from tests.helpers import entries_of

RETRY_DELAYS = "0,0"  # three tries in all


def test_a_delivery_job_that_keeps_raising_fails_its_deliveries_after_the_budget(
    app, workers, smtp_server, mailbox
):
    # Rendered and approved here; the delivery jobs wait in the queue for the worker.
    run_id = run_waiting_for_delivery(smtp_server)
    assert {(e.status, e.stage) for e in entries_of(run_id)} == {("InProgress", "deliver")}
    shutil.rmtree(app.config["STORAGE_DIR"])  # the stored PDFs are gone

    workers(HERALD_DELIVERY_RETRY_DELAYS=RETRY_DELAYS)
    finish_with_recovery(run_id)

    assert [e.status for e in entries_of(run_id)] == ["DeliveryFailed"] * len(ROWS)
    deliveries = db.session.scalars(db.select(EntryDelivery)).all()
    assert {(d.status, d.attempts) for d in deliveries} == {("failed", 0)}  # never sent
    for delivery in deliveries:
        assert delivery.last_error.startswith("not sent: the delivery job failed 3 times; last: ")
        assert "FileNotFoundError" in delivery.last_error
        assert delivery.detail["job_errors"] == 2
    assert mailbox.envelopes == []
    # Nothing left to re-queue: the entries ended.
    counts = recover_stalled_work()
    assert counts["entries_recovered"] == counts["entries_requeued"] == 0


def test_a_delivery_job_that_raises_once_is_tried_again_and_sends_once(
    app, workers, smtp_server, mailbox, tmp_path
):
    run_id = run_waiting_for_delivery(smtp_server)
    storage = app.config["STORAGE_DIR"]
    saved = tmp_path / "saved"
    shutil.move(storage, saved)  # the storage is unavailable for a while

    workers(HERALD_DELIVERY_RETRY_DELAYS=RETRY_DELAYS)

    def failed_once() -> bool:
        db.session.expire_all()
        details = [d.detail or {} for d in db.session.scalars(db.select(EntryDelivery))]
        return all(detail.get("job_errors") == 1 for detail in details)

    wait_for(failed_once)
    shutil.move(saved, storage)  # back
    finish_with_recovery(run_id)

    assert [e.status for e in entries_of(run_id)] == ["Completed"] * len(ROWS)
    assert sorted(env[0] for env in mailbox.envelopes) == [r["email"] for r in ROWS]
