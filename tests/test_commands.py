"""The command line: job definitions as JSON, runs from the shell, the demo seed."""

from __future__ import annotations

import codecs
import json

import pytest

from app.extensions import db
from app.models import Job, Run, Workspace
from tests import factories as make
from tests.helpers import job
from tests.known_failures import broken_definition, example_params, saved_jobs


def test_export_then_import_round_trips_a_definition(app, demo, tmp_path):
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["jobs", "export", "monthly-statements", "--workspace", "demo"])
    assert exported.exit_code == 0, exported.output
    definition = json.loads(exported.output)
    assert definition["data_sources"] == [
        {"alias": "customers", "source": "customers", "repeating": True}
    ]
    assert definition["deliveries"][0]["to"] == "{customers.name} <{customers.email}>"

    definition["name"] = "Renamed statements"
    path = tmp_path / "job.json"
    path.write_text(json.dumps(definition))
    imported = runner.invoke(args=["jobs", "import", str(path), "--workspace", "demo"])
    assert imported.exit_code == 0, imported.output
    assert job(demo).name == "Renamed statements"
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 1


def test_an_invalid_definition_names_each_bad_field_and_changes_nothing(app, demo, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "code": "Bad Code!",
                "name": "x",
                "data_sources": [
                    {"alias": "a", "source": "customers", "repeating": True},
                    {"alias": "b", "source": "no-such-source"},
                ],
                "reports": [
                    {"template": "customer-statement", "bindings": {"id": {"param": "nope"}}}
                ],
            }
        )
    )
    result = app.test_cli_runner().invoke(args=["jobs", "import", str(path), "--workspace", "demo"])
    assert result.exit_code == 1
    assert "code: Code may use lowercase letters, digits and -" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 1

    definition = json.loads(path.read_text())
    definition["code"] = "fine-code"
    path.write_text(json.dumps(definition))
    result = app.test_cli_runner().invoke(args=["jobs", "import", str(path), "--workspace", "demo"])
    assert result.exit_code == 1
    assert "reports.0.bindings.id: unknown job parameter 'nope'" in result.output


def test_references_to_missing_sources_and_templates_are_errors(app, demo, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "code": "fine",
                "name": "x",
                "data_sources": [{"alias": "b", "source": "no-such-source"}],
                "reports": [
                    {"template": "customer-statement", "bindings": {"wrong": {"value": 1}}}
                ],
            }
        )
    )
    result = app.test_cli_runner().invoke(args=["jobs", "import", str(path), "--workspace", "demo"])
    assert result.exit_code == 1
    assert "data_sources.0.source: no data source with code 'no-such-source'" in result.output
    assert "reports.0.bindings.wrong: template 'customer-statement' has no parameter 'wrong'" in (
        result.output
    )


def test_jobs_run_wait_prints_the_buckets_and_fails_when_an_entry_failed(app, demo):
    result = app.test_cli_runner().invoke(
        args=[
            "jobs",
            "run",
            "monthly-statements",
            "--workspace",
            "demo",
            "--param",
            "period=2026-10-01",
            "--wait",
        ]
    )
    assert result.exit_code == 1  # customer 7 has no email address
    assert "entries=30 queued=0 completed=29 errors=1 review=0" in result.output
    run = db.session.scalars(db.select(Run)).one()
    assert run.params == {"period": "2026-10-01"}


def test_jobs_run_wait_exits_zero_when_every_entry_completed(app, smtp_server):
    ws = make.workspace(smtp=smtp_server.settings)
    make.people_job(ws, [{"name": "Ada"}, {"name": "Bob"}], "<p>{{ people.name }}</p>")
    result = app.test_cli_runner().invoke(
        args=["jobs", "run", "test-job", "--workspace", ws.code, "--wait"]
    )
    assert result.exit_code == 0, result.output
    assert "entries=2 queued=0 completed=2 errors=0 review=0" in result.output


def test_jobs_run_wait_prints_the_warnings_of_entries_that_still_completed(app):
    ws = make.workspace()
    rows = [{"name": "Ada"}, {"name": "Bob \ue000"}]
    make.people_job(ws, rows, "<p>{{ people.name }}</p>")
    result = app.test_cli_runner().invoke(
        args=["jobs", "run", "test-job", "--workspace", ws.code, "--wait"]
    )
    assert result.exit_code == 0, result.output
    assert "entries=2 queued=0 completed=2 errors=0 review=0" in result.output
    assert (
        "  warning, entry 2: letter: 1 character could not be drawn: \ue000 (U+E000)\n"
        in result.output
    )
    assert "entry 1" not in result.output


def test_jobs_run_rejects_a_bad_parameter_before_running(app, demo):
    result = app.test_cli_runner().invoke(
        args=[
            "jobs",
            "run",
            "monthly-statements",
            "--workspace",
            "demo",
            "--param",
            "period=never",
        ]
    )
    assert result.exit_code == 1
    assert "params.period: 'never' is not a date" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0


def test_the_demo_seed_is_idempotent(app, smtp_server):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
    assert "demo@herald.local / herald-demo" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Workspace)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 1


def test_a_csv_upload_becomes_a_repeating_source_of_a_job(app, smtp_server, tmp_path):
    ws = make.workspace(smtp=smtp_server.settings)
    path = tmp_path / "people.csv"
    path.write_text("name,email\nAda,ada@example.com\nBob,bob@example.com\n")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["sources", "import", str(path), "--workspace", ws.code, "--code", "people"]
    )
    assert result.exit_code == 0, result.output
    make.template(ws, "letter", "<p>{{ people.name }}</p>")
    make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "letter"}],
    )
    result = runner.invoke(args=["jobs", "run", "test-job", "--workspace", ws.code, "--wait"])
    assert "entries=2 queued=0 completed=2" in result.output


def test_a_malformed_csv_is_refused_and_nothing_is_saved(app, tmp_path):
    from app.models import DataSource

    ws = make.workspace()
    path = tmp_path / "people.csv"
    path.write_text("name,email\nAda,ada@example.com,surplus\n")
    result = app.test_cli_runner().invoke(
        args=["sources", "import", str(path), "--workspace", ws.code, "--code", "people"]
    )
    assert result.exit_code == 1
    assert "content: CSV line 2 has 3 cells but the header has 2 columns" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(DataSource)) == 0


def import_source(app, ws, path, *options):
    args = ["sources", "import", str(path), "--workspace", ws.code, "--code", "people"]
    return app.test_cli_runner().invoke(args=[*args, *options])


def stored_rows(code="people"):
    from app.datasources.fetch import parse_csv
    from app.models import DataSource

    source = db.session.scalars(db.select(DataSource).filter_by(code=code)).one()
    return parse_csv(source.content)


def test_sources_import_reads_spreadsheet_exports(app, tmp_path):
    ws = make.workspace()
    excel = tmp_path / "people.txt"  # Excel's "Unicode text": UTF-16 LE, BOM, tabs
    excel.write_bytes(
        codecs.BOM_UTF16_LE + 'Name\tCity\r\nZoë\t"Mün\nchen"\r\nBob\r\n'.encode("utf-16-le")
    )
    result = import_source(app, ws, excel)
    assert result.exit_code == 0, result.output
    assert "read as UTF-16 LE, tab-delimited: 2 rows; columns: Name, City" in result.output
    assert stored_rows() == [{"Name": "Zoë", "City": "Mün\nchen"}, {"Name": "Bob", "City": ""}]

    german = tmp_path / "people.csv"
    german.write_bytes(b"Name;Ort;Betrag\r\nM\xfcller;Caf\xe9;\x80 12,50\r\n")
    result = import_source(app, ws, german)
    assert "read as Windows-1252, semicolon-delimited: 1 row;" in result.output
    assert stored_rows() == [{"Name": "Müller", "Ort": "Café", "Betrag": "€ 12,50"}]

    piped = tmp_path / "piped.csv"
    piped.write_bytes(codecs.BOM_UTF8 + b"id|name\n1|Ada;Lovelace\n")
    result = import_source(app, ws, piped)
    assert "read as UTF-8 with BOM, pipe-delimited" in result.output
    assert stored_rows() == [{"id": "1", "name": "Ada;Lovelace"}]


def test_sources_import_takes_the_delimiter_and_encoding_it_is_given(app, tmp_path):
    ws = make.workspace()
    path = tmp_path / "people.csv"
    path.write_bytes("name;note\nZoë;a,b\n".encode())
    result = import_source(app, ws, path, "--delimiter", "comma")
    assert result.exit_code == 1
    assert "content: CSV line 2 has 2 cells but the header has 1 column" in result.output
    result = import_source(app, ws, path, "--delimiter", "semicolon", "--encoding", "windows-1252")
    assert result.exit_code == 0, result.output
    assert stored_rows() == [{"name": "ZoÃ«", "note": "a,b"}]
    result = import_source(app, ws, path, "--delimiter", "colon")
    assert result.exit_code == 2 and "'colon' is not one of" in result.output


def test_sources_import_refuses_undecodable_bytes_naming_the_line(app, tmp_path):
    from app.models import DataSource

    ws = make.workspace()
    path = tmp_path / "people.csv"
    path.write_bytes(b"id;name\n1;M\xfcller\n2;B\x8fob\n")
    result = import_source(app, ws, path)
    assert result.exit_code == 1
    assert (
        "content: CSV line 3 cannot be read: byte 0x8F is not UTF-8 or Windows-1252 text"
        in result.output
    )
    path.write_bytes(b"id,name\n1,Ada\n2\n3,Cy,extra\n")
    result = import_source(app, ws, path)
    assert "content: CSV line 4 has 3 cells but the header has 2 columns" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(DataSource)) == 0


@pytest.mark.parametrize("example", example_params())
def test_jobs_import_refuses_a_definition_known_to_fail(app, demo, tmp_path, example):
    before = saved_jobs()
    definition, field, message = broken_definition(example)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(definition))
    result = app.test_cli_runner().invoke(args=["jobs", "import", str(path), "--workspace", "demo"])
    assert result.exit_code == 1
    assert f"  {field}: " in result.output
    assert message in result.output.replace("\n    ", " ")
    assert saved_jobs() == before
