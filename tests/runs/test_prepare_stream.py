"""prepare_run streams: rows read, entries inserted and generations queued a chunk at a time
(HERALD_PREPARE_CHUNK_ROWS), with the same outcome as all at once — and a run that fails midway
leaves no entry behind."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator

import pytest
from flask import Flask

from app.config import sqlite_dir
from app.extensions import db, queues
from app.models import DataSource, EntryDelivery
from app.runs.create import start_run
from app.runs.prepare import prepare_run, queue_entries
from tests import factories as make
from tests.helpers import entries_of, reload_run

CHUNK = 1000


@pytest.fixture
def chunked(app: Flask) -> Iterator[None]:
    saved = app.config["PREPARE_CHUNK_ROWS"]
    app.config["PREPARE_CHUNK_ROWS"] = CHUNK
    yield
    app.config["PREPARE_CHUNK_ROWS"] = saved


def csv_text(rows: int, bad_line: int | None = None) -> str:
    lines = ["n,name,email"]
    for n in range(1, rows + 1):
        extra = ",surplus" if n + 1 == bad_line else ""  # line 1 is the header
        lines.append(f"{n},Customer {n},c{n}@example.com{extra}")
    return "\n".join(lines) + "\n"


def bursting_job(ws, source: str = "people"):
    make.template(ws, "letter", "<p>{{ people.name }}</p>")
    delivery = {"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}
    return make.job(
        ws,
        data_sources=[{"alias": "people", "source": source, "repeating": True}],
        reports=[{"template": "letter"}],
        deliveries=[delivery],
    )


def csv_job(rows: int, bad_line: int | None = None):
    ws = make.workspace(smtp={"host": "127.0.0.1", "port": 25, "from": "a@example.com"})
    source = DataSource(
        workspace_id=ws.id, code="people", name="People", kind="csv", content=csv_text(rows)
    )
    db.session.add(source)
    db.session.commit()
    job = bursting_job(ws)
    # Stored before docs/CSV.md's checks, a CSV may hold a bad line that only a run meets.
    source.content = csv_text(rows, bad_line)
    db.session.commit()
    return job


def prepared(job) -> int:
    """Start a run of `job` and prepare it here, as a worker would; its id."""
    run_id = start_run(job, None).id
    queues.queue("generate").empty()  # the prepare job: run below instead
    prepare_run(run_id)
    return run_id


def queued_job_ids() -> list[str]:
    return queues.queue("generate").get_job_ids()


def test_a_csv_of_12345_rows_makes_12345_entries_queued_once_each_in_row_order(app, chunked):
    run_id = prepared(csv_job(12_345))

    entries = entries_of(run_id)
    assert len(entries) == 12_345
    assert [e.seq for e in entries] == list(range(1, 12_346))
    assert [e.row["n"] for e in entries] == [str(n) for n in range(1, 12_346)]
    ids = [e.id for e in entries]
    assert ids == sorted(ids)  # ids follow row order across chunk boundaries
    assert {e.status for e in entries} == {"Queued"}
    assert queued_job_ids() == [f"generate-entry-{i}-a0" for i in ids]
    assert db.session.scalar(db.select(db.func.count()).select_from(EntryDelivery)) == 12_345
    run = reload_run(run_id)
    assert (run.status, run.entry_count, run.error) == ("running", 12_345, None)


def test_an_sql_source_is_read_in_chunks_to_the_same_entries(app, chunked):
    path = sqlite_dir(app) / "stream-people.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?)",
            [(n, f"P{n}", f"p{n}@example.com") for n in range(1, 3_457)],
        )
    ws = make.workspace(smtp={"host": "127.0.0.1", "port": 25, "from": "a@example.com"})
    crm = make.sql_connection(ws, "sqlite:///stream-people.db")
    make.sql_source(ws, "people", crm, "SELECT id, name, email FROM people ORDER BY id DESC")

    run_id = prepared(bursting_job(ws))

    entries = entries_of(run_id)
    assert [e.row["id"] for e in entries] == list(range(3_456, 0, -1))  # the query's order
    assert queued_job_ids() == [f"generate-entry-{e.id}-a0" for e in entries]


def test_a_bad_line_after_the_first_chunks_fails_the_run_and_leaves_no_entry(app, chunked):
    run_id = prepared(csv_job(2_500, bad_line=2_345))

    run = reload_run(run_id)
    assert run.status == "failed"
    assert run.error == "CSV line 2345 has 4 cells but the header has 3 columns"
    assert entries_of(run_id) == []  # the two chunks inserted before it were rolled back
    assert db.session.scalar(db.select(db.func.count()).select_from(EntryDelivery)) == 0
    assert queued_job_ids() == []


def test_more_rows_than_the_row_limit_fails_the_run_and_leaves_no_entry(app, chunked):
    path = sqlite_dir(app) / "over-limit-people.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?)", [(n, "P", "p@example.com") for n in range(2_600)]
        )
    ws = make.workspace(smtp={"host": "127.0.0.1", "port": 25, "from": "a@example.com"})
    make.sql_source(
        ws,
        "people",
        make.sql_connection(ws, "sqlite:///over-limit-people.db"),
        "SELECT * FROM people",
    )
    saved = app.config["SQL_ROW_LIMIT"]
    app.config["SQL_ROW_LIMIT"] = 2_500
    try:
        run_id = prepared(bursting_job(ws))
    finally:
        app.config["SQL_ROW_LIMIT"] = saved

    run = reload_run(run_id)
    assert (run.status, run.error) == (
        "failed",
        "query returned more than 2500 rows (the row limit)",
    )
    assert entries_of(run_id) == []
    assert queued_job_ids() == []


def test_a_repeated_queueing_pass_queues_nothing_twice(app, chunked):
    run_id = prepared(csv_job(1_500))
    assert queue_entries(run_id, 1_500) == 0  # every entry is Queued already
    assert Counter(queued_job_ids()).most_common(1)[0][1] == 1
    assert len(queued_job_ids()) == 1_500
