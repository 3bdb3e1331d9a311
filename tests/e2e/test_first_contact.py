"""In a real browser: a newcomer in an empty workspace finds New job without typing a URL, and
a form too large for the server shows a page that says so (also from a boosted wizard form)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.limits import KB
from tests import factories as make


def log_in(page, live_server: str, email: str) -> None:
    page.goto(live_server)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_empty_job_list_leads_to_the_wizard(page, live_server, app, screenshot):
    workspace = make.workspace("fresh")
    make.user("new@fresh.example", workspace, "editor")
    log_in(page, live_server, "new@fresh.example")

    empty = page.locator(".empty-state")
    expect(empty).to_contain_text("No jobs yet")
    expect(empty).to_contain_text("A job turns your report templates and data into documents")
    screenshot("first-contact-empty-jobs")
    empty.get_by_role("link", name="New job").click()
    expect(page).to_have_url(re.compile(r"/w/fresh/jobs/drafts/\d+/configuration$"))
    expect(page.get_by_label("Job name")).to_be_visible()


def test_a_viewer_is_told_who_can_create_a_job(page, live_server, app):
    workspace = make.workspace("fresh")
    make.user("look@fresh.example", workspace, "viewer")
    log_in(page, live_server, "look@fresh.example")

    expect(page.locator(".empty-state")).to_contain_text("its editors and admins can create jobs")
    expect(page.get_by_role("link", name="New job")).to_have_count(0)


def test_a_boosted_wizard_form_over_the_request_limit_shows_the_too_large_page(
    page, live_server, app, monkeypatch, screenshot
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 8 * KB)
    workspace = make.workspace("fresh")
    make.user("new@fresh.example", workspace, "editor")
    log_in(page, live_server, "new@fresh.example")
    page.locator(".empty-state").get_by_role("link", name="New job").click()

    page.get_by_label("Job name").fill("Too much")
    page.get_by_label("Description").fill("x" * (10 * KB))
    page.get_by_role("button", name="Save step and continue").click()
    expect(page.get_by_role("heading", name="Too large")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "a request may be at most 8 KB (HERALD_MAX_REQUEST_BYTES)"
    )
    expect(page.get_by_role("link", name="Back to Herald")).to_be_visible()
    screenshot("first-contact-too-large")
