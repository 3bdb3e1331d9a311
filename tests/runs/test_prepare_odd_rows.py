"""Repeating rows with values JSON cannot hold: the run fails with the reason instead of the
preparing worker crashing on PostgreSQL's json type."""

from __future__ import annotations

from app.extensions import db, queues
from app.models import DataSource
from app.runs.create import start_run
from app.runs.prepare import prepare_run
from tests import factories as make
from tests.helpers import entries_of, reload_run


def json_job(content: str):
    """A job bursting over a JSON source whose stored content is `content` (stored before
    the source's check, or edited in the database: only a run meets it)."""
    ws = make.workspace(smtp={"host": "127.0.0.1", "port": 25, "from": "a@example.com"})
    source = DataSource(
        workspace_id=ws.id,
        code="people",
        name="People",
        kind="json",
        content='[{"name": "a", "email": "a@example.com"}]',
    )
    db.session.add(source)
    db.session.commit()
    make.template(ws, "letter", "<p>{{ people.name }}</p>")
    job = make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "letter"}],
        deliveries=[{"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}],
    )
    source.content = content
    db.session.commit()
    return job


def test_a_stored_json_source_holding_nan_fails_the_run_with_the_reason(app):
    job = json_job('[{"name": "a", "email": "a@example.com", "amount": NaN}]')
    run_id = start_run(job, None).id
    queues.queue("generate").empty()  # the prepare job: run here instead

    prepare_run(run_id)

    run = reload_run(run_id)
    assert run.status == "failed"
    assert "NaN is not a JSON value" in run.error
    assert entries_of(run_id) == []
