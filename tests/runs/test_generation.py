"""Generation: per-report failures, parameters, SQL safety, the sandbox and the URL fetcher."""

from __future__ import annotations

import http.server
import io
import sqlite3
import threading

import pytest
from PIL import Image
from pypdf import PdfReader

from app import storage
from app.config import sqlite_dir
from app.extensions import db
from app.models import Artifact, Asset, EntryDelivery
from app.runs.buckets import bucket_counts
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import entries_of, pdf_text, reload_run

ROWS = [{"name": "Ada", "n": 1}, {"name": "Bob", "n": 0}, {"name": "Cy", "n": 2}]


def artifacts_of(entry_id: int) -> list[Artifact]:
    return list(
        db.session.scalars(
            db.select(Artifact).filter_by(entry_id=entry_id).order_by(Artifact.position)
        )
    )


def test_a_failing_report_fails_only_its_entry_and_the_others_go_on(app, work):
    ws = make.workspace()
    job = make.people_job(ws, ROWS, "<p>{{ params.person }}: {{ 10 // people.n }}</p>")
    run_id = start_run(job, None).id
    work()

    statuses = {e.row["name"]: e.status for e in entries_of(run_id)}
    assert statuses == {"Ada": "Completed", "Bob": "GenerationFailed", "Cy": "Completed"}
    bob = next(e for e in entries_of(run_id) if e.row["name"] == "Bob")
    (artifact,) = artifacts_of(bob.id)
    assert artifact.status == "failed"
    assert "ZeroDivisionError" in artifact.error
    assert "ZeroDivisionError" in bob.error
    assert reload_run(run_id).status == "finished"


def test_a_broken_report_does_not_stop_the_other_reports_of_the_entry(
    app, work, smtp_server, mailbox
):
    ws = make.workspace(smtp=smtp_server.settings)
    make.json_source(ws, "people", [{"name": "Ada", "email": "ada@example.com"}])
    make.template(ws, "good", "<h1>Hello {{ people.name }}</h1>")
    make.template(ws, "broken", "<h1>{% if %}</h1>")
    job = make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "broken"}, {"template": "good"}],
        deliveries=[{"kind": "email", "to": "{people.email}", "subject": "Hi", "message": "x"}],
    )
    run_id = start_run(job, None).id
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "CompletedWithErrors"
    broken, good = artifacts_of(entry.id)
    assert (broken.status, good.status) == ("failed", "generated")
    assert "template error (line 1)" in broken.error
    assert "Hello Ada" in pdf_text(storage.load(good.storage_key))
    # The good report was still delivered, alone.
    (message,) = mailbox.messages
    assert [p.get_filename() for p in message.iter_attachments()] == ["good-1.pdf"]


def test_when_every_report_fails_deliveries_are_skipped_with_the_reason(
    app, work, smtp_server, mailbox
):
    ws = make.workspace(smtp=smtp_server.settings)
    job = make.mailing_job(
        ws, [{"name": "Ada", "email": "a@example.com"}], "{{ missing_variable }}"
    )
    run_id = start_run(job, None).id
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "GenerationFailed"
    assert "'missing_variable' is undefined" in entry.error
    delivery = db.session.scalars(db.select(EntryDelivery).filter_by(entry_id=entry.id)).one()
    assert (delivery.status, delivery.last_error) == (
        "skipped",
        "not sent: no report was generated",
    )
    assert mailbox.messages == []


def test_a_parameter_without_value_fails_the_run_fast_naming_it(app, work):
    ws = make.workspace()
    make.template(ws, "t", "<p>{{ job_params.region }}</p>")
    job = make.job(
        ws, parameters=[{"name": "region", "type": "string"}], reports=[{"template": "t"}]
    )
    run_id = start_run(job, None).id
    work()

    run = reload_run(run_id)
    assert run.status == "failed"
    assert "parameter 'region' has no value" in run.error
    assert entries_of(run_id) == []


def test_parameter_overrides_are_type_checked_before_the_run_exists(app):
    from app.errors import ValidationFailed
    from app.models import Run

    ws = make.workspace()
    make.template(ws, "t", "<p>x</p>")
    job = make.job(
        ws,
        parameters=[{"name": "period", "type": "date", "default": "today"}],
        reports=[{"template": "t"}],
    )
    with pytest.raises(ValidationFailed) as caught:
        start_run(job, None, params={"period": "last tuesday", "nope": 1})
    assert caught.value.errors == {
        "params.period": "'last tuesday' is not a date (YYYY-MM-DD)",
        "params.nope": "the job has no parameter 'nope'",
    }
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0


@pytest.mark.parametrize("evil", ["x' OR '1'='1", "'; DROP TABLE people; --", "%"])
def test_sql_injection_through_a_parameter_is_inert(app, work, evil):
    path = sqlite_dir(app) / "crm.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO people (name) VALUES (?)", [("Ada",), ("Bob",)])
    ws = make.workspace()
    connection = make.sql_connection(ws, "sqlite:///crm.db")
    make.sql_source(ws, "people", connection, "SELECT id, name FROM people WHERE name = :who")
    make.template(ws, "t", "<p>{{ people.name }}</p>")
    job = make.job(
        ws,
        parameters=[{"name": "who", "type": "string"}],
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "t"}],
    )
    run_id = start_run(job, None, params={"who": evil}).id
    work()

    run = reload_run(run_id)
    assert (run.status, run.entry_count, run.error) == ("finished", 0, "0 rows: nothing to send")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (2,)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ people.__class__.__init__.__globals__ }}", "unsafe"),
        ("{{ config }}", "'config' is undefined"),
        ("{{ self.__init__ }}", "unsafe"),
        ("{{ lipsum.__globals__ }}", "unsafe"),
        ("{% set x = [].append(1) %}", "unsafe"),
    ],
)
def test_sandbox_escapes_fail_the_report(app, work, source, expected):
    ws = make.workspace()
    job = make.people_job(ws, [{"name": "Ada"}], source)
    run_id = start_run(job, None).id
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "GenerationFailed"
    assert expected in entry.error


class CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        CountingHandler.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_reports_cannot_load_local_files_or_network_urls(app, work):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    html = f"""
      <link rel="stylesheet" href="{url}/style.css">
      <link rel="attachment" href="file:///etc/passwd">
      <style>@import url("file:///etc/passwd"); body {{ background: url("{url}/bg.png") }}</style>
      <img src="file:///etc/passwd"><img src="{url}/logo.png">
      <p>{{{{ people.name }}}}</p>"""
    ws = make.workspace()
    job = make.people_job(ws, [{"name": "Ada"}], html)
    run_id = start_run(job, None).id
    work()
    server.shutdown()

    (entry,) = entries_of(run_id)
    assert entry.status == "Completed"
    (artifact,) = artifacts_of(entry.id)
    pdf = storage.load(artifact.storage_key)
    assert b"root:x:0:0" not in pdf
    assert not PdfReader(io.BytesIO(pdf)).attachments
    assert CountingHandler.hits == []


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "navy").save(out, "PNG")
    return out.getvalue()


def test_reports_may_use_the_workspace_assets(app, work):
    ws = make.workspace()
    db.session.add(
        Asset(workspace_id=ws.id, name="logo.png", content_type="image/png", content=png())
    )
    db.session.commit()
    job = make.people_job(
        ws, [{"name": "Ada"}], "<img src=\"{{ asset_url('logo.png') }}\" width=50><p>Ada</p>"
    )
    run_id = start_run(job, None).id
    work()

    (entry,) = entries_of(run_id)
    (artifact,) = artifacts_of(entry.id)
    page = PdfReader(io.BytesIO(storage.load(artifact.storage_key))).pages[0]
    assert len(page.images) == 1


def test_an_empty_repeating_source_makes_zero_entries_and_says_so(app, work):
    ws = make.workspace()
    job = make.people_job(ws, [], "<p>{{ people.name }}</p>")
    run_id = start_run(job, None).id
    work()

    run = reload_run(run_id)
    assert (run.status, run.entry_count, run.error) == ("finished", 0, "0 rows: nothing to send")
    assert bucket_counts(run_id)["total"] == 0


def test_without_a_repeating_source_a_run_has_exactly_one_entry(app, work):
    ws = make.workspace()
    make.json_source(ws, "branding", [{"company": "Northwind"}, {"company": "ignored"}])
    make.template(ws, "t", "<p>{{ branding[0].company }} {{ data.note }}</p>")
    job = make.job(
        ws, data_sources=[{"alias": "branding", "source": "branding"}], reports=[{"template": "t"}]
    )
    run_id = start_run(job, None, data={"note": "hello"}).id
    work()

    (entry,) = entries_of(run_id)
    assert (entry.status, entry.row) == ("Completed", None)
    (artifact,) = artifacts_of(entry.id)
    assert "Northwind hello" in pdf_text(storage.load(artifact.storage_key))
