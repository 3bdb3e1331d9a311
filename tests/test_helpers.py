"""The test helpers themselves: a helper that hides a failure makes every test using it vacuous."""

from __future__ import annotations

import pytest

from app.extensions import queues
from tests.helpers import drain, failed_jobs


def test_drain_fails_the_test_when_a_job_crashes(app):
    queues.queue("deliver").enqueue("builtins.int", "not a number")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)a queued job failed.*ValueError"):
        drain(app)
    assert len(failed_jobs()) == 1


def test_drain_lets_a_test_look_at_crashes_it_caused_on_purpose(app):
    queues.queue("generate").enqueue("builtins.int", "not a number")
    drain(app, allow_failed=True)
    (failed,) = failed_jobs()
    assert "invalid literal for int()" in failed


def test_drain_passes_when_every_job_succeeds(app):
    job = queues.queue("generate").enqueue("builtins.int", "42")
    drain(app)
    assert job.latest_result().return_value == 42
    assert failed_jobs() == []
