"""#18 points 4-7: the run create response (seed 003), idempotencyKey in the body, webhook
headers stored encrypted, reports by id, seed 004's error catalog, and bounds on every
path and query parameter."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Artifact, Run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.api.test_contract import JOBS, RUNS, assert_envelope
from tests.delivery.test_channels import LocalServer, Reply
from tests.helpers import FEW_CUSTOMERS, Api, token_for

PEOPLE = [{"name": "Ada", "email": "ada@example.com"}, {"name": "Bob", "email": "bob@example.com"}]
LETTERS = JOBS + "/letters/runs"


def test_the_create_response_carries_status_stage_and_estimate(api):
    response = api.post(RUNS, {})
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "jobRunId": body["jobRunId"],
        "status": "queued",
        "stage": "queued",
        "estimatedWaitSec": None,
    }


def test_the_idempotency_key_may_come_in_the_body(api):
    first = api.post(RUNS, {"idempotencyKey": "order-7"}).get_json()["jobRunId"]
    again = api.post(RUNS, {"idempotencyKey": "order-7"}).get_json()["jobRunId"]
    by_header = api.post(RUNS, {}, headers={"Idempotency-Key": "order-7"}).get_json()["jobRunId"]
    assert first == again == by_header
    both = api.post(RUNS, {"idempotencyKey": "a"}, headers={"Idempotency-Key": "b"})
    body = assert_envelope(both, 422, "body_validation_error")
    assert body["error"]["details"]["errors"][0]["field"] == "idempotencyKey"
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 1


def test_webhook_headers_are_sent_stored_encrypted_and_never_echoed(api, demo, work):
    make.mailing_job(demo, PEOPLE, code="letters")
    server = LocalServer(lambda request: Reply(200))
    try:
        webhook = {"url": f"{server.base}/done", "headers": {"Authorization": "Bearer s3cret-x"}}
        run_id = api.post(LETTERS, {"webhook": webhook}).get_json()["jobRunId"]
        stored = db.session.get(Run, run_id).notify_headers
        assert stored and "s3cret-x" not in stored
        work()
        recover_stalled_work()
    finally:
        server.close()
    (request,) = server.received
    assert request.headers["authorization"] == "Bearer s3cret-x"
    assert request.headers["x-herald-event"] == "run.finished"
    assert "s3cret-x" not in api.get(f"{LETTERS}/{run_id}").get_data(as_text=True)
    for headers, field in (
        ({"X-Herald-Event": "x"}, "webhook.headers.X-Herald-Event"),
        ({"Bad Name": "x"}, "webhook.headers.Bad Name"),
        ({"X-Ok": "a\r\nInjected: 1"}, "webhook.headers.X-Ok"),
    ):
        refused = api.post(LETTERS, {"webhook": {"url": f"{server.base}/x", "headers": headers}})
        body = assert_envelope(refused, 422, "body_validation_error")
        assert body["error"]["details"]["errors"][0]["field"] == field


def test_reports_by_id_and_a_jobs_latest_reports(api, app, demo, work):
    make.mailing_job(demo, PEOPLE, code="letters")
    run_id = api.post(LETTERS, {}).get_json()["jobRunId"]
    work()
    artifacts = db.session.scalars(db.select(Artifact).order_by(Artifact.id)).all()
    assert len(artifacts) == 2
    report = api.get(f"/api/v1/ws/demo/reports/{artifacts[0].id}").get_json()
    assert report["jobRunId"] == run_id and report["job"]["code"] == "letters"
    assert (report["format"], report["size"], report["entryId"]) == (
        "pdf",
        artifacts[0].size,
        artifacts[0].entry_id,
    )
    assert report["size"] > 0 and report["createdAt"].endswith("Z")
    base = app.config["BASE_URL"].rstrip("/")
    assert report["downloadUrl"].startswith(base + "/api/v1/ws/demo/jobs/letters/runs/")
    path = report["downloadUrl"].removeprefix(base)
    assert api.get(path).data.startswith(b"%PDF")
    assert_envelope(api.client.get(path), 401, "unauthorized")  # downloads keep their check

    latest = api.get(JOBS + "/letters/reports?limit=1")
    assert latest.headers["X-Total-Count"] == "2"
    assert [r["id"] for r in latest.get_json()["items"]] == [artifacts[1].id]
    assert_envelope(api.get("/api/v1/ws/demo/reports/999999"), 404, "not_found")
    other = make.workspace("other")
    stranger = Api(api.client, token_for_user(make.user("x@example.com", other, "admin"), other))
    assert_envelope(stranger.get(f"/api/v1/ws/other/reports/{artifacts[0].id}"), 404, "not_found")


@pytest.mark.customers(FEW_CUSTOMERS)
def test_state_conflicts_are_409_with_a_reason(api, work):
    run_id = api.post(RUNS, {}).get_json()["jobRunId"]
    body = assert_envelope(api.delete(JOBS + "/monthly-statements"), 409, "conflict")
    assert "in progress" in body["error"]["details"]["reason"]
    work()
    cancelled = assert_envelope(api.post(f"{RUNS}/{run_id}/cancel"), 409, "conflict")
    assert "cannot be cancelled" in cancelled["error"]["details"]["reason"]
    entries = api.get(f"{RUNS}/{run_id}/entries?limit=1").get_json()["items"]
    sent = entries[0]["deliveries"][0]
    assert sent["status"] == "sent"
    retry = f"{RUNS}/{run_id}/deliveries/{sent['id']}/retry"
    body = assert_envelope(api.post(retry), 409, "conflict")
    assert "can be retried" in body["error"]["details"]["reason"]


def test_body_and_parameter_problems_have_their_own_codes(api):
    malformed = api.client.post(
        RUNS, data="{oops", content_type="application/json", headers=api._headers()
    )
    body = assert_envelope(malformed, 400, "body_validation_error")
    assert body["error"]["details"]["errors"][0]["field"] == ""
    schema = assert_envelope(api.post(RUNS, {"params": []}), 422, "body_validation_error")
    assert schema["error"]["details"]["errors"][0]["field"] == "params"
    query = assert_envelope(api.get(RUNS + "?limit=-1"), 422, "validation_error")
    assert query["error"]["details"]["errors"] == [
        {"field": "limit", "message": "must be a whole number from 1 to 200"}
    ]


@pytest.mark.parametrize("run_id", ["99999999999999999999", "-1", "0", "2147483648"])
def test_path_ids_out_of_range_are_422_naming_them(api, run_id):
    for url in (f"{RUNS}/{run_id}", f"{RUNS}/{run_id}/status", f"{RUNS}/{run_id}/entries"):
        body = assert_envelope(api.get(url), 422, "validation_error")
        assert body["error"]["details"]["errors"][0]["field"] == "jobRunId"
    body = assert_envelope(api.get(f"/api/v1/ws/demo/reports/{run_id}"), 422, "validation_error")
    assert body["error"]["details"]["errors"][0]["field"] == "reportId"


def test_non_ascii_and_nul_in_path_strings(api):
    assert_envelope(api.get(JOBS + "/%C3%A9t%C3%A9"), 404, "not_found")
    body = assert_envelope(api.get(JOBS + "/a%00b"), 422, "validation_error")
    assert body["error"]["details"]["errors"][0]["field"] == "job"
    assert_envelope(Api(api.client, "x").get(JOBS + "/a%00b"), 401, "unauthorized")


def token_for_user(user, workspace) -> str:
    return token_for(user.email, workspace.code, ["jobs:read"])


@pytest.mark.customers(FEW_CUSTOMERS)
def test_a_job_summary_says_why_its_last_run_went_wrong(api, work):
    job = JOBS + "/monthly-statements"
    assert api.get(job).get_json()["lastErrorMessage"] is None
    api.post(RUNS, {})
    work()
    (summary,) = api.get(JOBS).get_json()
    assert summary["lastRunStatus"] == "completed_with_errors" and summary["lastRunAt"]
    message = summary["lastErrorMessage"]
    assert re.fullmatch(r"1 entry failed; entry \d+: delivery 1 \(email\): no recipient", message)
    run_id = api.post(RUNS, {}).get_json()["jobRunId"]
    assert api.post(f"{RUNS}/{run_id}/cancel").status_code == 200
    detail = api.get(job).get_json()
    assert detail["lastErrorMessage"] == "cancelled by demo@herald.local"
