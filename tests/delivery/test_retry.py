"""Retry back-off (app/delivery/retry.py) and the private-destination guard, end to end: a real
in-process RQ worker, real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import pytest

from app.database import utcnow
from app.delivery.retry import RetryDecision, next_retry
from app.delivery.service import deliver_entry
from app.extensions import db
from app.models import EntryDelivery
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import Reply, entries_of

DELAYS = [30, 120, 600]


@pytest.mark.parametrize(
    ("attempts", "retry_after", "expected"),
    [
        (1, None, RetryDecision(30.0)),
        (2, None, RetryDecision(120.0)),
        (3, None, RetryDecision(600.0)),
        (4, None, RetryDecision(None)),
        (9, None, RetryDecision(None)),
        (1, 45.0, RetryDecision(45.0, counted=False)),
        (4, 45.0, RetryDecision(45.0, counted=False)),  # busy is not failing: no give-up
        (1, 7200.0, RetryDecision(900.0, counted=False)),  # capped
        (1, 900.0, RetryDecision(900.0, counted=False)),
        (1, -5.0, RetryDecision(0.0, counted=False)),  # a date in the past: now
        (1, 0.0, RetryDecision(0.0, counted=False)),
    ],
)
def test_the_back_off_policy(attempts, retry_after, expected):
    assert next_retry(attempts, DELAYS, retry_after, 900.0) == expected


def test_no_delays_means_no_retry():
    assert next_retry(1, [], None, 900.0) == RetryDecision(None)


def _webhook_job(url: str) -> Any:
    ws = make.workspace()
    config = {"kind": "webhook", "url": url, "include_pdf": False}
    return make.people_job(ws, [{"name": "Ada"}], "<p>x</p>", deliveries=[config])


def _delivery(run_id: int) -> EntryDelivery:
    (entry,) = entries_of(run_id)
    (delivery,) = entry.deliveries
    return delivery


def _time_passes(delivery_id: int) -> None:
    """The clock moves past the next attempt (the sweeper would re-queue the entry then)."""
    db.session.execute(
        db.update(EntryDelivery)
        .where(EntryDelivery.id == delivery_id)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_a_failing_webhook_is_retried_after_each_configured_delay_then_given_up(
    app, serve, work, monkeypatch
):
    monkeypatch.setitem(app.config, "DELIVERY_RETRY_DELAYS", [60, 300])
    server = serve(Reply(502, b"bad gateway"))
    run_id = start_run(_webhook_job(server.base), None).id
    ids: list[int] = []  # the delivery's and its entry's, once the first attempt ran
    for attempt, delay in enumerate([60, 300], start=1):
        before = utcnow()
        if attempt == 1:
            work()
        else:
            _time_passes(ids[0])
            deliver_entry(ids[1])
        after = utcnow()
        delivery = _delivery(run_id)
        ids = [delivery.id, delivery.entry_id]
        assert (delivery.status, delivery.attempts) == ("pending", attempt)
        assert delivery.last_error.startswith(f"attempt {attempt} failed, will retry:")
        due = delivery.next_attempt_at
        assert before + timedelta(seconds=delay) <= due <= after + timedelta(seconds=delay)
        assert entries_of(run_id)[0].status == "InProgress"  # waiting, not finished

    _time_passes(delivery.id)
    deliver_entry(delivery.entry_id)
    delivery = _delivery(run_id)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.last_error.startswith("gave up after 3 attempts:")
    assert "502" in delivery.last_error
    assert entries_of(run_id)[0].status == "DeliveryFailed"
    assert len(server.received) == 3


def test_a_delivery_not_yet_due_is_not_attempted(app, serve, work, monkeypatch):
    monkeypatch.setitem(app.config, "DELIVERY_RETRY_DELAYS", [60])
    server = serve(Reply(503, b"down"))
    run_id = start_run(_webhook_job(server.base), None).id
    work()
    delivery = _delivery(run_id)
    deliver_entry(delivery.entry_id)  # before the back-off has passed
    assert len(server.received) == 1
    assert (_delivery(run_id).status, _delivery(run_id).attempts) == ("pending", 1)


def _local_name() -> str:
    name = socket.gethostname()
    found = {info[4][0] for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)}
    if any(not a.startswith(("127.", "::1")) for a in found):
        pytest.skip(f"{name} does not resolve to loopback here: {found}")
    return name


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "169.254.169.254", "[::1]", "local-name"],
)
def test_a_webhook_to_a_private_address_is_refused_at_delivery_time(
    app, serve, work, monkeypatch, host
):
    server = serve(Reply(200))
    port = server.base.rsplit(":", 1)[1]
    shown = _local_name() if host == "local-name" else host
    # Started while private destinations were allowed (a name is never checked at save):
    run_id = start_run(_webhook_job(f"http://{shown}:{port}/hook"), None).id
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
    work()

    delivery = _delivery(run_id)
    assert delivery.status == "failed", delivery.last_error
    named = shown.strip("[]")
    assert f"{named} is on this machine or a private network" in delivery.last_error
    assert "HERALD_ALLOW_PRIVATE_WEBHOOKS=1" in delivery.last_error
    assert delivery.attempts == 1  # refused, not retried
    assert entries_of(run_id)[0].status == "DeliveryFailed"
    assert server.received == []
