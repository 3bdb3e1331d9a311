"""In a real browser: the Quickstart by clicking — from the URL `./dev run` prints, through the
Jobs list's New job button and the six steps, to Run now — never typing a URL."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers import htmx_ready


def test_quickstart_by_clicking(page, live_server, workers, demo, mailbox, screenshot):
    page.goto(live_server)  # the one URL a newcomer is given; it asks for a login
    page.get_by_label("Email").fill("demo@herald.local")
    page.get_by_label("Password").fill("herald-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Report generation jobs")).to_be_visible()
    page.get_by_role("link", name="New job").click()
    expect(page).to_have_url(re.compile(r"/w/demo/jobs/drafts/\d+/configuration$"))

    # Step 1, first with an error shown beside its field.
    page.get_by_label("Code").fill("Not Valid")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page.locator("#err-name")).to_have_text("Job name is required")
    expect(page.locator("#err-code")).to_contain_text("may use lowercase letters, digits and -")
    screenshot("wizard-1-error")
    page.get_by_label("Job name").fill("Statements by click")
    page.get_by_label("Code").fill("")
    page.get_by_label("Enable scheduled generation").check()
    screenshot("wizard-1-configuration")
    page.get_by_role("button", name="Save step and continue").click()

    expect(page).to_have_url(re.compile(r"/parameters$"))
    page.get_by_role("button", name="Add parameter").click()
    page.get_by_label("Name of parameter 1").fill("period")
    page.get_by_label("Type of parameter 1").select_option("date")
    page.get_by_label("Default of parameter 1").fill("start_of_month")
    screenshot("wizard-2-parameters")
    page.get_by_role("button", name="Save step and continue").click()

    expect(page).to_have_url(re.compile(r"/data-sources$"))
    page.get_by_role("button", name="Add data source").click()
    page.get_by_label("Alias of data source 1").fill("customers")
    page.get_by_label("Data source 1", exact=True).select_option("customers")
    page.get_by_label("Repeating").check()
    page.get_by_role("button", name="Save step and continue").click()

    expect(page).to_have_url(re.compile(r"/reports$"))
    page.get_by_role("button", name="Add report").click()
    htmx_ready(page.get_by_label("Template"))
    page.get_by_label("Template").select_option("customer-statement")
    expect(page.get_by_label("Binding of customerId")).to_be_visible()  # htmx refreshed the form
    page.get_by_label("Binding of customerId").select_option("column")
    page.get_by_label("Value of customerId").fill("id")
    page.get_by_label("Value of period").fill("period")
    screenshot("wizard-4-reports")
    page.get_by_role("button", name="Save step and continue").click()

    expect(page).to_have_url(re.compile(r"/schedule$"))
    page.get_by_label("Start date").fill("2026-01-01")
    page.get_by_label("Start time").fill("07:00")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Day of the month").fill("1")
    preview = page.locator("#schedule-preview")
    expect(preview).to_contain_text("Day 1 of every month at 07:00, Europe/Berlin")
    first = preview.locator("time").first
    expect(first).to_have_attribute("datetime", re.compile(r"-01T07:00:00\+0[12]:00$"))
    # Shown in the viewer's zone, with the schedule's own zone beside it.
    expect(preview.locator(".schedule-zone").first).to_contain_text("07:00 CET in Europe/Berlin")
    screenshot("wizard-5-schedule")
    page.get_by_role("button", name="Save step and continue").click()

    expect(page).to_have_url(re.compile(r"/deliveries$"))
    page.get_by_role("button", name="Add email").click()
    page.get_by_label("To", exact=True).click()
    page.get_by_role("button", name="{customers.email}").click()  # the placeholder picker
    expect(page.get_by_label("To", exact=True)).to_have_value("{customers.email}")
    page.get_by_label("Subject").fill("Your statement for {params.period}")
    page.get_by_role("textbox", name="Message (HTML)").fill("Dear {customers.name},")  # Quill
    screenshot("wizard-6-deliveries")
    page.get_by_role("button", name="Save step and continue").click()

    expect(page).to_have_url(re.compile(r"/review$"))
    page.get_by_role("button", name="Dry run (sends nothing)").click()
    # The dry run renders a PDF: on a loaded machine that takes longer than expect's 5 s.
    expect(page.locator("#dry-run")).to_contain_text("Nothing was sent.", timeout=60_000)
    expect(page.locator("#dry-run")).to_contain_text("mason.moore@example.com")
    screenshot("wizard-7-dry-run")
    page.get_by_role("button", name="Save job").click()

    expect(page).to_have_url(re.compile(r"/w/demo/jobs/statements-by-click$"))
    page.get_by_label("Period").fill("2026-10-01")
    page.get_by_role("button", name="Run now").click()
    expect(page.locator('[data-bucket="completed"]')).to_have_text("29", timeout=120_000)
    screenshot("wizard-8-run")
    link = page.get_by_role("link", name=re.compile(r"customer-statement-\d+\.pdf")).first
    response = page.request.get(live_server + link.get_attribute("href"))
    assert response.body().startswith(b"%PDF")
    assert len(mailbox.messages) == 29
