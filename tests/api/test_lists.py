"""#18 point 1: every list takes seed 002's q, sort, limit and start, and gives its total in
X-Total-Count (the envelope lists in `total` too); bad values are a 422 naming the parameter."""

from __future__ import annotations

import pytest

from tests import factories as make
from tests.api.test_contract import JOBS, RUNS, assert_envelope
from tests.helpers import FEW_CUSTOMERS, token_for


def copy_jobs(api, names: list[str]) -> None:
    definition = api.get(JOBS + "/monthly-statements").get_json()["definition"]
    for name in names:
        code = name.lower().replace(" ", "-")
        created = api.post(JOBS, {**definition, "code": code, "name": name, "description": ""})
        assert created.status_code == 201, created.get_json()


def test_jobs_limit_start_sort_q_and_total(api):
    copy_jobs(api, ["Alpha", "Beta", "Gamma", "Delta"])
    response = api.get(JOBS + "?limit=2")
    assert response.headers["X-Total-Count"] == "5"
    assert [j["name"] for j in response.get_json()] == ["Alpha", "Beta"]
    second = api.get(JOBS + "?limit=2&start=2").get_json()
    assert [j["name"] for j in second] == ["Delta", "Gamma"]
    assert [j["code"] for j in api.get(JOBS + "?sort=-code&limit=1").get_json()] == [
        "monthly-statements"
    ]
    found = api.get(JOBS + "?q=ALPH")
    assert [j["name"] for j in found.get_json()] == ["Alpha"]
    assert found.headers["X-Total-Count"] == "1"
    by_description = api.get(JOBS + "?q=statement").get_json()  # the demo job's description
    assert [j["code"] for j in by_description] == ["monthly-statements"]
    assert api.get(JOBS + "?start=99").get_json() == []


def test_jobs_default_limit_is_30(api):
    copy_jobs(api, [f"Job {n:02}" for n in range(31)])
    response = api.get(JOBS)
    assert len(response.get_json()) == 30 and response.headers["X-Total-Count"] == "32"


@pytest.mark.parametrize(
    "query,field",
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("start=-1", "start"),
        ("start=99999999999999999999", "start"),
        ("sort=nope", "sort"),
        ("sort=-", "sort"),
        ("q=" + "x" * 201, "q"),
        ("q=a%00b", "q"),
    ],
)
def test_bad_list_parameters_are_422_naming_them(api, query, field):
    body = assert_envelope(api.get(f"{JOBS}?{query}"), 422, "validation_error")
    assert [e["field"] for e in body["error"]["details"]["errors"]] == [field]


def test_runs_list(api, work):
    ids = [api.post(RUNS, {}).get_json()["jobRunId"] for _ in range(3)]
    response = api.get(RUNS + "?limit=2&start=1")
    body = response.get_json()
    assert (body["total"], body["start"], body["limit"]) == (3, 1, 2)
    assert response.headers["X-Total-Count"] == "3"
    assert [r["id"] for r in body["items"]] == [ids[1], ids[0]]
    assert [r["id"] for r in api.get(RUNS + "?sort=id").get_json()["items"]] == ids
    assert api.get(RUNS + "?q=api").get_json()["total"] == 3
    assert api.get(RUNS + "?q=schedule").get_json()["total"] == 0
    # seed 000's page/perPage still work, and a huge page is a 422, not an overflow
    assert [r["id"] for r in api.get(RUNS + "?perPage=2&page=2").get_json()["items"]] == [ids[0]]
    body = assert_envelope(api.get(RUNS + "?page=99999999999999999999"), 422, "validation_error")
    assert body["error"]["details"]["errors"][0]["field"] == "page"
    assert_envelope(api.get(RUNS + "?status=nope"), 422, "validation_error")


@pytest.mark.customers(FEW_CUSTOMERS)
def test_entries_list(api, work):
    run_id = api.post(RUNS, {}).get_json()["jobRunId"]
    work()
    entries = RUNS + f"/{run_id}/entries"
    response = api.get(entries + "?limit=5")
    assert response.headers["X-Total-Count"] == str(FEW_CUSTOMERS)
    assert [e["seq"] for e in response.get_json()["items"]] == [1, 2, 3, 4, 5]
    assert [e["seq"] for e in api.get(entries + "?sort=-seq&limit=2").get_json()["items"]] == [
        FEW_CUSTOMERS,
        FEW_CUSTOMERS - 1,
    ]
    first = response.get_json()["items"][0]
    name = next(v for v in first["row"].values() if isinstance(v, str) and len(v) > 3)
    found = api.get(entries + "?q=" + name.upper()).get_json()
    assert first["id"] in [e["id"] for e in found["items"]]
    assert api.get(entries + "?bucket=errors").get_json()["total"] == 1
    assert_envelope(api.get(entries + "?bucket=nope"), 422, "validation_error")


def test_review_queue(api, work, demo):
    rows = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]
    make.mailing_job(demo, rows, code="held", hold_for_review=True)
    run_id = api.post(JOBS + "/held/runs", {}).get_json()["jobRunId"]
    work()
    queue = "/api/v1/ws/demo/review"
    response = api.get(queue + "?limit=2")
    body = response.get_json()
    assert (body["total"], response.headers["X-Total-Count"]) == (3, "3")
    assert [e["row"]["name"] for e in body["items"]] == ["Ada", "Bob"]
    assert body["items"][0]["jobRunId"] == run_id and body["items"][0]["job"]["code"] == "held"
    assert [e["row"]["name"] for e in api.get(queue + "?q=bo").get_json()["items"]] == ["Bob"]
    assert [e["row"]["name"] for e in api.get(queue + "?sort=-seq").get_json()["items"]] == [
        "Cy",
        "Bob",
        "Ada",
    ]
    assert api.get(queue + "?job=monthly-statements").get_json()["total"] == 0
    assert api.get(queue + f"?jobRunId={run_id}&start=2").get_json()["items"][0]["row"] == rows[2]


def test_tokens_list(api, app):
    for name in ("ci deploy", "nightly export"):
        token_for("demo@herald.local", "demo", ["jobs:read"], name=name)
    response = api.get("/api/v1/ws/demo/tokens?sort=name&limit=2")
    body = response.get_json()
    assert body["total"] == 3 and response.headers["X-Total-Count"] == "3"
    assert [t["name"] for t in body["items"]] == ["ci deploy", "nightly export"]
    assert all(t["prefix"].startswith("hrld_") for t in body["items"])
    assert "token" not in str(body["items"][0].keys()).lower().replace("prefix", "")
    found = api.get("/api/v1/ws/demo/tokens?q=NIGHT").get_json()["items"]
    assert [t["name"] for t in found] == ["nightly export"]
