"""In a real browser: log in, Run now, watch the run page update live, open a statement."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_run_now_and_watch_the_run_complete_live(
    page, live_server, workers, demo, mailbox, screenshot
):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("demo@herald.local")
    page.get_by_label("Password").fill("herald-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Report generation jobs")).to_be_visible()
    screenshot("01-job-list")

    page.get_by_role("link", name="Monthly Customer Statements").click()
    page.get_by_label("Statement period").fill("2026-10-01")
    screenshot("02-job-detail")
    page.get_by_role("button", name="Run now").click()
    expect(page).to_have_url(re.compile(r"/w/demo/runs/\d+$"))
    # A marker on the window survives htmx swaps but not a full page load.
    page.evaluate("window.__noReload = true")

    expect(page.locator('[data-bucket="completed"]')).to_have_text("29", timeout=120_000)
    expect(page.locator('[data-bucket="errors"]')).to_have_text("1")
    expect(page.locator('[data-bucket="queued"]')).to_have_text("0")
    expect(page.locator("#run-live .badge.status-finished")).to_be_visible()
    assert page.evaluate("window.__noReload") is True
    screenshot("03-run-finished")

    expect(page.get_by_text("no recipient").first).to_be_visible()
    link = page.get_by_role("link", name=re.compile(r"statement-1-2026-10-01\.pdf"))
    response = page.request.get(live_server + link.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    assert len(mailbox.messages) == 29
