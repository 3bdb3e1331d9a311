"""Issue #15 points 1, 3, 4, 7, 8 without a browser: routes, refusals and rendering rules."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Job, JobDraft
from app.web.run_filters import date_bounds, run_filters
from app.web.timezones import local_time, zone_named
from tests import factories as make

EDITOR, VIEWER = "ed@acme.example", "viewer@acme.example"
DAILY = {"start": "2026-01-01T09:00", "timezone": "America/New_York", "trigger": "daily"}


@pytest.fixture
def acme(app):
    ws = make.workspace("acme")
    make.user(EDITOR, ws, "editor")
    make.user(VIEWER, ws, "viewer")
    make.template(ws, "letter", "<p>Hello</p>")
    make.job(
        ws,
        code="daily",
        name="Daily",
        scheduled=True,
        schedule=DAILY,
        reports=[{"template": "letter"}],
    )
    return ws


def login(auth, email=EDITOR):
    auth.login(email, make.PASSWORD)


def test_local_time_names_the_zone_and_reads_naive_values_as_utc():
    instant = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert local_time(instant, zone=ZoneInfo("Europe/Berlin")) == "2026-07-01 14:30 CEST"
    assert local_time(instant.replace(tzinfo=None), "second", UTC) == "2026-07-01 12:30:00 UTC"
    assert local_time(None) == ""
    assert zone_named("Asia/Tokyo") is not None
    for bad in ("", "Nowhere/City", "../../etc/passwd", "/etc/localtime", "x" * 100):
        assert zone_named(bad) is None


def test_run_filters_report_each_bad_field_and_drop_only_that_filter():
    filters, errors = run_filters({"outcome": "finished", "from": "2026-02-30", "to": "2026-01-01"})
    assert errors == {
        "outcome": "choose one of the listed outcomes",
        "from": "enter a date as YYYY-MM-DD",
    }
    assert filters == {"job": None, "outcome": None, "date_from": None, "date_to": "2026-01-01"}
    _, errors = run_filters({"from": "2026-01-02", "to": "2026-01-01"})
    assert errors == {"to": "the range ends before it starts"}
    start, end = date_bounds("2026-07-01", "2026-07-01", ZoneInfo("Asia/Tokyo"))
    assert start == datetime(2026, 6, 30, 15, tzinfo=UTC)  # midnight in Tokyo
    assert (end - start).total_seconds() == 24 * 3600


def test_pages_use_the_browser_zone_from_the_cookie(auth, client, acme):
    login(auth)
    client.set_cookie("herald_tz", "Asia/Tokyo")
    page = client.get("/w/acme/jobs/daily").text
    assert "Times are shown in <strong data-viewer-zone>Asia/Tokyo</strong>" in page
    assert " JST" in page and "in America/New_York)" in page
    client.set_cookie("herald_tz", "Mars/Olympus")  # unknown: UTC, and the page says so
    assert "data-viewer-zone>UTC<" in client.get("/w/acme/jobs").text


def test_a_viewer_can_neither_pause_duplicate_nor_delete(auth, client, acme):
    login(auth, VIEWER)
    page = client.get("/w/acme/jobs").text
    assert "Duplicate" not in page and "Pause" not in page
    for action in ("pause", "resume", "duplicate", "delete"):
        response = auth.post(f"/w/acme/jobs/daily/{action}", page="/w/acme/jobs")
        assert response.status_code in (403, 404), action
    job = db.session.scalars(db.select(Job).filter_by(code="daily")).one()
    assert job.scheduled and db.session.scalars(db.select(JobDraft)).all() == []


def test_pause_from_the_list_returns_to_the_list(auth, client, acme):
    login(auth)
    response = auth.post("/w/acme/jobs/daily/pause", {"from": "list"}, page="/w/acme/jobs")
    assert response.status_code == 303 and response.location.endswith("/w/acme/jobs")
    assert "paused" in client.get("/w/acme/jobs").text


def test_new_job_continues_an_untouched_draft_and_offers_named_ones(auth, client, acme):
    login(auth)
    first = client.get("/w/acme/jobs/new")
    assert first.status_code == 302
    assert client.get("/w/acme/jobs/new").location == first.location  # no pile of drafts
    draft = db.session.scalars(db.select(JobDraft)).one()
    draft.data = {**draft.data, "name": "Half done"}
    draft.valid_steps = ["configuration"]
    db.session.commit()
    page = client.get("/w/acme/jobs/new").text
    assert "You have unfinished drafts" in page and "Half done" in page
    assert 'data-confirm="Discard the draft “Half done”?' in page
    started = auth.post("/w/acme/jobs/new", page="/w/acme/jobs/new")
    assert started.status_code == 303 and "/configuration" in started.location
    assert len(db.session.scalars(db.select(JobDraft)).all()) == 2


def test_every_page_has_the_navigation_the_skip_link_and_one_copy_of_a_flash(auth, client, acme):
    login(auth)
    client.get("/w/acme/jobs")
    for url in ("/tokens", "/w/acme/jobs/missing", "/no/such/page", "/w/acme/runs"):
        page = client.get(url).text
        assert 'href="/w/acme/jobs"' in page and 'href="/w/acme/runs"' in page, url
        assert '<a class="skip-link" href="#main">Skip to content</a>' in page, url
    client.get("/logout")  # GET is not logout; the session stays
    for _ in range(2):
        auth.post("/w/acme/jobs/daily/pause", page="/w/acme/jobs/daily")
    page = client.get("/w/acme/jobs").text
    assert page.count("Scheduled generation of &#39;Daily&#39; paused.") == 1


def test_swagger_ui_prefills_only_a_workspace_of_the_user(auth, client, acme):
    assert 'data-workspace=""' in client.get("/swagger/index.html?ws=acme").text  # logged out
    login(auth)
    make.workspace("other")
    assert 'data-workspace="acme"' in client.get("/swagger/index.html?ws=acme").text
    page = client.get("/swagger/index.html?ws=other").text  # not a member: the user's own
    assert 'data-workspace="acme"' in page and "Back to Herald" in page
