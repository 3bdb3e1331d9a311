"""In a real browser, what a new user running monthly statements tripped over: the wizard's
error summary named fields by their internal path, and a run waiting for a worker showed a
full progress bar."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from app.extensions import db
from app.models import Connection
from tests.helpers import htmx_ready


def log_in(page, live_server: str) -> None:
    page.goto(live_server)
    page.get_by_label("Email").fill("demo@herald.local")
    page.get_by_label("Password").fill("herald-demo")
    page.get_by_role("button", name="Log in").click()


def test_the_wizard_summary_names_each_field_as_its_form_does(page, live_server, demo):
    log_in(page, live_server)
    page.goto(f"{live_server}/w/demo/jobs/new")
    page.get_by_role("button", name="Save step and continue").click()  # no Job name
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link", name="Job name")).to_be_visible()

    page.get_by_label("Job name").fill("Statements with tables")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/parameters$"))
    page.get_by_role("link", name=re.compile(r"Reports$")).click()
    page.get_by_role("button", name="Add report").click()
    htmx_ready(page.get_by_label("Template"))
    page.get_by_label("Template").select_option("customer-statement")
    expect(page.get_by_label("Binding of customerId")).to_be_visible()
    page.get_by_label("Binding of customerId").select_option("value")
    page.get_by_label("Value of customerId").fill("1")
    page.get_by_label("Binding of period").select_option("value")
    page.get_by_label("Value of period").fill("2026-11-01")
    page.get_by_label("CSV", exact=True).check()
    page.get_by_label("transactions").check()
    page.get_by_label("monthly").check()  # a CSV file holds one table
    page.get_by_role("button", name="Save step and continue").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("nothing was saved")
    expect(summary).not_to_contain_text("reports.0")  # the internal path, meaningless to a person
    link = summary.get_by_role("link", name="Report 1 · Data sections for CSV / Excel")
    expect(link).to_be_visible()
    link.click()  # it leads to the message beside the field
    expect(page).to_have_url(re.compile(r"#err-reports-0-table_sections$"))
    expect(page.locator("#err-reports-0-table_sections")).to_contain_text("pick one section")


def test_a_run_waiting_for_a_worker_says_so_and_shows_nothing_done(page, live_server, demo):
    """No worker process: Run now makes a run nobody prepares. The run page must say plainly
    that no worker is running, and its progress bar must not look finished."""
    log_in(page, live_server)
    page.goto(f"{live_server}/w/demo/jobs/monthly-statements")
    page.get_by_role("button", name="Run now").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    expect(page.locator("[data-no-worker]")).to_contain_text(
        "No worker is running: this run's work stays queued until a worker starts"
    )
    expect(page.get_by_text("Preparing entries…")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Entries done")).to_have_attribute("value", "0")

    page.get_by_role("link", name="System").click()  # the admin's next look
    expect(
        page.get_by_text("No worker is running: queued work waits until one starts")
    ).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^generate 1 "))).to_be_visible()


def test_an_smtp_host_with_its_port_is_flagged_and_not_saved(page, live_server, demo):
    """`smtp.example.com:25` in Host was saved, then every send failed to resolve it."""
    log_in(page, live_server)
    page.goto(f"{live_server}/w/demo/connections")
    page.get_by_role("link", name="New SMTP server").click()
    page.get_by_label("Name", exact=True).fill("Office relay")
    page.get_by_label("Code").fill("office-relay")
    page.get_by_label("Host").fill("smtp.example.com:25")
    page.get_by_label("Port", exact=True).fill("587")
    page.get_by_label("From address").fill("Billing <billing@example.com>")
    page.get_by_role("button", name="Save connection").click()

    expect(page.get_by_role("alert")).to_contain_text("The connection was not saved")
    expect(page.locator("#c-host-error")).to_have_text(
        "enter the host name alone, e.g. smtp.example.com (the port goes in Port)"
    )
    assert db.session.scalar(db.select(Connection).filter_by(code="office-relay")) is None

    page.get_by_label("Host").fill("smtp.example.com")
    page.get_by_role("button", name="Save connection").click()
    expect(page.get_by_text("Connection “Office relay” saved.")).to_be_visible()
    saved = db.session.scalar(db.select(Connection).filter_by(code="office-relay"))
    assert saved.settings["host"] == "smtp.example.com"


def test_the_top_bar_fits_one_row_at_1280_px_and_system_looks_like_its_neighbours(
    page, live_server, demo, app, monkeypatch, tmp_path
):
    """At 1280 px the bar wrapped API onto a second row, and System (admins only, outside
    the nav) was the body's underlined blue on the dark bar."""
    monkeypatch.setitem(
        app.config, "OUTBOX_DIR", str(tmp_path)
    )  # Outbox in the bar, as in ./dev run
    log_in(page, live_server)  # the page fixture's viewport is 1280 × 900
    page.goto(f"{live_server}/w/demo/runs")
    bar = page.locator("header.topnav")
    tops = [
        round(link.bounding_box()["y"])
        for link in bar.get_by_role("navigation", name="Main").get_by_role("link").all()
    ]
    assert len(tops) == 8 and len(set(tops)) == 1, tops  # Jobs … API on one row

    def look(name: str) -> list[str]:
        return bar.get_by_role("link", name=name, exact=True).evaluate(
            "e => { const s = getComputedStyle(e); return [s.color, s.textDecorationLine]; }"
        )

    assert look("System") == look("Jobs")  # neither is the current page here
    assert look("System")[1] == "none"


def test_a_connection_without_a_code_is_told_the_code_is_required(page, live_server, demo):
    log_in(page, live_server)
    page.goto(f"{live_server}/w/demo/connections")
    page.get_by_role("link", name="New webhook secret").click()
    page.get_by_label("Name", exact=True).fill("Partner portal")
    page.get_by_label("Signing secret").fill("s3cret-s3cret-s3cret-s3cret")
    page.get_by_role("button", name="Save connection").click()
    expect(page.get_by_role("alert")).to_contain_text("The connection was not saved")
    expect(page.locator("#c-code-error")).to_have_text("Code is required")
    assert db.session.scalar(db.select(Connection).filter_by(name="Partner portal")) is None


def test_the_dry_run_offers_its_files_to_open_and_download(page, live_server, demo):
    """The dry run listed the CSV and Excel files by name only (the one way to see what a
    customer would get was to save the job and run it for real), and its PDF link, boosted
    by htmx, put the PDF's bytes into the page as text."""
    log_in(page, live_server)
    page.goto(f"{live_server}/w/demo/jobs/monthly-statements")
    page.get_by_role("button", name="Edit job").click()
    page.get_by_role("link", name=re.compile(r"Reports")).click()
    page.get_by_label("CSV", exact=True).check()
    page.get_by_label("Excel (XLSX)").check()
    page.get_by_label("transactions").check()
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/schedule$"))
    page.get_by_role("link", name="Review & save").click()
    # The summary says which files each entry gets, as the job page does.
    expect(page.locator("#review dt:text-is('Reports') + dd")).to_have_text(
        "customer-statement (PDF, CSV, XLSX)"
    )
    page.get_by_role("button", name="Dry run (sends nothing)").click()

    dry = page.locator("#dry-run")
    expect(dry).to_contain_text("Nothing was sent")
    with page.expect_download() as csv_download:
        dry.get_by_role("link", name=re.compile(r"\.csv$")).click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    header = Path(csv_download.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert "amount_cents" in header and "booked_on" in header
    with page.expect_download() as xlsx_download:
        dry.get_by_role("link", name=re.compile(r"\.xlsx$")).click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    assert Path(xlsx_download.value.path()).read_bytes()[:2] == b"PK"  # a zip: an XLSX workbook

    dry.get_by_role("link", name=re.compile(r"\.pdf$")).click()
    expect(page).to_have_url(re.compile(r"/dry-run/0\.pdf$"))
    expect(page.locator("body")).not_to_contain_text("%PDF-")  # the viewer, not raw bytes


def test_a_rows_buttons_sit_beside_its_title(page, live_server, demo):
    """The wizard's "Email 1" title had its ↑ and Remove buttons on a line of their own,
    straddling the fieldset's border."""
    log_in(page, live_server)
    page.goto(f"{live_server}/w/demo/jobs/monthly-statements")
    page.get_by_role("button", name="Edit job").click()
    page.get_by_role("link", name=re.compile(r"Deliveries")).click()
    page.get_by_role("button", name="Add webhook").click()
    legend = page.locator("legend", has_text="Delivery 2 · Webhook")
    for name in ("Move delivery 2 up", "Remove delivery 2"):
        button = legend.get_by_role("button", name=name)
        expect(button).to_be_visible()
        overlap = button.evaluate(
            """b => { const t = document.createRange();
                t.selectNodeContents(b.closest("legend").firstChild);
                const r = t.getBoundingClientRect(), s = b.getBoundingClientRect();
                return s.top < r.bottom && s.bottom > r.top; }"""
        )
        assert overlap, f"{name} is not on the line of its title"
