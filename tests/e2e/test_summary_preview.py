"""In a real browser, issue #17 point 6 (the summary part): editing a template with the
written summary on never calls the model; "Generate summary" shows its text above the PDF."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests import factories as make
from tests.e2e.test_daily_screens import EDITOR, log_in
from tests.helpers import Reply

SUMMARY = "One order: a lamp for 30."


@pytest.fixture
def model(app, serve, monkeypatch):
    answer = {"choices": [{"message": {"role": "assistant", "content": SUMMARY}}]}
    server = serve(Reply(body=json.dumps(answer).encode(), content_type="application/json"))
    monkeypatch.setitem(app.config, "LLM_BASE_URL", server.base)
    monkeypatch.setitem(app.config, "LLM_MODEL", "test-model")
    return server


def test_generate_summary_shows_it_and_typing_does_not_ask(app, live_server, page, model):
    ws = make.workspace("acme")
    make.user(EDITOR, ws, "editor")
    make.json_source(ws, "orders", [{"item": "lamp", "amount": 30}])
    template = make.template(
        ws,
        "orders",
        "<h1>Orders</h1><p>{{ narrative.text }}</p>",
        data_sources=[{"alias": "orders", "source": "orders"}],
    )
    template.summary = {"enabled": True, "prompt": ""}
    db.session.commit()
    log_in(page, live_server)
    page.goto(f"{live_server}/w/acme/templates/orders")

    # Typing refreshes the live preview (after its delay) without asking the model.
    with page.expect_response("**/templates/preview"):
        page.get_by_label("Prompt addendum (optional)").fill("Mention the lamp.")
    expect(page.locator("#preview iframe[src^='data:application/pdf']")).to_be_visible()
    expect(page.locator("#preview-summary")).to_have_count(0)
    assert model.received == []

    page.get_by_role("button", name="Generate summary").click()
    summary = page.locator("#preview-summary")
    expect(summary).to_contain_text(SUMMARY)
    expect(summary).to_contain_text("characters sent")
    (request,) = model.received
    assert "Mention the lamp." in json.loads(request.body)["messages"][0]["content"]
