"""The per-process run-context cache (app/runs/context.py) never serves another run's definition."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from app import storage
from app.extensions import db
from app.models import Artifact, Job
from app.runs.context import run_context
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import entries_of, pdf_text


def _letters(run_id: int) -> list[str]:
    texts = []
    for entry in entries_of(run_id):
        (artifact,) = db.session.scalars(db.select(Artifact).filter_by(entry_id=entry.id))
        texts.append(pdf_text(storage.load(artifact.storage_key)).strip())
    return texts


def test_a_run_reusing_a_deleted_runs_id_gets_its_own_definition(app, work):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite hands a deleted row's id to the next row")
    first_ws = make.workspace("first")
    first = make.people_job(first_ws, [{"name": "Ada"}], "<p>first job: {{ params.person }}</p>")
    old = start_run(first, None)
    old_id = old.id
    work()  # generated in this process: its context is now cached here
    assert _letters(old_id) == ["first job: Ada"]
    assert run_context(old_id).definition.code == first.code

    db.session.execute(delete(Job).where(Job.id == first.id))  # cascades to its runs
    db.session.commit()
    second_ws = make.workspace("second")
    second = make.people_job(
        second_ws, [{"name": "Bea"}], "<p>second job: {{ params.person }}</p>", code="other-job"
    )
    new = start_run(second, None)
    assert new.id == old_id  # SQLite reused the id: the case the cache must survive
    work()

    assert _letters(new.id) == ["second job: Bea"]
    context = run_context(new.id)
    assert (context.definition.code, context.workspace_id) == ("other-job", second_ws.id)


def test_a_run_that_is_gone_has_no_context(app, work):
    ws = make.workspace()
    job = make.people_job(ws, [{"name": "Ada"}], "<p>{{ params.person }}</p>")
    run_id = start_run(job, None).id
    work()
    assert run_context(run_id).run_id == run_id
    db.session.execute(delete(Job).where(Job.id == job.id))
    db.session.commit()
    with pytest.raises(LookupError, match=f"run {run_id} is not prepared"):
        run_context(run_id)
