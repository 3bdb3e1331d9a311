"""Worker recycling (workers/recycle.py): a fresh process after HERALD_WORKER_MAX_JOBS jobs, one
signal to the parent stops both, and no child outlives its parent or is left unreplaced.

Real worker processes on the test's Redis, database and SMTP server; every wait polls.
"""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.runs.health import live_workers
from herald_procs.liveness import alive
from tests.faults.rig import (
    ROWS,
    assert_each_sent_once,
    finish_with_recovery,
    mailing_run,
    wait_for,
)
from tests.helpers import entries_of, reload_run, working_pid

FIVE = [*ROWS, *({"name": f"R{n}", "email": f"r{n}@example.com"} for n in range(3))]


def child_pid(parent: int) -> int:
    """The pid of the working child of the worker process `parent`, once it registered in RQ."""
    found: list[int] = []

    def registered() -> bool:
        found[:] = [w.pid for w in live_workers() if w.pid != parent and alive(w.pid)]
        return len(found) == 1

    wait_for(registered)
    return found[0]


def test_a_worker_hands_over_to_a_fresh_process_after_max_jobs_and_loses_nothing(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    log = tmp_path / "worker.log"
    run_id = mailing_run(smtp_server, FIVE)
    # Five entries: one prepare and five generate jobs (each delivers its entry), two per
    # process: three processes hand over.
    worker = workers(log=log, HERALD_WORKER_MAX_JOBS="2")
    wait_for(lambda: reload_run(run_id).status == "finished")

    assert_each_sent_once(run_id, mailbox, FIVE)
    # The last hand-over follows the last job, so it may come after the run has finished.
    wait_for(lambda: log.read_text().count("did its share of jobs; starting a fresh one") >= 3)
    assert worker.poll() is None  # the parent lives on
    # Each process that handed over left RQ's registry: no ghost worker on /system. The fresh
    # process registers a moment after the hand-over is logged, so wait for the registry to
    # settle; a ghost would stay in it and fail the wait.
    wait_for(lambda: [w.pid for w in live_workers()] == [working_pid(worker)])


def test_one_sigterm_to_the_parent_stops_parent_and_child(app, workers):
    parent = workers()
    child = child_pid(parent.pid)

    parent.send_signal(signal.SIGTERM)

    assert parent.wait(60) == 0
    wait_for(lambda: not alive(child))


def test_a_child_dies_with_its_killed_parent(app, workers):
    parent = workers()
    child = child_pid(parent.pid)

    parent.kill()  # SIGKILL: no chance to pass anything on
    parent.wait(10)

    wait_for(lambda: not alive(child))


def test_a_killed_child_is_replaced_and_the_next_run_completes(app, workers, smtp_server, mailbox):
    parent = workers()
    child = child_pid(parent.pid)

    os.kill(child, signal.SIGKILL)  # e.g. the OOM killer choosing the big process
    wait_for(lambda: not alive(child))
    run_id = mailing_run(smtp_server)
    wait_for(lambda: reload_run(run_id).status == "finished")

    assert_each_sent_once(run_id, mailbox)
    assert parent.poll() is None
    assert child_pid(parent.pid) != child


def test_max_jobs_zero_keeps_one_process(app, workers, smtp_server, mailbox):
    run_id = mailing_run(smtp_server)
    worker = workers(HERALD_WORKER_MAX_JOBS="0")
    wait_for(lambda: reload_run(run_id).status == "finished")

    assert_each_sent_once(run_id, mailbox)
    assert [w.pid for w in live_workers()] == [worker.pid]


def test_a_stop_while_a_killed_child_awaits_its_successor_starts_none(app, workers, tmp_path: Path):
    log = tmp_path / "worker.log"
    parent = workers(log=log)
    child = child_pid(parent.pid)

    os.kill(child, signal.SIGKILL)
    # The parent reaped it and now pauses before forking a successor: the stop comes then.
    wait_for(lambda: "was killed by signal 9; starting another" in log.read_text())
    parent.send_signal(signal.SIGTERM)

    assert parent.wait(60) == 0  # before: a successor was forked, never told, working on
    assert [w.pid for w in live_workers() if alive(w.pid)] == []


def stop_requested(pid: int) -> bool:
    """Whether RQ worker `pid` recorded a warm stop (a signal while busy) in its registry entry."""
    return any(w.pid == pid and w.shutdown_requested_date for w in live_workers())


def paused_in_generate(workers, smtp_server, tmp_path: Path):
    """A mailing run, and a worker whose child pauses rendering an entry until the test deletes
    the marker (each child pauses once): (run id, log, marker, worker, child pid)."""
    log, marker = tmp_path / "worker.log", tmp_path / "paused"
    run_id = mailing_run(smtp_server)
    parent = workers(log=log, HERALD_FAULT_PAUSE="generate", HERALD_FAULT_MARKER=str(marker))
    wait_for(marker.exists)
    return run_id, log, marker, parent, child_pid(parent.pid)


def test_sighup_to_the_parent_hands_over_to_a_fresh_child_after_the_job_in_hand(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    run_id, log, marker, parent, first = paused_in_generate(workers, smtp_server, tmp_path)

    parent.send_signal(signal.SIGHUP)  # a service manager's reload
    wait_for(lambda: parent.poll() is not None or stop_requested(first))
    assert parent.poll() is None  # before: parent and child were gone, in the middle of a job
    marker.unlink()
    wait_for(marker.exists)  # the fresh child took the other entry
    assert not alive(first)
    assert child_pid(parent.pid) != first
    marker.unlink()
    wait_for(lambda: reload_run(run_id).status == "finished")

    assert parent.poll() is None
    assert_each_sent_once(run_id, mailbox)
    assert [e.attempts for e in entries_of(run_id)] == [1, 1]  # none cut off, none redone
    assert "Traceback" not in log.read_text()


def test_a_child_killed_while_the_parent_stops_ends_the_parent_cleanly(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    run_id, log, marker, parent, child = paused_in_generate(workers, smtp_server, tmp_path)

    parent.send_signal(signal.SIGTERM)  # a warm stop: the child would finish its job first,
    wait_for(lambda: stop_requested(child))
    os.kill(child, signal.SIGKILL)  # but the OOM killer ends it meanwhile

    assert parent.wait(60) == 0  # the stop asked for is done; before: 137, as if killed itself
    assert "was killed by signal 9 while stopping" in log.read_text()
    workers()  # what it held is taken back by the sweep: nothing lost, nothing sent twice
    finish_with_recovery(run_id)
    assert_each_sent_once(run_id, mailbox)


def test_sighup_to_a_single_process_worker_changes_nothing(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    marker = tmp_path / "paused"
    run_id = mailing_run(smtp_server)
    worker = workers(
        HERALD_WORKER_MAX_JOBS="0", HERALD_FAULT_PAUSE="generate", HERALD_FAULT_MARKER=str(marker)
    )
    wait_for(marker.exists)

    worker.send_signal(signal.SIGHUP)  # no fresh process to hand over to: ignored
    marker.unlink()
    wait_for(lambda: worker.poll() is not None or marker.exists())  # the second entry
    marker.unlink()
    wait_for(lambda: worker.poll() is not None or reload_run(run_id).status == "finished")

    assert worker.poll() is None  # before: ended by the signal in the middle of a job
    assert_each_sent_once(run_id, mailbox)


def test_a_stop_after_sighup_still_lets_the_job_in_hand_finish(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    run_id, log, marker, parent, child = paused_in_generate(workers, smtp_server, tmp_path)
    parent.send_signal(signal.SIGHUP)  # a reload: the child's warm stop is under way
    wait_for(lambda: stop_requested(child))
    # RQ takes a second stop signal within a second of the first for the same one; a later one
    # is its cold stop, ending the job in hand where it is.
    wait_for(lambda: past_rq_double_signal_window(child))

    parent.send_signal(signal.SIGTERM)  # then a stop: it must stay warm
    marker.unlink()

    assert parent.wait(60) == 0
    assert "cold shut down" not in log.read_text()  # before: the job was cut off
    workers()  # the other entry, still queued
    finish_with_recovery(run_id)
    assert_each_sent_once(run_id, mailbox)
    assert [e.attempts for e in entries_of(run_id)] == [1, 1]  # none cut off, none redone


def past_rq_double_signal_window(pid: int) -> bool:
    """Whether RQ worker `pid` recorded its warm stop more than a second ago."""
    dates = [w.shutdown_requested_date for w in live_workers() if w.pid == pid]
    return bool(dates) and datetime.now(UTC) - dates[0].replace(tzinfo=UTC) > timedelta(seconds=1)
