"""A worker or clock started with a setting it cannot use stops at once with one line naming
the setting and what it should hold: no traceback, no work taken, and no setting read as
something else (a negative job count quietly meaning "never recycle").

Real processes on the test's database and Redis, the queues empty (`--burst`, `--once`).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import free_port, worker_env
from tests.served import ROOT

# A guard against a hang, not a measurement: a process that starts at all ends in ~2 s.
HANG_GUARD_SECONDS = 120


def start(app, module: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**worker_env(app), **env},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("abc", "HERALD_WORKER_MAX_JOBS must be a whole number, not 'abc'"),
        ("1.5", "HERALD_WORKER_MAX_JOBS must be a whole number, not '1.5'"),
        ("-3", "HERALD_WORKER_MAX_JOBS must be 0 or more, not -3"),
    ],
)
def test_a_worker_refuses_a_max_jobs_setting_it_cannot_use(app, value: str, said: str):
    ended = start(app, "workers.worker", "--burst", HERALD_WORKER_MAX_JOBS=value)

    assert (ended.returncode, ended.stderr) == (1, f"herald worker: {said}\n")


@pytest.mark.parametrize("value", ["-2", "many"])
def test_a_worker_refuses_a_max_jobs_option_it_cannot_use(app, value: str):
    ended = start(app, "workers.worker", "--burst", "--max-jobs", value)

    assert ended.returncode == 2  # argparse's usage error
    said = f"argument --max-jobs: must be a whole number of 0 or more, not '{value}'"
    assert ended.stderr.splitlines()[-1].endswith(said)


def test_a_huge_max_jobs_is_a_worker_that_does_not_recycle(app):
    ended = start(app, "workers.worker", "--burst", HERALD_WORKER_MAX_JOBS=str(10**30))

    assert (ended.returncode, ended.stderr) == (0, "")


def test_the_clock_refuses_a_size_setting_it_cannot_use(app):
    ended = start(app, "workers.clock", "--once", HERALD_MAX_DATA_BYTES="lots")

    said = "HERALD_MAX_DATA_BYTES must be a size of 1 byte or more, such as 16MB, 512KB or 1000"
    assert (ended.returncode, ended.stderr) == (1, f"herald clock: {said}, not 'lots'\n")


def test_gunicorn_refuses_a_size_setting_it_cannot_use_with_one_line(app):
    # One web worker: with several, gunicorn 27's master may reap a second failed worker while
    # it halts and print its own HaltServer traceback (a gunicorn race, whatever the status).
    ended = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
        + ["--bind", f"127.0.0.1:{free_port()}", "--workers", "1"],
        cwd=ROOT,
        env={**worker_env(app), "HERALD_MAX_REQUEST_BYTES": "abc"},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,  # before: a traceback per worker, then exit status 3
    )

    said = "HERALD_MAX_REQUEST_BYTES must be a size of 1 byte or more, such as 16MB, 512KB or 1000"
    assert ended.returncode == 4  # gunicorn's "App failed to load": its master stopped
    assert "Traceback" not in ended.stderr
    assert f"herald web: {said}, not 'abc'\n" in ended.stderr
