"""#18 point 8: the OpenAPI document is the contract. Every /api/v1 route is in it, with its
methods; it validates as OpenAPI 3.1; each operation has a unique operationId."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def shape(path: str) -> str:
    """A path with each parameter as {} (Flask's <…> and OpenAPI's {…} alike)."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_every_api_route_is_in_the_document(app, client):
    document = client.get("/swagger/v1/swagger.json").get_json()
    documented = {
        (method.upper(), shape(path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = {
        (method, shape(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    # <any(approve, reject):action> is one rule for two documented operations
    expanded = set()
    for method, path in routes:
        if path.endswith("/entries/{}/{}") and method == "POST":
            expanded |= {(method, path[:-2] + "approve"), (method, path[:-2] + "reject")}
        else:
            expanded.add((method, path))
    assert expanded - documented == set(), "routes missing from /swagger/v1/swagger.json"
    assert documented - expanded == set(), "documented operations with no route"
    assert ("POST", shape("/api/v1/ws/{w}/jobs/{j}/runs/{r}/retry-failed")) in documented


def test_the_document_validates_and_names_each_operation_once(client):
    document = client.get("/swagger/v1/swagger.json").get_json()
    validate(document)
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) >= 31


def test_every_list_documents_its_parameters_and_total(client):
    document = client.get("/swagger/v1/swagger.json").get_json()
    lists = [
        op
        for ops in document["paths"].values()
        for op in ops.values()
        if "X-Total-Count" in op["responses"].get("200", {}).get("headers", {})
    ]
    assert {op["operationId"] for op in lists} == {
        "get_jobs",
        "get_jobs_runs",
        "get_jobs_runs_entries",
        "get_jobs_reports",
        "get_review",
        "get_tokens",
    }
    for op in lists:
        params = {p["name"]: p["schema"] for p in op["parameters"]}
        assert params["limit"]["default"] == 30 and params["limit"]["maximum"] == 200
        assert params["start"]["minimum"] == 0 and "q" in params and "enum" in params["sort"]
