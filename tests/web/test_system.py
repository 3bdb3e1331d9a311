"""The system page, /healthz and /readyz against real components: a real worker process
registered in RQ, the real clock writing its tick, and the real Redis stopped."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from rq import SimpleWorker

from app.extensions import QUEUE_NAMES, queues
from app.runs.create import start_run
from app.runs.health import CLOCK_TICK_KEY, live_workers
from tests import factories as make
from tests.helpers import (
    FEW_CUSTOMERS,
    drain,
    job,
    start_process,
    start_worker,
    wait_for,
    working_pid,
)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
        process.wait(20)


def test_healthz_answers_without_login_database_or_redis(client, redis_server):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    redis_server.stop()
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_is_503_while_redis_is_down(client, redis_server):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": True, "redis": True}
    redis_server.stop()
    down = client.get("/readyz")
    assert down.status_code == 503
    checks = {"database": True, "redis": False}
    assert down.get_json() == {"status": "unavailable", "checks": checks}


def test_the_system_page_is_for_admins(client, auth, demo):
    assert client.get("/system").status_code == 302  # to the login page
    auth.login("viewer@herald.local")
    page = client.get("/system")
    assert page.status_code == 403
    assert 'href="/system"' not in client.get("/w/demo/jobs").get_data(as_text=True)
    auth.post("/logout", page="/w/demo/jobs")
    auth.login()
    assert 'href="/system"' in client.get("/w/demo/jobs").get_data(as_text=True)
    page = client.get("/system")
    assert page.status_code == 200
    assert '<tr data-queue="generate">' in page.get_data(as_text=True)


def test_the_system_page_lists_a_real_worker_and_the_real_clock(app, client, auth, demo, processes):
    auth.login()
    page = client.get("/system").get_data(as_text=True)
    assert "No worker is running" in page
    assert 'data-clock-lag="none"' in page

    worker = start_worker(app)
    processes.append(worker)
    clock = start_process(app, "workers.clock")
    processes.append(clock)
    pid = working_pid(worker)  # the child the worker process forks to do the jobs
    wait_for(lambda: f"<td data-pid>{pid}</td>" in client.get("/system").get_data(True))
    wait_for(lambda: queues.connection.exists(CLOCK_TICK_KEY))

    page = client.get("/system").get_data(as_text=True)
    assert "No worker is running" not in page
    row = re.search(r'<tr data-worker="[^"]+">(.*?)</tr>', page, re.S)[1]
    assert f"<td data-pid>{pid}</td>" in row
    assert "deliver, generate" in row
    # A worker killed without a goodbye leaves the page when its record expires: within two
    # minutes (workers/worker.py WORKER_TTL_SECONDS), not RQ's eight.
    (registered,) = live_workers()
    assert 0 < queues.connection.ttl(registered.key) <= 120
    assert f"(pid {clock.pid})" in page
    lag = float(re.search(r'data-clock-lag="([0-9.]+)"', page)[1])
    assert lag >= 0
    # A fragment for the page's own refresh.
    fragment = client.get("/system", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="system-facts"' in fragment


def test_queue_depth_oldest_age_and_failed_jobs(app, client, auth, demo):
    auth.login()
    ws = make.workspace(smtp=None)
    mailing = make.mailing_job(ws, [{"name": "A", "email": "a@example.com"}])
    for _ in range(2):
        start_run(mailing, None)
    queues.queue("deliver").enqueue("tests.no_such_module.job")  # fails when a worker runs it
    page = client.get("/system").get_data(as_text=True)
    generate = re.search(r'<tr data-queue="generate">(.*?)</tr>', page, re.S)[1]
    assert "<td data-depth>2</td>" in generate
    assert re.search(r"<td>\d+ s</td>", generate), generate

    worker = SimpleWorker([queues.queue("deliver")], connection=queues.connection)
    worker.work(burst=True, logging_level="ERROR")
    page = client.get("/system").get_data(as_text=True)
    deliver = re.search(r'<tr data-queue="deliver">(.*?)</tr>', page, re.S)[1]
    assert "<td data-depth>0</td>" in deliver and "<td data-failed>1</td>" in deliver
    assert "<td>—</td>" in deliver  # nothing waiting, no age


def test_redis_down_the_page_says_so_and_still_answers(client, auth, demo, redis_server):
    auth.login()
    redis_server.stop()
    response = client.get("/system")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Redis unreachable" in page
    assert '<li data-check="database">Database: <span class="badge status-finished">answers' in page


@pytest.mark.customers(FEW_CUSTOMERS)
def test_a_run_page_says_plainly_when_no_worker_is_alive(app, client, auth, demo):
    auth.login()
    run_id = start_run(job(demo), None, params={"period": "2026-10-01"}).id
    url = f"/w/demo/runs/{run_id}"
    assert "No worker is running" in client.get(url).get_data(as_text=True)

    # A real RQ worker's registry record: the same one a worker process writes when it starts.
    worker = SimpleWorker([queues.queue(n) for n in QUEUE_NAMES], connection=queues.connection)
    worker.register_birth()
    try:
        assert "No worker is running" not in client.get(url).get_data(as_text=True)
    finally:
        worker.register_death()
    assert "No worker is running" in client.get(url).get_data(as_text=True)

    drain(app)  # the run finishes: nothing is queued, so nothing to warn about
    assert "No worker is running" not in client.get(url).get_data(as_text=True)
