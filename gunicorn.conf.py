"""Gunicorn settings for Herald's web role (`gunicorn -c gunicorn.conf.py wsgi:app`; gunicorn
also reads this file by itself when started from this directory).

With PROMETHEUS_MULTIPROC_DIR set, prometheus-client's multiprocess mode needs two things of
the server that forks the processes writing there (its docs, "Multiprocess Mode"):
- `child_exit`: when a web worker exits or is killed, `mark_process_dead(pid)` deletes its live
  gauge (herald_processes), so /metrics stops counting a process that is gone;
- an empty directory at start: `on_starting` empties it when no process that wrote there is
  alive (workers/metrics.py, `clear_if_unused`); a directory that live workers of this host
  share is left as it is.
Everything else (bind, workers) comes from the command line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

from workers.metrics import clear_if_unused


def _metrics_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def on_starting(server: Any) -> None:
    """Before the first worker forks: empty the metrics directory if no process uses it."""
    directory = _metrics_dir()
    if directory and Path(directory).is_dir() and clear_if_unused(Path(directory)):
        server.log.info("emptied PROMETHEUS_MULTIPROC_DIR %s", directory)


def post_worker_init(worker: Any) -> None:
    """A web worker has loaded the app: count it in herald_processes{role="web"}."""
    from app import metrics  # the app is loaded by now; importing it here costs nothing

    metrics.process_started("web")


def child_exit(server: Any, worker: Any) -> None:
    """A web worker exited (or was killed): drop its live gauges from the multiprocess files."""
    directory = _metrics_dir()
    if directory:
        multiprocess.mark_process_dead(worker.pid, directory)
