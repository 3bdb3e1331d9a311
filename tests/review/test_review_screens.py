"""Review where you look (issue 15 point 2): thumbnails made once and kept, the held entry's
page with Approve / Reject and Previous / Next, the run page's review document."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium
import pytest
from PIL import Image

from app import storage
from app.extensions import db
from app.models import Artifact, Run, TemporaryFile
from app.review.queue import held_position
from app.review.thumbnails import render_first_page, thumbnail, thumbnail_key
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import entries_of

PEOPLE = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]


@pytest.fixture
def held_run(app, work, smtp_server, auth):
    """A run of three entries held for review, generated; an editor logged in."""
    ws = make.workspace("acme", smtp=smtp_server.settings)
    make.user("rev@example.com", ws, "editor")
    job = make.mailing_job(ws, PEOPLE, "<h1>For {{ people.name }}</h1>", hold_for_review=True)
    run_id = start_run(job, None).id
    work()
    auth.login("rev@example.com", make.PASSWORD)
    return run_id, [e.id for e in entries_of(run_id)]


def test_thumbnail_is_rendered_once_then_read_from_storage(held_run):
    artifact = db.session.query(Artifact).filter_by(entry_id=held_run[1][0]).one()
    key = thumbnail(artifact)
    assert key == thumbnail_key(artifact)
    image = Image.open(io.BytesIO(storage.load(key)))
    assert image.format == "PNG" and image.width == 160 and image.height > image.width  # A4
    # Second call: the stored file is used as is (a changed file proves it is not redrawn).
    storage.save(key, b"kept")
    assert thumbnail(artifact) == key and storage.load(key) == b"kept"


def test_unreadable_pdf_gives_no_thumbnail_and_the_page_a_placeholder(held_run, client):
    artifact = db.session.query(Artifact).filter_by(entry_id=held_run[1][0]).one()
    storage.save(artifact.storage_key, b"not a pdf")
    assert thumbnail(artifact) is None
    response = client.get(f"/w/acme/artifacts/{artifact.id}/thumbnail.png")
    assert response.status_code == 302 and response.location.endswith("thumbnail-missing.svg")
    with pytest.raises(pdfium.PdfiumError):
        render_first_page(b"%PDF-1.4\n%%EOF")


def test_entry_list_and_review_queue_show_thumbnails(held_run, client):
    run_id, ids = held_run
    for url in (f"/w/acme/runs/{run_id}", "/w/acme/review"):
        page = client.get(url).get_data(as_text=True)
        thumbs = re.findall(r'<img class="thumb" src="([^"]+)"', page)
        assert len(thumbs) == 3, url
    response = client.get(thumbs[0])
    assert response.status_code == 200 and response.mimetype == "image/png"


def test_held_entry_page_offers_decision_and_neighbours(held_run, client):
    run_id, (first, second, third) = held_run
    page = client.get(f"/w/acme/runs/{run_id}/entries/{second}").get_data(as_text=True)
    assert "Held entry 2 of 3 in this run" in page
    assert 'id="approve-button"' in page and 'id="reject-button"' in page
    assert f'data-nav="prev" rel="prev" href="/w/acme/runs/{run_id}/entries/{first}"' in page
    assert f'data-nav="next" rel="next" href="/w/acme/runs/{run_id}/entries/{third}"' in page
    assert page.count('class="pdf-frame"') == 1


def test_approve_on_the_entry_page_goes_on_to_the_next_held_entry(held_run, auth):
    run_id, (first, second, third) = held_run
    entry_url = f"/w/acme/runs/{run_id}/entries/{first}"
    response = auth.post(
        f"/w/acme/review/decide?entry_id={first}&action=approve",
        {"next": f"/w/acme/runs/{run_id}/entries/{second}"},
        page=entry_url,
    )
    assert response.status_code == 303
    assert response.location.endswith(f"/entries/{second}")
    assert entries_of(run_id)[0].review_decision == "approved"
    position = held_position(entries_of(run_id)[0])
    assert (position.previous_id, position.next_id, position.held) == (None, second, 2)
    # A "next" that leaves the site is ignored: back to the queue instead.
    response = auth.post(
        f"/w/acme/review/decide?entry_id={second}&action=reject",
        {"next": "//evil.example/"},
        page=entry_url,
    )
    assert response.location.endswith("/w/acme/review")


def test_run_page_review_document_takes_all_held_and_links_back(held_run, auth, client):
    run_id, ids = held_run
    run_url = f"/w/acme/runs/{run_id}"
    assert "Generate consolidated review document" in client.get(run_url).get_data(as_text=True)
    response = auth.post(f"{run_url}/review-document", page=run_url)
    assert response.status_code == 303
    file = db.session.get(TemporaryFile, response.location.rsplit("/", 1)[1])
    assert file.spec["entry_ids"] == ids and file.spec["run_id"] == run_id
    page = client.get(response.location).get_data(as_text=True)
    assert f'href="{run_url}">← Back to run #{run_id}</a>' in page
    # A selection narrows it.
    response = auth.post(f"{run_url}/review-document", {"entry_id": [ids[1]]}, page=run_url)
    file = db.session.get(TemporaryFile, response.location.rsplit("/", 1)[1])
    assert file.spec["entry_ids"] == [ids[1]]


def test_a_new_artifact_never_shows_a_deleted_ones_thumbnail(held_run, work):
    """Thumbnails are cached by artifact id; SQLite reused the id of the newest deleted row."""
    newest = db.session.query(Artifact).order_by(Artifact.id.desc()).first()
    thumbnail(newest)  # cached as thumbnails/<id>.png
    deleted_id, run = newest.id, db.session.get(Run, held_run[0])
    db.session.delete(newest)
    db.session.commit()

    again = start_run(run.job, None).id
    work()
    entry_ids = [entry.id for entry in entries_of(again)]
    fresh = db.session.query(Artifact).filter(Artifact.entry_id.in_(entry_ids)).all()
    assert fresh and all(artifact.id > deleted_id for artifact in fresh)
    for artifact in fresh:
        drawn = render_first_page(storage.load(artifact.storage_key))
        assert storage.load(thumbnail(artifact)) == drawn  # its own first page


def test_one_row_decision_updates_the_queue_counts_for_its_filters(held_run, auth):
    """Approve / Reject on a row of the queue: the heading's "N entries awaiting approval" and
    the toolbar's "all N matching this filter" follow (they used to stay at the page's count)."""
    run_id, (ada, bob, cy) = held_run
    htmx = {"HX-Request": "true"}
    done = auth.post(
        f"/w/acme/review/decide?entry_id={ada}&action=approve", page="/w/acme/review", headers=htmx
    )
    assert "<html" not in done.text
    assert f'id="review-entry-{ada}"' in done.text
    total = re.search(r'<span id="review-total"[^>]*hx-swap-oob="true">([^<]*)<', done.text)
    assert total and total.group(1) == "2 entries awaiting approval"
    assert re.search(r'<span id="review-all-total" hx-swap-oob="true">2<', done.text)
    # The queue filtered on "cy": the counts are the filter's.
    done = auth.post(
        f"/w/acme/review/decide?entry_id={bob}&action=reject",
        {"q": "cy"},
        page="/w/acme/review?q=cy",
        headers=htmx,
    )
    assert "1 entry awaiting approval" in done.text
    assert re.search(r'<span id="review-all-total" hx-swap-oob="true">1<', done.text)
