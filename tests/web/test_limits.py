"""Sizes on the screens: each limit refused beside its field (or a friendly 413 page) with
nothing stored, and pages that show long values cut short — above all the live run fragment
that is polled every second."""

from __future__ import annotations

import io
import re

import pytest

from app.extensions import db
from app.limits import KB, MB
from app.models import DataSource, JobDraft, ReportTemplate, Run
from app.runs.create import start_run
from tests import factories as make
from tests.web.test_resources import template_form
from tests.web.test_wizard import STEP_DATA, new_draft, post_step

HX = {"HX-Request": "true"}
EDITOR, VIEWER = "editor@acme.example", "viewer@acme.example"


@pytest.fixture
def acme(app, smtp_server):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    make.user(EDITOR, ws, "editor")
    make.user(VIEWER, ws, "viewer")
    return ws


@pytest.fixture
def login(auth):
    return lambda email=EDITOR: auth.login(email, make.PASSWORD)


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# --- each limit through the web forms ------------------------------------------------------


def test_a_parameter_over_4_kb_is_refused_beside_its_field_and_starts_nothing(auth, demo):
    auth.login()
    response = auth.post(
        "/w/demo/jobs/monthly-statements/runs",
        {"param.period": "2" * (5 * KB)},
        page="/w/demo/jobs/monthly-statements",
    )
    assert response.status_code == 422
    error = re.search(r'<span class="field-error" id="err-period">([^<]*)<', response.text)
    assert error, "no error beside the period field"
    assert error[1] == (
        "5 KB is too large: a parameter value may be at most 4 KB (HERALD_MAX_PARAMETER_BYTES)"
    )
    assert count(Run) == 0


def test_a_default_over_4_kb_is_refused_beside_its_field_in_the_wizard(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    form = {"p-0-name": "note", "p-0-type": "string", "p-0-default": "n" * (5 * KB)}
    response = post_step(auth, base, "parameters", form)
    assert response.status_code == 422
    assert re.search(
        r'id="err-parameters-0-default">5 KB is too large: a parameter value may be at most '
        r"4 KB \(HERALD_MAX_PARAMETER_BYTES\)<",
        response.text,
    )
    assert db.session.scalars(db.select(JobDraft)).one().data["parameters"] == []


def test_an_upload_over_the_content_limit_is_refused_beside_the_field(app, auth, demo, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_SOURCE_BYTES", 1 * KB)  # HERALD_MAX_SOURCE_BYTES=1K
    csv = b"name,email\n" + b"Ada Lovelace,ada@example.com\n" * 80  # 2.3 KB
    auth.login()
    response = auth.post(
        "/w/demo/sources/new?kind=csv",
        {"name": "People", "code": "people", "kind": "csv", "file": (io.BytesIO(csv), "p.csv")},
        page="/w/demo/sources/new?kind=csv",
    )
    assert response.status_code == 422, response.text
    assert (
        'id="s-content-error">2.3 KB is too large: a data source&#39;s content may be at most '
        "1 KB (HERALD_MAX_SOURCE_BYTES)<"
    ) in response.text
    assert "Ada Lovelace" not in response.text  # the refused file is not sent back
    assert db.session.scalars(db.select(DataSource).filter_by(code="people")).first() is None


def test_a_template_over_its_limit_is_refused_beside_the_html_and_not_saved_or_rendered(
    app, auth, demo, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_TEMPLATE_BYTES", 1 * KB)
    html = "<p>Hello {{ params.who }}</p>\n" * 100  # 3 KB
    auth.login()
    before = count(ReportTemplate)
    response = auth.post("/w/demo/templates/new", template_form(html=html))
    assert response.status_code == 422
    assert re.search(
        r'id="t-html-error">[^<]*KB is too large: a template source may be at most 1 KB '
        r"\(HERALD_MAX_TEMPLATE_BYTES\)<",
        response.text,
    )
    assert count(ReportTemplate) == before

    form = {**template_form(html=html), "sample.who": "Ada"}
    del form["code"], form["name"]
    preview = auth.post("/w/demo/templates/preview", form, page="/w/demo/templates/new")
    assert preview.status_code == 422
    assert "HERALD_MAX_TEMPLATE_BYTES" in preview.text


def test_a_body_over_the_request_limit_is_a_friendly_413_page(app, auth, demo, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * KB)
    auth.login()
    response = auth.post(
        "/w/demo/sources/new?kind=csv",
        {
            "name": "People",
            "code": "people",
            "kind": "csv",
            "file": (io.BytesIO(b"name\n" + b"x" * (100 * KB)), "people.csv"),
        },
        page="/w/demo/sources/new?kind=csv",
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "<h1>Too large</h1>" in response.text
    assert "a request may be at most 64 KB (HERALD_MAX_REQUEST_BYTES)" in response.text
    assert 'href="/"' in response.text  # a way back
    assert db.session.scalars(db.select(DataSource).filter_by(code="people")).first() is None


def test_a_form_field_larger_than_flasks_500_kb_default_reaches_the_domain_check(app, auth, demo):
    """Flask refuses any form field over 500 KB by default; Herald lifts that so a pasted
    template just over 512 KB gets its own message beside the field, not a 413."""
    auth.login()
    html = "<p>{{ params.who }}</p>" + "x" * (600 * KB)
    response = auth.post("/w/demo/templates/new", template_form(html=html))
    assert response.status_code == 422
    assert "a template source may be at most 512 KB (HERALD_MAX_TEMPLATE_BYTES)" in response.text


# --- no page embeds an unbounded value --------------------------------------------------------

BIG = 2 * MB


@pytest.fixture
def big_run(app, acme, monkeypatch) -> int:
    """A held-for-review run with a 2 MB parameter (an admin raised the limit) and a 2 MB row
    value (well within the 10 MB a data source may hold)."""
    monkeypatch.setitem(app.config, "MAX_PARAMETER_BYTES", 4 * MB)
    rows = [{"name": "W" * BIG, "email": "ada@example.com"}, {"name": "Bob", "email": "b@x.io"}]
    job = make.people_job(
        acme,
        rows,
        "<p>statement</p>",
        parameters=[{"name": "note", "type": "string"}],
        hold_for_review=True,
    )
    return start_run(job, None, params={"note": "N" * BIG}, data={"memo": "M" * (60 * KB)}).id


def assert_bounded(text: str, limit: int) -> None:
    assert len(text.encode()) < limit, f"{len(text.encode())} bytes"
    for letter in "NWM":
        assert letter * 201 not in text


def test_the_polled_run_fragment_stays_small_with_a_2_mb_parameter_and_row_value(
    big_run, login, client, work
):
    login()
    url = f"/w/acme/runs/{big_run}"
    pending = client.get(url, headers=HX)
    assert 'hx-trigger="every 1s"' in pending.text  # this is the fragment polled every second
    assert "<html" not in pending.text
    assert_bounded(pending.text, 8 * KB)

    work()
    finished = client.get(url, headers=HX)
    assert finished.status_code == 200 and "<html" not in finished.text
    assert "W" * 80 + "… (2 MB)" in finished.text  # the row value, cut short
    assert "N" * 20 not in finished.text  # the parameter is never in the polled fragment
    assert_bounded(finished.text, 12 * KB)


def test_run_entry_and_review_pages_show_long_values_cut_short(big_run, login, client, work):
    work()
    login()
    page = client.get(f"/w/acme/runs/{big_run}").text
    assert "<code>note</code> = " + "N" * 200 + "… (2 MB)" in page
    assert "<code>memo</code> = " + "M" * 200 + "… (60 KB)" in page
    assert_bounded(page, 24 * KB)

    entry_url = re.search(r'href="(/w/acme/runs/\d+/entries/\d+)"', page)[1]
    entry = client.get(entry_url).text
    assert "<dd>" + "W" * 200 + "… (2 MB)</dd>" in entry
    assert_bounded(entry, 16 * KB)

    review = client.get("/w/acme/review").text
    assert "W" * 80 + "… (2 MB)" in review
    assert_bounded(review, 24 * KB)


# --- first contact: New job ---------------------------------------------------------------


def test_the_empty_job_list_explains_a_job_and_offers_new_job_to_an_editor(acme, login, client):
    login()
    page = client.get("/w/acme/jobs").text
    assert "No jobs yet" in page
    assert "A job turns your report templates and data into documents" in page
    button = '<a class="btn btn-primary" href="/w/acme/jobs/new">New job</a>'
    assert page.count(button) == 2  # in the header and in the empty state

    opened = client.get("/w/acme/jobs/new")
    assert opened.status_code == 302
    wizard = client.get(opened.headers["Location"])
    assert wizard.status_code == 200 and "Job name" in wizard.text


def test_a_viewer_gets_no_new_job_button_and_is_told_who_can_create_one(acme, login, client):
    login(VIEWER)
    page = client.get("/w/acme/jobs").text
    assert "A job turns your report templates and data into documents" in page
    assert "New job" not in page
    assert "its editors and admins can create jobs" in page
    assert client.get("/w/acme/jobs/new").status_code == 403


def test_the_job_list_has_new_job_for_editors_only(auth, client, demo):
    auth.login()
    page = client.get("/w/demo/jobs").text
    assert "Monthly Customer Statements" in page
    assert '<a class="btn btn-primary" href="/w/demo/jobs/new">New job</a>' in page
    assert "No jobs yet" not in page

    client.post("/logout", data={"csrf_token": re.search(r'csrf_token" value="([^"]+)', page)[1]})
    auth.login("viewer@herald.local")
    viewer_page = client.get("/w/demo/jobs").text
    assert "Monthly Customer Statements" in viewer_page
    assert "New job" not in viewer_page
