"""Metrics across hosts (issue 16, point 2): a worker-only host's counts reach Prometheus through
its exporter (`python -m workers.metrics`), and gunicorn's child_exit hook (gunicorn.conf.py)
drops a killed web worker's live gauge. Every process here is real: an RQ worker rendering and
sending, the exporter serving HTTP, gunicorn with two workers; the samples are read with
prometheus_client's own parser."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.runs.create import start_run
from herald_procs.liveness import alive as process_alive
from herald_procs.liveness import pids_in
from tests import factories as make
from tests.helpers import reload_run, start_worker, working_pid
from tests.helpers import wait_for as _wait_for
from tests.served import gunicorn
from workers.metrics import clear_if_unused

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "scrape-the-worker-host"
ROWS = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]
wait_for = partial(_wait_for, timeout=120)  # real processes import the app first


def scrape(url: str, token: str | None = TOKEN) -> dict[tuple[str, frozenset], float]:
    """Every sample of `url` as {(name, labels): value}; an HTTP error is raised."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=")
        text = r.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def status_of(url: str, token: str | None) -> int:
    try:
        scrape(url, token)
    except urllib.error.HTTPError as exc:
        assert exc.headers["WWW-Authenticate"] == "Bearer"
        return exc.code
    return 200


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "metrics"
    directory.mkdir()
    return directory


@pytest.fixture
def exporter(metrics_dir: Path) -> Iterator[str]:
    """The worker host's exporter on a port the OS picks; yields its /metrics URL."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env["HERALD_METRICS_TOKEN"] = TOKEN
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.metrics", "--bind", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # "workers.metrics: serving http://127.0.0.1:N/metrics", after what it did at start
        line = process.stdout.readline()
        while line and "serving http://" not in line:
            line = process.stdout.readline()
        assert "serving http://" in line, "the exporter exited before serving"
        yield line.split("serving ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(20)
        process.stdout.close()


def test_the_exporter_serves_what_a_worker_on_its_host_counted(
    app, smtp_server, metrics_dir, exporter
):
    assert status_of(exporter, None) == 401
    assert status_of(exporter, "not-the-token") == 401
    assert value(scrape(exporter), "herald_render_seconds_count") == 0

    ws = make.workspace(smtp=smtp_server.settings)
    job = make.mailing_job(ws, [*ROWS, {"name": "Dee", "email": ""}])  # Dee: no recipient
    run_id = start_run(job, None).id
    # A worker-only host: the worker writes to this host's directory, no web process reads it.
    worker = start_worker(app, cwd=ROOT, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    try:
        wait_for(lambda: reload_run(run_id).status == "finished")
        samples = scrape(exporter)
        assert value(samples, "herald_processes", role="worker") == 1
        counted = working_pid(worker)  # the child doing the jobs counts, not its parent
    finally:
        worker.send_signal(signal.SIGKILL)  # killed, not stopped: no chance to tidy up
        worker.wait(20)
    wait_for(lambda: not process_alive(counted))  # the child dies with its parent

    samples = scrape(exporter)
    assert value(samples, "herald_render_seconds_count") == 4
    assert value(samples, "herald_render_seconds_bucket", le="+Inf") == 4
    assert value(samples, "herald_entries_total", status="Completed") == 3
    assert value(samples, "herald_entries_total", status="DeliveryFailed") == 1
    assert value(samples, "herald_delivery_attempts_total", channel="email", outcome="sent") == 3
    assert value(samples, "herald_delivery_attempts_total", channel="email", outcome="failed") == 1
    assert value(samples, "herald_runs_total", trigger="manual", outcome="completed_with_errors")
    # The killed worker no longer counts as alive; its counts stay.
    assert value(samples, "herald_processes", role="worker") == 0
    assert counted in pids_in(metrics_dir)
    assert not list(metrics_dir.glob(f"gauge_live*_{counted}.db"))


def _counting_process(metrics_dir: Path, *, stay: bool) -> subprocess.Popen:
    """A real process counting one completed entry into `metrics_dir`; alive on if `stay`."""
    code = (
        "from app import metrics\n"
        "metrics.entries_final('Completed', 1)\n"
        "print('counted', flush=True)\n" + ("import time; time.sleep(600)\n" if stay else "")
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        stdout=subprocess.PIPE,
        text=True,
    )


def test_the_directory_is_emptied_at_start_only_when_no_writer_is_alive(metrics_dir):
    finished = _counting_process(metrics_dir, stay=False)
    assert finished.stdout.readline() == "counted\n"
    finished.wait(30)
    finished.stdout.close()
    running = _counting_process(metrics_dir, stay=True)
    try:
        assert running.stdout.readline() == "counted\n"
        assert pids_in(metrics_dir) == {finished.pid, running.pid}
        # One writer alive: nothing goes, the finished one's counts included.
        assert clear_if_unused(metrics_dir) is False
        assert pids_in(metrics_dir) == {finished.pid, running.pid}
    finally:
        running.terminate()
        running.wait(30)
        running.stdout.close()
    assert clear_if_unused(metrics_dir) is True
    assert list(metrics_dir.glob("*.db")) == []


def test_gunicorn_child_exit_drops_a_killed_web_workers_live_gauge(app, metrics_dir):
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "HERALD_METRICS_TOKEN": TOKEN}
    # A stale file of a process gone before this start: on_starting empties the directory.
    (metrics_dir / "counter_999999999.db").write_bytes(b"")
    with gunicorn(app, workers=2, threads=1, env=env) as url:
        assert not (metrics_dir / "counter_999999999.db").exists()

        def live_pids() -> set[int]:
            return {int(p.stem.rsplit("_", 1)[1]) for p in metrics_dir.glob("gauge_livesum_*.db")}

        wait_for(lambda: len(live_pids()) == 2)
        assert value(scrape(url + "/metrics"), "herald_processes", role="web") == 2
        killed = min(live_pids())
        os.kill(killed, signal.SIGKILL)
        # The master's child_exit marks it dead; a new worker takes its place.
        wait_for(lambda: killed not in live_pids() and len(live_pids()) == 2)
        assert value(scrape(url + "/metrics"), "herald_processes", role="web") == 2
