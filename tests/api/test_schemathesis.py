"""Property-based contract test: schemathesis generates requests for every operation of the
served OpenAPI document and runs them against the real app (real database, Redis and token).
Every response must be documented and match its schema; none may be a 500.

A second pass sends what the document forbids (#18 point 7): numbers past their bounds, large
and negative integers, over-long strings, wrong types; each must be refused with a 4xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from tests.helpers import token_for

EXAMPLES_PER_OPERATION = 15
# Conformance, not acceptance: a schema-valid body may still name a template that does not
# exist, and a 422 for it is right.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
NEGATIVE_CHECKS = [checks.not_a_server_error, checks.status_code_conformance]


def run_every_operation(app, mode: GenerationMode, chosen: list) -> int:
    token = token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"])
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/swagger/v1/swagger.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            if "workspaceId" in (case.path_parameters or {}):
                case.path_parameters["workspaceId"] = "demo"
            case.call_and_validate(checks=chosen)

        check()
    return len(operations)


def test_every_operation_honours_the_document(app, demo, work):
    assert run_every_operation(app, GenerationMode.POSITIVE, CHECKS) >= 31


def test_what_the_document_forbids_is_refused_never_a_500(app, demo, work):
    checks = [*NEGATIVE_CHECKS, negative_data_rejection]
    assert run_every_operation(app, GenerationMode.NEGATIVE, checks) >= 31
