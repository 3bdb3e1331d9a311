"""The shared read layer: one meaning of row search on every face, one pagination."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.models import Entry, Run
from app.runs.create import start_run
from app.runs.queries import entries_page, row_matches, text_prefilter_safe, value_contains
from app.tokens import create_token
from tests import factories as make

ROWS = [
    {"name": "Ada Lovelace", "email": "ada@example.com", "n": 42},
    {"name": "Bob 100%_sure", "email": "bob@example.com", "n": 7},
    {"name": "Zoë Ångström", "email": "zoe@example.com", "n": 420},
    {"name": "No Mail", "email": "", "n": None},
]
EDITOR = "editor@acme.example"
# query → how many entries match: any value contains it, case-insensitively, keys excluded.
EXPECTED = {
    "LOVELACE": 1,
    "example.com": 3,
    "Zoë": 1,
    "email": 0,  # a key, in every row: never a match
    "100%_s": 1,
    "%": 1,  # % and _ are characters, not wildcards
    "_": 1,
    "42": 2,  # numbers by their text: 42 and 420
    "nobody": 0,
}


@pytest.fixture
def held_run(app, smtp_server, work):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    user = make.user(EDITOR, ws, "editor")
    job = make.mailing_job(ws, ROWS, hold_for_review=True)
    run = start_run(job, None)
    work()
    token = create_token(user, ws, name="t", permissions=["jobs:read"])[1]
    return ws, job, run.id, token


def test_row_search_means_the_same_on_the_run_page_the_review_queue_and_the_api(
    held_run, client, auth
):
    ws, job, run_id, token = held_run
    auth.login(EDITOR, make.PASSWORD)
    bearer = {"Authorization": f"Bearer {token}"}
    for q, expected in EXPECTED.items():
        run_page = client.get(f"/w/acme/runs/{run_id}?q={quote(q)}").text
        queue = client.get(f"/w/acme/review?q={quote(q)}").text
        api = client.get(
            f"/api/v1/ws/acme/jobs/{job.code}/runs/{run_id}?q={quote(q)}", headers=bearer
        )
        assert api.status_code == 200, api.text
        found = {
            "run page": len(re.findall(r'<tr id="entry-', run_page)),
            "review queue": len(re.findall(r'<tr id="review-entry-', queue)),
            "api": api.get_json()["entriesPage"]["total"],
            "api items": len(api.get_json()["entryItems"]),
            "domain": entries_page(run_id, q=q).total,
        }
        assert set(found.values()) == {expected}, (q, found)


def test_entries_page_counts_all_and_pages_in_seq_order(held_run) -> None:
    _, _, run_id, _ = held_run
    first = entries_page(run_id, page=1, per_page=3)
    second = entries_page(run_id, page=2, per_page=3)
    assert (first.total, first.has_next, second.has_next) == (4, True, False)
    assert [e.seq for e in first.items + second.items] == [1, 2, 3, 4]
    assert entries_page(run_id, page=3, per_page=3).items == []
    with pytest.raises(ValueError):
        entries_page(run_id, bucket="nope")


# Values whose JSON text differs from the text SQLite or PostgreSQL compares: escapes, non-
# ASCII, numbers SQLite prints its own way, booleans (1/0 on SQLite), nested lists and objects.
AWKWARD_ROWS = [
    {"name": 'Say "hi"\\now', "n": 1e20, "ok": True},
    {"name": "Zoë, Ångström: [x]", "n": 0.1, "ok": False, "tags": ["a b", 1, {"k": "v w"}]},
    {"name": "Kelvin \u212a", "n": -3, "ok": None, "city": "1e+20 Inf"},
    {"name": "plain Customer 00042", "n": 42, "email": "c42@example.com"},
]
QUERY_TEXT = st.text(
    alphabet=st.sampled_from(
        sorted(
            set(
                "".join(
                    json.dumps(row, ensure_ascii=False) + json.dumps(row) + "1.0e+20 true Ki"
                    for row in AWKWARD_ROWS
                )
            )
        )
    ),
    min_size=1,
    max_size=6,
)


@pytest.fixture
def awkward_run(app):
    ws = make.workspace("acme")
    make.template(ws, "t", "<p>x</p>")
    job = make.job(ws, reports=[{"template": "t"}])
    run = Run(workspace_id=ws.id, job_id=job.id, trigger="manual", status="finished")
    db.session.add(run)
    db.session.flush()
    db.session.add_all(
        Entry(run_id=run.id, seq=n, status="Completed", row=row)
        for n, row in enumerate(AWKWARD_ROWS, 1)
    )
    db.session.commit()
    return run.id


def _found(run_id: int, condition) -> list[int]:
    query = select(Entry.seq).where(Entry.run_id == run_id, condition).order_by(Entry.seq)
    return list(db.session.scalars(query))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.one_of(QUERY_TEXT, st.sampled_from(["customer 0004", "EXAMPLE.COM", "v w", "Inf"])))
def test_the_cheaper_row_search_finds_what_the_value_by_value_search_finds(awkward_run, q):
    assert _found(awkward_run, row_matches(q)) == _found(awkward_run, value_contains(q)), q


def test_the_text_prefilter_is_used_only_for_text_that_reads_the_same_in_json():
    assert text_prefilter_safe("Customer 09999") and text_prefilter_safe("example.com")
    assert text_prefilter_safe("100%_sure") and text_prefilter_safe("O'Brien & Co")
    refused = ["42", "1.0e+20", "e+2", "", 'say "hi"', "a\\b", "a,b", "k:v", "[x]", "{", "Zoë"]
    assert [q for q in refused if text_prefilter_safe(q)] == []


def test_a_search_the_prefilter_narrows_still_finds_by_value_only(awkward_run):
    # "name" is a key in every row: the LIKE on the text passes them all, the values decide.
    assert _found(awkward_run, row_matches("name")) == []
    assert _found(awkward_run, row_matches("customer 0004")) == [4]
    assert _found(awkward_run, row_matches("V W")) == [2]  # in a nested object's value
