"""Small helpers shared by tests."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader

from app.extensions import db
from app.models import Entry, Job, Run, Workspace


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def job(workspace: Workspace, code: str = "monthly-statements") -> Job:
    return db.session.scalars(db.select(Job).filter_by(workspace_id=workspace.id, code=code)).one()


def reload_run(run_id: int) -> Run:
    db.session.expire_all()
    return db.session.get(Run, run_id)


def entries_of(run_id: int) -> list[Entry]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Entry).filter_by(run_id=run_id).order_by(Entry.seq)))


def attachments(message: Any) -> list[tuple[str, bytes]]:
    return [(part.get_filename(), part.get_content()) for part in message.iter_attachments()]


# A name in each script issue #11 asks for; the fonts ./dev installs must draw every one.
SCRIPT_NAMES = {
    "Chinese": "张伟",
    "Japanese": "山田さくら",
    "Korean": "김민준",
    "Hindi": "राहुल शर्मा",
    "Thai": "สมชาย ใจดี",
    "Arabic": "محمد علي",
    "Hebrew": "שרה כהן",
}
# Private-use code points: no font on a Debian machine has a glyph for them.
NO_FONT = ["\ue000", "\U0010fffd"]


def failed_jobs() -> list[str]:
    """Every job in RQ's failed registries, each as its id, function and traceback."""
    from rq.job import Job as RqJob
    from rq.registry import FailedJobRegistry

    from app.extensions import QUEUE_NAMES, queues

    found = []
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(name, connection=queues.connection)
        for job_id in registry.get_job_ids():
            job_ = RqJob.fetch(job_id, connection=queues.connection)
            result = job_.latest_result()
            trace = result.exc_string if result is not None else "(no result recorded)"
            found.append(f"{name}/{job_id} {job_.func_name}{job_.args}:\n{trace}")
    return found


def drain(app: Flask, *, allow_failed: bool = False) -> None:
    """Run every queued job to completion in this process, as a real RQ worker does.

    A job that raised lands in RQ's failed registry, which a worker only logs; here it fails
    the test with the job's traceback (a crashing job must not look like "nothing happened").
    `allow_failed` is for the tests that crash a job on purpose and look at the registry.
    """
    from rq import SimpleWorker

    from app.extensions import QUEUE_NAMES, queues

    worker = SimpleWorker([queues.queue(n) for n in QUEUE_NAMES], connection=queues.connection)
    worker.work(burst=True, logging_level="WARNING")
    # The worker wrote through its own session; what this test's session holds is stale now.
    db.session.expire_all()
    if not allow_failed and (failed := failed_jobs()):
        pytest.fail("a queued job failed:\n" + "\n".join(failed), pytrace=False)
