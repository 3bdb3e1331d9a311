"""In a real browser, issue #15 point 6: a job names who is told when a run ends with errors;
Run now, the run ends with one error, the clock's sweep sends one email with the counts and
a link, and that link opens the run in the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.delivery.error_notice import send_due_error_notices
from tests import factories as make


@pytest.fixture
def failing(app, smtp_server):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    owner = make.user("owner@example.com", ws, "editor")
    return make.job_failing_for_bob(ws, owner)


def test_a_failed_run_tells_the_named_addresses_with_a_link_to_it(
    page, live_server, workers, failing, mailbox, app, monkeypatch
):
    monkeypatch.setitem(app.config, "BASE_URL", live_server)  # the link in the email
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Statements").click()
    page.get_by_role("button", name="Edit job").click()
    expect(page).to_have_url(re.compile(r"/configuration$"))
    page.get_by_label("these addresses:").check()
    page.get_by_label("Error notice addresses").fill("ops@example.com")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/parameters$"))
    page.get_by_role("link", name="Review & save").click()
    page.get_by_role("button", name="Save job").click()
    expect(page).to_have_url(re.compile(r"/w/acme/jobs/statements$"))

    page.get_by_role("button", name="Run now").click()
    expect(page).to_have_url(re.compile(r"/w/acme/runs/\d+$"))
    run_url = page.url
    expect(page.locator('[data-bucket="errors"]')).to_have_text("1", timeout=120_000)
    expect(page.locator('[data-bucket="queued"]')).to_have_text("0")
    assert mailbox.messages == []  # the clock sends notices, once a run has ended

    assert send_due_error_notices() == 1  # what each clock tick does (workers/clock.py)
    assert send_due_error_notices() == 0  # never twice
    assert mailbox.envelopes == [["ops@example.com"]]
    text = mailbox.messages[0].get_body(("plain",)).get_content()
    assert "Entries: 3" in text and "Completed: 2" in text and "Errors: 1" in text
    link = re.search(r"http://127\.0\.0\.1:\d+/w/acme/runs/\d+", text)[0]
    assert link == run_url
    page.goto(link)
    expect(page.locator('[data-bucket="errors"]')).to_have_text("1")
    expect(page.locator('[data-bucket="completed"]')).to_have_text("2")
