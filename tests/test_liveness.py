"""herald_procs.liveness with real processes: which of this host's processes still run, and
which dead ones a metrics directory forgets (the one check both /metrics and the worker host's
exporter use)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald_procs.liveness import alive, forget_dead_processes, pids_in


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    """A real child process that waits until it is killed."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield child
    child.kill()
    child.wait()


def _become_zombie(child: subprocess.Popen) -> None:
    """Kill `child` and wait until it has ended without reaping it (it stays a zombie)."""
    child.send_signal(signal.SIGKILL)
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)


def test_a_running_process_is_alive(sleeper):
    assert alive(sleeper.pid)
    assert alive(os.getpid())


def test_an_ended_and_reaped_process_is_not_alive(sleeper):
    sleeper.kill()
    sleeper.wait()
    assert not alive(sleeper.pid)


def test_a_zombie_is_not_alive_though_its_pid_still_exists(sleeper):
    _become_zombie(sleeper)
    os.kill(sleeper.pid, 0)  # the pid still exists: only its state says it ended
    assert Path(f"/proc/{sleeper.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    assert not alive(sleeper.pid)


def test_the_live_gauges_of_dead_and_zombie_processes_are_forgotten_counters_kept(
    tmp_path, sleeper
):
    reaped = subprocess.Popen([sys.executable, "-c", "pass"])
    reaped.wait()
    zombie = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    _become_zombie(zombie)
    try:
        for pid in (sleeper.pid, reaped.pid, zombie.pid):
            (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
            (tmp_path / f"counter_{pid}.db").write_bytes(b"")
        assert pids_in(tmp_path) == {sleeper.pid, reaped.pid, zombie.pid}

        assert forget_dead_processes(tmp_path) == sorted([reaped.pid, zombie.pid])

        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [f"counter_{pid}.db" for pid in (sleeper.pid, reaped.pid, zombie.pid)]
            + [f"gauge_livesum_{sleeper.pid}.db"]
        )
        # Done again (a concurrent scrape), nothing fails and the running process stays.
        assert forget_dead_processes(tmp_path) == sorted([reaped.pid, zombie.pid])
        assert (tmp_path / f"gauge_livesum_{sleeper.pid}.db").exists()
    finally:
        zombie.wait()
