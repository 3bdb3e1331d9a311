"""Two hosts in one machine: a web server (real gunicorn) and a worker process, each with its
own local storage directory, sharing only the database (PostgreSQL when TEST_DATABASE_URL is
given, else one SQLite file), Redis and the S3 server. A run started through the web's API
completes on the worker, and every PDF and its thumbnail download through the web."""

from __future__ import annotations

import io
import re
from pathlib import Path

import requests
from PIL import Image

from app.extensions import db
from app.models import Artifact
from app.tokens import create_token
from tests import factories as make
from tests.faults.rig import stop
from tests.helpers import entries_of, reload_run, start_process, wait_for
from tests.s3server import BUCKET, keys_under
from tests.served import gunicorn

PEOPLE = [{"name": f"Person {n}", "email": f"p{n}@example.com"} for n in range(6)]


def files_in(*directories: Path) -> list[Path]:
    return [p for d in directories if d.exists() for p in d.rglob("*") if p.is_file()]


def log_in(base: str, email: str) -> requests.Session:
    """A browser session on the web host, logged in through the real form."""
    browser = requests.Session()
    page = browser.get(base + "/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    form = {"email": email, "password": make.PASSWORD, "csrf_token": token}
    assert browser.post(base + "/login", data=form, allow_redirects=False, timeout=30).ok
    return browser


def test_web_and_worker_hosts_with_different_directories_share_the_bucket(
    app, s3, bucket, smtp_server, mailbox, tmp_path
):
    web_dir, worker_dir = tmp_path / "web-host", tmp_path / "worker-host"
    ws = make.workspace("acme", smtp=smtp_server.settings)
    editor = make.user("editor@example.com", ws, "editor")
    job = make.mailing_job(ws, PEOPLE, "<h1>For {{ people.name }}</h1>")
    bearer = {
        "Authorization": "Bearer "
        + create_token(editor, ws, permissions=["jobs:read", "jobs:write"], name="t")[1]
    }
    worker = start_process(app, "workers.worker", HERALD_STORAGE_DIR=str(worker_dir))
    try:
        with gunicorn(app, workers=1, threads=2, env={"HERALD_STORAGE_DIR": str(web_dir)}) as base:
            api = f"{base}/api/v1/ws/acme/jobs/{job.code}/runs"
            started = requests.post(api, json={}, headers=bearer, timeout=30)
            assert started.status_code == 200, started.text
            run_id = started.json()["jobRunId"]
            wait_for(lambda: reload_run(run_id).status == "finished", timeout=180)
            assert [e.status for e in entries_of(run_id)] == ["Completed"] * len(PEOPLE)

            artifacts = db.session.scalars(db.select(Artifact).order_by(Artifact.id)).all()
            assert len(artifacts) == len(PEOPLE)
            browser = log_in(base, "editor@example.com")
            for artifact in artifacts:
                stored = bucket.get_object(Bucket=BUCKET, Key=s3 + artifact.storage_key)
                expected = stored["Body"].read()
                url = f"{api}/{run_id}/entries/{artifact.entry_id}/artifacts/{artifact.id}"
                pdf = requests.get(url, headers=bearer, timeout=30)
                assert pdf.status_code == 200 and pdf.content == expected
                assert pdf.content.startswith(b"%PDF")
                page = browser.get(f"{base}/w/acme/artifacts/{artifact.id}/a.pdf", timeout=30)
                assert page.status_code == 200 and page.content == expected
                thumbnail = f"{base}/w/acme/artifacts/{artifact.id}/thumbnail.png"
                picture = browser.get(thumbnail, allow_redirects=False, timeout=30)
                assert picture.status_code == 200, picture.headers.get("Location")
                assert Image.open(io.BytesIO(picture.content)).width == 160
    finally:
        stop(worker)

    assert sorted(m["To"] for m in mailbox.messages) == sorted(p["email"] for p in PEOPLE)
    # Nothing on either host's disk (nor this process's): the bucket holds every file.
    assert files_in(web_dir, worker_dir, Path(app.config["STORAGE_DIR"])) == []
    thumbnails = [k for k in keys_under(bucket, s3) if k.startswith(s3 + "thumbnails/")]
    assert len(thumbnails) == len(PEOPLE)
