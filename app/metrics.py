"""Herald's Prometheus metrics: what happened, counted in whichever process it happened in.

With PROMETHEUS_MULTIPROC_DIR set (before this module is first imported) prometheus-client
keeps each process's counts in files there, so /metrics adds up every gunicorn worker, RQ
worker and clock; without it they live in this process only. What is true at the moment of
a scrape (queue depth, clock lag) is not counted here but read then (app/runs/exposition.py).
"""

from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram

RUNS = Counter(
    "herald_runs",
    "Runs that ended (finished, failed or cancelled), by trigger and outcome",
    ["trigger", "outcome"],
)
ENTRIES = Counter(
    "herald_entries",
    "Entries that reached a final status (a re-delivered entry counts again)",
    ["status"],
)
# One entry's reports, all of them; WeasyPrint's one-page statement takes ~77 ms warm.
RENDER_SECONDS = Histogram(
    "herald_render_seconds",
    "Seconds to render all reports of one entry",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
DELIVERY_ATTEMPTS = Counter(
    "herald_delivery_attempts",
    "Delivery attempts by channel and outcome (sent, retry, failed, partial, uncertain)",
    ["channel", "outcome"],
)


def run_ended(trigger: str, outcome: str) -> None:
    """Count a run that ended; `outcome` as app.runs.outcome.run_outcome words it."""
    RUNS.labels(trigger=trigger, outcome=outcome).inc()


def entries_final(status: str, count: int) -> None:
    """Count `count` entries that reached the final `status`."""
    if count:
        ENTRIES.labels(status=status).inc(count)


def delivery_attempted(channel: str, outcome: str) -> None:
    """Count one delivery attempt on `channel` (email, webhook, ...) and how it ended."""
    DELIVERY_ATTEMPTS.labels(channel=channel, outcome=outcome).inc()


# Set to 1 by each process as it starts; "livesum" adds up the processes alive now. A dead
# process's file is dropped by gunicorn.conf.py's child_exit (web workers), and at each scrape
# by whoever serves the host's directory: /metrics and the worker host's exporter (both with
# herald_procs.liveness.forget_dead_processes) — so a SIGKILLed worker or clock stops counting.
PROCESSES = Gauge(
    "herald_processes",
    "Herald processes alive on this host, by role (web, worker, clock)",
    ["role"],
    multiprocess_mode="livesum",
)


def process_started(role: str) -> None:
    """Count this process as alive in `role` ("web", "worker" or "clock") until it exits."""
    PROCESSES.labels(role=role).set(1)


def process_ended(pid: int) -> None:
    """Stop counting the ended process `pid` in herald_processes, as gunicorn's child_exit does
    for web processes (prometheus-client's mark_process_dead); a no-op without
    PROMETHEUS_MULTIPROC_DIR. For a supervisor whose child ended (workers/recycle.py)."""
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)
