"""A draft's dry-run PDFs (drafts/<draft id>/<n>.pdf) leave the store with the draft: when it
is saved as a job, when it is discarded, and — abandoned — when the clock's sweep of temporary
files finds them past HERALD_TEMPORARY_FILE_HOURS. On the local disk and in an S3 bucket (a
real moto server), through the wizard's own pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import storage
from app.database import utcnow
from app.extensions import db
from app.jobs.draft_files import dry_run_key
from app.models import JobDraft, TemporaryFile
from app.review.document import delete_expired_files
from tests.web.test_wizard import STEP_DATA, new_draft, post_step


def _dry_run(auth, client) -> tuple[str, str]:
    """A Quickstart draft through every step and its dry run: (its URL base, its PDF key)."""
    base = new_draft(auth, client)
    for step, data in STEP_DATA.items():
        assert post_step(auth, base, step, data).status_code == 303, step
    dry = auth.post(f"{base}/dry-run", page=f"{base}/review")
    pdf_url = re.search(r'src="([^"]+/dry-run/0\.pdf)"', dry.text)[1]
    assert client.get(pdf_url).data.startswith(b"%PDF")
    draft_id = int(base.rsplit("/", 1)[1])
    key = dry_run_key(draft_id, 0)
    assert storage.exists(key)
    return base, key


def _records() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(TemporaryFile))


@pytest.mark.parametrize("action", ["save", "discard"])
def test_saving_or_discarding_a_draft_deletes_its_dry_run_pdfs(auth, client, demo, store, action):
    base, key = _dry_run(auth, client)
    again = auth.post(f"{base}/dry-run", page=f"{base}/review")  # the same PDF, replaced
    assert again.status_code == 200 and _records() == 1

    assert auth.post(f"{base}/{action}", page=f"{base}/review").status_code == 303

    assert not storage.exists(key)
    assert _records() == 0


def test_an_abandoned_drafts_dry_run_pdfs_are_deleted_by_the_sweep(app, auth, client, demo, store):
    base, key = _dry_run(auth, client)
    hours = app.config["TEMPORARY_FILE_HOURS"]

    assert delete_expired_files(utcnow() + timedelta(hours=hours) - timedelta(minutes=1)) == 0
    assert storage.exists(key)  # not yet: the draft may still be edited
    assert delete_expired_files(utcnow() + timedelta(hours=hours, minutes=1)) == 1

    assert not storage.exists(key)
    assert _records() == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(JobDraft)) == 1  # kept
    page = client.get(f"{base}/dry-run/0.pdf")
    assert page.status_code == 404 and "run the dry run first" in page.text
