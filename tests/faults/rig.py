"""Helpers shared by the fault-injection tests: waiting, killing, sweeping, counting mail.

Every wait polls with a generous timeout; nothing asserts on elapsed time.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from functools import partial
from typing import Any

from app.runs.create import start_run
from app.runs.recovery import recover_stalled_work
from tests import factories as make
from tests.helpers import entries_of, reload_run
from tests.helpers import wait_for as _wait_for

LEASE_SECONDS = 2
ROWS = [
    {"name": "Ada", "email": "ada@example.com"},
    {"name": "Bob", "email": "bob@example.com"},
]


# Fault tests wait longer: they kill and restart processes.
wait_for = partial(_wait_for, timeout=120)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL: no cleanup, as with the OOM killer or a lost machine."""
    process.kill()
    process.wait(10)


def stop(process: subprocess.Popen) -> None:
    """Stop a worker or clock the way `./dev run` does; it must obey SIGTERM."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise


def finish_with_recovery(run_id: int) -> None:
    """Sweep as the clock does until the run is finished."""

    def finished() -> bool:
        recover_stalled_work()
        return reload_run(run_id).status == "finished"

    wait_for(finished)


def assert_each_sent_once(run_id: int, mailbox: Any, rows: list[dict] = ROWS) -> None:
    """Every entry Completed, and the SMTP server received exactly one message per row."""
    assert [e.status for e in entries_of(run_id)] == ["Completed"] * len(rows)
    assert sorted(env[0] for env in mailbox.envelopes) == sorted(r["email"] for r in rows)


def assert_no_duplicates(mailbox: Any) -> None:
    """No recipient received a message twice."""
    recipients = Counter(address for envelope in mailbox.envelopes for address in envelope)
    assert set(recipients.values()) <= {1}, recipients


def mailing_run(smtp_server: Any, rows: list[dict] = ROWS) -> int:
    """Start a run of a job mailing one PDF to each row; return its id."""
    ws = make.workspace(smtp=smtp_server.settings)
    return start_run(make.mailing_job(ws, rows), None).id


def run_waiting_for_delivery(smtp_server: Any, rows: list[dict] = ROWS) -> int:
    """A run of a job mailing one PDF to each row, generated here and approved, so each entry's
    delivery job waits in the `deliver` queue for a worker (a job going straight to delivery
    is delivered by the job that generated it); return the run's id."""
    from rq import SimpleWorker

    from app.extensions import queues
    from app.review.decisions import approve_entries

    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(make.mailing_job(ws, rows, hold_for_review=True), None).id
    SimpleWorker([queues.queue("generate")], connection=queues.connection).work(
        burst=True, logging_level="WARNING"
    )
    reviewer = make.user("reviewer@example.com", ws)
    approve_entries(ws, reviewer, [e.id for e in entries_of(run_id)])
    return run_id
