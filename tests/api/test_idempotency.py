"""Idempotency-Key under concurrency: many identical requests at once make one run, one send."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Entry, Run
from tests.api.conftest import token_for
from tests.served import gunicorn

RUNS = "/api/v1/ws/demo/jobs/monthly-statements/runs"
CONCURRENT = 20


def _post(url: str, token: str, body: dict, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _all_at_once(calls: list) -> list:
    """Run the calls in threads released together by a barrier; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def call(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_concurrent_requests_with_one_key_make_one_run_and_send_once(app, demo, work, mailbox):
    token = token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"])
    body = {"params": {"period": "2026-10-01"}, "data": {"batch": 7}}
    with gunicorn(app) as base:
        results = _all_at_once(
            [lambda: _post(base + RUNS, token, body, "statements-2026-10")] * CONCURRENT
        )
        assert {status for status, _ in results} == {200}
        assert len({answer["jobRunId"] for _, answer in results}) == 1
        assert _count(Run) == 1

        # The same key with another body, however many at once: 409, and nothing is created.
        other = {"params": {"period": "2026-09-01"}}
        conflicts = _all_at_once(
            [lambda: _post(base + RUNS, token, other, "statements-2026-10")] * 5
        )
        assert [status for status, _ in conflicts] == [409] * 5
        assert conflicts[0][1]["error"]["code"] == "conflict"
        assert _count(Run) == 1

    work()
    run = db.session.scalars(db.select(Run)).one()
    assert run.status == "finished" and run.idempotency_key == "statements-2026-10"
    entries = db.session.scalars(db.select(Entry).filter_by(run_id=run.id)).all()
    sent = [e for e in entries if e.status == "Completed"]
    assert len(sent) == 29  # the demo's 30 customers, one without an address
    assert len(mailbox.messages) == len(sent)
    recipients = [m["To"] for m in mailbox.messages]
    assert len(set(recipients)) == len(recipients)


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
