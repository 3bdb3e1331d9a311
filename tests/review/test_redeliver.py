"""Retry one failed delivery; Deliver selected entries (approve held ones, re-send finished ones).

Decided semantics of "Deliver" (DESIGN: Retry vs Deliver):
- a PendingReview entry is approved and delivered once: a second call finds it InProgress or
  Completed, never PendingReview, so it is never approved twice;
- a Completed / CompletedWithErrors / DeliveryFailed entry is sent again ONLY when explicitly
  selected with `redeliver=True` (the default; the run page asks for a confirmation first).
  `redeliver=False` (and `deliver_held_entries`, the API's "deliver") never re-sends anything, so
  calling them twice sends nothing twice.
"""

from __future__ import annotations

import pytest

from app.database import utcnow
from app.errors import Forbidden, ValidationFailed
from app.extensions import db, queues
from app.models import Artifact, EntryDelivery, Job
from app.review import redeliver
from app.review.redeliver import (
    deliver_entries,
    deliver_held_entries,
    retry_delivery,
    selection_counts,
)
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import entries_of, reload_run

ADA = {"name": "Ada", "email": "ada@example.com", "boss": "boss@example.com"}
ROWS = [ADA, {"name": "Bob", "email": "bob@example.com", "boss": "boss@example.com"}]


@pytest.fixture
def ws(app, smtp_server):
    return make.workspace(smtp=smtp_server.settings)


@pytest.fixture
def editor(ws):
    return make.user("editor@example.com", ws, "editor")


@pytest.fixture
def viewer(ws):
    return make.user("viewer@example.com", ws, "viewer")


@pytest.fixture
def picky_server(mailbox, monkeypatch):
    """The test SMTP server, refusing the recipients in the returned set (editable mid-test)."""
    refused: set[str] = set()

    async def handle_rcpt(server, session, envelope, address, rcpt_options):
        if address in refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    monkeypatch.setattr(mailbox, "handle_RCPT", handle_rcpt)  # new SMTP sessions use it
    return refused


def deliver_queue_count() -> int:
    return queues.queue("deliver").count


def failed_run(ws, mailbox, work, rows=(ADA,)) -> int:
    job = make.mailing_job(ws, list(rows))
    mailbox.reject_with = "550 5.1.1 No such user"
    run_id = start_run(job, None).id
    work()
    mailbox.clear()  # the recipient exists again
    return run_id


def test_a_failed_delivery_is_retried_without_regenerating(ws, editor, work, mailbox):
    run_id = failed_run(ws, mailbox, work)
    (entry,) = entries_of(run_id)
    assert entry.status == "DeliveryFailed"
    assert reload_run(run_id).status == "finished"
    (delivery,) = entry.deliveries
    (artifact,) = entry.artifacts
    artifact_id, artifact_key = artifact.id, artifact.storage_key

    retried = retry_delivery(delivery.id, editor)

    assert (retried.status, retried.attempts, retried.next_attempt_at) == ("pending", 1, None)
    assert entries_of(run_id)[0].status == "InProgress"
    assert reload_run(run_id).status == "running"
    work()
    (entry,) = entries_of(run_id)
    assert (entry.status, entry.error) == ("Completed", None)
    (delivery,) = entry.deliveries
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, None)
    assert reload_run(run_id).status == "finished"
    assert db.session.get(Job, reload_run(run_id).job_id).last_run_status == "completed"
    assert [env for env in mailbox.envelopes] == [["ada@example.com"]]
    # The PDF was not generated again: the same artifact, the same file.
    (again,) = db.session.scalars(db.select(Artifact)).all()
    assert (again.id, again.storage_key) == (artifact_id, artifact_key)


def test_only_a_failed_delivery_can_be_retried(ws, editor, work, mailbox):
    job = make.mailing_job(ws, [ADA])
    run_id = start_run(job, None).id
    work()
    (delivery,) = entries_of(run_id)[0].deliveries
    assert delivery.status == "sent"

    with pytest.raises(
        ValidationFailed,
        match="only a failed, partly or possibly delivered delivery can be retried",
    ):
        retry_delivery(delivery.id, editor)

    assert deliver_queue_count() == 0
    assert entries_of(run_id)[0].status == "Completed"
    assert reload_run(run_id).status == "finished"
    work()
    assert len(mailbox.messages) == 1


def boss_copy_refused(ws, work, picky_server) -> int:
    """A finished run of one entry mailed to the person (sent) and their boss (refused)."""
    to_person = {"kind": "email", "to": "{people.email}", "subject": "yours", "message": "m"}
    to_boss = {"kind": "email", "to": "{people.boss}", "subject": "boss copy", "message": "m"}
    job = make.people_job(ws, [ADA], "<p>{{ people.name }}</p>", deliveries=[to_person, to_boss])
    picky_server.add("boss@example.com")
    run_id = start_run(job, None).id
    work()
    assert entries_of(run_id)[0].status == "CompletedWithErrors"
    return run_id


def test_retry_sends_only_the_failed_one_of_two_deliveries(ws, editor, work, mailbox, picky_server):
    run_id = boss_copy_refused(ws, work, picky_server)
    (entry,) = entries_of(run_id)
    sent, failed = entry.deliveries
    assert (sent.status, failed.status) == ("sent", "failed")
    assert [m["Subject"] for m in mailbox.messages] == ["yours"]

    picky_server.clear()
    retry_delivery(failed.id, editor)
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "Completed"
    assert [d.status for d in entry.deliveries] == ["sent", "sent"]
    assert [d.attempts for d in entry.deliveries] == [1, 2]
    assert [m["Subject"] for m in mailbox.messages] == ["yours", "boss copy"]  # not re-sent


def test_a_viewer_cannot_retry_or_deliver(ws, viewer, work, mailbox):
    run_id = failed_run(ws, mailbox, work)
    (entry,) = entries_of(run_id)
    with pytest.raises(Forbidden):
        retry_delivery(entry.deliveries[0].id, viewer)
    with pytest.raises(Forbidden):
        deliver_entries(reload_run(run_id), [entry.id], viewer)
    assert entries_of(run_id)[0].deliveries[0].status == "failed"
    assert deliver_queue_count() == 0


def held_run(ws, work, rows=ROWS) -> int:
    job = make.mailing_job(ws, rows, hold_for_review=True)
    run_id = start_run(job, None).id
    work()
    assert {e.status for e in entries_of(run_id)} == {"PendingReview"}
    assert reload_run(run_id).status == "finished"
    return run_id


def test_deliver_approves_held_entries_and_sends_each_once(ws, editor, work, mailbox):
    run_id = held_run(ws, work)
    ids = [e.id for e in entries_of(run_id)]
    assert mailbox.messages == []

    counts = deliver_entries(reload_run(run_id), ids, editor)

    assert counts == {"approved": 2, "redelivered": 0, "skipped": 0}
    assert reload_run(run_id).status == "running"
    for entry in entries_of(run_id):
        assert (entry.status, entry.stage, entry.review_decision) == (
            "InProgress",
            "deliver",
            "approved",
        )
        assert entry.reviewed_by_id == editor.id and entry.reviewed_at is not None
    # Clicked twice before the worker ran: nothing is approved (or queued) twice.
    assert deliver_entries(reload_run(run_id), ids, editor) == {
        "approved": 0,
        "redelivered": 0,
        "skipped": 2,
    }
    work()
    assert {e.status for e in entries_of(run_id)} == {"Completed"}
    assert sorted(env[0] for env in mailbox.envelopes) == ["ada@example.com", "bob@example.com"]
    assert reload_run(run_id).status == "finished"


def test_a_stale_read_cannot_approve_twice(ws, editor, work, mailbox, monkeypatch):
    """Two concurrent calls both read PendingReview; the conditional UPDATE lets one win."""
    run_id = held_run(ws, work)
    run = reload_run(run_id)
    ids = [e.id for e in entries_of(run_id)]
    stale = [(e.id, "PendingReview", e.attempts, None) for e in entries_of(run_id)]
    assert deliver_entries(run, ids, editor)["approved"] == 2

    monkeypatch.setattr(redeliver, "_statuses", lambda run, ids: iter(stale))
    assert deliver_entries(run, ids, editor) == {"approved": 0, "redelivered": 0, "skipped": 2}
    work()
    assert len(mailbox.messages) == 2


def test_deliver_held_entries_twice_sends_nothing_twice(ws, editor, work, mailbox):
    run_id = held_run(ws, work)

    assert deliver_held_entries(reload_run(run_id), editor)["approved"] == 2
    work()
    assert deliver_held_entries(reload_run(run_id), editor) == {
        "approved": 0,
        "redelivered": 0,
        "skipped": 0,
    }
    work()
    assert len(mailbox.messages) == 2
    assert {e.status for e in entries_of(run_id)} == {"Completed"}


def test_completed_entries_are_sent_again_only_when_explicitly_asked(ws, editor, work, mailbox):
    run_id = held_run(ws, work)
    ada, bob = entries_of(run_id)
    deliver_entries(reload_run(run_id), [ada.id, bob.id], editor)
    work()
    assert len(mailbox.messages) == 2

    # Same selection again, without asking to re-deliver: both are finished, nothing is sent.
    counts = deliver_entries(reload_run(run_id), [ada.id, bob.id], editor, redeliver=False)
    assert counts == {"approved": 0, "redelivered": 0, "skipped": 2}
    assert selection_counts(reload_run(run_id), [ada.id, bob.id]) == {
        "review": 0,
        "redeliver": 2,
        "other": 0,
    }
    work()
    assert len(mailbox.messages) == 2

    # Explicitly re-delivering one entry sends that one again, once.
    counts = deliver_entries(reload_run(run_id), [ada.id], editor)
    assert counts == {"approved": 0, "redelivered": 1, "skipped": 0}
    work()
    sent = [env[0] for env in mailbox.envelopes]
    # The first two in either order (two entries delivered together), then Ada's again.
    assert (sorted(sent[:2]), sent[2:]) == (
        ["ada@example.com", "bob@example.com"],
        ["ada@example.com"],
    )
    ada, bob = entries_of(run_id)
    assert (ada.status, ada.deliveries[0].attempts) == ("Completed", 2)
    assert (bob.status, bob.deliveries[0].attempts) == ("Completed", 1)
    assert reload_run(run_id).status == "finished"
    # A deliberate re-delivery is a new message: a receiver must not drop it as a copy.
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert len(set(ids)) == 3
    assert ada.deliveries[0].detail["message_id"] == ids[2]


def test_a_confirmation_submitted_twice_re_sends_once(ws, editor, work, mailbox):
    """The re-send confirmation carries when it was given: entries that finished after it (the
    first submission's re-send) are not sent again by a second submission of the same form."""
    run_id = held_run(ws, work)
    ids = [e.id for e in entries_of(run_id)]
    deliver_entries(reload_run(run_id), ids, editor)
    work()
    mailbox.clear()
    confirmed_at = utcnow()
    for _ in range(2):  # the second submission comes after the first re-send has finished
        deliver_entries(reload_run(run_id), ids, editor, finished_by=confirmed_at)
        work()
    assert sorted(env[0] for env in mailbox.envelopes) == ["ada@example.com", "bob@example.com"]
    before = deliver_entries(reload_run(run_id), ids, editor, finished_by=confirmed_at)
    assert before == {"approved": 0, "redelivered": 0, "skipped": 2}
    again = deliver_entries(reload_run(run_id), ids, editor, finished_by=utcnow())
    assert again["redelivered"] == 2  # a new confirmation re-sends again


def test_re_delivery_resends_every_delivery_of_the_entry(ws, editor, work, mailbox, picky_server):
    run_id = boss_copy_refused(ws, work, picky_server)
    (entry,) = entries_of(run_id)
    picky_server.clear()

    assert deliver_entries(reload_run(run_id), [entry.id], editor)["redelivered"] == 1
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "Completed"
    assert [m["Subject"] for m in mailbox.messages] == ["yours", "yours", "boss copy"]


def test_other_runs_entries_and_unfinished_entries_are_left_alone(ws, editor, work, mailbox):
    held = held_run(ws, work, rows=[ADA])
    other_job = make.job(  # the same source, template and delivery as the held job
        ws,
        code="other",
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "letter", "bindings": {"person": {"column": "name"}}}],
        deliveries=[{"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}],
    )
    other_run = start_run(other_job, None).id
    work()
    (other_entry,) = entries_of(other_run)
    (held_entry,) = entries_of(held)

    counts = deliver_entries(reload_run(held), [held_entry.id, other_entry.id, 999999], editor)

    assert counts == {"approved": 1, "redelivered": 0, "skipped": 0}
    work()
    assert len(mailbox.messages) == 2  # the other run's one, and the approved one
    assert entries_of(other_run)[0].deliveries[0].attempts == 1


def test_a_generation_failure_is_skipped(ws, editor, work, mailbox):
    job = make.mailing_job(ws, [ADA], html="<p>{{ people.name.nope() }}</p>")
    run_id = start_run(job, None).id
    work()
    (entry,) = entries_of(run_id)
    assert entry.status == "GenerationFailed"

    counts = deliver_entries(reload_run(run_id), [entry.id], editor)

    assert counts == {"approved": 0, "redelivered": 0, "skipped": 1}
    assert deliver_queue_count() == 0
    assert db.session.scalars(db.select(EntryDelivery.status)).all() == ["skipped"]


def test_retry_all_failed_deliveries_of_a_run_sends_only_those(app, work, smtp_server, mailbox):
    from app.models import Run
    from app.review.redeliver import retry_failed_deliveries
    from app.runs.create import start_run
    from tests import factories as make
    from tests.helpers import entries_of

    ws = make.workspace(smtp=smtp_server.settings)
    rows = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]
    job = make.mailing_job(ws, rows)
    mailbox.reject_with = "550 5.1.1 No such user"
    run_id = start_run(job, None).id
    work()
    assert {e.status for e in entries_of(run_id)} == {"DeliveryFailed"}
    mailbox.reject_with = None
    assert retry_failed_deliveries(db.session.get(Run, run_id), None) == 3
    work()
    assert {e.status for e in entries_of(run_id)} == {"Completed"}
    assert len(mailbox.messages) == 3
    assert retry_failed_deliveries(db.session.get(Run, run_id), None) == 0
