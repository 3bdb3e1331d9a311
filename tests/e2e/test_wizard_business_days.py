"""In a real browser: the Schedule step's business-day shift and public-holiday pickers,
and the live preview's marks for moved fires and skipped holidays."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.extensions import db
from app.models import JobDraft
from tests.helpers import htmx_ready


def test_shift_and_holidays_in_the_schedule_step(page, live_server, demo, screenshot):
    page.goto(live_server)
    page.get_by_label("Email").fill("demo@herald.local")
    page.get_by_label("Password").fill("herald-demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/w/demo/jobs/new")
    page.get_by_label("Job name").fill("Payroll")
    page.get_by_label("Enable scheduled generation").check()
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/parameters$"))
    page.get_by_role("link", name=re.compile(r"Schedule$")).click()

    expect(page).to_have_url(re.compile(r"/schedule$"))
    page.get_by_label("Start date").fill("2030-06-01")
    page.get_by_label("Start time").fill("18:00")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Day of the month").fill("15")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        page.get_by_label(day, exact=True).check()
    shift = page.get_by_label("If the date is not a business day")
    expect(shift.locator("option")).to_have_text(
        [
            "Skip it",
            "Next business day",
            "Previous business day",
            "Next, but stay in the month",
            "Previous, but stay in the month",
        ]
    )
    shift.select_option(label="Previous business day")
    preview = page.locator("#schedule-preview")
    expect(preview).to_contain_text(
        "On the 15th of every month at 18:00, or the business day before"
    )
    expect(preview.locator(".fire-moved").first).to_contain_text(
        "Fri 14 Jun — moved from Sat 15 Jun"
    )

    # Public holidays: the country list is searchable (a datalist); choosing one refreshes
    # the step with that country's regions.
    region = page.get_by_label("Region (optional)")
    expect(region).to_be_disabled()
    country = page.get_by_label("Country")
    htmx_ready(country)
    country.fill("DE")
    country.press("Escape")
    country.dispatch_event("change")
    expect(region).to_be_enabled()
    assert page.locator("#holiday-regions option[value='SL']").count() == 1
    region.fill("SL")
    region.press("Escape")
    region.dispatch_event("change")
    expect(preview).to_contain_text("(not on public holidays in Germany (")
    expect(preview).to_contain_text("Wed 14 Aug — moved from Thu 15 Aug (Assumption Day)")
    screenshot("wizard-schedule-business-days")

    # SCHEDULE.md ignores `shift` with an occurrence: choosing one turns the picker off.
    occurrence = page.get_by_label("At which occurrence of an allowed day")
    htmx_ready(occurrence)
    occurrence.select_option(label="2nd")
    expect(shift).to_be_disabled()
    expect(page.locator("#shift-hint")).to_contain_text("Not used with an occurrence")
    htmx_ready(occurrence)
    occurrence.select_option(label="— fixed day of the month —")
    expect(shift).to_be_enabled()

    # A skipped holiday, with its name: day 25 with "Skip it", from December 2030.
    page.get_by_label("Start date").fill("2030-12-01")
    page.get_by_label("Day of the month").fill("25")
    shift.select_option(label="Skip it")
    expect(preview.locator(".fire-skipped").first).to_have_text(
        "Wed 25 Dec — skipped: Christmas Day"
    )

    # A country the package does not know: the error beside the pickers.
    page.get_by_label("Country").fill("Atlantis")
    page.get_by_label("Country").press("Escape")  # close Chromium's datalist popup
    page.get_by_role("button", name="Save step and continue").click()
    expect(page.locator("#err-schedule-holidays")).to_contain_text("unknown country 'Atlantis'")
    page.get_by_label("Country").fill("Germany")
    page.get_by_label("Country").press("Escape")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/deliveries$"))
    db.session.expire_all()
    rule = db.session.scalars(db.select(JobDraft)).one().data["schedule"]
    assert rule["holidays"] == {"country": "DE", "subdivision": None} or rule["holidays"] == {
        "country": "DE"
    }

    # The Review step shows the schedule as the preview did, notes included.
    page.get_by_role("link", name="Review & save").click()
    expect(page).to_have_url(re.compile(r"/review$"))
    review = page.locator("#review-schedule")
    expect(review).to_contain_text("of every month at 18:00")
    expect(review.locator(".fire-skipped").first).to_have_text(
        "Wed 25 Dec — skipped: Christmas Day"
    )


def test_htmx_swaps_set_no_inline_style_on_the_schedule_step(page, live_server, demo):
    """Something may style a field through CSSOM, which the CSP allows (a password manager,
    Playwright's screenshot hiding the caret): that leaves `style=""` on it. htmx settles
    `style` by default, i.e. setAttribute('style', …) on the swapped-in copy, which
    `style-src 'self'` refuses; base.html's htmx-config settles class, width and height only."""
    page.goto(live_server)
    page.get_by_label("Email").fill("demo@herald.local")
    page.get_by_label("Password").fill("herald-demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/w/demo/jobs/new")
    page.get_by_label("Job name").fill("Styled")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/parameters$"))
    page.get_by_role("link", name=re.compile(r"Schedule$")).click()
    expect(page).to_have_url(re.compile(r"/schedule$"))
    page.get_by_label("Start date").fill("2030-06-01")
    styled = page.evaluate(
        """() => {
            const fields = document.querySelectorAll("#wizard-form input, #wizard-form select");
            fields.forEach(f => { f.style.setProperty("caret-color", "transparent");
                                  f.style.removeProperty("caret-color"); });
            return document.querySelectorAll("#wizard-form [style]").length;
        }"""
    )
    assert styled > 5  # the fields now carry style="" as after a screenshot
    trigger = page.get_by_label("Trigger")
    htmx_ready(trigger)
    trigger.select_option("yearly")  # the form is swapped for its yearly fields
    expect(page.get_by_label("Month", exact=True)).to_be_visible()
    htmx_ready(page.locator("#wizard-form"))
    page.get_by_label("Day of the month").fill("40")
    page.get_by_role("button", name="Save step and continue").click()  # 422, swapped in
    expect(page.locator("#err-schedule-day")).to_be_visible()
    # The page fixture fails the test on any CSP report Chromium logged meanwhile.
