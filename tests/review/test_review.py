"""Hold for review: the toggle table, approve / reject (once, by one person), the review queue
screens and the consolidated review document."""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta

import pytest
from pypdf import PdfReader

from app import storage
from app.database import utcnow
from app.errors import Forbidden
from app.extensions import db
from app.models import Artifact, EntryDelivery, TemporaryFile
from app.review.decisions import approve_entries, reject_entries
from app.review.document import delete_expired_files, request_review_document
from app.runs.buckets import bucket_counts
from app.runs.create import start_run
from app.runs.scheduled import fire_due_jobs
from tests import factories as make
from tests.helpers import entries_of, pdf_text, reload_run

PEOPLE = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy", "Di")]


@pytest.fixture
def held(app, smtp_server):
    """A workspace with a hold-for-review mailing job and an editor."""
    ws = make.workspace(smtp=smtp_server.settings)
    editor = make.user("editor@example.com", ws, "editor")
    job = make.mailing_job(
        ws, PEOPLE, "<h1>Statement for {{ people.name }}</h1>", hold_for_review=True
    )
    return ws, editor, job


@pytest.mark.parametrize(
    ("scheduled", "hold", "review"),
    [(False, False, 0), (True, False, 0), (False, True, 4), (True, True, 4)],
)
def test_the_toggle_table(app, work, smtp_server, mailbox, scheduled, hold, review):
    ws = make.workspace(smtp=smtp_server.settings)
    schedule = {"start": "2026-01-01T00:00", "trigger": "hourly"} if scheduled else None
    job = make.mailing_job(ws, PEOPLE, hold_for_review=hold, scheduled=scheduled, schedule=schedule)
    if scheduled:
        due = job.next_fire_at
        (run_id,) = fire_due_jobs(now=due + timedelta(seconds=1))
    else:
        assert job.next_fire_at is None  # manual only
        run_id = start_run(job, None).id
    work()
    counts = bucket_counts(run_id)
    assert counts["review"] == review
    assert counts["completed"] == 4 - review
    assert len(mailbox.messages) == 4 - review
    assert reload_run(run_id).status == "finished"


def test_approve_delivers_once_and_records_who(app, work, mailbox, held):
    ws, editor, job = held
    run_id = start_run(job, None).id
    work()
    ids = [e.id for e in entries_of(run_id)]
    assert approve_entries(ws, editor, ids[:2]).decided == 2
    assert approve_entries(ws, editor, ids[:2]).already_decided == 2  # decided once only
    work()
    entries = entries_of(run_id)
    assert [e.status for e in entries] == [
        "Completed",
        "Completed",
        "PendingReview",
        "PendingReview",
    ]
    assert entries[0].review_decision == "approved"
    assert entries[0].reviewed_by_id == editor.id and entries[0].reviewed_at is not None
    assert sorted(env[0] for env in mailbox.envelopes) == ["ada@example.com", "bob@example.com"]
    assert reload_run(run_id).status == "finished"


def test_reject_never_delivers_and_keeps_the_pdf(app, work, mailbox, held):
    ws, editor, job = held
    run_id = start_run(job, None).id
    work()
    first = entries_of(run_id)[0]
    assert reject_entries(ws, editor, [first.id]).decided == 1
    assert approve_entries(ws, editor, [first.id]).already_decided == 1
    work()
    entry = entries_of(run_id)[0]
    assert (entry.status, entry.review_decision) == ("Cancelled", "rejected")
    delivery = db.session.scalars(db.select(EntryDelivery).filter_by(entry_id=entry.id)).one()
    assert (delivery.status, delivery.last_error) == ("skipped", "not sent: rejected in review")
    artifact = db.session.scalars(db.select(Artifact).filter_by(entry_id=entry.id)).one()
    assert storage.load(artifact.storage_key).startswith(b"%PDF")
    assert mailbox.messages == []


def test_two_reviewers_at_once_one_wins(app, work, mailbox, held):
    ws, editor, job = held
    other = make.user("other@example.com", ws, "editor")
    run_id = start_run(job, None).id
    work()
    ids = [e.id for e in entries_of(run_id)]
    barrier = threading.Barrier(2)
    results = {}

    def review(user_id: int, action) -> None:
        with app.app_context():
            from app.models import User, Workspace

            user, workspace = db.session.get(User, user_id), db.session.get(Workspace, ws.id)
            barrier.wait()
            results[user_id] = action(workspace, user, ids)

    threads = [
        threading.Thread(target=review, args=(editor.id, approve_entries)),
        threading.Thread(target=review, args=(other.id, reject_entries)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decided = results[editor.id].decided + results[other.id].decided
    assert decided == 4
    assert results[editor.id].already_decided + results[other.id].already_decided == 4
    work()
    approved = results[editor.id].decided
    assert len(mailbox.messages) == approved


def test_a_viewer_cannot_decide(app, held):
    ws, _, job = held
    viewer = make.user("viewer@example.com", ws, "viewer")
    with pytest.raises(Forbidden):
        approve_entries(ws, viewer, [1])


def test_bulk_approve_all_matching_from_the_queue_asks_first(app, client, work, mailbox, held):
    ws, editor, job = held
    start_run(job, None)
    work()
    from tests.helpers import Auth

    auth = Auth(client)
    auth.login(editor.email, make.PASSWORD)
    page = client.get(f"/w/{ws.code}/review?q=example.com").text
    assert page.count('class="review-row"') == 4
    asked = auth.post(
        f"/w/{ws.code}/review/decide",
        {"action": "approve", "all": "1", "q": "example.com"},
        page=f"/w/{ws.code}/review",
    )
    assert "Approve 4 entries?" in asked.text
    assert mailbox.messages == []
    ids = re.findall(r'name="entry_id" value="(\d+)"', asked.text)
    done = auth.post(
        f"/w/{ws.code}/review/decide",
        {"action": "approve", "confirm": "1", "entry_id": ids},
        page=f"/w/{ws.code}/review",
    )
    assert done.status_code == 303
    work()
    assert len(mailbox.messages) == 4
    assert "Nothing awaits review" in client.get(f"/w/{ws.code}/review").text


def test_one_row_approve_with_htmx_returns_the_row(app, client, work, held):
    ws, editor, job = held
    run_id = start_run(job, None).id
    work()
    entry = entries_of(run_id)[0]
    from tests.helpers import Auth

    auth = Auth(client)
    auth.login(editor.email, make.PASSWORD)
    url = f"/w/{ws.code}/review/decide?entry_id={entry.id}&action=approve"
    response = auth.post(url, page=f"/w/{ws.code}/review", headers={"HX-Request": "true"})
    assert "<html" not in response.text
    assert f'id="review-entry-{entry.id}"' in response.text
    assert "approved by editor@example.com" in response.text
    again = auth.post(url, page=f"/w/{ws.code}/review", headers={"HX-Request": "true"})
    assert "Someone else decided this entry first." in again.text


def test_the_consolidated_review_document(app, work, held):
    ws, editor, job = held
    run_id = start_run(job, None).id
    work()
    ids = [e.id for e in entries_of(run_id)]
    file = request_review_document(ws, editor, ids, "Quarter review")
    assert file.status == "pending"
    work()
    file = db.session.get(TemporaryFile, file.id)
    assert file.status == "ready", file.error
    reader = PdfReader(io.BytesIO(storage.load(file.storage_key)))
    assert len(reader.pages) == file.pages == 1 + 4
    index = reader.pages[0].extract_text()
    assert "Quarter review" in index
    for person, page in zip(PEOPLE, (2, 3, 4, 5), strict=True):
        assert re.search(rf"name: {person['name']}.*\s{page}\b", index), index
        assert f"Statement for {person['name']}" in pdf_text(_page_pdf(reader, page - 1))
    titles = [item.title if not isinstance(item, list) else None for item in reader.outline]
    assert titles[0] == "Index" and titles.count(None) == 4  # each entry has a child bookmark


def _page_pdf(reader: PdfReader, index: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_page(reader.pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_expired_temporary_files_are_deleted(app, work, held):
    ws, editor, job = held
    run_id = start_run(job, None).id
    work()
    file = request_review_document(ws, editor, [entries_of(run_id)[0].id], "x")
    work()
    key = db.session.get(TemporaryFile, file.id).storage_key
    assert storage.exists(key)
    assert delete_expired_files(now=utcnow()) == 0
    assert delete_expired_files(now=utcnow() + timedelta(hours=25)) == 1
    assert not storage.exists(key)
    assert db.session.get(TemporaryFile, file.id) is None
