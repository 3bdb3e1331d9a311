"""HERALD_LOG_FORMAT=json: every line a JSON object carrying the request, run and entry ids."""

from __future__ import annotations

import io
import json
import logging

from app.logs import log_handler
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import (
    Api,
    entries_of,
    job,
    output_of,
    reload_run,
    start_worker,
    token_for,
    wait_for,
)


def test_a_real_worker_logs_json_lines_with_run_and_entry_ids(app, smtp_server, tmp_path):
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, [{"name": "Ada", "email": "ada@example.com"}]), None).id
    log_path = tmp_path / "worker.log"
    worker = start_worker(app, log_path, HERALD_LOG_FORMAT="json")
    try:
        wait_for(lambda: reload_run(run_id).status == "finished", 120, explain=output_of(log_path))
    finally:
        worker.terminate()
        worker.wait(20)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    (entry,) = entries_of(run_id)
    done = {line["message"]: line for line in lines if line["message"].endswith(" done")}
    assert done[f"prepare_run {run_id} done"]["run_id"] == run_id
    generated = done[f"generate_entry {entry.id} done"]
    assert (generated["run_id"], generated["entry_id"]) == (run_id, entry.id)
    assert (generated["service"], generated["level"], generated["logger"]) == (
        "worker",
        "INFO",
        "herald.worker",
    )
    delivered = done[f"deliver_entry {entry.id} done"]
    assert (delivered["run_id"], delivered["entry_id"]) == (run_id, entry.id)


def test_a_web_request_logs_its_request_id(app, client, demo, redis_server):
    stream = io.StringIO()
    handler = log_handler("web", "json", stream)
    app.logger.addHandler(handler)
    try:
        api = Api(client, token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"]))
        run_id = start_run(job(demo), None, params={"period": "2026-10-01"}).id
        redis_server.stop()  # building a review document needs the queue now: 503, logged
        response = api.post(
            f"/api/v1/ws/demo/jobs/monthly-statements/runs/{run_id}/generate-review-document",
            headers={"X-Request-ID": "req-4711"},
        )
    finally:
        app.logger.removeHandler(handler)
    assert response.status_code == 503
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"].startswith("the queue is unavailable")
    assert (line["request_id"], line["run_id"], line["entry_id"]) == ("req-4711", None, None)
    assert (line["service"], line["level"]) == ("web", "WARNING")
    assert logging.getLogger().handlers  # pytest's own capture is left alone
