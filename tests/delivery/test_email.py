"""Email delivery: placeholders in every field, recipients, attachments, one SMTP session."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import DataSource, EntryDelivery
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import attachments, entries_of
from tests.helpers import job as job_of

ROWS = [
    {"id": 1, "name": "Ada <b>Lovelace</b>", "email": "ada@example.com", "boss": "cto@example.com"},
    {"id": 2, "name": "Bob\r\nBcc: victim@example.com", "email": "bob@example.com", "boss": ""},
]


def email_job(ws, nickname_rows: bool = False, **delivery):
    delivery = {"kind": "email", "to": "{people.email}", "subject": "s", "message": "m", **delivery}
    return make.people_job(
        ws,
        [{**row, "nickname": "x"} for row in ROWS] if nickname_rows else ROWS,
        "<p>{{ people.name }}</p>",
        deliveries=[delivery],
        parameters=[{"name": "period", "type": "date", "default": "2026-10-01"}],
    )


def delivery_of(entry) -> EntryDelivery:
    return db.session.scalars(db.select(EntryDelivery).filter_by(entry_id=entry.id)).one()


def test_every_field_takes_row_values_and_parameters(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    job = email_job(
        ws,
        **{"from": "Billing {params.period} <billing@example.com>"},
        reply_to="help-{people.id}@example.com",
        cc="{people.boss}",
        bcc="audit@example.com",
        subject="Statement {params.period} for {people.name}",
        message="<p>Dear {people.name},</p><p>Period {params.period}. Run {run.id}.</p>",
        attachment_name="statement-{people.id}-{params.period}.pdf",
    )
    run_id = start_run(job, None).id
    work()

    by_to = {
        msg["To"]: (msg, set(env))
        for msg, env in zip(mailbox.messages, mailbox.envelopes, strict=True)
    }
    ada, ada_envelope = by_to["ada@example.com"]
    assert ada_envelope == {"ada@example.com", "cto@example.com", "audit@example.com"}
    assert ada["From"] == "Billing 2026-10-01 <billing@example.com>"
    assert ada["Reply-To"] == "help-1@example.com"
    assert ada["To"] == "ada@example.com"
    assert ada["Cc"] == "cto@example.com"
    assert ada["Bcc"] is None  # only in the envelope
    assert ada["Subject"] == "Statement 2026-10-01 for Ada <b>Lovelace</b>"
    html = ada.get_body(("html",)).get_content()
    assert "Dear Ada &lt;b&gt;Lovelace&lt;/b&gt;," in html  # row values are escaped in HTML
    assert f"Run {run_id}." in html
    text = ada.get_body(("plain",)).get_content()
    assert "Dear Ada <b>Lovelace</b>," in text
    assert [name for name, _ in attachments(ada)] == ["statement-1-2026-10-01.pdf"]

    # A line break in a row value cannot add headers or recipients.
    bob, bob_envelope = by_to["bob@example.com"]
    assert bob_envelope == {"bob@example.com", "audit@example.com"}
    assert bob["Subject"] == "Statement 2026-10-01 for Bob Bcc: victim@example.com"
    assert {e.status for e in entries_of(run_id)} == {"Completed"}


def test_an_unknown_placeholder_fails_the_delivery_naming_it(app, work, smtp_server, mailbox):
    """Saving refuses it (tests/known_failures.py); rows that lost the column since may not."""
    ws = make.workspace(smtp=smtp_server.settings)
    job = email_job(ws, subject="Hi {people.nickname}", nickname_rows=True)
    people = db.session.scalars(db.select(DataSource).filter_by(code="people")).one()
    people.content = json.dumps(ROWS)
    db.session.commit()
    run_id = start_run(job, None).id
    work()

    for entry in entries_of(run_id):
        assert entry.status == "DeliveryFailed"
        assert delivery_of(entry).last_error == "unknown placeholder {people.nickname}"
    assert mailbox.messages == []


def test_an_invalid_recipient_fails_only_its_delivery(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [
        {"name": "Ada", "email": "ada@example.com", "boss": "not-an-address"},
        {"name": "Bob", "email": "bob@example.com", "boss": ""},
    ]
    delivery = {"kind": "email", "to": "{people.email}", "cc": "{people.boss}", "subject": "s"}
    job = make.people_job(ws, rows, "<p>x</p>", deliveries=[{**delivery, "message": "m"}])
    run_id = start_run(job, None).id
    work()

    ada, bob = entries_of(run_id)
    assert (ada.status, bob.status) == ("DeliveryFailed", "Completed")
    assert delivery_of(ada).last_error == (
        "invalid CC address 'not-an-address': An email address must have an @-sign."
    )
    assert mailbox.envelopes == [["bob@example.com"]]


def test_a_burst_reuses_one_smtp_session(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [{"name": f"P{n}", "email": f"p{n}@example.com"} for n in range(8)]
    job = make.mailing_job(ws, rows, "<p>{{ people.name }}</p>")
    start_run(job, None)
    work()

    assert len(mailbox.messages) == 8
    assert mailbox.sessions == 1


def test_a_dropped_smtp_session_is_reopened(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    job = make.mailing_job(ws, [{"name": "A", "email": "a@example.com"}], "<p>x</p>")
    start_run(job, None)
    work()
    smtp_server.stop()  # the kept connection dies with the server
    smtp_server.start()
    start_run(job, None)
    work()

    assert len(mailbox.messages) == 2
    assert mailbox.sessions == 2


def test_without_an_smtp_connection_the_delivery_says_so(app, work):
    ws = make.workspace()
    run_id = start_run(email_job(ws), None).id
    work()
    entry = entries_of(run_id)[0]
    assert delivery_of(entry).last_error == "the workspace has no SMTP connection"


def test_a_false_condition_skips_and_a_bad_one_fails_the_delivery(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(email_job(ws, condition='{people.boss} != ""'), None).id
    work()
    ada, bob = entries_of(run_id)
    assert (ada.status, delivery_of(ada).status) == ("Completed", "sent")
    assert (bob.status, delivery_of(bob).status) == ("Completed", "skipped")
    assert delivery_of(bob).last_error == "condition is false"
    assert [m["To"] for m in mailbox.messages] == ["ada@example.com"]

    make.job(
        ws,
        code="other",
        reports=[{"template": "letter", "bindings": {"person": {"column": "name"}}}],
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        deliveries=[
            {
                "kind": "email",
                "to": "{people.email}",
                "subject": "s",
                "message": "m",
                "condition": "{people.name} > 1",
            }
        ],
    )
    run_id = start_run(job_of(ws, "other"), None).id
    work()
    entry = entries_of(run_id)[0]
    assert entry.status == "DeliveryFailed"
    assert delivery_of(entry).last_error.startswith("condition: ")


def test_a_condition_with_a_syntax_error_is_refused_when_the_job_is_saved(app):
    from app.errors import ValidationFailed

    ws = make.workspace()
    with pytest.raises(ValidationFailed) as caught:
        email_job(ws, condition="{people.email} != null &&")
    assert list(caught.value.errors) == ["deliveries.0.condition"]
    with pytest.raises(ValidationFailed) as caught:
        make.job(
            ws,
            code="x",
            reports=[{"template": "letter"}],
            deliveries=[
                {
                    "kind": "email",
                    "to": "a@example.com",
                    "subject": "s",
                    "message": "m",
                    "condition": "__import__('os')",
                }
            ],
        )
    assert "deliveries.0.condition" in caught.value.errors
