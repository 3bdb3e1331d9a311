"""Twenty concurrent identical `POST …/runs` with one Idempotency-Key against a real gunicorn
(issue 12, kinds 2 and 7): one run, each email once at the real SMTP server; the same key with
another body is a 409 that creates nothing. On SQLite, and on PostgreSQL with
TEST_DATABASE_URL."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Entry, EntryDelivery, Run
from tests.faults.rig import assert_no_duplicates, wait_for
from tests.helpers import FEW_CUSTOMERS, reload_run, token_for
from tests.served import gunicorn

RUNS = "/api/v1/ws/demo/jobs/monthly-statements/runs"
CONCURRENT = 20
KEY = "statements-2026-10"
# The race is over the run, not its size: a few customers still give several emails to repeat.
CUSTOMERS = FEW_CUSTOMERS


def post(url: str, token: str, body: dict, key: str) -> tuple[int, dict]:
    """POST `body` as JSON with an Idempotency-Key; (status, decoded answer)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def call(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def count_runs() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Run))


@pytest.mark.customers(CUSTOMERS)
def test_concurrent_requests_with_one_key_make_one_run_and_send_each_email_once(
    app, demo, workers, mailbox
):
    token = token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"])
    body = {"params": {"period": "2026-10-01"}, "data": {"batch": 7}}
    other = {"params": {"period": "2026-09-01"}}
    with gunicorn(app) as base:
        answers = all_at_once([lambda: post(base + RUNS, token, body, KEY)] * CONCURRENT)
        assert {status for status, _ in answers} == {200}, answers
        assert len({answer["jobRunId"] for _, answer in answers}) == 1
        assert count_runs() == 1

        # The same key with another body, however many at once: 409, and nothing is created.
        conflicts = all_at_once([lambda: post(base + RUNS, token, other, KEY)] * 5)
        assert [status for status, _ in conflicts] == [409] * 5
        assert {answer["error"]["code"] for _, answer in conflicts} == {"conflict"}
        assert count_runs() == 1

    workers()
    run_id = answers[0][1]["jobRunId"]
    wait_for(lambda: reload_run(run_id).status == "finished")
    run = db.session.scalars(select(Run)).one()
    assert run.idempotency_key == KEY
    sent = db.session.scalars(
        select(EntryDelivery.id)
        .join(Entry, Entry.id == EntryDelivery.entry_id)
        .where(Entry.run_id == run_id, EntryDelivery.status == "sent")
    ).all()
    assert len(sent) == CUSTOMERS - 1  # one customer has no address
    assert len(mailbox.messages) == len(sent)
    assert_no_duplicates(mailbox)
