"""In a real browser: the template preview counts each data section's rows as samples change."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import htmx_ready


def test_row_counts_follow_the_sample_values_as_they_are_typed(page, live_server, demo, screenshot):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("demo@herald.local")
    page.get_by_label("Password").fill("herald-demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/w/demo/templates/customer-statement")
    htmx_ready(page.locator("#preview-panel"))
    page.evaluate("window.__noReload = true")  # survives htmx swaps, not a page load

    page.get_by_label("customerId").fill("3")
    page.get_by_label("period").fill("2026-01-01")
    page.get_by_role("button", name="Preview").click()
    counts = page.locator("#preview .row-count-list li")
    expect(counts).to_have_count(4)
    expect(counts.nth(0)).to_have_text("customer 1 row")
    expect(counts.nth(2)).to_have_text("opening 1 row")
    expect(page.locator("#preview iframe")).to_have_attribute(
        "src", re.compile(r"^data:application/pdf;base64,")
    )
    screenshot("template-preview-rows-1")

    # Typing another customer refreshes the preview by itself (no button press).
    page.get_by_label("customerId").fill("9999")
    expect(counts.nth(0)).to_have_text("customer 0 rows")
    expect(page.locator("#preview .row-count-empty").first).to_have_text("customer 0 rows")
    expect(counts.nth(1)).to_have_text("transactions 0 rows")
    assert page.evaluate("window.__noReload") is True
    screenshot("template-preview-rows-2")
