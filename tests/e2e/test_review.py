"""In a real browser: bulk-approve held entries from the review queue."""

from __future__ import annotations

from playwright.sync_api import expect

from app.runs.create import start_run
from tests import factories as make

PEOPLE = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]


def test_bulk_approve_from_the_review_queue(
    page, live_server, workers, app, smtp_server, mailbox, screenshot
):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    make.user("rev@example.com", ws, "editor")
    job = make.mailing_job(ws, PEOPLE, hold_for_review=True)
    start_run(job, None)

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("rev@example.com")
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/w/acme/review")
    for _ in range(60):  # the workers generate the entries; then they wait here
        if page.locator("tr.review-row").count() == 3:
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("tr.review-row")).to_have_count(3)
    screenshot("review-1-queue")

    # The header's box selects every row on the page, as on the run page, and clears them.
    every = page.get_by_label("Select every entry on this page")
    every.check()
    for n in (1, 2, 3):
        expect(page.get_by_label(f"Select entry {n}")).to_be_checked()
    every.uncheck()
    expect(page.get_by_label("Select entry 1")).not_to_be_checked()

    # Keyboard: j moves to the first row, x selects it; the mouse selects the others.
    page.locator("body").press("j")
    page.keyboard.press("x")
    expect(page.get_by_label("Select entry 1")).to_be_checked()
    page.get_by_label("Select entry 2").check()
    page.get_by_label("Select entry 3").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_role("heading", name="Approve 3 entries?")).to_be_visible()
    screenshot("review-2-confirm")
    assert mailbox.messages == []
    page.get_by_role("button", name="Approve 3 entries").click()
    expect(page.get_by_text("3 entries approved.")).to_be_visible()
    expect(page.get_by_text("Nothing awaits review")).to_be_visible()
    for _ in range(60):
        if len(mailbox.messages) == 3:
            break
        page.wait_for_timeout(250)
    assert sorted(m["To"] for m in mailbox.messages) == [p["email"] for p in PEOPLE]
    screenshot("review-3-done")


def test_a_row_decision_updates_the_counts_of_the_filtered_queue(
    page, live_server, app, work, smtp_server
):
    """Approve / Reject on one row: the heading and "all N matching this filter" follow the
    decision, counted with the queue's filters (the row's button sends them along)."""
    ws = make.workspace("acme", smtp=smtp_server.settings)
    make.user("rev@example.com", ws, "editor")
    job = make.mailing_job(ws, PEOPLE, hold_for_review=True)
    start_run(job, None)
    work()

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("rev@example.com")
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/w/acme/review")
    expect(page.locator("#review-total")).to_have_text("3 entries awaiting approval")
    page.locator("tr", has_text="Ada").get_by_role("button", name="Approve").click()
    expect(page.locator("tr", has_text="Ada")).to_contain_text("approved by rev@example.com")
    expect(page.locator("#review-total")).to_have_text("2 entries awaiting approval")
    expect(page.locator("#review-all-total")).to_have_text("2")

    # Filtered to Cy's row ("y" is in no other value): the filter's count, not the queue's.
    page.goto(f"{live_server}/w/acme/review?q=y")
    expect(page.locator("#review-total")).to_have_text("1 entry awaiting approval")
    page.locator("tr", has_text="Cy").get_by_role("button", name="Reject").click()
    expect(page.locator("tr", has_text="Cy")).to_contain_text("rejected by rev@example.com")
    expect(page.locator("#review-total")).to_have_text("0 entries awaiting approval")
