"""Deliveries (issue 15 point 5): the message HTML is cleaned on save, "Send a test to me"
reaches only the signed-in user, and channel connections have a Test with the answer."""

from __future__ import annotations

import pytest

from app.delivery.channels.probe import probe_connection
from app.delivery.dryrun import send_test_to_me
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.service import definition_of
from app.models import Connection
from app.outbound.errors import DeliveryError
from app.outbound.secrets import set_secrets
from tests import factories as make
from tests.helpers import Reply

PEOPLE = [
    {"name": "Ada", "email": "ada@example.com"},
    {"name": "Bob", "email": "bob@example.com"},
]


def test_message_html_is_sanitized_on_save(app):
    ws = make.workspace()
    dirty = (
        '<p onclick="steal()">Dear {people.name}, <a href="{link}">your file</a></p>'
        '<script>alert(1)</script><img src="x" onerror="alert(2)"><b style="color:red">!</b>'
    )
    job = make.people_job(
        ws,
        PEOPLE,
        "<p>{{ people.name }}</p>",
        deliveries=[{"kind": "email", "to": "{people.email}", "subject": "s", "message": dirty}],
    )
    saved = job.deliveries[0]["message"]
    assert "<script" not in saved and "alert(1)" not in saved
    assert "onclick" not in saved and "onerror" not in saved and "style=" not in saved
    assert "Dear {people.name}," in saved and 'href="{link}"' in saved and "<b>!</b>" in saved
    assert definition_of(job).deliveries[0].message == saved  # cleaning again changes nothing


def test_a_message_that_is_only_script_is_refused(app):
    ws = make.workspace()
    delivery = {"kind": "email", "to": "a@example.com", "subject": "s", "message": "<script>x"}
    with pytest.raises(ValidationFailed) as refused:
        make.people_job(ws, PEOPLE, "<p>x</p>", deliveries=[delivery])
    assert "unsafe HTML" in refused.value.errors["deliveries.0.message"]


def test_send_test_to_me_goes_to_the_signed_in_user_only(app, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    me = make.user("me@example.com", ws, "editor")
    delivery = {
        "kind": "email",
        "to": "{people.email}",
        "cc": "boss@example.com",
        "bcc": "audit@example.com",
        "subject": "Statement for {people.name}",
        "message": "<p>Dear {people.name}</p>",
    }
    job = make.people_job(ws, PEOPLE, "<p>{{ people.name }}</p>", deliveries=[delivery])
    data = definition_of(job).model_dump(mode="json", by_alias=True)
    assert send_test_to_me(ws, me, data) == "me@example.com"
    assert mailbox.envelopes == [["me@example.com"]]  # not Ada, not the Cc, not the Bcc
    message = mailbox.messages[0]
    assert message["To"] == "me@example.com" and message["Cc"] is None
    assert message["Subject"] == "[Test] Statement for Ada"  # the first row's real message
    assert "Dear Ada" in message.get_body(("html",)).get_content()
    assert [part.get_filename() for part in message.iter_attachments()] == ["letter-1.pdf"]


def test_send_test_to_me_without_an_email_delivery_says_so(app, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    me = make.user("me@example.com", ws, "editor")
    job = make.people_job(ws, PEOPLE, "<p>{{ people.name }}</p>")
    data = definition_of(job).model_dump(mode="json", by_alias=True)
    with pytest.raises(DeliveryError, match="no email delivery"):
        send_test_to_me(ws, me, data)
    assert mailbox.messages == []


def _connection(ws, kind: str, secrets: dict) -> Connection:
    item = Connection(workspace_id=ws.id, code=f"{kind}-1", name=kind, kind=kind, settings={})
    set_secrets(item, secrets)
    db.session.add(item)
    db.session.commit()
    return item


@pytest.mark.parametrize("kind", ["slack", "teams"])
def test_chat_connection_test_posts_and_returns_the_answer(app, serve, kind):
    ws = make.workspace()
    admin = make.user("admin@example.com", ws, "admin")
    server = serve(Reply(200, b"ok from the channel"))
    connection = _connection(ws, kind, {"url": f"{server.base}/hook"})
    answer = probe_connection(ws, admin, connection)
    assert (answer.status, answer.excerpt) == (200, "ok from the channel")
    assert b"Herald test message" in server.received[0].body


def test_webhook_connection_test_is_signed_and_shows_a_refusal(app, serve):
    ws = make.workspace()
    admin = make.user("admin@example.com", ws, "admin")
    server = serve(Reply(403, b"bad signature, go away"))
    connection = _connection(ws, "webhook", {"secret": "s" * 32})
    with pytest.raises(DeliveryError, match="HTTP 403: bad signature, go away"):
        probe_connection(ws, admin, connection, f"{server.base}/in")
    assert server.received[0].headers["x-herald-event"] == "test"
    assert "x-herald-signature" in server.received[0].headers
    with pytest.raises(DeliveryError, match="enter the URL"):
        probe_connection(ws, admin, connection, "")


def test_connection_test_keeps_the_ssrf_guard(app, serve, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
    ws = make.workspace()
    admin = make.user("admin@example.com", ws, "admin")
    server = serve()
    connection = _connection(ws, "slack", {"url": f"{server.base}/hook"})
    with pytest.raises(DeliveryError, match="HERALD_ALLOW_PRIVATE_WEBHOOKS"):
        probe_connection(ws, admin, connection)
    assert server.received == []
