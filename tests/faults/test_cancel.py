"""A run cancelled while a real worker process holds part of it: nothing is sent afterwards.

The worker is stopped at a pause point (app/faults.py), the run is cancelled, and the worker
is let go (the test deletes the pause's marker): it must see the cancel before it sends or
stores anything. Every wait polls with a generous timeout; nothing asserts on elapsed time.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from app.database import utcnow
from app.extensions import db
from app.models import EntryDelivery
from app.runs.create import cancel_run
from app.runs.recovery import recover_stalled_work
from tests.faults.rig import kill, mailing_run, stop, wait_for
from tests.helpers import entries_of, reload_run


def _deliveries() -> list[EntryDelivery]:
    db.session.expire_all()
    return db.session.scalars(db.select(EntryDelivery).order_by(EntryDelivery.id)).all()


def test_a_delivery_the_worker_already_holds_is_not_sent_after_the_cancel(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    run_id = mailing_run(smtp_server)
    marker = tmp_path / "paused"
    # The worker has taken the first delivery (`sending`) and is about to call the server.
    worker = workers(HERALD_FAULT_PAUSE="deliver.before_send", HERALD_FAULT_MARKER=str(marker))
    wait_for(marker.exists)
    assert "sending" in {d.status for d in _deliveries()}

    assert cancel_run(reload_run(run_id), None) == 2
    marker.unlink()  # let the worker go on
    wait_for(lambda: "sending" not in {d.status for d in _deliveries()})
    stop(worker)

    assert mailbox.envelopes == []
    assert [e.status for e in entries_of(run_id)] == ["Cancelled", "Cancelled"]
    held = next(d for d in _deliveries() if d.status == "skipped" and d.attempts == 0)
    assert held.last_error == "run cancelled"
    assert reload_run(run_id).status == "cancelled"


def test_a_run_cancelled_while_it_is_prepared_makes_no_entries(
    app, workers, work, smtp_server, mailbox, tmp_path: Path
):
    run_id = mailing_run(smtp_server)
    marker = tmp_path / "paused"
    # The worker has started preparing the run: it is about to read its rows.
    worker = workers(HERALD_FAULT_PAUSE="prepare", HERALD_FAULT_MARKER=str(marker))
    wait_for(marker.exists)

    assert cancel_run(reload_run(run_id), None) == 0  # no entry yet
    marker.unlink()
    stop(worker)  # a stopped worker finishes the job it holds first
    work()  # and whatever it queued, here

    assert entries_of(run_id) == []
    assert mailbox.envelopes == []
    run = reload_run(run_id)
    assert (run.status, run.error) == ("cancelled", "cancelled by operator")


def test_a_delivery_a_dead_worker_held_when_the_run_was_cancelled_ends_uncertain(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    run_id = mailing_run(smtp_server)
    marker = tmp_path / "paused"
    doomed = workers(HERALD_FAULT_PAUSE="deliver.before_send", HERALD_FAULT_MARKER=str(marker))
    wait_for(marker.exists)
    cancel_run(reload_run(run_id), None)
    kill(doomed)  # it never comes back to say whether it sent

    # Recovery only takes back in-progress entries: without an end this stays `sending`.
    assert recover_stalled_work(now=utcnow() + timedelta(hours=1))["cancelled_sends_ended"] == 1

    held = next(d for d in _deliveries() if d.attempts == 1)
    assert held.status == "uncertain"
    assert held.last_error.startswith("interrupted while sending, and its run was cancelled")
    recover_stalled_work(now=utcnow() + timedelta(hours=1))
    assert mailbox.envelopes == []  # not sent again
    assert [e.status for e in entries_of(run_id)] == ["Cancelled", "Cancelled"]
