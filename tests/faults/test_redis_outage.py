"""Redis loss is an outage of the queue, not of Herald (issue 12, kind 3).

The suite's real redis-server is killed (SIGKILL) and started again, empty, on the same socket.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from app.api.openapi import document
from app.api.schemas import ErrorEnvelope
from app.database import utcnow
from app.extensions import db
from app.models import Entry, EntryDelivery, Run, TemporaryFile
from app.review.redeliver import retry_delivery
from app.runs.create import start_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.faults.rig import LEASE_SECONDS, mailing_run
from tests.helpers import (
    CSRF,
    Api,
    reload_run,
    seed_demo_with,
    start_process,
    token_for,
    worker_env,
    working_pid,
)
from tests.helpers import wait_for as _wait_for

JOB = "/api/v1/ws/demo/jobs/monthly-statements"
CUSTOMERS = 3


def later():
    """Past the stale-queued age, so the sweep treats the waiting run as lost from the queue."""
    return utcnow() + timedelta(hours=1)


wait_for = partial(_wait_for, interval=0.05)


def stop(process: subprocess.Popen) -> None:
    """Stop a worker or clock the way `./dev run` does; it must obey SIGTERM."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise


def noticed_outage(log: Path) -> bool:
    """Whether a process logged losing Redis: RQ while it waits for a job, or
    workers.worker (and the clock) when a call outside that wait fails."""
    text = log.read_text()
    return "Redis is unavailable" in text or "could not connect to Redis" in text


@pytest.fixture
def api(app, client, smtp_server) -> Api:
    seed_demo_with(smtp_server.settings, customers=CUSTOMERS)
    return Api(client, token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"]))


def assert_each_email_once(mailbox, run_id: int) -> None:
    """Every delivery the run recorded as sent reached the SMTP server exactly once."""
    sent = db.session.scalars(
        select(EntryDelivery.id)
        .join(Entry, Entry.id == EntryDelivery.entry_id)
        .where(Entry.run_id == run_id, EntryDelivery.status == "sent")
    ).all()
    assert sent  # the demo's data may come from an earlier seed: its size is not fixed here
    recipients = Counter(address for envelope in mailbox.envelopes for address in envelope)
    assert len(mailbox.messages) == len(sent)
    assert set(recipients.values()) == {1}, recipients


def test_with_redis_down_the_api_accepts_runs_durably_and_serves_reads(
    app, api, redis_server, work, mailbox
):
    redis_server.stop()

    started = api.post(JOB + "/runs", {})
    assert started.status_code == 200, started.get_data(as_text=True)  # accepted, as always
    run_id = started.get_json()["jobRunId"]
    status = api.get(f"{JOB}/runs/{run_id}/status")
    assert status.status_code == 200
    assert (status.get_json()["runStatus"], status.get_json()["stage"]) == (
        "pending",
        "waiting_for_queue",
    )
    for read in (JOB, JOB + "/runs", f"{JOB}/runs/{run_id}", "/api/v1/ws/demo/jobs"):
        assert api.get(read).status_code == 200, read

    redis_server.start()  # empty: the run's preparation was never queued
    assert api.get(f"{JOB}/runs/{run_id}/status").get_json()["stage"] == "waiting_for_queue"
    assert recover_stalled_work(now=later())["runs_requeued"] == 1
    assert api.get(f"{JOB}/runs/{run_id}/status").get_json()["stage"] == "queued"
    work()

    assert reload_run(run_id).status == "finished"
    assert_each_email_once(mailbox, run_id)
    delivered = len(mailbox.messages)
    work()  # nothing left over to send a second time
    assert len(mailbox.messages) == delivered


def test_with_redis_down_pages_work_and_run_now_waits_for_the_queue(
    app, api, auth, client, redis_server, work, mailbox
):
    auth.login()
    page = "/w/demo/jobs/monthly-statements"
    csrf_token = CSRF.search(client.get(page).get_data(as_text=True)).group(1)
    redis_server.stop()

    for url in ("/w/demo/jobs", page, "/w/demo/runs"):
        assert client.get(url).status_code == 200, url
    answer = client.post(page + "/runs", data={"csrf_token": csrf_token})
    assert answer.status_code == 303
    run_page = client.get(answer.headers["Location"])
    assert run_page.status_code == 200
    assert "Waiting for the queue" in run_page.get_data(as_text=True)

    redis_server.start()
    recover_stalled_work(now=later())
    work()
    run_id = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert reload_run(run_id).status == "finished"
    assert "Waiting for the queue" not in client.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    assert_each_email_once(mailbox, run_id)


def test_an_action_that_needs_the_queue_now_answers_503_with_retry_after(app, api, redis_server):
    """Building a review document cannot wait in the database: 503, and nothing is kept."""
    redis_server.stop()
    run_id = api.post(JOB + "/runs", {}).get_json()["jobRunId"]
    answer = api.post(f"{JOB}/runs/{run_id}/generate-review-document", {})
    assert answer.status_code == 503, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["details"]["retry_after"] > 0
    assert answer.headers["Retry-After"] == str(error["details"]["retry_after"])
    assert db.session.query(TemporaryFile).count() == 0
    # The OpenAPI document describes this answer: its status, header and envelope.
    ErrorEnvelope.model_validate(answer.get_json())
    path = "/api/v1/ws/{workspaceId}/jobs/{jobIdOrCode}/runs/{jobRunId}/generate-review-document"
    documented = document()["paths"][path]["post"]["responses"]["503"]
    assert set(documented["headers"]) == {"Retry-After"}
    assert documented["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }


def test_a_worker_process_waits_for_redis_and_then_does_the_work(
    app, api, redis_server, mailbox, tmp_path: Path
):
    log = tmp_path / "worker.log"
    worker = start_process(app, "workers.worker", log)
    try:
        first = api.post(JOB + "/runs", {}).get_json()["jobRunId"]
        wait_for(lambda: reload_run(first).status == "finished")
        mailbox.clear()

        redis_server.stop()
        wait_for(lambda: noticed_outage(log))
        assert worker.poll() is None
        run_id = api.post(JOB + "/runs", {}).get_json()["jobRunId"]

        redis_server.start()
        recover_stalled_work(now=later())
        wait_for(lambda: reload_run(run_id).status == "finished")
        assert worker.poll() is None
        assert_each_email_once(mailbox, run_id)
    finally:
        stop(worker)


def test_the_clock_creates_due_runs_while_redis_is_down_and_they_complete_after(
    app, redis_server, smtp_server, mailbox, tmp_path: Path
):
    """Real clock and worker processes ride over the outage; the clock's own sweep queues
    the run it created while Redis was down."""
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]
    rule = {"start": "2026-01-01T00:00", "timezone": "UTC", "trigger": "hourly"}
    job = make.mailing_job(ws, rows, scheduled=True, schedule=rule)
    # Stale at once, so the test need not wait out the default two minutes.
    env = {**worker_env(app), "HERALD_STALE_QUEUED_SECONDS": "0"}
    logs = {name: tmp_path / f"{name}.log" for name in ("clock", "worker")}
    processes = {}
    for name, log in logs.items():
        with log.open("wb") as out:
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"workers.{name}"], env=env, stdout=out, stderr=out
            )
    try:
        redis_server.stop()
        wait_for(lambda: noticed_outage(logs["worker"]))
        job.next_fire_at = utcnow()
        db.session.commit()
        wait_for(lambda: runs_of(job.id))
        (run,) = runs_of(job.id)
        assert run.status == "pending"
        wait_for(lambda: "Redis is unavailable" in logs["clock"].read_text())  # its sweep
        assert all(process.poll() is None for process in processes.values())

        redis_server.start()
        wait_for(lambda: reload_run(run.id).status == "finished")
        assert all(process.poll() is None for process in processes.values())
        assert sorted(envelope[0] for envelope in mailbox.envelopes) == [r["email"] for r in rows]
    finally:
        for process in processes.values():
            stop(process)


def runs_of(job_id: int) -> list[Run]:
    db.session.expire_all()
    return list(db.session.scalars(select(Run).filter_by(job_id=job_id)))


def test_a_delivery_retried_while_redis_is_down_goes_out_once_when_it_is_back(
    app, redis_server, smtp_server, mailbox, work
):
    """Retrying is accepted (the entry is leased for delivery in the database); when Redis is
    back and the lease has run out, the sweep queues it."""
    ws = make.workspace(smtp=smtp_server.settings)
    job = make.mailing_job(ws, [{"name": "Ada", "email": "ada@example.com"}])
    mailbox.reject_with = "550 5.1.1 No such user"
    run_id = start_run(job, None).id
    work()
    delivery = db.session.scalars(select(EntryDelivery)).one()
    assert delivery.status == "failed"
    mailbox.reject_with = None

    redis_server.stop()
    assert retry_delivery(delivery.id, None).status == "pending"

    redis_server.start()
    work()
    assert len(mailbox.messages) == 0  # nothing was queued: Redis was down
    assert recover_stalled_work(now=later())["entries_recovered"] == 1
    work()
    assert reload_run(run_id).status == "finished"
    assert [envelope for envelope in mailbox.envelopes] == [["ada@example.com"]]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_a_worker_waiting_for_redis_stops_cleanly_on_one_signal(
    app, redis_server, tmp_path: Path, stop_signal: signal.Signals
):
    log = tmp_path / "worker.log"
    worker = start_process(app, "workers.worker", log)
    try:
        working_pid(worker)  # RQ runs: the outage comes while it waits for work
        redis_server.stop()
        # RQ retrying its wait for a job, or workers.worker waiting itself; then Ctrl+C
        # or a process manager's stop, to the parent.
        wait_for(lambda: noticed_outage(log))
        worker.send_signal(stop_signal)

        assert worker.wait(60) == 0  # before: SIGINT was a traceback and status 1
        assert "Traceback" not in log.read_text()
    finally:
        redis_server.start()
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)


@pytest.mark.parametrize("max_jobs", ["1000", "0"])  # a working child; one process
def test_a_worker_whose_rq_loop_quit_on_lost_redis_stops_cleanly_on_ctrl_c(
    app, smtp_server, redis_server, tmp_path: Path, max_jobs: str
):
    log, marker = tmp_path / "worker.log", tmp_path / "paused"
    mailing_run(smtp_server)
    pause = {"HERALD_FAULT_PAUSE": "generate", "HERALD_FAULT_MARKER": str(marker)}
    worker = start_process(
        app,
        "workers.worker",
        log,
        HERALD_WORKER_MAX_JOBS=max_jobs,
        HERALD_LEASE_SECONDS=str(LEASE_SECONDS),
        **pause,
    )
    try:
        wait_for(marker.exists)
        redis_server.stop()
        marker.unlink()  # the job ends without Redis: RQ's bookkeeping fails, its loop quits
        wait_for(lambda: "Redis is unavailable" in log.read_text())  # workers.worker waits
        before = len(log.read_text())  # RQ logged the error that made it quit, traceback too
        worker.send_signal(signal.SIGINT)

        assert worker.wait(60) == 0  # before: a KeyboardInterrupt traceback and status 1
        assert "Traceback" not in log.read_text()[before:]
    finally:
        redis_server.start()
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
