"""In a real browser, issue #15 points 1, 3, 4, 7, 8: managing jobs (Duplicate, Pause/Resume,
Delete, drafts), the Runs list and run page, times in the viewer's zone, one navigation on
every page, and Swagger UI. Each test asserts what the person sees."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.database import utcnow
from app.extensions import db
from app.models import Entry, EntryDelivery, Run
from tests import factories as make
from tests.helpers import ARTIFACTS, htmx_ready, watched_page

EDITOR = "ed@acme.example"
DAILY = {"start": "2026-01-01T09:00", "timezone": "America/New_York", "trigger": "daily"}


@pytest.fixture
def acme(app):
    ws = make.workspace("acme")
    make.user(EDITOR, ws, "editor")
    make.template(ws, "letter", "<p>Hello</p>")
    return ws


def scheduled(ws, code: str = "daily-report", name: str = "Daily report", on: bool = True):
    return make.job(
        ws, code=code, name=name, scheduled=on, schedule=DAILY, reports=[{"template": "letter"}]
    )


def add_run(job, status: str, *entries: str, minutes: int = 0, took: int | None = None) -> Run:
    """A run of `job` with entries in the given statuses (each with one email delivery)."""
    created = utcnow() - timedelta(minutes=minutes)
    run = Run(
        workspace_id=job.workspace_id,
        job_id=job.id,
        trigger="manual",
        status=status,
        created_at=created,
        started_at=created,
        finished_at=created + timedelta(seconds=took) if took is not None else None,
    )
    db.session.add(run)
    db.session.flush()
    for seq, entry_status in enumerate(entries, 1):
        entry = Entry(run_id=run.id, seq=seq, status=entry_status, row={"name": f"person {seq}"})
        db.session.add(entry)
        db.session.flush()
        sent = "sent" if entry_status == "Completed" else "pending"
        db.session.add(EntryDelivery(entry_id=entry.id, position=0, kind="email", status=sent))
    db.session.commit()
    return run


def log_in(page, live_server: str, email: str = EDITOR) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Report generation jobs")).to_be_visible()


def both_widths(page, name: str) -> None:
    """Screenshots at 1280 and 390 px; at 390 the page itself must not scroll sideways."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert overflow <= 390, f"{name}: the page is {overflow} px wide at 390 px"


def answer_dialogs(page, answers: list[bool], seen: list[str]) -> None:
    """Answer the next confirm() dialogs with `answers` in turn, recording their text."""

    def handle(dialog):
        seen.append(dialog.message)
        dialog.accept() if answers.pop(0) else dialog.dismiss()

    page.on("dialog", handle)


def row(page, code: str):
    return page.locator(f'tr[data-job="{code}"]')


# ---- 1. Jobs ---------------------------------------------------------------------------


def test_pause_and_resume_from_the_list_and_the_job_page(page, live_server, acme):
    scheduled(acme)
    log_in(page, live_server)
    both_widths(page, "jobs-list")

    line = row(page, "daily-report")
    expect(line).to_contain_text("on")
    line.get_by_role("button", name="Pause").click()
    expect(page.locator(".flash.success")).to_have_text(
        "Scheduled generation of 'Daily report' paused."
    )
    expect(row(page, "daily-report")).to_contain_text("paused")
    expect(row(page, "daily-report")).to_contain_text("manual only")  # no next run shown
    expect(page).to_have_url(re.compile(r"/w/acme/jobs$"))  # back on the list

    page.get_by_role("link", name="Daily report").click()
    expect(page.locator(".card").first).to_contain_text("Scheduled generation: paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".flash.success")).to_contain_text("resumed")
    expect(page.locator("#schedule")).to_contain_text("scheduled generation is on")
    expect(page.get_by_role("button", name="Pause")).to_be_enabled()
    both_widths(page, "job-page")


def test_duplicate_opens_the_wizard_on_a_copy_with_a_new_code(page, live_server, acme):
    scheduled(acme)
    log_in(page, live_server)
    row(page, "daily-report").get_by_role("button", name="Duplicate").click()

    expect(page).to_have_url(re.compile(r"/w/acme/jobs/drafts/\d+/configuration$"))
    expect(page.locator(".flash.info")).to_contain_text("copy of 'daily-report'")
    expect(page.get_by_label("Job name")).to_have_value("Daily report (copy)")
    expect(page.get_by_label("Code")).to_have_value("daily-report-copy")
    # The wizard is part of Jobs in the navigation.
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs")
    ).to_have_attribute("aria-current", "page")
    both_widths(page, "wizard-duplicate")

    page.get_by_role("link", name="Jobs", exact=True).click()
    drafts = page.locator("#drafts-title").locator("xpath=..")
    expect(drafts).to_contain_text("Daily report (copy)")
    expect(drafts.get_by_role("link", name="Continue editing")).to_have_count(1)
    drafts.get_by_role("link", name="Continue editing").click()
    expect(page.get_by_role("heading", name="Review & save")).to_be_visible()
    page.get_by_role("button", name="Save job").click()
    expect(page.get_by_role("heading", name=re.compile("Daily report \\(copy\\)"))).to_be_visible()
    expect(page.locator(".card").first).to_contain_text("Scheduled generation: paused")


def test_delete_from_the_list_names_the_job_and_its_runs(page, live_server, acme):
    job = scheduled(acme)
    add_run(job, "finished", "Completed", took=3)
    add_run(job, "failed", took=1)
    log_in(page, live_server)
    seen: list[str] = []
    answer_dialogs(page, [False, True], seen)

    row(page, "daily-report").get_by_role("button", name="Delete").click()
    expect(row(page, "daily-report")).to_have_count(1)  # dismissed: nothing happened
    row(page, "daily-report").get_by_role("button", name="Delete").click()
    expect(page.locator(".flash.success")).to_have_text("Job 'daily-report' deleted.")
    expect(row(page, "daily-report")).to_have_count(0)
    assert (
        seen
        == ["Delete the job “Daily report” (daily-report) and its 2 runs? This cannot be undone."]
        * 2
    )


def test_delete_is_refused_while_a_run_is_in_progress(page, live_server, acme):
    job = scheduled(acme)
    add_run(job, "running", "Queued")
    log_in(page, live_server)
    answer_dialogs(page, [True], [])
    page.get_by_role("link", name="Daily report").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".flash.error")).to_contain_text("has 1 run in progress")
    expect(page.get_by_role("heading", name=re.compile("Daily report"))).to_be_visible()


def test_new_job_offers_unfinished_drafts_and_discard_asks_first(page, live_server, acme):
    log_in(page, live_server)
    page.locator(".page-header").get_by_role("link", name="New job").click()
    page.get_by_label("Job name").fill("Quarterly letters")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/parameters$"))

    page.get_by_role("link", name="Jobs", exact=True).click()
    page.locator(".page-header").get_by_role("link", name="New job").click()
    expect(page.get_by_role("heading", name="You have unfinished drafts")).to_be_visible()
    expect(page.locator(".draft-list li")).to_have_count(1)
    expect(page.locator(".draft-list")).to_contain_text("Quarterly letters")
    both_widths(page, "new-job-drafts")

    seen: list[str] = []
    answer_dialogs(page, [False, True], seen)
    page.get_by_role("button", name="Discard").click()
    expect(page.locator(".draft-list li")).to_have_count(1)
    page.get_by_role("button", name="Discard").click()
    expect(page.locator(".flash.success")).to_have_text("Draft “Quarterly letters” discarded.")
    assert seen[0].startswith("Discard the draft “Quarterly letters”?")

    page.locator(".page-header").get_by_role("link", name="New job").click()  # none left
    expect(page).to_have_url(re.compile(r"/configuration$"))
    page.get_by_label("Job name").fill("Nightly")
    page.get_by_role("button", name="Save step and continue").click()
    for step in ("parameters", "data-sources", "reports"):
        expect(page).to_have_url(re.compile(f"/{step}$"))
        if step == "reports":
            page.get_by_role("button", name="Add report").click()
            htmx_ready(page.get_by_label("Template"))
            page.get_by_label("Template").select_option("letter")
        page.get_by_role("button", name="Save step and continue").click()
    # Until is an explicit choice: Forever unless a date is typed.
    forever = page.get_by_label("Forever")
    expect(forever).to_be_checked()
    page.get_by_label("Until date", exact=True).first.check()
    page.get_by_label("Forever").check()
    expect(forever).to_be_checked()


# ---- 3. Runs ---------------------------------------------------------------------------


def test_runs_list_filters_and_shows_one_outcome_vocabulary(page, live_server, acme):
    daily = scheduled(acme)
    other = scheduled(acme, code="weekly", name="Weekly digest")
    ok = add_run(daily, "finished", "Completed", "Completed", minutes=5, took=65)
    bad = add_run(daily, "finished", "Completed", "DeliveryFailed", minutes=4, took=7)
    held = add_run(other, "finished", "PendingReview", minutes=3, took=2)
    log_in(page, live_server)
    page.get_by_role("link", name="Runs", exact=True).click()

    def badge(run):
        return page.locator(f'tr[data-run="{run.id}"] .badge.outcome')

    expect(badge(ok)).to_have_text("completed")
    expect(badge(bad)).to_have_text("completed with errors")
    expect(badge(held)).to_have_text("waiting for review")
    expect(page.locator(f'tr[data-run="{ok.id}"]')).to_contain_text("1 min 5 s")
    both_widths(page, "runs-list")

    page.get_by_label("Outcome").select_option(label="completed with errors")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-run]")).to_have_count(1)
    expect(badge(bad)).to_be_visible()

    page.get_by_label("Outcome").select_option("")
    page.get_by_label("Job").select_option(label="Weekly digest")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-run]")).to_have_count(1)
    page.locator(f'tr[data-run="{held.id}"]').get_by_role("link", name="Weekly digest").click()
    expect(page.get_by_role("heading", name=re.compile("Weekly digest"))).to_be_visible()
    # The same word and badge on the job page and its runs table.
    expect(page.locator("#schedule .badge.outcome, table .badge.outcome").first).to_have_text(
        "waiting for review"
    )

    page.goto(f"{live_server}/w/acme/runs?from=2026-13-01&to=")
    expect(page.locator("#err-from")).to_have_text("enter a date as YYYY-MM-DD")
    expect(page.locator("tr[data-run]")).to_have_count(3)  # the bad filter changed nothing
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    page.get_by_label("From").fill(tomorrow)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No runs match these filters.")).to_be_visible()


def test_cancel_asks_first_and_cancelled_entries_offer_no_delivery(page, live_server, acme):
    job = scheduled(acme)
    run = add_run(job, "running", "Completed", "Queued", "Queued")
    log_in(page, live_server)
    page.goto(f"{live_server}/w/acme/runs/{run.id}")
    seen: list[str] = []
    answer_dialogs(page, [False, True], seen)

    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator("#run-live .badge.outcome")).to_have_text("running")
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator(".flash.success")).to_contain_text(f"Run #{run.id} cancelled: 2 entries")
    assert seen[0] == (
        f"Cancel run #{run.id}? 2 unfinished entries will be cancelled: nothing more is "
        "generated or delivered."
    )
    expect(page.locator("#run-live .badge.outcome")).to_have_text("cancelled")
    rows = page.locator("#entries tbody tr")
    expect(rows.nth(1)).to_contain_text("not sent: entry cancelled")
    expect(page.locator("#entries")).not_to_contain_text("email: pending")
    expect(rows.nth(1).locator("input[type=checkbox]")).to_have_count(0)
    expect(rows.nth(0).locator("input[type=checkbox]")).to_have_count(1)  # delivered: re-send
    both_widths(page, "run-page-cancelled")

    rows.nth(1).get_by_role("link", name="2").click()
    expect(page.locator(".delivery")).to_contain_text("not sent: entry cancelled")
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    both_widths(page, "entry-page")


# ---- 4. Time ---------------------------------------------------------------------------


@pytest.fixture
def tokyo(browser):
    with watched_page(browser, timezone_id="Asia/Tokyo") as page:
        yield page


def test_times_show_in_the_browser_zone_with_the_schedule_zone_beside(tokyo, live_server, acme):
    job = scheduled(acme)
    add_run(job, "finished", "Completed", took=1)
    log_in(tokyo, live_server)
    expect(tokyo.locator("[data-viewer-zone]")).to_have_text("Asia/Tokyo")

    tokyo.get_by_role("link", name="Daily report").click()
    fires = tokyo.locator(".fire-times li")
    # 09:00 in New York is 23:00 (EST) or 22:00 (EDT) in Tokyo, the viewer's zone.
    expect(fires.first).to_contain_text(
        re.compile(r" (22|23):00 JST \(\w{3} 09:00 E[SD]T in America/New_York\)")
    )
    expect(tokyo.locator("#schedule time").first).to_have_attribute("title", "Asia/Tokyo")
    expect(tokyo.locator("main")).not_to_contain_text("UTC")
    tokyo.get_by_role("link", name="Runs", exact=True).click()
    expect(tokyo.locator("tr[data-run] time").first).to_contain_text(re.compile(r"JST$"))


# ---- 7. Consistency --------------------------------------------------------------------


def test_one_navigation_everywhere_with_a_skip_link(page, live_server, acme):
    log_in(page, live_server)
    nav = page.get_by_role("navigation", name="Main")
    for url, current in (
        ("/tokens", None),
        ("/w/acme/jobs/no-such-job", "Jobs"),
        ("/nowhere", None),
    ):
        page.goto(live_server + url)
        expect(nav.get_by_role("link", name="Jobs")).to_have_attribute("href", "/w/acme/jobs")
        expect(nav.get_by_role("link", name="Runs")).to_be_visible()
        if current:
            expect(nav.get_by_role("link", name=current)).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    both_widths(page, "error-page")

    page.goto(f"{live_server}/tokens")
    expect(page.get_by_role("link", name="API tokens")).to_have_attribute("aria-current", "page")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_a_new_token_can_be_copied_and_revoking_asks_first(page, live_server, acme):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, live_server)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("ci")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    copy = page.locator("button[data-copy]")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    both_widths(page, "tokens")

    seen: list[str] = []
    answer_dialogs(page, [False, True], seen)
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("button", name="Revoke")).to_have_count(1)
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("table .badge")).to_have_text("revoked")
    assert seen[0].startswith("Revoke the token “ci”")


def test_flash_messages_do_not_pile_up(page, live_server, acme):
    for _ in range(3):  # three refused requests, no page shown in between
        page.request.get(f"{live_server}/w/acme/runs", max_redirects=0)
    page.goto(f"{live_server}/login")
    expect(page.locator(".flash")).to_have_count(1)
    expect(page.locator(".flash")).to_have_text("Please log in to continue.")
    log_in(page, live_server)
    expect(page.locator(".flash")).to_have_count(0)


# ---- 8. Swagger UI ---------------------------------------------------------------------


def test_swagger_ui_links_back_and_prefills_the_workspace(page, live_server, acme):
    log_in(page, live_server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API").click()
    expect(page).to_have_url(re.compile(r"/swagger/index.html\?ws=acme$"))
    expect(page.locator(".swagger-ws")).to_contain_text("acme")
    operation = page.locator(".opblock").filter(has_text="/api/v1/ws/{workspaceId}/jobs").first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    expect(operation.locator('input[placeholder="workspaceId"]')).to_have_value("acme")
    both_widths(page, "swagger")
    page.get_by_role("link", name="← Back to Herald").click()
    expect(page).to_have_url(re.compile(r"/w/acme/jobs$"))
