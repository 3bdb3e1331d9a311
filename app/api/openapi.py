"""The OpenAPI 3.1 document, generated from the same pydantic models the handlers use."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, render_template
from pydantic import BaseModel

from app.api import schemas as s
from app.api.system import SystemStatus
from app.jobs.schema import JobDefinition

swagger = Blueprint("swagger", __name__, url_prefix="/swagger")

WS = {
    "name": "workspaceId",
    "in": "path",
    "required": True,
    "description": "Workspace id or code",
    "schema": {"type": "string"},
}
JOB = {
    "name": "jobIdOrCode",
    "in": "path",
    "required": True,
    "description": "Job id or code",
    "schema": {"type": "string"},
}
RUN = {"name": "jobRunId", "in": "path", "required": True, "schema": {"type": "integer"}}
ENTRY = {"name": "entryId", "in": "path", "required": True, "schema": {"type": "integer"}}
TEMPORARY_FILE = {
    "name": "temporaryFileId",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}
PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "perPage",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
]
JOBS = "/api/v1/ws/{workspaceId}/jobs"
RUNS = JOBS + "/{jobIdOrCode}/runs/{jobRunId}"

# (method, path, summary, permission, parameters, request model, status, response model)
ROUTES: list[tuple[str, str, str, str, list, Any, int, Any]] = [
    ("get", JOBS, "List jobs", "read", [WS], None, 200, list[s.JobSummary]),
    (
        "post",
        JOBS,
        "Create a job from its definition",
        "write",
        [WS],
        JobDefinition,
        201,
        s.JobSummary,
    ),
    (
        "get",
        JOBS + "/{jobIdOrCode}",
        "Get a job and its definition",
        "read",
        [WS, JOB],
        None,
        200,
        s.JobSummary,
    ),
    (
        "put",
        JOBS + "/{jobIdOrCode}",
        "Replace a job's definition",
        "write",
        [WS, JOB],
        JobDefinition,
        200,
        s.JobSummary,
    ),
    ("delete", JOBS + "/{jobIdOrCode}", "Delete a job", "write", [WS, JOB], None, 204, None),
    (
        "get",
        JOBS + "/{jobIdOrCode}/fire-times",
        "Next fire times of the job's schedule",
        "read",
        [
            WS,
            JOB,
            {
                "name": "count",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
            },
            {"name": "after", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        ],
        None,
        200,
        s.FireTimes,
    ),
    (
        "post",
        JOBS + "/{jobIdOrCode}/runs",
        "Start a run",
        "write",
        [
            WS,
            JOB,
            {
                "name": "Idempotency-Key",
                "in": "header",
                "description": "Retry-safe start: the same key and body on this job answer "
                "the same run (kept 24 h by default); another body with the key is a 409.",
                "schema": {"type": "string", "maxLength": 200},
            },
        ],
        s.JobRunRequest,
        200,
        s.JobRunCreated,
    ),
    (
        "get",
        JOBS + "/{jobIdOrCode}/runs",
        "List runs, newest first",
        "read",
        [WS, JOB, *PAGING, {"name": "status", "in": "query", "schema": {"type": "string"}}],
        None,
        200,
        s.RunPage,
    ),
    (
        "get",
        RUNS,
        "A run with a page of its entries",
        "read",
        [
            WS,
            JOB,
            RUN,
            *PAGING,
            {
                "name": "bucket",
                "in": "query",
                "schema": {"type": "string", "enum": ["queued", "completed", "errors", "review"]},
            },
            {
                "name": "q",
                "in": "query",
                "description": "entries with a row value containing this text (any case), "
                "as the run page's search",
                "schema": {"type": "string", "maxLength": 200},
            },
        ],
        None,
        200,
        s.RunDetail,
    ),
    (
        "get",
        RUNS + "/status",
        "Poll a run until finished",
        "read",
        [WS, JOB, RUN],
        None,
        200,
        s.JobRunStatus,
    ),
    (
        "post",
        RUNS + "/generate-review-document",
        "Build one PDF of all entries",
        "write",
        [WS, JOB, RUN],
        None,
        202,
        s.TemporaryFileCreated,
    ),
    (
        "post",
        RUNS + "/deliver",
        "Approve and deliver every entry awaiting review",
        "write",
        [WS, JOB, RUN],
        None,
        200,
        s.DeliverResult,
    ),
    (
        "post",
        RUNS + "/cancel",
        "Cancel what has not started",
        "write",
        [WS, JOB, RUN],
        None,
        200,
        s.JobRunStatus,
    ),
    (
        "post",
        RUNS + "/entries/{entryId}/approve",
        "Approve one held entry",
        "write",
        [WS, JOB, RUN, ENTRY],
        None,
        200,
        s.DecisionResult,
    ),
    (
        "post",
        RUNS + "/entries/{entryId}/reject",
        "Reject one held entry",
        "write",
        [WS, JOB, RUN, ENTRY],
        None,
        200,
        s.DecisionResult,
    ),
    (
        "post",
        RUNS + "/deliveries/{deliveryId}/retry",
        "Retry one failed delivery",
        "write",
        [
            WS,
            JOB,
            RUN,
            {"name": "deliveryId", "in": "path", "required": True, "schema": {"type": "integer"}},
        ],
        None,
        200,
        s.DeliveryOut,
    ),
    (
        "get",
        RUNS + "/entries/{entryId}/artifacts/{artifactId}",
        "Download a report PDF",
        "read",
        [
            WS,
            JOB,
            RUN,
            ENTRY,
            {"name": "artifactId", "in": "path", "required": True, "schema": {"type": "integer"}},
        ],
        None,
        200,
        "pdf",
    ),
    (
        "get",
        "/api/v1/ws/{workspaceId}/temporary-files/{temporaryFileId}",
        "Status of a temporary file",
        "read",
        [WS, TEMPORARY_FILE],
        None,
        200,
        s.TemporaryFileOut,
    ),
    (
        "get",
        "/api/v1/ws/{workspaceId}/temporary-files/{temporaryFileId}/download",
        "Download a ready temporary file",
        "read",
        [WS, TEMPORARY_FILE],
        None,
        200,
        "pdf",
    ),
    ("get", "/api/v1/system", "Workers, queues, the clock", "admin", [], None, 200, SystemStatus),
]
ERRORS = {
    "400": "Malformed JSON",
    "401": "Missing, unknown, revoked or expired token",
    "403": "The token lacks the permission",
    "404": "Not found (or another workspace's)",
    "409": "Conflict",
    "413": "The request body is larger than HERALD_MAX_REQUEST_BYTES (default 16 MB)",
    "422": "Validation error",
    "429": "Rate limit exceeded",
}

# Operations that need the queue at once, with nothing the clock's sweep could pick up later
# (starting a run, delivering and retrying wait in the database instead): while Redis is down
# or loading they answer 503 service_unavailable (app/web/__init__.py, queue_unavailable).
NEEDS_QUEUE = {("post", RUNS + "/generate-review-document")}
UNAVAILABLE = (
    "The work queue (Redis) is unavailable; nothing was created. Try again after Retry-After "
    "seconds, also given as error.details.retry_after."
)
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _schema(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema for a model (or list of one); its definitions go into components."""
    if getattr(model, "__origin__", None) is list:
        return {"type": "array", "items": _schema(model.__args__[0], components)}
    assert isinstance(model, type) and issubclass(model, BaseModel)
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


@cache
def document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    error_ref = _schema(s.ErrorEnvelope, components)
    paths: dict[str, Any] = {}
    for method, path, summary, permission, params, body, status, response in ROUTES:
        operation: dict[str, Any] = {
            "summary": summary,
            "description": "A token of a workspace admin"
            if permission == "admin"
            else f"Permission: Jobs → {permission.title()}",
            "parameters": params,
            "responses": {
                code: {"description": text, "content": {"application/json": {"schema": error_ref}}}
                for code, text in ERRORS.items()
            },
        }
        if (method, path) in NEEDS_QUEUE:
            operation["responses"]["503"] = {
                "description": UNAVAILABLE,
                "headers": RETRY_AFTER,
                "content": {"application/json": {"schema": error_ref}},
            }
        if response == "pdf":
            content = {
                "application/pdf": {
                    "schema": {"type": "string", "contentMediaType": "application/pdf"}
                }
            }
            operation["responses"][str(status)] = {"description": "The PDF", "content": content}
        elif response is None:
            operation["responses"][str(status)] = {"description": "Done"}
        else:
            operation["responses"][str(status)] = {
                "description": "OK",
                "content": {"application/json": {"schema": _schema(response, components)}},
            }
        if body is not None:
            operation["requestBody"] = {
                "required": body is not s.JobRunRequest,
                "content": {"application/json": {"schema": _schema(body, components)}},
            }
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Herald API",
            "version": "1",
            "description": "Report generation jobs: runs, status, review and delivery.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A Personal Access Token",
                }
            },
        },
    }


@swagger.get("/v1/swagger.json")
def swagger_json() -> Any:
    return document()


@swagger.get("/index.html")
def swagger_ui() -> str:
    return render_template("swagger.html")
