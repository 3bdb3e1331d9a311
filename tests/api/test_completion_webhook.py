"""The per-run completion webhook: one signed POST when the run ends, retried, not lost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.database import utcnow
from app.extensions import db
from app.models import Connection, Run
from app.outbound.post import verify_signature
from app.outbound.secrets import set_secrets
from app.runs.recovery import recover_stalled_work
from tests.delivery.test_channels import LocalServer, Reply
from tests.helpers import FEW_CUSTOMERS

RUNS = "/api/v1/ws/demo/jobs/monthly-statements/runs"


def webhook_connection(demo) -> None:
    connection = Connection(workspace_id=demo.id, code="hooks", name="Hooks", kind="webhook")
    set_secrets(connection, {"secret": "a-long-signing-secret"})
    db.session.add(connection)
    db.session.commit()


@pytest.mark.customers(FEW_CUSTOMERS)
def test_a_finished_run_posts_one_signed_notification(api, demo, work):
    webhook_connection(demo)
    replies = [Reply(503), Reply(200)]
    server = LocalServer(lambda request: replies.pop(0))
    try:
        body = {
            "params": {"period": "2026-10-01"},
            "webhook": {"url": f"{server.base}/done", "secretConnection": "hooks"},
        }
        run_id = api.post(RUNS, body).get_json()["jobRunId"]
        work()
        recover_stalled_work()  # the clock's tick: the receiver answers 503
        run = db.session.get(Run, run_id)
        assert run.notify_status == "pending" and "will retry" in run.notify_error
        recover_stalled_work(now=utcnow() + timedelta(seconds=5))
        recover_stalled_work(now=utcnow() + timedelta(seconds=10))
    finally:
        server.close()
    db.session.expire_all()
    run = db.session.get(Run, run_id)
    assert (run.notify_status, run.notify_attempts) == ("sent", 2)
    assert len(server.received) == 2
    request = server.received[-1]
    assert verify_signature(
        "a-long-signing-secret",
        request.headers["x-herald-timestamp"],
        request.body,
        request.headers["x-herald-signature"],
    )
    payload = json.loads(request.body)
    assert payload["event"] == "run.finished" and payload["jobRunId"] == run_id
    assert payload["status"] == {
        "queued": 0,
        "completed": FEW_CUSTOMERS - 1,
        "errors": 1,
        "review": 0,
    }


def test_a_bad_webhook_request_is_refused_before_the_run_exists(api, app, demo, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
    for webhook, field in (
        ({"url": "ftp://example.com"}, "webhook.url"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "webhook.url"),
        ({"url": "https://example.com/x", "secretConnection": "nope"}, "webhook.secretConnection"),
    ):
        response = api.post(RUNS, {"webhook": webhook})
        assert response.status_code == 422
        assert response.get_json()["error"]["details"]["errors"][0]["field"] == field
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0
