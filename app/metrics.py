"""Herald's Prometheus metrics: what happened, counted in whichever process it happened in.

With PROMETHEUS_MULTIPROC_DIR set (before this module is first imported) prometheus-client
keeps each process's counts in files there, so /metrics adds up every gunicorn worker, RQ
worker and clock; without it they live in this process only. What is true at the moment of
a scrape (queue depth, clock lag) is not counted here but read then (app/runs/exposition.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

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
# by whoever serves the host's directory: /metrics (forget_dead_processes below) and the
# worker host's exporter (workers/metrics.py) — so a SIGKILLed worker or clock stops counting.
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


# prometheus-client's live gauge files (multiprocess mode "liveall", "livesum", "livemax",
# "livemin", "livemostrecent"): `gauge_<mode>_<pid>.db`. Counters' files are never matched.
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def _alive(pid: int) -> bool:
    """Whether process `pid` runs on this host. A zombie (ended, not yet reaped: e.g. a killed
    worker's child whose new parent, a container's init, does not reap) is not running."""
    try:
        os.kill(pid, 0)  # signal 0: checks the pid exists, sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # no procfs (not Linux), or it ended meanwhile
        return True
    return state != "Z"


def forget_dead_processes(directory: str | Path) -> list[int]:
    """Remove from `directory` (this host's PROMETHEUS_MULTIPROC_DIR) the live gauge files of
    processes no longer running on this host — killed ones too, which never ran an exit hook
    — so herald_processes stops counting them; counter and histogram files stay (counts
    outlive their process). Returns the pids dropped, sorted.

    What prometheus_client's mark_process_dead does, for pids found dead here, and safe
    under concurrent scrapes (a file another scrape removed first is no error). The pid is
    checked on this host: the directory must be this host's (docs/DEPLOY.md). The worker
    host's exporter does the same (workers/metrics.py; it cannot import app, whose import
    would make the exporter itself a writer there)."""
    dropped: set[int] = set()
    for path in Path(directory).glob("gauge_live*_*.db"):
        found = _LIVE_GAUGE_FILE.fullmatch(path.name)
        if found and not _alive(pid := int(found.group(1))):
            path.unlink(missing_ok=True)
            dropped.add(pid)
    return sorted(dropped)
