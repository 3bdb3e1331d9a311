"""The command line: job definitions as JSON, runs from the shell, the demo seed."""

from __future__ import annotations

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
    assert "content: CSV line 2 has more fields than the header" in result.output
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
