"""Idempotency-Key: the same key and body answer the same run; its scope, expiry and limits.

Concurrent requests with one key, against a real gunicorn: tests/faults/test_idempotency_race.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Run
from tests.helpers import token_for

RUNS = "/api/v1/ws/demo/jobs/monthly-statements/runs"


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_key_is_scoped_to_the_job_and_expires(api, app):
    body = {"params": {"period": "2026-10-01"}}
    first = api.post(RUNS, body, headers={"Idempotency-Key": "k1"}).get_json()["jobRunId"]
    # Key order and spacing do not matter: the body is compared in canonical form.
    same = api.client.post(
        RUNS,
        data='{ "params" : {"period":"2026-10-01"} , "data": {} }',
        content_type="application/json",
        headers=api._headers({"Idempotency-Key": "k1"}),
    )
    assert same.get_json()["jobRunId"] == first
    # Another token of the workspace (a rotated one) gets the same run for the same request.
    rotated = token_for("demo@herald.local", "demo", ["jobs:write"])
    again = api.client.post(
        RUNS, json=body, headers={"Authorization": f"Bearer {rotated}", "Idempotency-Key": "k1"}
    )
    assert again.get_json()["jobRunId"] == first
    assert _count(Run) == 1

    # After IDEMPOTENCY_HOURS the key is free again: a new run, and the old one keeps its id.
    run = db.session.get(Run, first)
    run.created_at -= timedelta(hours=app.config["IDEMPOTENCY_HOURS"], minutes=1)
    db.session.commit()
    later = api.post(RUNS, body, headers={"Idempotency-Key": "k1"}).get_json()["jobRunId"]
    assert later != first
    assert _count(Run) == 2
    assert db.session.get(Run, first).idempotency_key is None


@pytest.mark.parametrize("key", ["", "   "])
def test_a_blank_key_is_no_key(api, key):
    body = {"params": {"period": "2026-10-01"}}
    a = api.post(RUNS, body, headers={"Idempotency-Key": key}).get_json()["jobRunId"]
    b = api.post(RUNS, body, headers={"Idempotency-Key": key}).get_json()["jobRunId"]
    assert a != b


def test_an_overlong_key_is_refused_and_changes_nothing(api):
    response = api.post(RUNS, {}, headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["errors"][0]["field"] == "Idempotency-Key"
    assert _count(Run) == 0
