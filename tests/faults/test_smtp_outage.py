"""The SMTP server stopped in the middle of a run and started again (issue 12, kind 7).

A real worker process sends; the real aiosmtpd server is stopped while it holds the worker in
the middle of a conversation, stays down while the deliveries are retried per the retry
policy, and comes back: every entry then reaches it exactly once.
"""

from __future__ import annotations

from app.extensions import db
from app.models import EntryDelivery
from app.runs.recovery import recover_stalled_work
from tests.faults.rig import (
    assert_each_sent_once,
    assert_no_duplicates,
    finish_with_recovery,
    mailing_run,
    wait_for,
)

ROWS = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]
# Attempts allowed: one plus a wait (seconds) before each retry. Enough that none is given up
# while the server is down here; tests/delivery covers giving up.
RETRY_DELAYS = "1,1,1,1,1,1,1,1"


def deliveries() -> list[EntryDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(EntryDelivery).order_by(EntryDelivery.id)))


def all_attempted(times: int) -> bool:
    """Every delivery failed at least `times` attempts and waits for the next one."""
    return all(d.status == "pending" and d.attempts >= times for d in deliveries())


def test_an_smtp_server_stopped_mid_run_and_restarted_gets_each_entry_once(
    app, workers, smtp_server, mailbox
):
    run_id = mailing_run(smtp_server, ROWS)
    mailbox.stall = True  # the first conversation is held before any message is accepted
    workers(HERALD_DELIVERY_RETRY_DELAYS=RETRY_DELAYS, HERALD_SMTP_TIMEOUT_SECONDS="10")
    wait_for(lambda: mailbox.stalled > 0)
    smtp_server.stop()  # the held connection is cut; the others find nobody listening
    mailbox.stall = False

    wait_for(lambda: all_attempted(1))
    errors = {d.last_error.split(": ", 1)[0] for d in deliveries()}
    assert errors == {"attempt 1 failed, will retry"}  # not given up, not "uncertain"
    # Retried per the policy while the server is still down: the clock's sweep queues each
    # delivery again once its wait is over, and it fails again without being given up.
    wait_for(lambda: (recover_stalled_work(), all_attempted(2))[1])
    assert mailbox.envelopes == []

    smtp_server.start()
    finish_with_recovery(run_id)

    assert_each_sent_once(run_id, mailbox, ROWS)
    assert_no_duplicates(mailbox)
    assert all(d.status == "sent" and d.attempts >= 3 for d in deliveries())
