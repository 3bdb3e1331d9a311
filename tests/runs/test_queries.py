"""The shared read layer: one meaning of row search on every face, one pagination."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from app.runs.create import start_run
from app.runs.queries import entries_page
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
