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
    (the test waits for it), then sleep `HERALD_FAULT_PAUSE_SECONDS` (default: an hour)."""
    if os.environ.get("HERALD_FAULT_PAUSE") != name:
        return
    if marker := os.environ.get("HERALD_FAULT_MARKER"):
        Path(marker).write_text(name)
    time.sleep(float(os.environ.get("HERALD_FAULT_PAUSE_SECONDS") or 3600))
