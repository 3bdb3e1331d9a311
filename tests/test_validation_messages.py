"""Messages people read (issue #11, kind 8): validation errors in the user's words, from one
mapping, whether they come back in a form, in the API's `details` or from `jobs import`."""

from __future__ import annotations

import copy
import html
import json
import re
from typing import Any

import pytest
from pydantic import Json, TypeAdapter, ValidationError

from app.validation_messages import field_label, field_messages
from tests.helpers import Api, token_for
from tests.known_failures import DEMO_DEFINITION

JOBS = "/api/v1/ws/demo/jobs"
RUNS = JOBS + "/monthly-statements/runs"
# What the validator, not a person, would say.
VALIDATOR_PHRASES = re.compile(
    r"should have at least|should match pattern|input should be|validation|field required"
    r"|value error|assertion failed|type=|pydantic|union_tag|extra inputs|object has no",
    re.IGNORECASE,
)


def definition(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEMO_DEFINITION)
    data["code"] = "new-statements"
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is DELETE:
            del node[leaf]
        elif leaf.isdigit():
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return data


DELETE = object()
WEBHOOK = {"kind": "webhook", "url": "https://example.com/hook"}
# error type → a definition that triggers it, and the field it is reported on
BAD_DEFINITIONS = {
    "missing": (definition(code=DELETE), "code"),
    "string_too_short": (definition(name=""), "name"),
    "string_too_long": (definition(name="x" * 201), "name"),
    "string_pattern_mismatch": (definition(code="Bad Code"), "code"),
    "string_type": (definition(name=5), "name"),
    "too_short": (definition(reports=[]), "reports"),
    "list_type": (definition(reports={}), "reports"),
    "model_type": (definition(reports=["customer-statement"]), "reports.0"),
    "dict_type": (definition(reports__0__bindings=[]), "reports.0.bindings"),
    "bool_parsing": (definition(scheduled="maybe"), "scheduled"),
    "int_parsing": (definition(misfire_grace_seconds="an hour"), "misfire_grace_seconds"),
    "greater_than_equal": (definition(misfire_grace_seconds=-5), "misfire_grace_seconds"),
    "literal_error": (definition(parameters__0__type="text"), "parameters.0.type"),
    "union_tag_invalid": (definition(deliveries=[{"kind": "fax"}]), "deliveries.0"),
    "union_tag_not_found": (definition(deliveries=[{"to": "a@example.com"}]), "deliveries.0"),
    "extra_forbidden": (definition(colour="blue"), "colour"),
    "float_parsing": (
        definition(deliveries=[{**WEBHOOK, "timeout_seconds": "soon"}]),
        "deliveries.0.timeout_seconds",
    ),
    "less_than_equal": (
        definition(deliveries=[{**WEBHOOK, "timeout_seconds": 500}]),
        "deliveries.0.timeout_seconds",
    ),
    "greater_than": (
        definition(deliveries=[{**WEBHOOK, "timeout_seconds": 0}]),
        "deliveries.0.timeout_seconds",
    ),
    "plain union": (
        definition(reports__0__bindings__period={"parameter": "period"}),
        "reports.0.bindings.period",
    ),
    "schedule rule": (definition(schedule={"start": "soon", "trigger": "daily"}), "schedule.start"),
    "value_error": (definition(parameters__0__default="someday"), "parameters.0.default"),
}
BAD_RUN_REQUESTS = {
    "extra_forbidden": ({"parms": {}}, "parms"),
    "dict_type": ({"params": 1}, "params"),
    "missing": ({"webhook": {}}, "webhook.url"),
    "string_type": ({"webhook": {"url": 5}}, "webhook.url"),
    "string_too_long": ({"webhook": {"url": "https://x/" + "a" * 2000}}, "webhook.url"),
    "model_type": ({"webhook": "https://example.com"}, "webhook"),
}


@pytest.fixture
def writer(client, demo) -> Api:
    return Api(client, token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"]))


def details(response) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert not VALIDATOR_PHRASES.search(error["message"]), error["message"]
    return {item["field"]: item["message"] for item in error["details"]["errors"]}


def test_the_examples_of_the_issue_in_the_api(writer):
    found = details(writer.post(JOBS, definition(name="", reports=[], code="Monthly Jobs")))
    assert found["name"] == "Job name is required"
    assert found["reports"] == "Add at least one report"
    assert found["code"].startswith("Code may use lowercase letters, digits and -")


@pytest.mark.parametrize("kind", list(BAD_DEFINITIONS))
def test_no_definition_error_speaks_the_validators_language(writer, app, tmp_path, kind):
    data, field = BAD_DEFINITIONS[kind]
    found = details(writer.post(JOBS, data))
    assert field in found, found
    for message in found.values():
        assert not VALIDATOR_PHRASES.search(message), (kind, message)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(data))
    result = app.test_cli_runner().invoke(args=["jobs", "import", str(path), "--workspace", "demo"])
    assert result.exit_code == 1 and f"  {field}: " in result.output
    assert not VALIDATOR_PHRASES.search(result.output), result.output


@pytest.mark.parametrize("kind", list(BAD_RUN_REQUESTS))
def test_no_run_request_error_speaks_the_validators_language(writer, kind):
    body, field = BAD_RUN_REQUESTS[kind]
    found = details(writer.post(RUNS, body))
    assert field in found, found
    assert not any(VALIDATOR_PHRASES.search(m) for m in found.values()), found


def test_the_run_requests_own_words(writer):
    found = details(writer.post(RUNS, {"parms": {}, "webhook": {}}))
    assert found == {"parms": "Unknown field 'parms'", "webhook.url": "Webhook URL is required"}


def wizard_messages(response) -> list[str]:
    """Every message a wizard step shows: beside the fields and in the summary."""
    text = response.get_data(as_text=True)
    shown = re.findall(r'class="field-error"[^>]*>([^<]*)<', text)
    shown += re.findall(r"<li>(?:<code>[^<]*</code> )?([^<]*)</li>", text)
    return [html.unescape(m) for m in shown]


WIZARD_POSTS = {
    "configuration": {"name": "", "code": "Bad Code"},
    "parameters": {"p-0-name": "1st", "p-0-type": "text", "p-0-default": "x"},
    "reports": {"r-0-template": "customer-statement"},
    "schedule": {
        "start_date": "2026-01-01",
        "trigger": "daily",
        "every": "0",
        "misfire_grace_minutes": "-5",
    },
    "deliveries": {"d-0-kind": "email", "d-1-kind": "webhook", "d-1-timeout_seconds": "soon"},
}


@pytest.mark.parametrize("step", list(WIZARD_POSTS))
def test_no_wizard_error_speaks_the_validators_language(auth, client, demo, step):
    auth.login()
    base = client.get("/w/demo/jobs/new").headers["Location"].rsplit("/", 1)[0]
    page = f"{base}/configuration"
    if step != "configuration":
        ok = {"name": "Words", "code": "", "action": "save"}
        assert auth.post(page, ok, page=page).status_code == 303
    response = auth.post(f"{base}/{step}", {**WIZARD_POSTS[step], "action": "save"}, page=page)
    shown = wizard_messages(response)
    assert response.status_code == 422 and shown
    assert not [m for m in shown if VALIDATOR_PHRASES.search(m)], shown
    if step == "configuration":
        assert "Job name is required" in shown
        assert any(m.startswith("Code may use lowercase letters, digits and -") for m in shown)


def test_json_that_does_not_parse_is_said_so():
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Json[dict]).validate_python("{not json")
    (message,) = field_messages(caught.value).values()
    assert message.startswith("Not valid JSON: ")


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("name", "Job name"),
        ("deliveries.2.subject", "Subject"),
        ("deliveries.0", "Delivery"),
        ("reports.0.bindings.customerId", "Binding"),
        ("webhook.secretConnection", "Webhook secret connection"),
        ("hold_for_review", "Hold for review"),
        ("params.period", "Parameter"),
    ],
)
def test_a_field_is_named_by_its_label(path, label):
    assert field_label(path) == label
