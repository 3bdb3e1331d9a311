"""Whether a process of this host still runs, and which processes wrote a metrics directory."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from prometheus_client import multiprocess

# prometheus-client's multiprocess files: counter_1234.db, gauge_livesum_1234.db, ...
_FILE_PID = re.compile(r"_(\d+)\.db$")


def alive(pid: int) -> bool:
    """Whether process `pid` runs on this host. A zombie (ended, not yet reaped: e.g. a killed
    worker's child whose new parent, a container's init, does not reap) is not running; another
    user's process is. Without procfs (not Linux) an existing pid counts as running."""
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


def pids_in(directory: Path) -> set[int]:
    """Process ids named by the multiprocess files in `directory` (`<kind>_<pid>.db`)."""
    return {int(m.group(1)) for p in directory.glob("*.db") if (m := _FILE_PID.search(p.name))}


def forget_dead_processes(directory: str | Path) -> list[int]:
    """Remove from `directory` (this host's PROMETHEUS_MULTIPROC_DIR) the live gauge files
    (`gauge_live*_<pid>.db`: herald_processes) of processes no longer running on this host —
    killed ones too, which never ran an exit hook; counter and histogram files stay (counts
    outlive their process). Returns the pids found dead, sorted.

    The pid is checked on this host: the directory must be this host's (docs/DEPLOY.md). Safe
    under concurrent scrapes: a file another scrape removed first is no error."""
    dead = sorted(pid for pid in pids_in(Path(directory)) if not alive(pid))
    for pid in dead:
        with contextlib.suppress(FileNotFoundError):
            multiprocess.mark_process_dead(pid, str(directory))
    return dead
