"""In a real browser, what a new user tripped over on a first pass: the Tokens page behind the
address in the bar, CSV options beside a PDF-only report, the wizard's unstyled text boxes,
an address example in a webhook's condition, "Email 1" in the wizard but "Delivery 1" in its
error summary, and a finished run's Cancel that did not say what it would cancel."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.review.decisions import approve_entries
from app.runs.create import start_run
from tests import factories as make
from tests.e2e.test_daily_screens import answer_dialogs
from tests.e2e.test_new_user_pass import log_in
from tests.helpers import entries_of


def edit_demo_step(page, live_server: str, step: str) -> None:
    """Open the demo job's wizard (a draft of it) on `step`."""
    log_in(page, live_server)
    page.goto(f"{live_server}/w/demo/jobs/monthly-statements")
    page.get_by_role("button", name="Edit job").click()
    page.get_by_role("link", name=re.compile(step)).click()
    expect(page).to_have_url(re.compile(r"/drafts/\d+/"))


def test_the_tokens_page_is_named_in_the_top_bar(page, live_server, demo):
    """The only way to Personal Access Tokens was the user's address, a link that said
    nothing of tokens (only a hover title did)."""
    log_in(page, live_server)
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/w/demo/runs")
        bar = page.locator("header.topnav")
        expect(bar).to_contain_text("demo@herald.local")  # who is logged in still shows
        link = bar.get_by_role("link", name="API tokens")
        expect(link).to_be_in_viewport(ratio=1)
        link.click()
        expect(page.get_by_role("heading", name="Personal Access Tokens")).to_be_visible()
        expect(bar.get_by_role("link", name="API tokens")).to_have_attribute("aria-current", "page")
    page.set_viewport_size({"width": 1280, "height": 800})
    nav = page.get_by_role("navigation", name="Main")
    tops = {round(a.bounding_box()["y"]) for a in nav.get_by_role("link").all()}
    assert len(tops) == 1, tops  # the nav still fits one row beside it


def test_csv_options_show_only_while_csv_is_ticked(page, live_server, demo):
    """A PDF-only report showed "CSV delimiter" and the byte-order-mark box, and the data
    sections for CSV / Excel, as if they applied to it."""
    edit_demo_step(page, live_server, "Reports$")
    expect(page.get_by_label("PDF")).to_be_checked()
    expect(page.get_by_label("CSV delimiter")).to_be_hidden()
    expect(page.get_by_label("Start the CSV with a byte order mark (for Excel)")).to_be_hidden()
    expect(page.get_by_text("Data sections for CSV / Excel")).to_be_hidden()

    page.get_by_label("Excel (XLSX)").check()
    expect(page.get_by_text("Data sections for CSV / Excel")).to_be_visible()
    expect(page.get_by_label("CSV delimiter")).to_be_hidden()  # Excel has no delimiter
    page.get_by_label("CSV", exact=True).check()
    expect(page.get_by_label("CSV delimiter")).to_be_visible()
    expect(page.get_by_label("Start the CSV with a byte order mark (for Excel)")).to_be_visible()


def test_the_wizards_text_boxes_look_like_its_other_fields(page, live_server, demo):
    """Inputs without a type (Job name, Code, the deliveries' To…) missed the stylesheet's
    text-input rule: thin black boxes beside padded, rounded selects."""
    log_in(page, live_server)
    page.goto(f"{live_server}/w/demo/jobs/new")

    def look(locator) -> list[str]:
        return locator.evaluate(
            "e => { const s = getComputedStyle(e); return [s.paddingLeft, s.borderTopColor,"
            " s.borderTopLeftRadius]; }"
        )

    styled = look(page.get_by_label("Description"))  # a textarea: always styled
    assert look(page.get_by_label("Job name")) == styled
    assert look(page.get_by_label("Code")) == styled
    page.goto(f"{live_server}/tokens")
    assert look(page.get_by_label("Name")) == look(page.get_by_label("Expires after"))


def test_a_webhooks_condition_example_is_no_address_check(page, live_server, demo):
    """Every condition field, a webhook's too, suggested `{customers.email} != null && …`,
    and named `customers` whatever the job's repeating alias."""
    edit_demo_step(page, live_server, "Deliveries$")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#d-1-url")).to_be_visible()
    email, webhook = page.get_by_label("Delivery condition").all()
    expect(email).to_have_attribute("placeholder", "e.g. {customers.email} != null")
    expect(webhook).to_have_attribute("placeholder", "e.g. {customers.balance} > 0")


def test_deliveries_are_named_as_the_error_summary_names_them(page, live_server, demo):
    """The wizard titled deliveries "Email 1", "Webhook 2" while its error summary said
    "Delivery 2 · Url" and "Delivery 2 · Timeout seconds" of fields labelled otherwise."""
    edit_demo_step(page, live_server, "Deliveries$")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#d-1-url")).to_be_visible()
    expect(page.locator("legend", has_text="Delivery 1 · Email")).to_be_visible()
    expect(page.locator("legend", has_text="Delivery 2 · Webhook")).to_be_visible()

    page.get_by_label("Timeout (seconds)").fill("soon")
    page.get_by_role("button", name="Save step and continue").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link", name="Delivery 2 · URL")).to_be_visible()
    expect(summary.get_by_role("link", name="Delivery 2 · Timeout (seconds)")).to_be_visible()


PEOPLE = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]


def test_cancel_of_a_finished_run_names_the_held_entries_it_drops(
    page, live_server, app, work, smtp_server, mailbox
):
    """Generation done, Ada approved and sent, Bob and Cy held: the run reads "ended", and
    its button said only "Cancel run", asking about "2 unfinished entries"; afterwards
    "1 entries that had not finished are cancelled"."""
    ws = make.workspace("acme", smtp=smtp_server.settings)
    editor = make.user("ed@acme.example", ws, "editor")
    run = start_run(make.mailing_job(ws, PEOPLE, hold_for_review=True), None)
    work()
    ada = entries_of(run.id)[0]
    approve_entries(ws, editor, [ada.id])
    work()
    assert [m["To"] for m in mailbox.messages] == ["ada@example.com"]

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("ed@acme.example")
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/w/acme/runs/{run.id}")
    seen: list[str] = []
    answer_dialogs(page, [False, True], seen)
    button = page.get_by_role("button", name="Cancel run: don't send 2 held entries")
    button.click()
    expect(page.locator("#run-live .badge.outcome")).to_have_text("waiting for review")
    assert seen == [
        f"Cancel run #{run.id} and its 2 entries held for review? They will not be sent. "
        "The 1 entry already delivered stays delivered."
    ]
    page.get_by_role("button", name="Cancel run: don't send 2 held entries").click()
    expect(page.locator(".flash.success")).to_have_text(
        f"Run #{run.id} cancelled: 2 entries held for review will not be sent; "
        "entries already delivered stay delivered."
    )
    expect(page.locator("#run-live .badge.outcome")).to_have_text("cancelled")
    expect(page.get_by_role("button", name=re.compile("Cancel run"))).to_have_count(0)
    work()
    assert [m["To"] for m in mailbox.messages] == ["ada@example.com"]


def test_review_and_save_says_where_a_webhook_posts(page, live_server, demo):
    """Review & save listed an email with its To but a webhook as the bare word "Webhook":
    nothing to check the address against before saving."""
    edit_demo_step(page, live_server, "Deliveries$")
    page.get_by_role("button", name="Add webhook").click()
    page.locator("#d-1-url").fill("https://hooks.example.com/statements")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/review$"))
    expect(page.locator("#review dt:text-is('Deliveries') + dd")).to_have_text(
        "Email to {customers.name} <{customers.email}>, "
        "Webhook to https://hooks.example.com/statements"
    )


def test_a_refused_token_form_keeps_what_was_picked(page, live_server, demo):
    """With no name, the Tokens form came back as Read only, 90 days: a person who had
    ticked Write and 30 days, then only typed the name, got a token they had not asked
    for. With no permission ticked it said "choose from jobs:read, jobs:write" beside a
    Read box it had ticked again itself."""
    log_in(page, live_server)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Jobs → Read").uncheck()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("give the token at least one permission")).to_be_visible()
    expect(page.get_by_label("Jobs → Read")).not_to_be_checked()

    page.get_by_label("Jobs → Write").check()
    page.get_by_label("Expires after").select_option(label="30 days")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#err-name")).to_have_text("give the token a name")
    expect(page.get_by_label("Jobs → Write")).to_be_checked()
    expect(page.get_by_label("Jobs → Read")).not_to_be_checked()
    expect(page.get_by_label("Expires after")).to_have_value("30")

    page.get_by_label("Name").fill("deploy")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_be_visible()
    expect(page.locator("table.data tbody tr", has_text="deploy")).to_contain_text("jobs:write")


def test_the_wizards_rows_of_fields_stack_on_a_phone(page, live_server, demo):
    """At 390 px a parameter's Name, Type, Label and Default stood side by side in a table:
    the page scrolled sideways to 760 px, or, styled to fit, each box showed four letters."""
    edit_demo_step(page, live_server, "Parameters$")
    page.set_viewport_size({"width": 390, "height": 844})
    for label in ("Name of parameter 1", "Type of parameter 1", "Default of parameter 1"):
        field = page.get_by_label(label)
        expect(page.get_by_text(label, exact=True)).to_be_visible()  # headings are gone
        assert field.bounding_box()["width"] > 200, label
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("link", name=re.compile("Data Sources$")).click()
    expect(page.get_by_label("Alias of data source 1")).to_be_visible()
    assert page.get_by_label("Alias of data source 1").bounding_box()["width"] > 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_file_name_example_names_the_jobs_own_rows(page, live_server, app, smtp_server):
    """The Reports step suggested `statement-{customers.id}.pdf` to every job, whose rows
    may be called anything: copied, it failed as an unknown placeholder."""
    ws = make.workspace("acme", smtp=smtp_server.settings)
    make.user("ed@acme.example", ws, "editor")
    job = make.mailing_job(ws, PEOPLE)  # its repeating rows are `people`
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("ed@acme.example")
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/w/acme/jobs/{job.code}")
    page.get_by_role("button", name="Edit job").click()
    page.get_by_role("link", name=re.compile("Reports$")).click()
    hint = page.locator(".field", has=page.get_by_label("File name")).locator(".hint")
    expect(hint).to_contain_text("e.g. statement-{people.id}.pdf")


def test_leaving_a_step_with_unsaved_changes_asks_first(page, live_server, demo):
    """A delivery added on the Deliveries step vanished without a word when another step's
    link was clicked before "Save step and continue"."""
    edit_demo_step(page, live_server, "Deliveries$")
    expect(page).to_have_url(re.compile(r"/deliveries$"))
    step_url = page.url
    seen: list[str] = []
    answer_dialogs(page, [False, True], seen)
    panels = page.locator("fieldset.delivery")
    expect(panels).to_have_count(1)  # the demo job's email
    page.get_by_role("button", name="Add webhook").click()
    expect(panels).to_have_count(2)

    page.get_by_role("link", name=re.compile("Configuration")).click()  # "stay" answered
    expect(panels).to_have_count(2)
    assert page.url == step_url and seen == [
        "Leave this step without saving it? What you changed here will be lost."
    ]

    page.get_by_role("link", name=re.compile("Configuration")).click()  # "leave" answered
    expect(page.get_by_label("Job name")).to_be_visible()
    assert len(seen) == 2
    # A saved step leaves without a question.
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/parameters$"))
    page.get_by_role("link", name=re.compile("Reports")).click()
    expect(page).to_have_url(re.compile(r"/reports$"))
    assert len(seen) == 2
