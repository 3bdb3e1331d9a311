"""An unexpected error while a run is prepared fails the run at once, saying what went wrong
(its type and message, no secret), instead of leaving it to the recovery sweep's retries and a
final "interrupted N times"."""

from __future__ import annotations

from app.config import sqlite_dir
from app.extensions import db
from app.outbound.secrets import set_secrets
from app.runs.create import start_run
from app.runs.prepare import failure
from tests import factories as make
from tests.helpers import entries_of, reload_run

ROWS = [{"name": "Ada", "email": "ada@example.com"}]
PASSWORD = "pw-never-shown-7Q"


def test_a_changed_encryption_key_fails_the_run_with_the_reason(
    app, monkeypatch, work, smtp_server, mailbox
):
    sqlite_dir(app).mkdir(parents=True, exist_ok=True)
    ws = make.workspace("acme", smtp=smtp_server.settings)
    connection = make.sql_connection(ws, "sqlite:///unexpected-extra.db")
    make.sql_source(ws, "extra", connection, "SELECT 1 AS one")
    make.json_source(ws, "people", ROWS)
    make.template(ws, "letter", "<p>{{ people.name }}</p>")
    job = make.job(
        ws,
        data_sources=[
            {"alias": "people", "source": "people", "repeating": True},
            {"alias": "extra", "source": "extra"},
        ],
        reports=[{"template": "letter"}],
        deliveries=[{"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}],
    )
    # Stored after the job's check of its sources (SQLite takes no password): only read now.
    set_secrets(connection, {"password": PASSWORD})
    db.session.commit()
    run_id = start_run(job, None).id
    # The key changed after the connection's secrets were stored: decrypting them fails on
    # every attempt, so retrying the preparation cannot help.
    monkeypatch.setitem(app.config, "SECRET_KEY", "another key")

    work()  # fails the test if the preparing job crashed

    run = reload_run(run_id)
    assert run.status == "failed"
    assert run.error.startswith("preparation failed: RuntimeError: secrets of connection 'db'")
    assert "cannot be decrypted" in run.error and "interrupted" not in run.error
    assert PASSWORD not in run.error
    assert run.attempts == 1
    assert entries_of(run_id) == []
    work()
    assert mailbox.envelopes == []


def test_the_error_names_the_exception_and_masks_url_credentials():
    try:
        raise ConnectionError("cannot reach postgresql://herald:hunter2@db.internal:5432/x")
    except ConnectionError as exc:
        text = failure(exc)
    assert text == (
        "preparation failed: ConnectionError: cannot reach postgresql://***@db.internal:5432/x"
    )
    assert len(failure(ValueError("x" * 2000))) == 500
