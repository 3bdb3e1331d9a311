"""/metrics scraped after real runs: this process's counters, and (multiprocess mode) the sum
over real worker processes and the real clock, parsed with prometheus_client's own parser."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from functools import partial

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.extensions import db
from app.models import Job
from app.runs.create import cancel_run, start_run
from herald_procs.liveness import alive as process_alive
from tests import factories as make
from tests.helpers import entries_of, output_of, reload_run, start_process, working_pid
from tests.helpers import wait_for as _wait_for

ROWS = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]
TOKEN = "scrape-me"


# Two worker processes and the clock start first: they get longer.
wait_for = partial(_wait_for, timeout=120)


@pytest.fixture
def metrics_on(app) -> Iterator[None]:
    saved = {k: app.config.get(k) for k in ("METRICS_TOKEN", "METRICS_DIR")}
    app.config.update(METRICS_TOKEN=TOKEN, METRICS_DIR=None)
    yield
    app.config.update(saved)


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample as {(name, labels): value}."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_answer_only_the_configured_token(app, client, metrics_on):
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-you"})
    assert (wrong.status_code, wrong.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert value(scrape(client), "herald_redis_up") == 1.0


def test_a_run_in_this_process_is_counted(app, client, work, smtp_server, metrics_on):
    before = scrape(client)
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, ROWS), None, trigger="api").id
    work()
    assert reload_run(run_id).status == "finished"
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("herald_runs_total", trigger="api", outcome="completed") == 1
    assert grew("herald_entries_total", status="Completed") == 3
    assert grew("herald_delivery_attempts_total", channel="email", outcome="sent") == 3
    assert grew("herald_render_seconds_count") == 3
    assert grew("herald_render_seconds_bucket", le="+Inf") == 3
    assert value(after, "herald_queue_depth", queue="generate") == 0
    assert value(after, "herald_database_up") == 1


def test_a_finished_run_cancelled_with_entries_held_for_review_counts_once(
    app, client, work, smtp_server, metrics_on
):
    before = scrape(client)
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, ROWS, hold_for_review=True), None).id
    work()
    assert reload_run(run_id).status == "finished"  # every entry waits for review
    cancel_run(reload_run(run_id), None)
    after = scrape(client)

    def grew(outcome: str) -> float:
        labels = {"trigger": "manual", "outcome": outcome}
        return value(after, "herald_runs_total", **labels) - value(
            before, "herald_runs_total", **labels
        )

    assert (grew("pending_review"), grew("cancelled")) == (1, 0)  # it ended once, not twice
    assert db.session.get(Job, reload_run(run_id).job_id).last_run_status == "cancelled"


def test_real_workers_and_the_clock_are_counted_together(
    app, client, smtp_server, metrics_on, tmp_path
):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    app.config["METRICS_DIR"] = str(metrics_dir)
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    ws = make.workspace(smtp=smtp_server.settings)
    # One row without an address: its delivery fails ("no recipient").
    job = make.mailing_job(ws, [*ROWS, {"name": "Dee", "email": ""}])
    run_ids = [start_run(job, None).id, start_run(job, None).id]
    queued = scrape(client)
    assert value(queued, "herald_queue_depth", queue="generate") == 2
    assert value(queued, "herald_queue_oldest_age_seconds", queue="generate") >= 0
    assert value(queued, "herald_workers") == 0

    modules = {"worker-1": "workers.worker", "worker-2": "workers.worker", "clock": "workers.clock"}
    logs = [tmp_path / f"{name}.log" for name in modules]
    processes = [
        start_process(app, module, log, **env)
        for module, log in zip(modules.values(), logs, strict=True)
    ]
    explain = output_of(*logs)
    try:
        wait_for(lambda: all(reload_run(r).status == "finished" for r in run_ids), explain=explain)
        wait_for(
            lambda: ("herald_clock_lag_seconds", frozenset()) in scrape(client), explain=explain
        )
        samples = scrape(client)
        assert value(samples, "herald_workers") == 2
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)

    samples = scrape(client)  # the counts outlive the processes that made them
    assert (
        value(samples, "herald_runs_total", trigger="manual", outcome="completed_with_errors") == 2
    )
    assert value(samples, "herald_entries_total", status="Completed") == 6
    assert value(samples, "herald_entries_total", status="DeliveryFailed") == 2
    assert value(samples, "herald_delivery_attempts_total", channel="email", outcome="sent") == 6
    assert value(samples, "herald_delivery_attempts_total", channel="email", outcome="failed") == 2
    assert value(samples, "herald_render_seconds_count") == 8
    assert value(samples, "herald_queue_depth", queue="generate") == 0


def test_a_killed_worker_stops_counting_as_alive_and_its_counts_stay(
    app, client, smtp_server, metrics_on, tmp_path
):
    """A SIGKILLed RQ worker (host lost, OOM killer) runs no exit hook; /metrics drops its
    live gauge file when it scrapes, because its pid is gone from this host."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    app.config["METRICS_DIR"] = str(metrics_dir)
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, ROWS), None).id
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    workers = [start_process(app, "workers.worker", log, **env) for log in logs]

    def explain() -> str:
        entries = [(e.id, e.status) for e in entries_of(run_id)]
        return f"run {reload_run(run_id).status}, entries {entries}\n{output_of(*logs)()}"

    try:
        wait_for(lambda: reload_run(run_id).status == "finished", explain=explain)
        wait_for(
            lambda: value(scrape(client), "herald_processes", role="worker") == 2, explain=explain
        )
        killed, kept = (working_pid(w) for w in workers)  # the processes that count
        workers[0].send_signal(signal.SIGKILL)  # no chance to tidy up; its child dies with it
        workers[0].wait(20)
        wait_for(lambda: not process_alive(killed))
        assert list(metrics_dir.glob(f"gauge_livesum_{killed}.db"))  # left behind

        samples = scrape(client)
        assert value(samples, "herald_processes", role="worker") == 1  # the one still alive
        assert not list(metrics_dir.glob(f"gauge_live*_{killed}.db"))
        assert list(metrics_dir.glob(f"gauge_livesum_{kept}.db"))
        # Counts outlive their process, whichever of the two did the work.
        assert value(samples, "herald_entries_total", status="Completed") == 3
        assert value(samples, "herald_render_seconds_count") == 3
        assert value(samples, "herald_runs_total", trigger="manual", outcome="completed") == 1
    finally:
        for process in workers:
            process.kill()
        for process in workers:
            process.wait(20)
