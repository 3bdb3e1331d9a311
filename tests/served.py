"""A real Herald web server in other processes (gunicorn), sharing the test's database and Redis."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from tests.helpers import free_port, worker_env

ROOT = Path(__file__).resolve().parents[1]
STARTUP_POLLS = 600  # × 0.1 s: a bound on waiting for the workers to import the app


@contextmanager
def gunicorn(
    app: Flask, *, workers: int = 3, threads: int = 4, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Serve `wsgi:app` with `workers` processes × `threads` threads; yield its base URL."""
    port = free_port()
    log = open(Path(app.instance_path) / f"gunicorn-{port}.log", "w+b")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "wsgi:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**worker_env(app), "HERALD_API_RATE_LIMIT": "100000 per minute", **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def _wait_until_serving(url: str, process: subprocess.Popen, log: Any) -> None:
    for _ in range(STARTUP_POLLS):
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited: {log.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=5):
                return
        except OSError:  # refused while binding, or timed out while workers import the app
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start serving")
