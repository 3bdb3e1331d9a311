"""Sizes through the API: a body over the request limit is a 413 envelope, a field over its
own limit a 422 naming the field and the limit; neither stores anything."""

from __future__ import annotations

import json

from app.extensions import db
from app.limits import KB, MB
from app.models import Job, Run
from tests.api.test_contract import JOBS, RUNS, assert_envelope


def runs() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Run))


def data_of_size(size: int) -> dict:
    """A `data` object whose compact JSON is exactly `size` bytes."""
    overhead = len(json.dumps({"memo": ""}, separators=(",", ":")))
    return {"memo": "m" * (size - overhead)}


def test_a_body_over_16_mb_is_a_413_envelope_and_starts_nothing(api):
    body = json.dumps({"data": {"memo": "m" * (16 * MB)}})
    response = api.client.post(
        RUNS, data=body, content_type="application/json", headers=api._headers()
    )
    error = assert_envelope(response, 413, "payload_too_large")["error"]
    assert error["message"] == (
        "the request body is too large: a request may be at most 16 MB (HERALD_MAX_REQUEST_BYTES)"
    )
    assert runs() == 0


def test_data_over_64_kb_is_a_422_naming_the_limit_and_keeps_no_idempotency_key(api):
    key = {"Idempotency-Key": "big-data"}
    over = api.post(RUNS, {"data": data_of_size(64 * KB + 1)}, headers=key)
    body = assert_envelope(over, 422, "body_validation_error")
    assert body["error"]["details"]["errors"] == [
        {
            "field": "data",
            "message": "65,537 bytes is too large: a run's data may be at most 64 KB "
            "(HERALD_MAX_DATA_BYTES)",
        }
    ]
    assert runs() == 0

    exactly = api.post(RUNS, {"data": data_of_size(64 * KB)}, headers=key)
    assert exactly.status_code == 200, exactly.get_json()
    assert runs() == 1


def test_a_parameter_value_over_4_kb_is_a_422_naming_the_parameter(api):
    definition = api.get(JOBS + "/monthly-statements").get_json()["definition"]
    definition["parameters"].append({"name": "note", "type": "string"})
    saved = api.put(JOBS + "/monthly-statements", definition)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["definition"]["parameters"][-1]["name"] == "note"

    over = api.post(RUNS, {"params": {"note": "é" * (2 * KB + 1)}})  # 4098 bytes as UTF-8
    body = assert_envelope(over, 422, "body_validation_error")
    assert body["error"]["details"]["errors"] == [
        {
            "field": "params.note",
            "message": "4,098 bytes is too large: a parameter value may be at most 4 KB "
            "(HERALD_MAX_PARAMETER_BYTES)",
        }
    ]
    assert runs() == 0
    at_limit = api.post(RUNS, {"params": {"note": "é" * (2 * KB)}})
    assert at_limit.status_code == 200, at_limit.get_data(as_text=True)
    run = db.session.get(Run, at_limit.get_json()["jobRunId"])
    assert run.requested_params["note"] == "é" * (2 * KB)


def test_a_job_default_over_4_kb_is_refused_and_the_job_unchanged(api):
    definition = api.get(JOBS + "/monthly-statements").get_json()["definition"]
    definition["parameters"].append({"name": "note", "type": "string", "default": "n" * 5000})
    response = api.put(JOBS + "/monthly-statements", definition)
    body = assert_envelope(response, 422, "body_validation_error")
    [error] = body["error"]["details"]["errors"]
    assert error["field"] == "parameters.1.default"
    assert "HERALD_MAX_PARAMETER_BYTES" in error["message"]
    job = db.session.scalars(db.select(Job).filter_by(code="monthly-statements")).one()
    assert [p["name"] for p in job.parameters] == ["period"]
