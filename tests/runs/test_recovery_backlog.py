"""The recovery sweep finds entries lost behind a backlog larger than its batch: with more
than a batch of a large run's entries waiting in the queue (no worker has reached them yet),
entries whose jobs were lost (a worker killed between taking one and claiming its entry)
must still be found and queued again."""

from __future__ import annotations

from datetime import timedelta

from app.database import utcnow
from app.datasources.fetch import parse_csv
from app.extensions import db, queues
from app.models import DataSource
from app.runs.create import start_run
from app.runs.outcome import settle_run
from app.runs.prepare import _create_entries, queue_entries
from app.runs.recovery import BATCH, recover_stalled_work
from app.runs.states import RunStatus, move_run
from tests.helpers import entries_of
from tests.runs.test_prepare_stream import csv_job


def test_entries_lost_behind_a_waiting_backlog_are_queued_again_by_the_sweep(app):
    rows = BATCH + 500
    run_id = start_run(csv_job(rows), None).id
    queues.queue("generate").empty()  # the prepare job: done here, as a killed worker left it
    source = db.session.scalars(db.select(DataSource)).one()
    assert move_run(run_id, RunStatus.preparing, from_=[RunStatus.pending])
    count = _create_entries(run_id, parse_csv(source.content), ["email"])
    settle_run(run_id, RunStatus.running, entry_count=count, prepared_at=utcnow())
    db.session.commit()  # as prepare_run does before it queues the entries
    queue_entries(run_id, count)
    # The last 500 were taken by a worker killed before it claimed them: their jobs left the
    # queue marked started, while the first BATCH still wait for a worker.
    generate = queues.queue("generate")
    entries = entries_of(run_id)
    for entry in entries[BATCH:]:
        job_id = f"generate-entry-{entry.id}-a0"
        generate.remove(job_id)
        queues.connection.hset(f"rq:job:{job_id}", "status", "started")
    assert len(generate.get_job_ids()) == BATCH

    later = utcnow() + timedelta(hours=1)  # every entry is stale by now
    for minutes in range(3):
        recover_stalled_work(now=later + timedelta(minutes=minutes * 5))

    entries = entries_of(run_id)
    assert {e.status for e in entries} == {"Queued"}
    job_ids = queues.queue("generate").get_job_ids()
    assert sorted(job_ids) == sorted(f"generate-entry-{e.id}-a0" for e in entries)
