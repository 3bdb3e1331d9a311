"""Fixtures of the fault-injection tests: short leases and real worker processes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from tests.faults.rig import LEASE_SECONDS
from tests.helpers import start_process


@pytest.fixture
def short_leases(app: Flask) -> Iterator[None]:
    """Leases of LEASE_SECONDS (2 s) in this process's sweeps, as in the workers started."""
    saved = {k: app.config[k] for k in ("LEASE_SECONDS", "STALE_QUEUED_SECONDS")}
    app.config.update(LEASE_SECONDS=LEASE_SECONDS, STALE_QUEUED_SECONDS=LEASE_SECONDS)
    yield
    app.config.update(saved)


@pytest.fixture
def workers(app: Flask, short_leases: None) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real worker processes (extra environment as keyword arguments, `log=` a path for
    their output); every one still running is killed after the test."""
    started: list[subprocess.Popen] = []

    def start(log=None, **env: str) -> subprocess.Popen:
        process = start_process(
            app,
            "workers.worker",
            log,
            HERALD_LEASE_SECONDS=str(LEASE_SECONDS),
            HERALD_HEARTBEAT_SECONDS="0.2",
            **env,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)
