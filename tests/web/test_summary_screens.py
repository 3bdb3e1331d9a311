"""The written summary on the template screen: its settings, and the preview that asks the
model only when the person presses "Generate summary" (docs/SUMMARY.md)."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import ReportTemplate
from app.rendering.narrative import MAX_PROMPT_CHARS, PREVIEW_STAND_IN
from tests import factories as make
from tests.helpers import Reply, pdf_text

HX = {"HX-Request": "true"}
SUMMARY = "Three orders, 42.50 in all."


@pytest.fixture
def ws(app, auth):
    workspace = make.workspace("acme")
    make.user("ed@example.com", workspace)
    make.json_source(workspace, "orders", [{"item": "lamp", "amount": 30}])
    auth.login("ed@example.com", make.PASSWORD)
    return workspace


@pytest.fixture
def model(app, serve, monkeypatch):
    answer = {"choices": [{"message": {"role": "assistant", "content": SUMMARY}}]}
    server = serve(Reply(body=json.dumps(answer).encode(), content_type="application/json"))
    monkeypatch.setitem(app.config, "LLM_BASE_URL", server.base)
    monkeypatch.setitem(app.config, "LLM_MODEL", "test-model")
    return server


def form(**fields) -> dict:
    values = {
        "name": "Orders",
        "code": "orders",
        "html": "<h1>Orders</h1><p>{{ narrative.text }}</p>",
        "css": "",
        "ds_alias": ["orders"],
        "ds_source": ["orders"],
        "summary_enabled": "1",
        "summary_prompt": "Mention the lamp.",
    }
    return {**values, **fields}


def test_the_summary_settings_are_saved_and_shown_again(ws, auth, client, model):
    response = auth.post("/w/acme/templates/new", form())
    assert response.status_code == 303
    saved = db.session.scalars(db.select(ReportTemplate).filter_by(code="orders")).one()
    assert saved.summary == {"enabled": True, "prompt": "Mention the lamp."}
    page = client.get("/w/acme/templates/orders").text
    assert 'id="t-summary-enabled" name="summary_enabled" value="1" checked' in page
    assert "\nMention the lamp.</textarea>" in page
    button = page[page.index('id="summary-button"') :].split(">", 1)[0]
    assert 'hx-post="/w/acme/templates/preview"' in button
    assert model.received == []  # saving never asks the model

    auth.post("/w/acme/templates/orders", form(summary_enabled=None, summary_prompt=""))
    db.session.expire_all()
    assert saved.summary == {"enabled": False, "prompt": ""}


def test_a_long_prompt_addendum_is_refused_beside_the_field(ws, auth):
    too_long = "x" * (MAX_PROMPT_CHARS + 1)
    response = auth.post("/w/acme/templates/new", form(summary_prompt=too_long))
    assert response.status_code == 422
    assert (
        f'id="t-summary-prompt-error">keep the prompt addendum within {MAX_PROMPT_CHARS} '
        "characters<" in response.text
    )
    assert db.session.scalars(db.select(ReportTemplate)).all() == []


def test_the_preview_asks_the_model_only_on_generate_summary(ws, auth, model):
    page = "/w/acme/templates/new"
    typing = auth.post("/w/acme/templates/preview", form(), page=page, headers=HX)
    assert typing.status_code == 200 and 'src="data:application/pdf;base64,' in typing.text
    assert 'id="preview-summary"' not in typing.text
    assert model.received == []
    plain = auth.post("/w/acme/templates/preview", form(), page=page)
    assert PREVIEW_STAND_IN in " ".join(pdf_text(plain.data).split())

    asked = auth.post("/w/acme/templates/preview", form(summarise="1"), page=page, headers=HX)
    assert '<section id="preview-summary"' in asked.text and "<html" not in asked.text
    assert f"<p>{SUMMARY}</p>" in asked.text
    (request,) = model.received
    system, user = json.loads(request.body)["messages"]
    assert "Mention the lamp." in system["content"]  # the unsaved addendum
    assert '"orders":[{"item":"lamp","amount":30}]' in user["content"]
    sent = len(system["content"]) + len(user["content"])
    assert f"{sent} characters sent" in asked.text

    no_js = auth.post("/w/acme/templates/preview", form(summarise="1"), page=page)
    assert SUMMARY in " ".join(pdf_text(no_js.data).split())


def test_without_an_endpoint_the_screen_says_so_and_offers_no_button(ws, auth, client):
    page = auth.post("/w/acme/templates/new", form(), page="/w/acme/templates/new")
    assert page.status_code == 303
    text = client.get("/w/acme/templates/orders").text
    assert "No summary endpoint is configured on this server" in text
    assert 'id="summary-button"' not in text
