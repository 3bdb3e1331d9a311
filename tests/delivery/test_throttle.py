"""The shared email throttle (app/delivery/throttle.py) against the suite's real Redis: the
decision, the reserved slots of waiting messages, a Redis outage, and a throttled delivery as
the entry page and the API show it. Two real worker processes: tests/faults/test_throttle.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from app.delivery.throttle import SEND_MARGIN_SECONDS, Throttled, acquire, rate_text
from app.extensions import db, queues
from app.models import Entry, EntryDelivery
from app.runs.create import cancel_run, start_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.helpers import Api, csrf_from, entries_of, reload_run, token_for, wait_for

WINDOW = 2  # seconds: the window the tests shrink THROTTLE_WINDOW_SECONDS to


@pytest.fixture
def window(app: Flask) -> Iterator[int]:
    saved = app.config["THROTTLE_WINDOW_SECONDS"]
    app.config["THROTTLE_WINDOW_SECONDS"] = WINDOW
    yield WINDOW
    app.config["THROTTLE_WINDOW_SECONDS"] = saved


def refused(connection_id: int, limit: int, cost: int = 1) -> Throttled | None:
    """The Throttled raised by `acquire`, or None when it let the message go."""
    try:
        acquire(connection_id, limit, cost)
    except Throttled as exc:
        return exc
    return None


def test_at_most_the_limit_goes_per_window_then_the_window_frees(app, window):
    before = datetime.now(UTC)
    assert [refused(1, 3) for _ in range(3)] == [None, None, None]
    waiting = refused(1, 3)
    assert waiting is not None and not waiting.outage
    # The next try is when the first of the three leaves the window (and its margin for the
    # time a message takes to reach the server), not before.
    counted = timedelta(seconds=window + SEND_MARGIN_SECONDS)
    assert before + counted <= waiting.retry_at <= datetime.now(UTC) + counted
    assert str(waiting) == f"waiting: rate limit 3 per {window} s"

    wait_for(lambda: datetime.now(UTC) >= waiting.retry_at)
    assert refused(1, 3) is None  # the first slot is free again


def test_connections_are_counted_apart_and_zero_means_no_limit(app, window):
    assert refused(1, 1) is None
    assert refused(1, 1) is not None
    assert refused(2, 1) is None  # another connection has its own allowance
    assert all(refused(3, 0) is None for _ in range(50))


def test_waiting_messages_get_distinct_slots_one_interval_apart(app, window):
    assert [refused(7, 2) for _ in range(2)] == [None, None]
    slots = [refused(7, 2).retry_at for _ in range(5)]
    gaps = [(b - a).total_seconds() for a, b in zip(slots, slots[1:], strict=False)]
    # (window + margin) / limit apart: the waiting messages wake one by one, never all at once.
    assert gaps == pytest.approx([(window + SEND_MARGIN_SECONDS) / 2] * 4, abs=0.01)
    # The reservations outlive the last slot reserved, so the next waiter queues behind it.
    left = queues.connection.pttl("herald:throttle:next:7") / 1000
    assert datetime.now(UTC) + timedelta(seconds=left) > slots[-1]


def test_a_message_of_several_transactions_counts_each_and_never_more_than_the_limit(app, window):
    assert refused(9, 3, cost=2) is None
    assert refused(9, 3, cost=2) is not None  # 2 + 2 > 3
    assert refused(9, 3, cost=1) is None
    assert refused(10, 3, cost=50) is None  # larger than a window allows: one whole window


def test_a_limit_changed_while_messages_wait_keeps_counting_the_same_window(app, window):
    # "Max messages per minute" edited on the connection while a burst is under way: what
    # the window already sent still counts, whether the limit goes down or up.
    assert [refused(11, 3) for _ in range(3)] == [None, None, None]
    assert refused(11, 2) is not None  # 3 already went: a limit of 2 sends nothing more
    assert refused(11, 5) is None and refused(11, 5) is None  # 3 + 2 = the new limit
    assert refused(11, 5) is not None
    assert refused(11, 3) is not None


def test_with_redis_down_nothing_is_sent_and_the_message_waits(app, window, redis_server):
    redis_server.stop()
    waiting = refused(1, 3)
    assert waiting is not None and waiting.outage
    assert "Redis unavailable" in str(waiting)
    assert waiting.retry_at > datetime.now(UTC)


def test_rates_read_per_minute_when_the_window_is_a_minute():
    assert rate_text(30, 60) == "30/min"
    assert rate_text(3, 5) == "3 per 5 s"


# --- a throttled delivery, end to end in this process ----------------------------------------

ROWS = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]


@pytest.fixture
def throttled_ws(app, smtp_server):
    ws = make.workspace("acme", smtp={**smtp_server.settings, "max_per_minute": 1})
    make.user("editor@acme.example", ws, "editor")
    return ws


def deliveries(run_id: int) -> list[EntryDelivery]:
    return [d for e in entries_of(run_id) for d in e.deliveries]


def test_a_throttled_delivery_waits_unsent_unfailed_and_goes_once_its_slot_comes(
    app, throttled_ws, work, mailbox, client, auth
):
    assert app.config["THROTTLE_WINDOW_SECONDS"] == 60  # the real window: none frees here
    run_id = start_run(make.mailing_job(throttled_ws, ROWS), None).id
    work()
    assert len(mailbox.envelopes) == 1  # one per minute
    sent = [d for d in deliveries(run_id) if d.status == "sent"]
    waiting = [d for d in deliveries(run_id) if d.status == "pending"]
    assert len(sent) == 1 and len(waiting) == 2
    for delivery in waiting:
        # Not an attempt, not a deferral, not an error: a wait with its reason and next try.
        assert delivery.attempts == 0 and delivery.last_error is None
        assert delivery.detail["waiting"] == {
            "reason": "rate limit",
            "limit": 1,
            "window_seconds": 60,
        }
        assert delivery.next_attempt_at > datetime.now(UTC)
    # Woken one by one, a minute apart (the allowance), never all at once.
    first, second = sorted(d.next_attempt_at for d in waiting)
    assert (second - first).total_seconds() == pytest.approx(60 + SEND_MARGIN_SECONDS, abs=0.01)
    # The entry waits without holding a worker: nothing is queued or running for it now;
    # its lease ends at the next try, when the sweep queues it again.
    entry = next(e for e in entries_of(run_id) if e.deliveries[0].status == "pending")
    assert entry.status == "InProgress" and entry.lease_expires_at == first

    auth.login("editor@acme.example", make.PASSWORD)
    page = client.get(f"/w/acme/runs/{run_id}/entries/{entry.id}").text
    assert "waiting: rate limit 1/min, next try" in page
    assert "Last error" not in page
    assert "waiting: rate limit 1/min, next try" in client.get(f"/w/acme/runs/{run_id}").text

    token = token_for("editor@acme.example", "acme", ["jobs:read"])
    body = Api(client, token).get(f"/api/v1/ws/acme/jobs/test-job/runs/{run_id}").get_json()
    shown = [d for e in body["entryItems"] for d in e["deliveries"] if d["status"] == "pending"]
    assert {d["waiting"] for d in shown} == {"rate limit 1/min"}
    assert all(d["nextAttemptAt"] and d["attempts"] == 0 for d in shown)
    # Operators see the waits too: they sit in the database, not in an RQ queue.
    make.user("admin@acme.example", throttled_ws, "admin")
    client.post("/logout", data={"csrf_token": csrf_from(client, "/w/acme/runs")})
    auth.login("admin@acme.example", make.PASSWORD)
    assert 'data-deliveries-scheduled="2">2 deliveries wait' in client.get("/system").text
    admin = Api(client, token_for("admin@acme.example", "acme", ["jobs:read"]))
    assert admin.get("/api/v1/system").get_json()["deliveriesScheduled"] == 2

    # Time passes: the allowance is reset (another minute) and the sweep wakes the entries.
    _a_minute_passes(run_id, work)
    assert len(mailbox.envelopes) == 2  # still one per window: the other waits again
    _a_minute_passes(run_id, work)

    assert reload_run(run_id).status == "finished"
    assert sorted(a for env in mailbox.envelopes for a in env) == sorted(r["email"] for r in ROWS)
    assert all(d.status == "sent" and d.attempts == 1 for d in deliveries(run_id))
    assert all("waiting" not in (d.detail or {}) for d in deliveries(run_id))


def _a_minute_passes(run_id: int, work) -> None:
    """For the throttle, a minute passes: its Redis counts and reservations are dropped and
    the waiting deliveries' next tries come; then the clock's sweep runs and the queue drains."""
    for key in queues.connection.scan_iter("herald:throttle*"):
        queues.connection.delete(key)
    past = datetime.now(UTC) - timedelta(seconds=1)
    waiting = [d for d in deliveries(run_id) if d.status == "pending"]
    db.session.execute(
        update(EntryDelivery)
        .where(EntryDelivery.id.in_([d.id for d in waiting]))
        .values(next_attempt_at=past)
    )
    db.session.execute(
        update(Entry)
        .where(Entry.id.in_([d.entry_id for d in waiting]))
        .values(lease_expires_at=past)
    )
    db.session.commit()
    recover_stalled_work()
    work()


def test_a_run_cancelled_while_its_deliveries_wait_sends_nothing_more(
    app, throttled_ws, work, mailbox
):
    run_id = start_run(make.mailing_job(throttled_ws, ROWS), None).id
    work()
    assert len(mailbox.envelopes) == 1  # one per minute: the other two wait for their slots
    cancel_run(reload_run(run_id), None)

    _a_minute_passes(run_id, work)  # their slots come, the sweep wakes their entries
    assert len(mailbox.envelopes) == 1  # and nothing more goes out
    held = [d for d in deliveries(run_id) if d.status != "sent"]
    assert [(d.status, d.last_error) for d in held] == [("skipped", "run cancelled")] * 2
    # The waiting entries end Cancelled, never Completed; the one sent before stays Completed.
    assert sorted(e.status for e in entries_of(run_id)) == ["Cancelled", "Cancelled", "Completed"]
    assert reload_run(run_id).status == "cancelled"
