"""In a real browser: the rich-text email Message, "Send a test to me", a chat connection's
Test button, and the error-notice choice (issue 15 points 5 and 6)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.jobs.drafts import start_draft
from app.models import Connection, JobDraft
from app.outbound.secrets import set_secrets
from tests import factories as make
from tests.helpers import Reply

PEOPLE = [{"name": "Ada", "email": "ada@example.com"}, {"name": "Bob", "email": "bob@example.com"}]


@pytest.fixture
def editing(page, live_server, app, smtp_server):
    """A mailing job opened in the wizard (Configuration step) by its admin."""
    ws = make.workspace("acme", smtp=smtp_server.settings)
    me = make.user("me@example.com", ws, "admin")
    job = make.mailing_job(ws, PEOPLE)
    draft = start_draft(ws, me, job)
    log_in(page, live_server)
    # Straight to the wizard: the job page (main at the time of writing) still has an inline
    # onsubmit on Delete job, which the CSP refuses and this fixture would report.
    page.goto(f"{live_server}/w/acme/jobs/drafts/{draft.id}/configuration")
    return ws


def log_in(page, live_server) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("me@example.com")
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_message_is_edited_in_a_rich_text_editor(page, editing, screenshot):
    page.get_by_role("link", name="6. Deliveries").click()
    editor = page.get_by_role("textbox", name="Message (HTML)")
    expect(editor).to_be_visible()
    expect(page.locator(".ql-toolbar button.ql-bold")).to_be_visible()
    expect(page.locator(".ql-toolbar button.ql-link")).to_be_visible()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+b")
    page.keyboard.type("Hello ")
    page.keyboard.press("Control+b")
    page.get_by_role("button", name="{people.name}").click()  # the placeholder picker
    expect(editor).to_contain_text("Hello {people.name}")
    screenshot("deliveries-1-rich-text-1280")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/review$"))
    db.session.expire_all()
    message = db.session.query(JobDraft).one().data["deliveries"][0]["message"]
    assert message == "<p><strong>Hello </strong>{people.name}</p>"


def test_send_a_test_to_me_reaches_only_me(page, editing, mailbox, screenshot):
    page.get_by_role("link", name="Review & save").click()
    page.get_by_role("button", name="Send a test to me").click()
    expect(page.locator("#send-test")).to_have_text(
        re.compile("Test sent to me@example.com only"), timeout=60_000
    )
    screenshot("deliveries-2-send-test-1280")
    assert mailbox.envelopes == [["me@example.com"]]
    assert mailbox.messages[0]["Subject"] == "[Test] s"


def test_slack_connection_test_button_shows_the_answer(
    page,
    live_server,
    app,
    serve,
    screenshot,
):
    ws = make.workspace("acme")
    make.user("me@example.com", ws, "admin")
    server = serve(Reply(200, b"ok"))
    item = Connection(workspace_id=ws.id, code="team-chat", name="Team chat", kind="slack")
    item.settings = {}
    set_secrets(item, {"url": f"{server.base}/services/T0/B0/x"})
    db.session.add(item)
    db.session.commit()
    log_in(page, live_server)
    page.goto(f"{live_server}/w/acme/connections/team-chat")
    test = page.get_by_role("button", name="Test", exact=True)
    expect(test).to_be_enabled()
    test.click()
    expect(page.locator("#probe-result")).to_have_text("The receiver answered HTTP 200: ok")
    assert b"Herald test message" in server.received[0].body
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("deliveries-3-connection-test-390")


def test_error_notice_addresses_are_checked_beside_the_field(page, editing, screenshot):
    page.get_by_label("these addresses:").check()
    page.get_by_role("button", name="Save step and continue").click()
    expect(page.locator("#err-error_notice_to")).to_contain_text("enter at least one address")
    page.get_by_label("Error notice addresses").fill("ops@example.com")
    screenshot("error-notice-1-configuration-1280")
    page.get_by_role("button", name="Save step and continue").click()
    expect(page).to_have_url(re.compile(r"/parameters$"))
    db.session.expire_all()
    data = db.session.query(JobDraft).one().data
    assert (data["error_notice"], data["error_notice_to"]) == ("addresses", "ops@example.com")
