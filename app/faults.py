"""Pause points for the fault-injection tests (tests/faults/): a worker stops at a named point
so a test can kill it exactly there.

Inert unless `HERALD_FAULT_PAUSE` names the point; nothing in production sets it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def pause_point(name: str) -> None:
    """When `HERALD_FAULT_PAUSE` equals `name`: write `name` to the file `HERALD_FAULT_MARKER`
    (the test waits for it), then sleep `HERALD_FAULT_PAUSE_SECONDS` (default: an hour), or
    until the test deletes the marker (it resumes the worker after acting in the pause)."""
    if os.environ.get("HERALD_FAULT_PAUSE") != name:
        return
    marker = os.environ.get("HERALD_FAULT_MARKER")
    if marker:
        Path(marker).write_text(name)
    until = time.monotonic() + float(os.environ.get("HERALD_FAULT_PAUSE_SECONDS") or 3600)
    while time.monotonic() < until:
        if marker and not Path(marker).exists():
            return
        time.sleep(0.05)
