"""Worker recycling: a parent process that forks one working child at a time and starts a
fresh one after every `max_jobs` jobs.

Why: a long-lived render process grows. WeasyPrint with Pango, HarfBuzz and Cairo keeps
memory per distinct document (measured on the demo statement: ~21 KB per render, in raw
WeasyPrint exactly as in a Herald worker; the Python heap stays flat), so after 10,000 entries
a worker would hold ~200 MB more than after 1,000. Ending the process is the only way to give
that memory back — the remedy Celery (`worker_max_tasks_per_child`) and gunicorn
(`max_requests`) use. The parent has imported the app already, so a child starts in
milliseconds; only its first render warms the font cache again.

Signals: the child runs in its own process group, so a terminal's Ctrl+C or a process
manager's SIGTERM reaches the parent alone, which passes each one on exactly once (RQ: first a
warm stop after the job in hand, a second one stops at once). A child dies with its parent
(PR_SET_PDEATHSIG), so SIGKILL of the parent — the OOM killer, a lost container — leaves no
orphan working on; what it held is taken back by the clock's sweep when its lease runs out.

SIGHUP (a service manager's "reload", as for gunicorn) hands over to a fresh child: the working
one gets a warm stop (it finishes the job in hand), then a fresh one is forked. The fresh child
is forked from this parent, so it runs the code and settings the parent started with; a new
release or changed settings need a restart. The child ignores SIGHUP sent to it directly. A
stop signal after a SIGHUP is that warm stop, already under way (a second one stops at once).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("herald.worker")

# Exit status of a child that did its `max_jobs` and wants a successor (EX_TEMPFAIL, sysexits.h).
RECYCLE = 75
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_RESTART_PAUSE_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """In a forked child: ask Linux to SIGKILL this process when its parent dies; exit at once
    if the parent is already gone (it died between the fork and this call). A no-op where
    prctl is missing (not Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - Linux has prctl
        return
    if os.getppid() != parent_pid:
        os._exit(1)


def supervise(
    run_child: Callable[[], int], *, on_child_exit: Callable[[int], None] | None = None
) -> int:
    """Fork a child running `run_child()` (which returns its exit status) until it ends for a
    reason other than RECYCLE; return that status for this process to exit with.

    A child killed by a signal other than the one passed on (e.g. the OOM killer's SIGKILL) is
    replaced after a 1 s pause, unless a stop came meanwhile (then the stop is done: status 0);
    SIGHUP replaces the child after its job in hand (see the module); a child exiting with an error
    status ends the parent with that status, leaving restart policy to the process manager as
    before. `on_child_exit(pid)` runs after each child ends (metrics: drop its live gauges)."""
    parent_pid = os.getpid()
    child = 0
    stopping = False
    handing_over = False
    stops = 0  # stop signals received (SIGTERM, SIGINT)
    sent = 0  # stop signals the child has had: its first is RQ's warm stop, the next a cold one

    def pass_on(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping, stops, sent
        stopping = True
        stops += 1
        # After a hand-over's warm stop the first stop is that one, already under way.
        if child and stops > sent:
            sent += 1
            _signal(child, signum)

    def hand_over(signum: int, frame: FrameType | None) -> None:
        nonlocal handing_over, sent
        if child and not sent:  # once: a second stop would be RQ's cold stop, mid-job
            handing_over = True
            sent += 1
            _signal(child, signal.SIGTERM)  # a warm stop: the job in hand is finished first

    stop_signals = {signal.SIGTERM, signal.SIGINT}
    held = {*stop_signals, signal.SIGHUP}
    for signum in stop_signals:
        signal.signal(signum, pass_on)
    signal.signal(signal.SIGHUP, hand_over)
    while True:
        # A stop that came while no child ran (the pause before replacing a killed one, the
        # hand-over) had no one to pass it to: no successor then. The signals are held back
        # from the fork until `child` names the new process, so none falls between the two.
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
        if stopping:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
            return 0
        handing_over, sent = False, 0  # the child forked now is a fresh one
        child = os.fork()
        if child == 0:  # pragma: no cover - measured in the child, which never returns
            os.setpgid(0, 0)
            for signum in stop_signals:
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
            die_with_parent(parent_pid)
            status = 1
            try:
                status = run_child()
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except BaseException:
                log.exception("the worker process failed")
            finally:
                logging.shutdown()
                os._exit(status)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)  # one held back is passed on now
        _, wait_status = os.waitpid(child, 0)
        ended, child = child, 0
        if on_child_exit is not None:
            on_child_exit(ended)
        if handing_over and not stopping and _stopped_by_hand_over(wait_status):
            log.info("worker process %s stopped (SIGHUP); starting a fresh one", ended)
            continue
        if os.WIFSIGNALED(wait_status):
            if stopping:
                # The stop asked for is done, whatever ended the child: the stop passed on
                # (before RQ's own handlers were in place, the default action ends it; it held
                # nothing then) or another signal meanwhile (the OOM killer's SIGKILL; the sweep
                # takes back what it held, as when not stopping). 128 + signal would say that
                # this process was killed, and mark a stopped service failed.
                if os.WTERMSIG(wait_status) not in (signal.SIGTERM, signal.SIGINT):
                    log.warning(
                        "worker process %s was killed by signal %s while stopping",
                        ended,
                        os.WTERMSIG(wait_status),
                    )
                return 0
            log.warning(
                "worker process %s was killed by signal %s; starting another",
                ended,
                os.WTERMSIG(wait_status),
            )
            time.sleep(_RESTART_PAUSE_SECONDS)
            continue
        status = os.WEXITSTATUS(wait_status)
        if status != RECYCLE or stopping:
            return 0 if status == RECYCLE else status
        log.info("worker process %s did its share of jobs; starting a fresh one", ended)


def _signal(pid: int, signum: int) -> None:
    """Send `signum` to the child `pid`, if there is one."""
    if pid:
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(pid, signum)


def _stopped_by_hand_over(wait_status: int) -> bool:
    """Whether a child ended as the hand-over's warm stop ends it: status 0 (RQ stopped after
    its job), RECYCLE (its share done meanwhile), or killed by that SIGTERM before RQ's own
    handlers were in place (it held nothing then)."""
    if os.WIFSIGNALED(wait_status):
        return os.WTERMSIG(wait_status) == signal.SIGTERM
    return os.WEXITSTATUS(wait_status) in (0, RECYCLE)
