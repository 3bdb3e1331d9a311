"""Seed 000's API contract and what integrators expect beyond it, with real tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.database import utcnow
from app.extensions import db
from app.models import Membership, PersonalAccessToken, Run, User, Workspace
from tests import factories as make
from tests.helpers import FEW_CUSTOMERS as FEW
from tests.helpers import Api, token_for
from tests.known_failures import _never_fires, broken_definition, example_params, saved_jobs

JOBS = "/api/v1/ws/demo/jobs"
RUNS = JOBS + "/monthly-statements/runs"


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["X-Correlation-ID"]
    return body


def job_codes(response) -> list[str]:
    """The job codes a successful GET of the job list shows."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return [job["code"] for job in response.get_json()]


def test_list_jobs(api):
    response = api.get(JOBS)
    assert response.status_code == 200
    (job,) = response.get_json()
    assert {k: job[k] for k in ("code", "name", "scheduled", "holdForReview")} == {
        "code": "monthly-statements",
        "name": "Monthly Customer Statements",
        "scheduled": False,
        "holdForReview": False,
    }
    # The workspace and the job may each be named by id as well as by code.
    ws_id = db.session.scalars(db.select(Workspace.id).filter_by(code="demo")).one()
    assert api.get(f"/api/v1/ws/{ws_id}/jobs").get_json() == [job]
    by_code = api.get(f"{JOBS}/monthly-statements")
    by_id = api.get(f"{JOBS}/{job['id']}")
    assert by_id.status_code == 200, by_id.get_data(as_text=True)
    assert by_id.get_json() == by_code.get_json()
    assert by_id.get_json()["definition"]["code"] == "monthly-statements"
    assert_envelope(api.get(f"{JOBS}/{job['id'] + 1000}"), 404, "not_found")


def test_start_a_run_and_poll_until_finished(api, work, mailbox):
    response = api.post(RUNS, {"params": {"period": "2026-10-01"}, "data": {"source": "ci"}})
    assert response.status_code == 200
    run_id = response.get_json()["jobRunId"]
    status = api.get(f"{RUNS}/{run_id}/status").get_json()
    assert status["finished"] is False and status["stage"] == "queued"
    work()
    status = api.get(f"{RUNS}/{run_id}/status").get_json()
    assert status["finished"] is True
    assert status["entries"] == 30
    assert status["status"] == {"queued": 0, "completed": 29, "errors": 1, "review": 0}
    assert status["stage"] == "done" and status["estimatedWaitSec"] == 0
    run = db.session.get(Run, run_id)
    assert (run.trigger, run.params, run.data) == (
        "api",
        {"period": "2026-10-01"},
        {"source": "ci"},
    )
    assert len(mailbox.messages) == 29
    by_job_id = api.get(f"/api/v1/ws/demo/jobs/{run.job_id}/runs/{run_id}/status")
    assert by_job_id.get_json()["finished"] is True


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc"])
def test_missing_or_unknown_tokens_are_401(client, demo, header):
    headers = {"Authorization": header} if header else {}
    assert_envelope(client.get(JOBS, headers=headers), 401, "unauthorized")


def test_revoked_and_expired_tokens_are_401(client, demo):
    revoked = Api(client, token_for("demo@herald.local", "demo", ["jobs:read"]))
    expired = Api(client, token_for("demo@herald.local", "demo", ["jobs:read"]))
    assert job_codes(revoked.get(JOBS)) == ["monthly-statements"]
    tokens = db.session.scalars(db.select(PersonalAccessToken).order_by(PersonalAccessToken.id))
    first, second = tokens.all()
    first.revoked_at = utcnow()
    second.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_envelope(revoked.get(JOBS), 401, "unauthorized")
    assert_envelope(expired.get(JOBS), 401, "unauthorized")


def test_a_read_token_cannot_write(reader):
    assert job_codes(reader.get(JOBS)) == ["monthly-statements"]
    assert_envelope(reader.post(RUNS, {}), 403, "forbidden")
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0


def test_a_token_follows_its_users_role(api):
    membership = db.session.scalars(db.select(Membership)).first()
    membership.role = "viewer"
    db.session.commit()
    assert_envelope(api.post(RUNS, {}), 403, "forbidden")


def test_a_viewer_cannot_create_a_write_token(app, demo):
    from app.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        token_for("viewer@herald.local", "demo", ["jobs:write"])
    assert "does not allow jobs:write" in caught.value.errors["permissions"]


def test_another_workspace_is_404(api, app, smtp_server):
    ws = make.workspace("globex", smtp=smtp_server.settings)
    make.people_job(ws, [{"name": "x"}], "<p>x</p>", code="secret")
    for path in (
        "/api/v1/ws/globex/jobs",
        "/api/v1/ws/globex/jobs/secret/runs",
        f"/api/v1/ws/{ws.id}/jobs",
        "/api/v1/ws/demo/jobs/secret",
    ):
        assert_envelope(api.get(path), 404, "not_found")
    assert_envelope(api.post("/api/v1/ws/globex/jobs/secret/runs", {}), 404, "not_found")


def test_a_run_is_found_only_under_its_own_job(api, smtp_server):
    run_id = api.post(RUNS, {}).get_json()["jobRunId"]
    other = make.people_job(
        db.session.scalars(db.select(Workspace).filter_by(code="demo")).one(),
        [{"name": "x"}],
        "<p>x</p>",
        code="other",
    )
    for path in (
        f"{JOBS}/other/runs/{run_id}/status",
        f"{JOBS}/{other.id}/runs/{run_id}/status",
        f"{JOBS}/other/runs/{run_id}",
        f"{RUNS}/{run_id + 1}/status",
        f"{JOBS}/{2**31}/runs/{run_id}/status",
    ):
        assert_envelope(api.get(path), 404, "not_found")
    # An id no row can have is a bad parameter (#18 point 7), named, never an overflow.
    for path in (f"{RUNS}/{2**31}/status", f"{RUNS}/{10**30}/entries/1/artifacts/1"):
        body = assert_envelope(api.get(path), 422, "validation_error")
        assert body["error"]["details"]["errors"][0]["field"] == "jobRunId"
    assert api.get(f"{RUNS}/{run_id}/status").get_json()["entries"] == 0


def test_an_inactive_user_or_a_lost_membership_stops_the_token(api):
    assert job_codes(api.get(JOBS)) == ["monthly-statements"]
    membership = db.session.scalars(db.select(Membership)).first()
    db.session.delete(membership)
    db.session.commit()
    assert_envelope(api.get(JOBS), 403, "forbidden")
    user = db.session.scalars(db.select(User).filter_by(email="demo@herald.local")).one()
    user.active = False
    db.session.commit()
    assert_envelope(api.get(JOBS), 401, "unauthorized")


def test_a_browser_session_is_no_api_credential(api, auth):
    assert auth.login().status_code == 302
    assert_envelope(api.client.get(JOBS), 401, "unauthorized")
    response = api.get(JOBS)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_idempotency_key(api):
    headers = {"Idempotency-Key": "order-42"}
    first = api.post(RUNS, {"params": {"period": "2026-10-01"}}, headers=headers).get_json()
    again = api.post(RUNS, {"params": {"period": "2026-10-01"}}, headers=headers).get_json()
    assert first == again
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 1
    other = api.post(RUNS, {"params": {"period": "2026-09-01"}}, headers=headers)
    assert_envelope(other, 409, "conflict")
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 1


def test_bad_bodies_get_the_envelope_and_change_nothing(api):
    bad_json = api.client.post(
        RUNS, data="{not json", content_type="application/json", headers=api._headers()
    )
    assert_envelope(bad_json, 400, "body_validation_error")
    unknown = assert_envelope(api.post(RUNS, {"parms": {}}), 422, "body_validation_error")
    assert unknown["error"]["details"]["errors"][0]["field"] == "parms"
    typed = assert_envelope(
        api.post(RUNS, {"params": {"period": "soon"}}), 422, "body_validation_error"
    )
    assert typed["error"]["details"]["errors"] == [
        {"field": "params.period", "message": "'soon' is not a date (YYYY-MM-DD)"}
    ]
    not_json = api.client.post(RUNS, data="a=b", headers=api._headers())
    assert not_json.status_code == 415
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0


def test_request_ids_are_echoed(api):
    response = api.get(JOBS, headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.headers["X-Correlation-ID"] == "abc-123"
    missing = api.get(JOBS + "/nope", headers={"X-Correlation-ID": "corr-9"})
    assert missing.get_json()["request_id"] == "corr-9"


def test_unknown_urls_and_methods_under_the_api_are_json(api):
    assert_envelope(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_envelope(api.delete(RUNS), 405, "method_not_allowed")


@pytest.mark.customers(FEW)
def test_deliver_approves_held_entries_once(api, work, mailbox):
    job = api.get(JOBS + "/monthly-statements").get_json()["definition"]
    job["hold_for_review"] = True
    saved = api.put(JOBS + "/monthly-statements", job)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["holdForReview"] is True
    run_id = api.post(RUNS, {"params": {"period": "2026-10-01"}}).get_json()["jobRunId"]
    work()
    status = api.get(f"{RUNS}/{run_id}/status").get_json()
    assert status["status"]["review"] == FEW and status["finished"] is True
    assert status["stage"] == "awaiting_review"
    assert mailbox.messages == []
    first = api.post(f"{RUNS}/{run_id}/deliver")
    assert first.status_code == 200 and first.get_json() == {"queued": FEW}
    assert api.post(f"{RUNS}/{run_id}/deliver").get_json() == {"queued": 0}
    work()
    assert len(mailbox.messages) == FEW - 1
    assert api.post(f"{RUNS}/{run_id}/deliver").get_json() == {"queued": 0}
    work()
    assert len(mailbox.messages) == FEW - 1


def test_generate_review_document_then_download(api, work):
    run_id = api.post(RUNS, {"params": {"period": "2026-10-01"}}).get_json()["jobRunId"]
    work()
    response = api.post(f"{RUNS}/{run_id}/generate-review-document")
    assert response.status_code == 202
    file_id = response.get_json()["temporaryFileId"]
    pending = api.get(f"/api/v1/ws/demo/temporary-files/{file_id}").get_json()
    assert pending["status"] == "pending" and pending["downloadUrl"] is None
    work()
    ready = api.get(f"/api/v1/ws/demo/temporary-files/{file_id}").get_json()
    assert ready["status"] == "ready"
    assert ready["pages"] == 30 + 2  # one-page statements behind a two-page index
    pdf = api.get(ready["downloadUrl"])
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


@pytest.mark.customers(FEW)
def test_runs_list_and_run_detail_page(api, work):
    ids = [api.post(RUNS, {}).get_json()["jobRunId"] for _ in range(3)]
    work()
    page = api.get(RUNS + "?perPage=2&page=2").get_json()
    assert (page["total"], [r["id"] for r in page["items"]]) == (3, [ids[0]])
    detail = api.get(f"{RUNS}/{ids[0]}?bucket=errors").get_json()
    assert detail["entriesPage"]["total"] == 1
    (entry,) = detail["entryItems"]
    assert entry["status"] == "DeliveryFailed"
    assert entry["deliveries"][0]["lastError"] == "no recipient"
    pdf = api.get(entry["reports"][0]["downloadUrl"])
    assert pdf.data.startswith(b"%PDF")
    assert_envelope(api.get(RUNS + "?perPage=0"), 422, "validation_error")


def test_an_entry_carries_its_warnings(api, work, demo):
    rows = [{"name": "Ada", "email": "ada@example.com"}, {"name": "Bob \ue000", "email": "b@x.io"}]
    make.mailing_job(demo, rows, code="letters")
    run_id = api.post(JOBS + "/letters/runs", {}).get_json()["jobRunId"]
    work()
    entries = api.get(f"{JOBS}/letters/runs/{run_id}").get_json()["entryItems"]
    warning = "letter: 1 character could not be drawn: \ue000 (U+E000)"
    assert [(e["row"]["name"], e["status"], e["warnings"]) for e in entries] == [
        ("Ada", "Completed", []),
        ("Bob \ue000", "Completed", [warning]),
    ]


@pytest.mark.customers(FEW)
def test_retry_a_failed_delivery_and_all_failed(api, reader, work):
    first, second = (api.post(RUNS, {}).get_json()["jobRunId"] for _ in range(2))
    work()
    (entry,) = api.get(f"{RUNS}/{first}?bucket=errors").get_json()["entryItems"]
    delivery_id = entry["deliveries"][0]["id"]
    retry = f"{RUNS}/{first}/deliveries/{delivery_id}/retry"
    assert_envelope(reader.post(retry), 403, "forbidden")
    assert_envelope(api.post(f"{RUNS}/{second}/deliveries/{delivery_id}/retry"), 404, "not_found")
    retried = api.post(retry)
    assert retried.status_code == 200
    assert retried.get_json() == {"id": delivery_id, "status": "pending", "attempts": 1}
    assert_envelope(api.post(retry), 409, "conflict")  # pending, not failed: no retry
    work()
    assert api.post(f"{RUNS}/{second}/retry-failed").get_json() == {"retried": 1}
    assert api.post(f"{RUNS}/{second}/retry-failed").get_json() == {"retried": 0}


def test_job_crud_with_field_errors(api):
    definition = api.get(JOBS + "/monthly-statements").get_json()["definition"]
    copy = {**definition, "code": "copy", "name": "Copy"}
    created = api.post(JOBS, copy)
    assert created.status_code == 201 and created.get_json()["code"] == "copy"
    assert_envelope(api.post(JOBS, copy), 409, "conflict")
    broken = {**copy, "reports": [{"template": "nope"}], "code": "Bad!"}
    body = assert_envelope(api.put(JOBS + "/copy", broken), 422, "body_validation_error")
    fields = {e["field"] for e in body["error"]["details"]["errors"]}
    assert fields == {"code", "reports.0.template"}  # every problem at once
    assert api.delete(JOBS + "/copy").status_code == 204
    assert_envelope(api.get(JOBS + "/copy"), 404, "not_found")


def test_fire_times(api):
    response = api.get(JOBS + "/monthly-statements/fire-times?count=3&after=2026-01-15T00:00:00Z")
    fires = ["2026-02-01T07:00:00-08:00", "2026-03-01T07:00:00-08:00", "2026-04-01T07:00:00-07:00"]
    assert response.get_json() == {
        "timezone": "America/Los_Angeles",
        "description": "Day 1 of every month at 07:00, America/Los_Angeles",
        "fireTimes": fires,
        "fires": [
            {"at": at, "date": at[:10], "movedFrom": None, "holiday": None, "note": None}
            for at in fires
        ],
        "skipped": [],
        "emptyReason": None,
    }


def test_rate_limit_per_token(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    for _ in range(3):
        assert api.get(JOBS).status_code == 200
    limited = assert_envelope(api.get(JOBS), 429, "rate_limit_exceeded")
    assert limited  # body checked by assert_envelope
    response = api.get(JOBS)
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_the_openapi_document_describes_the_seed_endpoints(client):
    doc = client.get("/swagger/v1/swagger.json").get_json()
    assert doc["openapi"].startswith("3.1")
    for path in (
        JOBS.replace("demo", "{workspaceId}"),
        "/api/v1/ws/{workspaceId}/jobs/{jobIdOrCode}/runs",
        "/api/v1/ws/{workspaceId}/jobs/{jobIdOrCode}/runs/{jobRunId}/status",
        "/api/v1/ws/{workspaceId}/jobs/{jobIdOrCode}/runs/{jobRunId}/deliver",
    ):
        assert path in doc["paths"], path
    status = doc["components"]["schemas"]["JobRunStatus"]
    assert {"finished", "entries", "status"} <= set(status["properties"])
    ui = client.get("/swagger/index.html")
    assert ui.status_code == 200
    assert "swagger" in ui.get_data(as_text=True).lower()


def test_the_tokens_command_prints_a_working_token(app, client, demo):
    result = app.test_cli_runner().invoke(
        args=[
            "tokens",
            "create",
            "--user",
            "demo@herald.local",
            "--workspace",
            "demo",
            "--permissions",
            "jobs:read",
        ]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("hrld_") and "\n" not in token
    assert job_codes(Api(client, token).get(JOBS)) == ["monthly-statements"]
    stored = db.session.scalars(db.select(PersonalAccessToken)).one()
    assert token not in (stored.token_hash, stored.prefix)


def test_a_job_with_a_literal_invalid_recipient_is_refused_and_not_saved(api):
    definition = api.get(JOBS + "/monthly-statements").get_json()["definition"]
    definition["deliveries"][0]["to"] = "not-an-email"
    body = assert_envelope(
        api.put(JOBS + "/monthly-statements", definition), 422, "body_validation_error"
    )
    assert body["error"]["details"]["errors"] == [
        {
            "field": "deliveries.0.to",
            "message": "'not-an-email' is not an email address: "
            "An email address must have an @-sign.",
        }
    ]
    saved = api.get(JOBS + "/monthly-statements").get_json()["definition"]
    assert saved["deliveries"][0]["to"] == "{customers.name} <{customers.email}>"


# ---- Nothing is saved that is known to fail (issue #11, kind 6) --------------------------


@pytest.mark.parametrize("example", example_params())
@pytest.mark.parametrize("method", ["post", "put"])
def test_a_definition_known_to_fail_is_refused_beside_its_field(api, example, method):
    before = saved_jobs()
    code = "new-statements" if method == "post" else "monthly-statements"
    definition, field, message = broken_definition(example, code)
    if method == "post":
        response = api.post(JOBS, definition)
    else:
        response = api.put(f"{JOBS}/monthly-statements", definition)
    body = assert_envelope(response, 422, "body_validation_error")
    details = {e["field"]: e["message"] for e in body["error"]["details"]["errors"]}
    assert field in details, details
    assert message in details[field]
    assert saved_jobs() == before


def test_every_problem_comes_back_at_once(api):
    definition, _, _ = broken_definition("column the repeating source lacks", "new-statements")
    _never_fires(definition)
    definition["name"] = ""
    definition["deliveries"][0]["subject"] = "Hi {customers.nickname}"
    response = api.post(JOBS, definition)
    body = assert_envelope(response, 422, "body_validation_error")
    assert body["error"]["message"] == "4 problems in the request; see details"
    assert [e["field"] for e in body["error"]["details"]["errors"]] == [
        "name",
        "schedule",
        "reports.0.bindings.customerId",
        "deliveries.0.subject",
    ]
    assert body["error"]["details"]["errors"][0]["message"] == "Job name is required"
