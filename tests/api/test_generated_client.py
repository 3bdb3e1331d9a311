"""#18 point 8: a Python client generated from /swagger/v1/swagger.json with
openapi-python-client (offline, into this test's temporary directory) runs seed 000's
integration script end to end against a real gunicorn and a real worker: start a run with a
parameter override, poll its status until finished, list its entries, download a report."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time

import pytest

from tests.helpers import FEW_CUSTOMERS, start_worker, token_for
from tests.served import gunicorn

# The script's steps, not the run's size, are under test.
CUSTOMERS = FEW_CUSTOMERS
POLLS = 3000  # × 0.1 s: a bound on waiting for the worker, not a performance threshold
# The generator knows binary bodies as application/octet-stream; reports are PDFs.
CONFIG = "content_type_overrides:\n  application/pdf: application/octet-stream\n"


def generate_client(client, directory) -> None:
    document = client.get("/swagger/v1/swagger.json").get_json()
    (directory / "swagger.json").write_text(json.dumps(document))
    (directory / "config.yaml").write_text(CONFIG)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            "swagger.json",
            "--config",
            "config.yaml",
            "--output-path",
            "herald_client",
            "--meta",
            "none",
        ],
        cwd=directory,
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.mark.customers(CUSTOMERS)
def test_the_generated_client_runs_seed_000s_script(app, client, demo, mailbox, tmp_path):
    generate_client(client, tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        herald = importlib.import_module("herald_client")
        models = importlib.import_module("herald_client.models")
        ops = {
            name: importlib.import_module(f"herald_client.api.default.{name}")
            for name in (
                "post_jobs_runs",
                "get_jobs_runs_status",
                "get_jobs_runs_entries",
                "get_jobs_runs_entries_artifacts_one",
                "get_jobs",
            )
        }
        token = token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"])
        worker = start_worker(app)
        try:
            with gunicorn(app, workers=1, threads=2) as base:
                script(herald, models, ops, base, token)
        finally:
            worker.terminate()
            worker.wait(30)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == "herald_client"]:
            del sys.modules[name]
    assert len(mailbox.messages) == CUSTOMERS - 1


def script(herald, models, ops, base: str, token: str) -> None:
    api = herald.AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)
    where = {"workspace_id": "demo", "job_id_or_code": "monthly-statements", "client": api}
    jobs = ops["get_jobs"].sync(workspace_id="demo", client=api)
    assert [job.code for job in jobs] == ["monthly-statements"]

    request = models.JobRunRequest(
        params=models.JobRunRequestParams.from_dict({"period": "2026-10-01"})
    )
    created = ops["post_jobs_runs"].sync(**where, body=request)
    assert created.status == "queued"
    run_id = created.job_run_id

    for _ in range(POLLS):
        status = ops["get_jobs_runs_status"].sync(**where, job_run_id=run_id)
        if status.finished:
            break
        time.sleep(0.1)
    assert status.finished and status.entries == CUSTOMERS
    assert (status.status.completed, status.status.errors) == (CUSTOMERS - 1, 1)

    page = ops["get_jobs_runs_entries"].sync(**where, job_run_id=run_id, limit=50)
    assert page.total == CUSTOMERS and len(page.items) == CUSTOMERS
    entry = page.items[0]
    report = entry.reports[0]
    download = ops["get_jobs_runs_entries_artifacts_one"].sync_detailed(
        **where, job_run_id=run_id, entry_id=entry.id, artifact_id=report.id
    )
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
