"""A worker killed (SIGKILL) in the middle of preparing a large run: after the recovery sweep
every row has exactly one entry, and every entry is queued for generation exactly once.

The worker streams 2,500 rows in chunks of 1,000 (HERALD_PREPARE_CHUNK_ROWS) and is stopped at
a pause point (app/faults.py) after its first chunk: of entries (not yet committed), or of
generations queued (the entries committed, the rest still to queue).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from app.database import utcnow
from app.extensions import db, queues
from app.models import DataSource
from app.runs.create import start_run
from app.runs.prepare import prepare_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.faults.rig import kill, wait_for
from tests.helpers import entries_of, reload_run

ROWS = 2_500
CHUNK = 1_000


@pytest.fixture
def chunked(app: Flask) -> Iterator[None]:
    saved = app.config["PREPARE_CHUNK_ROWS"]
    app.config["PREPARE_CHUNK_ROWS"] = CHUNK
    yield
    app.config["PREPARE_CHUNK_ROWS"] = saved


def large_run() -> int:
    ws = make.workspace(smtp={"host": "127.0.0.1", "port": 25, "from": "a@example.com"})
    content = "n,email\n" + "".join(f"{n},c{n}@example.com\n" for n in range(1, ROWS + 1))
    db.session.add(
        DataSource(workspace_id=ws.id, code="people", name="People", kind="csv", content=content)
    )
    db.session.commit()
    make.template(ws, "letter", "<p>{{ people.n }}</p>")
    job = make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "letter"}],
        deliveries=[{"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}],
    )
    return start_run(job, None).id


def sweep_until_all_queued(run_id: int) -> None:
    """Sweep as the clock does (an hour later: every lease and wait has run out); a run whose
    preparation died is prepared again here, as the next worker would."""

    def settled() -> bool:
        recover_stalled_work(now=utcnow() + timedelta(hours=1))
        if reload_run(run_id).status == "pending":
            queues.queue("generate").empty()  # its prepare job: run here instead
            prepare_run(run_id)
        return {e.status for e in entries_of(run_id)} == {"Queued"}

    wait_for(settled)


@pytest.mark.parametrize("point", ["prepare.entries", "prepare.queue"])
def test_a_worker_killed_mid_prepare_leaves_each_row_once(
    app, workers, chunked, tmp_path: Path, point: str
):
    run_id = large_run()
    marker = tmp_path / "paused"
    doomed = workers(
        HERALD_FAULT_PAUSE=point,
        HERALD_FAULT_MARKER=str(marker),
        HERALD_PREPARE_CHUNK_ROWS=str(CHUNK),
    )
    wait_for(marker.exists)
    kill(doomed)
    entries = entries_of(run_id)
    if point == "prepare.entries":  # the first chunk was never committed
        assert (reload_run(run_id).status, entries) == ("preparing", [])
    else:  # committed, one chunk queued
        assert Counter(e.status for e in entries) == {"Queued": CHUNK, "ParametersPrepared": 1_500}
        assert len(queues.queue("generate").get_job_ids()) == CHUNK

    sweep_until_all_queued(run_id)

    entries = entries_of(run_id)
    assert [e.row["n"] for e in entries] == [str(n) for n in range(1, ROWS + 1)]
    job_ids = queues.queue("generate").get_job_ids()
    assert sorted(job_ids) == sorted(f"generate-entry-{e.id}-a0" for e in entries)
    assert reload_run(run_id).entry_count == ROWS
