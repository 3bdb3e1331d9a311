"""Herald with its artifacts in an S3 bucket (moto in server mode): report PDFs, thumbnails and
review documents go to the bucket and nowhere else, mail carries the stored bytes, and every
download passes Herald's permission check first, streamed or redirected to a presigned URL."""

from __future__ import annotations

import io
import re
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from app.database import utcnow
from app.extensions import db
from app.models import Artifact, TemporaryFile
from app.review.document import delete_expired_files, request_review_document
from app.runs.create import start_run
from app.runs.links import signed_artifact_url
from app.runs.recovery import recover_stalled_work
from app.tokens import create_token
from tests import factories as make
from tests.helpers import attachments, csrf_from, drain, entries_of, failed_jobs, free_port
from tests.s3server import BUCKET, keys_under
from tests.web.test_wizard import STEP_DATA, new_draft, post_step

PEOPLE = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Zoë")]
REPORTS = [
    {
        "template": "letter",
        "filename": "Relevé {people.name}.pdf",
        "bindings": {"person": {"column": "name"}},
    }
]


@pytest.fixture
def acme(app, smtp_server):
    """Workspace acme mailing a letter to each person, and its editor."""
    ws = make.workspace("acme", smtp=smtp_server.settings)
    editor = make.user("editor@example.com", ws, "editor")
    return ws, editor


def artifacts_of(run_id: int) -> list[Artifact]:
    ids = [e.id for e in entries_of(run_id)]
    return list(
        db.session.scalars(
            db.select(Artifact).where(Artifact.entry_id.in_(ids)).order_by(Artifact.entry_id)
        )
    )


def object_bytes(bucket, key: str) -> bytes:
    return bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def local_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_run_stores_its_pdfs_in_the_bucket_only_and_mails_the_stored_bytes(
    app, s3, bucket, acme, work, mailbox
):
    ws, _ = acme
    job = make.mailing_job(ws, PEOPLE, "<h1>For {{ people.name }}</h1>", reports=REPORTS)
    run_id = start_run(job, None).id
    work()

    found = artifacts_of(run_id)
    assert [a.status for a in found] == ["generated"] * 3
    # Keys from ids alone; the name made from the row stays on the row.
    expected = sorted(f"{s3}ws{ws.id}/run{run_id}/entry{a.entry_id}/0.pdf" for a in found)
    assert keys_under(bucket, s3) == expected
    assert [a.filename for a in found] == [f"Relevé {p['name']}.pdf" for p in PEOPLE]
    assert local_files(app) == []
    sent = {m["To"]: attachments(m) for m in mailbox.messages}
    for artifact, person in zip(found, PEOPLE, strict=True):
        stored = object_bytes(bucket, s3 + artifact.storage_key)
        assert stored.startswith(b"%PDF")
        assert sent[person["email"]] == [(artifact.filename, stored)]


def test_downloads_and_thumbnails_come_from_the_bucket_after_the_permission_check(
    app, s3, bucket, acme, work, auth, client
):
    ws, editor = acme
    job = make.mailing_job(ws, PEOPLE, "<h1>For {{ people.name }}</h1>", reports=REPORTS)
    run_id = start_run(job, None).id
    work()
    artifact = artifacts_of(run_id)[0]
    stored = object_bytes(bucket, s3 + artifact.storage_key)
    page = f"/w/acme/artifacts/{artifact.id}/x.pdf"

    assert client.get(page).status_code == 302  # to the login page: no byte, no bucket URL
    assert client.get(page).location.startswith("/login")
    make.user("outsider@example.com", make.workspace("other"), "admin")
    auth.login("outsider@example.com", make.PASSWORD)
    refused = client.get(page)
    assert refused.status_code in (403, 404) and BUCKET not in (refused.location or "")
    client.post("/logout", data={"csrf_token": csrf_from(client, "/tokens")})

    auth.login("editor@example.com", make.PASSWORD)
    response = client.get(page + "?download=1")
    assert response.status_code == 200 and response.data == stored
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Releve Ada.pdf\"; filename*=UTF-8''Relev%C3%A9%20Ada.pdf"
    )
    picture = client.get(f"/w/acme/artifacts/{artifact.id}/thumbnail.png")
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    image = Image.open(io.BytesIO(picture.data))
    assert image.width == 160 and image.height > image.width  # A4, upright
    assert f"{s3}thumbnails/{artifact.id}.png" in keys_under(bucket, s3)
    assert local_files(app) == []

    token = create_token(editor, ws, permissions=["jobs:read"], name="t")[1]
    api = (
        f"/api/v1/ws/acme/jobs/{job.code}/runs/{run_id}/entries/{artifact.entry_id}"
        f"/artifacts/{artifact.id}"
    )
    assert client.get(api).status_code == 401
    by_api = client.get(api, headers={"Authorization": f"Bearer {token}"})
    assert by_api.status_code == 200 and by_api.data == stored


def test_with_presigned_urls_an_allowed_download_redirects_and_a_refused_one_does_not(
    app, s3, bucket, acme, work, auth, client, s3_endpoint
):
    app.config["S3_PRESIGN_SECONDS"] = 120
    ws, _ = acme
    job = make.mailing_job(ws, PEOPLE, "<h1>For {{ people.name }}</h1>", reports=REPORTS)
    run_id = start_run(job, None).id
    work()
    artifact = artifacts_of(run_id)[0]
    page = f"/w/acme/artifacts/{artifact.id}/x.pdf"

    make.user("outsider@example.com", make.workspace("other"), "admin")
    auth.login("outsider@example.com", make.PASSWORD)
    assert client.get(page).status_code in (403, 404)
    client.post("/logout", data={"csrf_token": csrf_from(client, "/tokens")})
    assert client.get("/links/forged-token").status_code == 404

    auth.login("editor@example.com", make.PASSWORD)
    response = client.get(page)
    assert response.status_code == 302 and response.location.startswith(s3_endpoint)
    assert response.headers["Cache-Control"] == "no-store"
    with urllib.request.urlopen(response.location, timeout=30) as fetched:
        assert fetched.read() == object_bytes(bucket, s3 + artifact.storage_key)
        assert "filename*=UTF-8''Relev%C3%A9%20Ada.pdf" in fetched.headers["Content-Disposition"]
    # A signed link (chat, webhooks) is its own permission: it redirects the same way.
    with app.test_request_context():
        link = signed_artifact_url(artifact.id).split("/links/", 1)[1]
    assert client.get(f"/links/{link}").location.startswith(s3_endpoint)


def test_a_review_document_is_built_from_and_kept_in_the_bucket_then_deleted(
    app, s3, bucket, acme, work, auth, client
):
    ws, editor = acme
    job = make.mailing_job(
        ws, PEOPLE, "<h1>For {{ people.name }}</h1>", reports=REPORTS, hold_for_review=True
    )
    run_id = start_run(job, None).id
    work()
    file = request_review_document(ws, editor, [e.id for e in entries_of(run_id)], "Q")
    work()
    file = db.session.get(TemporaryFile, file.id)
    assert file.status == "ready", file.error
    key = s3 + file.storage_key
    assert key in keys_under(bucket, s3) and local_files(app) == []

    auth.login("editor@example.com", make.PASSWORD)
    download = client.get(f"/w/acme/files/{file.id}/download")
    assert download.status_code == 200 and download.data == object_bytes(bucket, key)
    assert download.data.startswith(b"%PDF")

    assert delete_expired_files(now=utcnow() + timedelta(hours=25)) == 1
    assert key not in keys_under(bucket, s3)


def test_a_store_outage_while_rendering_loses_nothing_and_mails_each_entry_once(
    app, s3, bucket, acme, mailbox
):
    ws, _ = acme
    job = make.mailing_job(ws, PEOPLE, "<h1>For {{ people.name }}</h1>", reports=REPORTS)
    run_id = start_run(job, None).id
    endpoint = app.config["S3_ENDPOINT_URL"]
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"  # the store is down
    drain(app, allow_failed=True)

    failures = failed_jobs()
    assert len(failures) == len(PEOPLE) and all("S3 storage unreachable" in f for f in failures)
    assert [e.status for e in entries_of(run_id)] == ["InProgress"] * len(PEOPLE)
    assert mailbox.messages == [] and keys_under(bucket, s3) == []

    app.config["S3_ENDPOINT_URL"] = endpoint  # back
    later = utcnow() + timedelta(seconds=app.config["LEASE_SECONDS"] + 1)
    assert recover_stalled_work(now=later)["entries_recovered"] == len(PEOPLE)
    drain(app, allow_failed=True)

    assert [e.status for e in entries_of(run_id)] == ["Completed"] * len(PEOPLE)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(p["email"] for p in PEOPLE)
    assert len(keys_under(bucket, s3)) == len(PEOPLE)


def test_the_wizards_dry_run_pdf_is_kept_in_and_served_from_the_bucket(
    app, s3, bucket, demo, auth, client
):
    base = new_draft(auth, client)  # logged in as the demo's admin
    for step, data in STEP_DATA.items():
        assert post_step(auth, base, step, data).status_code == 303
    dry = auth.post(f"{base}/dry-run", page=f"{base}/review")
    assert dry.status_code == 200
    pdf_url = re.search(r'src="([^"]+/dry-run/0\.pdf)"', dry.text)[1]
    draft_id = int(re.search(r"/drafts/(\d+)/", pdf_url)[1])
    assert f"{s3}drafts/{draft_id}/0.pdf" in keys_under(bucket, s3)
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.data == object_bytes(
        bucket, f"{s3}drafts/{draft_id}/0.pdf"
    )
    assert pdf.data.startswith(b"%PDF") and local_files(app) == []
    missing = client.get(pdf_url.replace("/0.pdf", "/5.pdf"))
    assert missing.status_code == 404 and "run the dry run first" in missing.text
