"""The optional written summary (docs/SUMMARY.md), against a real local HTTP server speaking
the chat-completions shape: the text in the PDF and in a real email, failures that leave it
empty with a warning, the bounded input, and the key kept out of pages, API and logs."""

from __future__ import annotations

import json
import logging

import pytest

from app import storage
from app.extensions import db
from app.models import Artifact, Job
from app.rendering.narrative import TRUNCATED, bounded_json
from app.review.redeliver import deliver_entries
from app.runs.create import start_run
from tests import factories as make
from tests.api.conftest import Api, token_for
from tests.helpers import Received, Reply, entries_of, pdf_text, reload_run

KEY = "sk-test-d0-not-leak-7c1f"
SUMMARY = "Ada bought 3 items for 42.50 in total; the largest was the lamp."
ORDERS = [
    {"item": "lamp", "amount": 30.0},
    {"item": "pen", "amount": 2.5},
    {"item": "book", "amount": 10.0},
]
HTML = "<h1>Statement for {{ people.name }}</h1><p class='summary'>{{ narrative.text }}</p>"


def chat_answer(text: str = SUMMARY) -> Reply:
    message = {"role": "assistant", "content": text}
    body = {"id": "c1", "choices": [{"index": 0, "message": message}]}
    return Reply(body=json.dumps(body).encode(), content_type="application/json")


@pytest.fixture
def endpoint(app, serve, monkeypatch):
    """Configure the summary against a local server; `endpoint(reply)` sets its answer."""

    def configure(reply: Reply):
        server = serve(reply)
        monkeypatch.setitem(app.config, "LLM_BASE_URL", server.base + "/v1")
        monkeypatch.setitem(app.config, "LLM_API_KEY", KEY)
        monkeypatch.setitem(app.config, "LLM_MODEL", "test-model")
        return server

    return configure


def summary_job(smtp_server, *, orders=ORDERS, prompt: str = "Name the largest item.") -> Job:
    ws = make.workspace(smtp=smtp_server.settings)
    make.user("ed@example.com", ws)
    make.json_source(ws, "people", [{"name": "Ada", "email": "ada@example.com"}])
    make.json_source(ws, "orders", orders)
    template = make.template(
        ws, "statement", HTML, data_sources=[{"alias": "orders", "source": "orders"}]
    )
    template.summary = {"enabled": True, "prompt": prompt}
    db.session.commit()
    delivery = {
        "kind": "email",
        "to": "{people.email}",
        "subject": "Statement: {narrative.text}",
        "message": "<p>Summary: {narrative.text}</p>",
    }
    return make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "statement"}],
        deliveries=[delivery],
    )


def sent_messages(request: Received) -> list[dict]:
    return json.loads(request.body)["messages"]


def the_pdf(entry_id: int) -> str:
    (artifact,) = db.session.scalars(db.select(Artifact).filter_by(entry_id=entry_id)).all()
    return pdf_text(storage.load(artifact.storage_key))


def test_the_summary_lands_in_the_pdf_and_the_email_and_is_written_once(
    app, work, smtp_server, mailbox, endpoint
):
    server = endpoint(chat_answer())
    job = summary_job(smtp_server)
    run_id = start_run(job, None).id
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "Completed" and entry.warnings is None
    assert SUMMARY in " ".join(the_pdf(entry.id).split())
    (message,) = mailbox.messages
    assert message["Subject"] == f"Statement: {SUMMARY}"
    assert f"Summary: {SUMMARY}" in message.get_body(("plain",)).get_content()

    (request,) = server.received
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = json.loads(request.body)
    assert body["model"] == "test-model"
    system, user = sent_messages(request)
    assert (system["role"], user["role"]) == ("system", "user")
    assert "Name the largest item." in system["content"]  # the template's addendum
    assert '{"item":"lamp","amount":30.0}' in user["content"]  # its data section, compact
    assert entry.narrative == {
        "text": SUMMARY,
        "reports": [
            {
                "report": "statement",
                "prompt_chars": len(system["content"]) + len(user["content"]),
                "response_chars": len(SUMMARY),
                "truncated": False,
                "ok": True,
            }
        ],
    }

    # Sending the entry again (Deliver selected) reuses the stored text: no second call.
    editor = make.user("ed@example.com")
    assert deliver_entries(reload_run(run_id), [entry.id], editor)["redelivered"] == 1
    work()
    assert len(server.received) == 1
    assert [m["Subject"] for m in mailbox.messages] == [f"Statement: {SUMMARY}"] * 2


@pytest.mark.parametrize(
    ("reply", "warning"),
    [
        (Reply(status=500, body=b"upstream exploded"), "the summary endpoint answered HTTP 500"),
        (
            Reply(body=b"<html>not json</html>", content_type="text/html"),
            "the summary endpoint's answer is not JSON",
        ),
        (
            Reply(body=b'{"choices": []}', content_type="application/json"),
            "the summary endpoint's answer has no choices[0].message.content",
        ),
        (chat_answer("   "), "the summary endpoint answered with an empty text"),
        (Reply(delay=1.5, body=b"{}"), "the summary endpoint gave no answer within 0.2 s"),
    ],
    ids=["http-500", "not-json", "no-choices", "empty-text", "timeout"],
)
def test_a_failing_endpoint_leaves_the_summary_empty_with_a_warning(
    app, work, smtp_server, mailbox, endpoint, monkeypatch, reply, warning
):
    monkeypatch.setitem(app.config, "LLM_TIMEOUT_SECONDS", 0.2)
    server = endpoint(reply)
    run_id = start_run(summary_job(smtp_server), None).id
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "Completed"
    assert entry.warnings == [f"statement: summary not written: {warning}"]
    assert entry.narrative["text"] == ""
    (record,) = entry.narrative["reports"]
    assert record["ok"] is False and record["response_chars"] == 0
    assert record["prompt_chars"] > 0
    assert "Statement for Ada" in the_pdf(entry.id)
    (message,) = mailbox.messages  # delivered all the same, with an empty summary
    assert message["Subject"] == "Statement:"
    assert len(server.received) == 1  # never retried
    assert reload_run(run_id).status == "finished"


def test_the_input_is_cut_to_the_configured_limit(app, work, smtp_server, endpoint, monkeypatch):
    monkeypatch.setitem(app.config, "LLM_MAX_INPUT_CHARS", 1500)
    server = endpoint(chat_answer())
    many = [{"item": f"item number {i}", "amount": i * 1.25} for i in range(500)]
    run_id = start_run(summary_job(smtp_server, orders=many), None).id
    work()

    (request,) = server.received
    system, user = sent_messages(request)
    assert len(system["content"]) + len(user["content"]) == 1500
    assert user["content"].endswith(TRUNCATED)
    assert '{"item":"item number 0","amount":0.0}' in user["content"]
    (entry,) = entries_of(run_id)
    assert entry.narrative["reports"][0]["truncated"] is True
    assert entry.narrative["reports"][0]["prompt_chars"] == 1500
    assert entry.narrative["text"] == SUMMARY


def test_off_by_default_and_unconfigured_says_so(app, work, smtp_server, mailbox, serve):
    server = serve(chat_answer())  # running, but nothing points at it
    assert app.config["LLM_BASE_URL"] is None
    job = summary_job(smtp_server)
    ws_id = job.workspace_id
    make.template(job.workspace, "plain", "<p>{{ narrative.text }}plain</p>")
    run_id = start_run(job, None).id
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "Completed"
    assert entry.warnings == ["statement: summary not written: no summary endpoint is configured"]
    assert entry.narrative["text"] == ""
    assert mailbox.messages[0]["Subject"] == "Statement:"
    assert server.received == []

    # A template without the summary turned on asks nothing and records nothing.
    other = make.job(
        job.workspace,
        code="plain-job",
        reports=[{"template": "plain"}],
    )
    assert other.workspace_id == ws_id
    run_id = start_run(other, None).id
    work()
    (entry,) = entries_of(run_id)
    assert (entry.status, entry.warnings, entry.narrative) == ("Completed", None, None)


def test_the_key_is_never_shown_or_logged(app, work, smtp_server, endpoint, client, auth, caplog):
    endpoint(Reply(status=500, body=f"bad key {KEY}".encode()))
    job = summary_job(smtp_server)
    with caplog.at_level(logging.DEBUG):
        run_id = start_run(job, None).id
        work()
    (entry,) = entries_of(run_id)
    assert entry.warnings  # the failure is on the entry, without the key

    auth.login("ed@example.com", make.PASSWORD)
    code = job.workspace.code
    page = client.get(f"/w/{code}/runs/{run_id}/entries/{entry.id}")
    assert page.status_code == 200
    assert "summary not written: the summary endpoint answered HTTP 500" in page.text
    assert 'id="entry-narrative"' in page.text

    api = Api(client, token_for("ed@example.com", code, ["jobs:read"]))
    answer = api.get(f"/api/v1/ws/{code}/jobs/{job.code}/runs/{run_id}/entries")
    assert answer.status_code == 200, answer.text
    (item,) = answer.json["items"]
    assert item["narrative"]["reports"][0]["ok"] is False
    for text in (page.text, answer.text, caplog.text, json.dumps(entry.warnings)):
        assert KEY not in text


def test_the_data_is_serialized_compactly_and_only_as_far_as_it_fits():
    sections = {"orders": ORDERS, "empty": [], "totals": {"sum": 42.5}}
    whole = bounded_json({"month": "2026-11"}, sections, 10**9)
    assert json.loads(whole) == {"parameters": {"month": "2026-11"}, "sections": sections}
    assert whole == json.dumps(json.loads(whole), separators=(",", ":"))  # compact
    huge = [{"item": f"row {i}", "amount": i} for i in range(200_000)]
    cut = bounded_json({}, {"orders": huge}, 1000)
    # Stops at the first row past the budget instead of writing 200,000 rows.
    assert 1000 < len(cut) < 1000 + len(json.dumps(huge[-1]))
    assert whole.startswith(bounded_json({"month": "2026-11"}, sections, 40)[:40])
