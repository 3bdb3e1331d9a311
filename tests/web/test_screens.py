"""The screens: login, job list, Run now, the live run page, PDFs, Outbox, roles and workspaces."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.mailcatcher import start_catcher
from app.models import Run
from app.runs.create import start_run
from app.runs.prepare import prepare_run
from tests import factories as make
from tests.helpers import FEW_CUSTOMERS, entries_of, free_port, job


def test_pages_need_a_login(client, demo):
    response = client.get("/w/demo/jobs")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_wrong_password_is_refused_with_a_message(auth, demo):
    response = auth.login(password="nope")
    assert response.status_code == 401
    assert "Email or password is not correct." in response.get_data(as_text=True)


def test_login_lands_on_the_job_list_of_the_first_workspace(auth, client, demo):
    response = auth.login()
    assert response.status_code == 302
    response = client.get(response.headers["Location"], follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Monthly Customer Statements" in page
    assert 'href="/w/demo/jobs/monthly-statements"' in page


def test_an_id_no_row_can_have_is_a_404(auth, client, demo):
    auth.login()
    assert client.get(f"/w/demo/runs/{2**31}").status_code == 404
    assert client.get(f"/w/demo/runs/{10**30}/entries/1").status_code == 404


def test_login_does_not_redirect_off_site(auth, client, demo):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "demo@herald.local", "password": "herald-demo", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_run_now_with_an_override_runs_and_shows_every_entry(auth, client, demo, work, mailbox):
    auth.login()
    response = auth.post(
        "/w/demo/jobs/monthly-statements/runs",
        {"param.period": "2026-09-01"},
        page="/w/demo/jobs/monthly-statements",
    )
    assert response.status_code == 303
    run_url = response.headers["Location"]
    run = db.session.scalars(db.select(Run)).one()
    assert run_url == f"/w/demo/runs/{run.id}"
    assert run.requested_params == {"period": "2026-09-01"}
    assert run.created_by.email == "demo@herald.local"

    live = client.get(run_url, headers={"HX-Request": "true"})
    assert "<html" not in live.text
    assert 'hx-trigger="every 1s"' in live.text  # polls while queued
    assert "HX-Request" in live.headers["Vary"]

    work()
    page = client.get(run_url).text
    assert "<html" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: polling stops
    assert re.search(r'data-bucket="completed">29<', page)
    assert re.search(r'data-bucket="errors">1<', page)
    assert "no recipient" in page
    pdf_links = re.findall(r'href="(/w/demo/artifacts/\d+/[^"]+\.pdf)"', page)
    assert len(pdf_links) == 30
    pdf = client.get(pdf_links[0])
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


@pytest.mark.customers(FEW_CUSTOMERS)
def test_errors_bucket_filter_lists_only_failed_entries(auth, client, demo, work):
    auth.login()
    run_id = start_run(job(demo), None).id
    work()
    page = client.get(f"/w/demo/runs/{run_id}?bucket=errors").text
    assert page.count('<tr id="entry-') == 1
    assert "DeliveryFailed" in page


def test_a_bad_override_is_shown_beside_its_field_and_starts_nothing(auth, client, demo):
    auth.login()
    response = auth.post(
        "/w/demo/jobs/monthly-statements/runs",
        {"param.period": "soon"},
        page="/w/demo/jobs/monthly-statements",
    )
    assert response.status_code == 422
    assert 'id="err-period">&#39;soon&#39; is not a date (YYYY-MM-DD)<' in response.text
    assert 'aria-invalid="true"' in response.text
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0


def test_a_form_without_csrf_token_is_refused(auth, client, demo):
    auth.login()
    response = client.post("/w/demo/jobs/monthly-statements/runs", data={})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0


def test_a_viewer_sees_jobs_but_cannot_run_them(auth, client, demo):
    auth.login("viewer@herald.local")
    page = client.get("/w/demo/jobs/monthly-statements").text
    assert "Monthly Customer Statements" in page
    assert 'id="run-now"' not in page
    response = auth.post("/w/demo/jobs/monthly-statements/runs", page="/w/demo/jobs")
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0


@pytest.fixture
def other(app, smtp_server, demo, work):
    """Another workspace with its own job and a finished run."""
    ws = make.workspace("globex", smtp=smtp_server.settings)
    make.user("globex@example.com", ws, "admin")
    other_job = make.people_job(
        ws, [{"name": "Secret"}], "<p>{{ people.name }}</p>", code="secret-job"
    )
    run_id = start_run(other_job, None).id
    work()
    (entry,) = entries_of(run_id)
    return {"run_id": run_id, "artifact_id": entry.artifacts[0].id}


def test_another_workspace_is_invisible(auth, client, other):
    auth.login()
    urls = [
        "/w/globex/jobs",
        "/w/globex/jobs/secret-job",
        "/w/demo/jobs/secret-job",
        f"/w/globex/runs/{other['run_id']}",
        f"/w/demo/runs/{other['run_id']}",
        f"/w/demo/artifacts/{other['artifact_id']}/letter.pdf",
        f"/w/globex/artifacts/{other['artifact_id']}/letter.pdf",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    response = auth.post("/w/globex/jobs/secret-job/runs", page="/w/demo/jobs")
    assert response.status_code == 404
    assert 'value="globex"' not in client.get("/w/demo/jobs").text  # not in the switcher


def test_cancel_stops_entries_that_have_not_started(auth, client, demo, work, mailbox):
    auth.login()
    run_id = start_run(job(demo), None).id
    prepare_run(run_id)
    response = auth.post(f"/w/demo/runs/{run_id}/cancel", page=f"/w/demo/runs/{run_id}")
    assert response.status_code == 303
    work()
    assert {e.status for e in entries_of(run_id)} == {"Cancelled"}
    assert mailbox.messages == []
    page = client.get(f"/w/demo/runs/{run_id}").text
    assert "30 cancelled" in page


def test_the_outbox_shows_each_caught_message_with_its_statement(
    auth, client, app, demo, work, tmp_path, monkeypatch
):
    from app.models import Connection
    from app.outbound.secrets import set_secrets

    port = free_port()
    catcher = start_catcher(tmp_path / "outbox", port=port)
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    mail = db.session.scalars(db.select(Connection).filter_by(code="mail")).one()
    mail.settings = {**mail.settings, "port": port}
    set_secrets(mail, {})
    db.session.commit()
    try:
        start_run(job(demo), None, params={"period": "2026-10-01"})
        work()
    finally:
        catcher.stop()

    auth.login()
    page = client.get("/outbox").text
    assert "29 messages caught" in page
    assert "mason.moore@example.com" in page
    message_url = re.search(r'href="(/outbox/[^"/]+\.eml)"', page)[1]
    message = client.get(message_url).text
    assert "Please find attached your account statement" in message
    attachment_url = re.search(r'href="(/outbox/[^"]+/attachments/0)"', message)[1]
    pdf = client.get(attachment_url)
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_the_outbox_is_absent_without_the_mail_catcher(auth, client, demo):
    auth.login()
    assert client.get("/outbox").status_code == 404
    assert ">Outbox<" not in client.get("/w/demo/jobs").text
