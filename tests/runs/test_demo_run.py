"""The demo job end to end: one statement PDF per customer, each emailed to that customer."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Artifact, EntryDelivery
from app.rendering.environment import money
from app.runs.buckets import bucket_counts
from app.runs.create import start_run
from tests.helpers import FEW_CUSTOMERS, attachments, entries_of, job, pdf_text, reload_run


def demo_customers(app) -> list[dict]:
    path = Path(app.instance_path) / "data" / "northwind.db"
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("SELECT * FROM customers ORDER BY id")]


def closing_balance(app, customer_id: int, period: str) -> int:
    path = Path(app.instance_path) / "data" / "northwind.db"
    conn = sqlite3.connect(path)
    return conn.execute(
        "SELECT COALESCE(SUM(amount_cents), 0) FROM transactions "
        "WHERE customer_id = ? AND booked_on < date(?, '+1 month')",
        (customer_id, period),
    ).fetchone()[0]


def test_demo_job_emails_each_customer_their_own_statement(app, demo, work, mailbox):
    run_id = start_run(job(demo), None, params={"period": "2026-10-01"}).id
    work()

    run = reload_run(run_id)
    customers = demo_customers(app)
    with_email = [c for c in customers if c["email"]]
    assert run.status == "finished"
    assert bucket_counts(run_id) == {
        "queued": 0,
        "completed": len(with_email),
        "errors": 1,
        "review": 0,
        "cancelled": 0,
        "total": len(customers),
    }
    assert len(mailbox.messages) == len(with_email) >= 25
    by_address = {env[0]: msg for env, msg in zip(mailbox.envelopes, mailbox.messages, strict=True)}
    assert set(by_address) == {c["email"] for c in with_email}
    for customer in with_email:
        message = by_address[customer["email"]]
        assert customer["email"] in message["To"]
        assert "2026-10-01" in message["Subject"]
        assert customer["name"] in message.get_body(("plain",)).get_content()
        ((name, content),) = attachments(message)
        assert name == f"statement-{customer['id']}-2026-10-01.pdf"
        assert content.startswith(b"%PDF")
        text = pdf_text(content)
        assert customer["name"] in text
        assert money(closing_balance(app, customer["id"], "2026-10-01")) in text


@pytest.mark.customers(FEW_CUSTOMERS)
def test_empty_email_fails_only_that_delivery_with_a_reason(app, demo, work, mailbox):
    run_id = start_run(job(demo), None).id
    work()

    entries = entries_of(run_id)
    failed = [e for e in entries if e.status != "Completed"]
    assert [(e.row["id"], e.status) for e in failed] == [(7, "DeliveryFailed")]
    delivery = db.session.scalars(db.select(EntryDelivery).filter_by(entry_id=failed[0].id)).one()
    assert delivery.status == "failed"
    assert delivery.last_error == "no recipient"
    assert "no recipient" in failed[0].error
    # Its statement was still generated and kept.
    artifact = db.session.scalars(db.select(Artifact).filter_by(entry_id=failed[0].id)).one()
    assert artifact.status == "generated"
    assert len(mailbox.messages) == len(entries) - 1


@pytest.mark.customers(FEW_CUSTOMERS)
def test_run_without_override_uses_start_of_month_in_the_schedule_zone(app, demo, work):
    run_id = start_run(job(demo), None).id
    work()
    run = reload_run(run_id)
    zone = ZoneInfo(job(demo).schedule["timezone"])
    assert run.params == {
        "period": run.created_at.astimezone(zone).date().replace(day=1).isoformat()
    }
