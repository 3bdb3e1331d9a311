"""Render deadlines: a render that runs too long is stopped where it is, freeing its process.

In a process's main thread (RQ's SimpleWorker runs jobs there; so do gunicorn's sync workers)
the deadline is a SIGALRM timer, which interrupts Jinja and WeasyPrint alike; a timer already
set (RQ's job timeout) is put back afterwards with what remained of it. In any other thread
(the threaded development server) signals cannot be used: the deadline is checked whenever
Python code is entered or resumed during a template render (`checked` wraps Jinja's render),
which stops a template loop but not a long WeasyPrint layout.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()


class RenderDeadlineExceeded(BaseException):  # noqa: N818 — said as "deadline exceeded"
    """The render ran past its deadline. A BaseException, so that the broad `except Exception`
    keeping one failing report from stopping the others does not swallow it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"took longer than {seconds:g} s")
        self.seconds = seconds


@contextmanager
def render_deadline(seconds: float) -> Iterator[None]:
    """Raise RenderDeadlineExceeded in the block once it has run `seconds` (> 0) seconds."""
    if threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
        return
    outer = getattr(_local, "deadline", None)
    _local.deadline = (time.monotonic() + seconds, seconds)
    try:
        yield
    finally:
        _local.deadline = outer


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise RenderDeadlineExceeded(seconds)

    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, expire)
    previous_timer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer:  # the outer timer (RQ's job timeout) keeps running from where it was
            left = previous_timer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


def checked(render: Callable[[], T]) -> T:
    """Call `render` under this thread's deadline, if one is set outside the main thread."""
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return render()
    until, seconds = deadline

    def trace(frame: Any, event: str, arg: Any) -> None:
        # 'call' fires on every Python call and every generator resumption (Jinja's output).
        if time.monotonic() > until:
            raise RenderDeadlineExceeded(seconds)

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        if time.monotonic() > until:
            raise RenderDeadlineExceeded(seconds)
        return render()
    finally:
        sys.settrace(previous)
