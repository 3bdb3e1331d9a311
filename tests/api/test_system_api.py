"""GET /api/v1/system: the system page's facts for an admin's token, from real components."""

from __future__ import annotations

from app.runs.create import start_run
from tests import factories as make
from tests.helpers import (
    Api,
    entries_of,
    start_worker,
    token_for,
    wait_for,
    working_pid,
)


def test_only_an_admins_token_reads_the_system(client, demo):
    viewer = Api(client, token_for("viewer@herald.local", "demo", ["jobs:read"]))
    response = viewer.get("/api/v1/system")
    assert response.status_code == 403
    assert "admin" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/system").status_code == 401


def test_queues_and_services_and_no_worker(api):
    body = api.get("/api/v1/system").get_json()
    assert body["database"] == {"ok": True, "error": None}
    assert body["redis"] == {"ok": True, "error": None}
    assert body["workers"] == []
    assert [q["name"] for q in body["queues"]] == ["deliver", "generate"]
    assert body["failedJobs"] == 0
    assert body["clock"] == {"lastTick": None, "host": None, "pid": None, "lagSeconds": None}


def test_redis_down_is_reported_not_raised(api, redis_server):
    redis_server.stop()
    response = api.get("/api/v1/system")
    assert response.status_code == 200
    body = response.get_json()
    assert body["redis"]["ok"] is False and body["redis"]["error"]
    assert body["database"]["ok"] is True
    assert (body["workers"], body["queues"]) == ([], [])


def test_a_busy_real_worker_names_its_entry_to_its_workspace_only(app, client, api, tmp_path):
    acme = make.workspace("acme", smtp=None)
    make.user("root@acme.example", acme, role="admin")
    other = Api(client, token_for("root@acme.example", "acme", ["jobs:read"]))
    mailing = make.mailing_job(acme, [{"name": "A", "email": "a@example.com"}])
    run_id = start_run(mailing, None).id
    marker = tmp_path / "paused"
    worker = start_worker(app, HERALD_FAULT_PAUSE="generate", HERALD_FAULT_MARKER=str(marker))
    try:
        wait_for(marker.exists)
        (entry,) = entries_of(run_id)
        seen = other.get("/api/v1/system").get_json()["workers"]
        assert [(w["pid"], w["state"]) for w in seen] == [(working_pid(worker), "busy")]
        assert seen[0]["current"] == {
            "action": "generating entry",
            "jobRunId": run_id,
            "entryId": entry.id,
        }
        assert {"deliver", "generate"} == set(seen[0]["queues"])
        assert seen[0]["lastHeartbeat"] and seen[0]["host"]
        # The demo admin's token sees the worker, but not another workspace's ids.
        (from_demo,) = api.get("/api/v1/system").get_json()["workers"]
        assert from_demo["current"] == {
            "action": "generating entry of another workspace",
            "jobRunId": None,
            "entryId": None,
        }
    finally:
        worker.kill()
        worker.wait(10)
