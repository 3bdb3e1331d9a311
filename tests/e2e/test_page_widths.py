"""In a real browser, issue #15's Tests section and point 7: the main pages not shot
elsewhere, at 1280 px and at 390 px (saved under test-artifacts/), each showing its content
and none scrolling sideways at 390 px; the wizard's Schedule and Review steps included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.jobs.drafts import start_draft
from tests import factories as make
from tests.e2e.test_daily_screens import both_widths

SHIFTED = {
    "start": "2030-06-01T18:00",
    "timezone": "Europe/Berlin",
    "trigger": "monthly",
    "day": 15,
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "shift": "preceding",
    "holidays": {"country": "DE", "subdivision": "SL"},
}


@pytest.fixture
def admin_page(page, live_server, app, smtp_server):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    admin = make.user("admin@acme.example", ws, "admin")
    make.template(ws, "letter", "<p>Hello {{ people.name }}</p>")
    make.json_source(ws, "people", [{"name": "Ada", "email": "ada@example.com"}])
    job = make.job(
        ws,
        code="payroll",
        name="Payroll",
        scheduled=True,
        schedule=SHIFTED,
        reports=[{"template": "letter"}],
    )
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("admin@acme.example")
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Report generation jobs")).to_be_visible()
    return page, start_draft(ws, admin, job)


@pytest.mark.parametrize(
    ("path", "name", "shows"),
    [
        ("/w/acme/review", "review-queue", "Nothing awaits review"),
        ("/w/acme/templates", "templates", "letter"),
        ("/w/acme/sources", "data-sources", "people"),
        ("/w/acme/connections", "connections", "SMTP"),
        ("/system", "system", "Workers"),
    ],
)
def test_main_pages_at_both_widths(admin_page, live_server, path, name, shows):
    page, _ = admin_page
    page.goto(live_server + path)
    expect(page.locator("main")).to_contain_text(shows)
    both_widths(page, name)


def test_the_wizards_schedule_and_review_steps_at_both_widths(admin_page, live_server):
    page, draft = admin_page
    base = f"{live_server}/w/acme/jobs/drafts/{draft.id}"
    page.goto(f"{base}/schedule")
    expect(page.locator("#schedule-preview .fire-moved").first).to_contain_text(
        "Fri 14 Jun — moved from Sat 15 Jun"
    )
    both_widths(page, "wizard-schedule")
    page.goto(f"{base}/review")
    expect(page.locator("#review-schedule")).to_contain_text(
        "Wed 14 Aug — moved from Thu 15 Aug (Assumption Day)"
    )
    both_widths(page, "wizard-review")
