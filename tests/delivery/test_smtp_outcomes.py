"""Email against a scripted SMTP server: each recipient's outcome is recorded, 4xx-refused
recipients are retried alone, 5xx ones named, and an ambiguous send is never repeated."""

from __future__ import annotations

from email import message_from_bytes

import pytest

from app.api.serializers import recipients_out
from app.delivery.service import deliver_entry
from app.extensions import db
from app.models import EntryDelivery, Workspace
from app.review.redeliver import retry_delivery
from app.runs.create import start_run
from tests import factories as make
from tests.delivery.smtp_rig import scripted_smtp
from tests.helpers import entries_of


def addresses(n: int) -> list[str]:
    return [f"p{i}@example.com" for i in range(n)]


def mail_job(settings: dict, to: list[str]):
    ws = make.workspace(smtp=settings)
    delivery = {"kind": "email", "to": ", ".join(to), "subject": "s", "message": "m"}
    job = make.people_job(ws, [{"name": "Ada"}], "<p>x</p>", deliveries=[delivery])
    return ws, job


def first_send(settings: dict, to: list[str], work) -> tuple[Workspace, int, str, EntryDelivery]:
    """A job mailing `to` through the scripted server, started and worked off once:
    (workspace, run id, entry status, the delivery)."""
    ws, job = mail_job(settings, to)
    run_id = start_run(job, None).id
    work()
    return (ws, run_id, *the_delivery(run_id))


def the_delivery(run_id: int) -> tuple[str, EntryDelivery]:
    (entry,) = entries_of(run_id)
    (delivery,) = entry.deliveries
    return entry.status, delivery


def statuses(delivery: EntryDelivery) -> dict[str, str]:
    return {a: o["status"] for a, o in delivery.detail["recipients"].items()}


def test_a_452_after_n_recipients_moves_the_rest_to_next_transactions(app, work):
    to = addresses(150)
    with scripted_smtp(max_recipients=60) as (server, settings):
        _ws, run_id, entry_status, delivery = first_send(settings, to, work)

    assert (entry_status, delivery.status) == ("Completed", "sent")
    assert set(statuses(delivery).values()) == {"accepted"} and len(statuses(delivery)) == 150
    # 100 per transaction by us, 60 by the server: 60 + 60 + 30, each address exactly once.
    assert [len(rcpts) for rcpts, _ in server.messages] == [60, 60, 30]
    assert sorted(server.delivered_to) == sorted(to)


def test_recipients_per_transaction_are_capped(app, work):
    app.config["SMTP_MAX_RECIPIENTS"] = 40
    try:
        with scripted_smtp() as (server, settings):
            _ws, job = mail_job(settings, addresses(90))
            run_id = start_run(job, None).id
            work()
    finally:
        app.config["SMTP_MAX_RECIPIENTS"] = 100
    assert the_delivery(run_id)[1].status == "sent"
    assert [len(rcpts) for rcpts, _ in server.messages] == [40, 40, 10]


def test_recipients_per_transaction_follow_the_connection_setting(app, work):
    """The connection's own `max_recipients` wins over SMTP_MAX_RECIPIENTS (100)."""
    with scripted_smtp() as (server, settings):
        _ws, job = mail_job({**settings, "max_recipients": 25}, addresses(60))
        run_id = start_run(job, None).id
        work()
    assert the_delivery(run_id)[1].status == "sent"
    assert [len(rcpts) for rcpts, _ in server.messages] == [25, 25, 10]
    assert sorted(server.delivered_to) == sorted(addresses(60))


def test_a_5xx_refused_recipient_makes_the_delivery_partial_naming_it(app, work, auth):
    with scripted_smtp(refuse={"p1@example.com": "550 5.1.1 No such user"}) as (server, settings):
        ws, job = mail_job(settings, addresses(3))
        make.user("editor@example.com", ws, "editor")
        run_id = start_run(job, None).id
        work()
        entry_status, delivery = the_delivery(run_id)

    assert (entry_status, delivery.status) == ("CompletedWithErrors", "partial")
    assert "p1@example.com: 550 5.1.1 No such user" in delivery.last_error
    assert "2 of 3 recipients accepted it" in delivery.last_error
    assert statuses(delivery) == {
        "p0@example.com": "accepted",
        "p1@example.com": "refused",
        "p2@example.com": "accepted",
    }
    assert server.delivered_to == ["p0@example.com", "p2@example.com"]
    assert delivery.sent_at is None  # never plain "sent"
    assert {
        "address": "p1@example.com",
        "status": "refused",
        "reply": "550 5.1.1 No such user",
    } in (recipients_out(delivery.detail))


def test_all_recipients_refused_fails_the_delivery(app, work):
    refuse = {a: "550 5.1.1 No such user" for a in addresses(2)}
    with scripted_smtp(refuse=refuse) as (server, settings):
        _ws, run_id, entry_status, delivery = first_send(settings, addresses(2), work)
    assert (entry_status, delivery.status) == ("DeliveryFailed", "failed")
    assert "SMTP server refused 2 recipients" in delivery.last_error
    assert server.messages == [] and server.data_received == 0


def test_a_greylisted_recipient_is_retried_alone_in_a_later_attempt(app, work):
    with scripted_smtp(greylist={"p1@example.com"}) as (server, settings):
        _ws, run_id, entry_status, delivery = first_send(settings, addresses(3), work)
        assert delivery.status == "pending"
        assert "deferred 1 recipient: p1@example.com: 451 4.7.1 Greylisted" in delivery.last_error
        assert server.delivered_to == ["p0@example.com", "p2@example.com"]

        deliver_entry(delivery.entry_id)  # the retry, as the clock's sweep queues it when due
        db.session.expire_all()
        entry_status, delivery = the_delivery(run_id)

    assert (entry_status, delivery.status, delivery.attempts) == ("Completed", "sent", 2)
    assert [rcpts for rcpts, _ in server.messages] == [
        ["p0@example.com", "p2@example.com"],
        ["p1@example.com"],  # only the deferred one: nobody gets it twice
    ]
    assert set(statuses(delivery).values()) == {"accepted"}


def test_a_message_over_the_size_limit_fails_naming_the_reply(app, work):
    with scripted_smtp(max_size=100) as (server, settings):
        _ws, run_id, entry_status, delivery = first_send(settings, addresses(2), work)
    assert (entry_status, delivery.status) == ("DeliveryFailed", "failed")
    assert "552 5.3.4 Message size exceeds fixed limit" in delivery.last_error
    assert server.messages == [] and server.data_received == 1


def test_a_connection_lost_after_the_data_is_possibly_delivered_and_not_resent(app, work):
    with scripted_smtp(drop_after_data=1) as (server, settings):
        ws, run_id, entry_status, delivery = first_send(settings, addresses(2), work)
        editor = make.user("editor@example.com", ws, "editor")
        assert (entry_status, delivery.status) == ("CompletedWithErrors", "uncertain")
        assert "possibly delivered to p0@example.com, p1@example.com" in delivery.last_error
        assert "choose Retry" in delivery.last_error
        assert server.data_received == 1 and server.messages == []

        deliver_entry(delivery.entry_id)  # nothing is due: no automatic resend
        work()
        assert server.data_received == 1

        retry_delivery(delivery.id, editor)  # a person chooses to send it again
        work()
        entry_status, delivery = the_delivery(run_id)

    assert (entry_status, delivery.status) == ("Completed", "sent")
    assert server.data_received == 2
    assert server.delivered_to == ["p0@example.com", "p1@example.com"]
    # Sent again as the same message: a receiving system that did get the first one can
    # tell the second is a copy (RFC 5322 Message-ID) and drop it.
    first, second = (message_from_bytes(data)["Message-ID"] for data in server.data)
    assert first == second == delivery.detail["message_id"]
    assert first.startswith(f"<{delivery.message_id_left}@")


def test_a_person_s_retry_of_a_partial_delivery_skips_who_accepted_it(app, work):
    with scripted_smtp(refuse={"p1@example.com": "550 5.1.1 No such user"}) as (server, settings):
        ws, run_id, _, delivery = first_send(settings, addresses(2), work)
        editor = make.user("editor@example.com", ws, "editor")
        assert delivery.status == "partial"
        server.refuse.clear()  # the mailbox was created meanwhile
        retry_delivery(delivery.id, editor)
        work()
        entry_status, delivery = the_delivery(run_id)
    assert (entry_status, delivery.status) == ("Completed", "sent")
    assert [rcpts for rcpts, _ in server.messages] == [["p0@example.com"], ["p1@example.com"]]


def test_rejected_login_fails_without_sending(app, work):
    with scripted_smtp(auth="reject") as (server, settings):
        _ws, run_id, entry_status, delivery = first_send(settings, addresses(1), work)
    assert (entry_status, delivery.status) == ("DeliveryFailed", "failed")
    assert "SMTP error 535" in delivery.last_error
    assert server.transactions == 0 and server.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_server_requiring_login_fails_naming_530(app, work):
    with scripted_smtp(auth="required") as (server, settings):
        _ws, run_id, entry_status, delivery = first_send(settings, addresses(2), work)
    assert (entry_status, delivery.status) == ("DeliveryFailed", "failed")
    assert "530" in delivery.last_error
    assert server.messages == []
