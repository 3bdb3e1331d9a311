"""The email throttle is shared by every worker, and a throttled delivery holds no worker
(issue 16, point 4).

Two real worker processes send a burst of 8 entries over one SMTP connection allowing 3
messages per window (the window shortened to WINDOW seconds with
HERALD_THROTTLE_WINDOW_SECONDS); the real SMTP server's arrival times show at most 3 in any
window, across both workers, and every message arriving exactly once. While the throttled
deliveries wait, another job's entry goes through the same workers. The clock's sweep is run
by this test (as `finish_with_recovery` does), so the waits end only when it runs.
"""

from __future__ import annotations

from collections import Counter

from app.extensions import db
from app.models import EntryDelivery
from app.runs.create import start_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.delivery.smtp_rig import scripted_smtp
from tests.faults.rig import wait_for
from tests.helpers import entries_of, reload_run

WINDOW = 4  # seconds
LIMIT = 3
ROWS = [{"name": f"P{i}", "email": f"p{i}@example.com"} for i in range(8)]


def deliveries(run_id: int) -> list[EntryDelivery]:
    return [d for e in entries_of(run_id) for d in e.deliveries]


def settled_for_now(run_id: int) -> bool:
    """Every delivery of the run is sent or waiting for the rate limit; none is being sent."""
    found = deliveries(run_id)
    return len(found) == len(ROWS) and all(
        d.status == "sent" or (d.status == "pending" and (d.detail or {}).get("waiting"))
        for d in found
    )


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of `times` (seconds) inside any span of `window` seconds."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))


def test_two_workers_keep_one_shared_rate_and_stay_free_while_deliveries_wait(app, workers):
    with scripted_smtp() as (throttled, settings), scripted_smtp() as (other, other_settings):
        ws = make.workspace("acme", smtp={**settings, "max_per_minute": LIMIT})
        run_id = start_run(make.mailing_job(ws, ROWS), None).id
        for _ in range(2):
            workers(HERALD_THROTTLE_WINDOW_SECONDS=str(WINDOW))

        # The burst: LIMIT messages go, the rest wait (pending, no attempt spent), and no
        # worker is held by them — nothing moves on until the sweep wakes them.
        wait_for(lambda: settled_for_now(run_id))
        assert len(throttled.messages) == LIMIT
        waiting = [d for d in deliveries(run_id) if d.status == "pending"]
        assert len(waiting) == len(ROWS) - LIMIT
        assert all(d.attempts == 0 and d.last_error is None for d in waiting)

        # The workers are free: another job's entry is generated and mailed meanwhile.
        other_ws = make.workspace("other", smtp=other_settings)
        other_run = start_run(make.mailing_job(other_ws, ROWS[:1]), None).id
        wait_for(lambda: reload_run(other_run).status == "finished")
        assert [e.status for e in entries_of(other_run)] == ["Completed"]
        assert len(other.messages) == 1
        assert len(throttled.messages) == LIMIT  # the throttled ones still wait

        def finished() -> bool:
            recover_stalled_work()  # the clock's sweep: wakes each delivery at its slot
            return reload_run(run_id).status == "finished"

        wait_for(finished)

    # Exactly once each, never more than LIMIT in any window, the waits spending no attempt.
    received = Counter(addr for rcpts, _ in throttled.messages for addr in rcpts)
    assert received == Counter(r["email"] for r in ROWS)
    assert most_in_any_window(throttled.accepted_at, WINDOW) <= LIMIT
    db.session.expire_all()
    assert all(d.status == "sent" and d.attempts == 1 for d in deliveries(run_id))
    assert [e.status for e in entries_of(run_id)] == ["Completed"] * len(ROWS)
