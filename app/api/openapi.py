"""The OpenAPI 3.1 document, generated from the same pydantic models the handlers use."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, render_template
from pydantic import BaseModel

from app.api import schemas as s
from app.api.operations import JOB_ROUTES
from app.api.operations_runs import RUN_ROUTES, RUNS

swagger = Blueprint("swagger", __name__, url_prefix="/swagger")

ROUTES = [*JOB_ROUTES, *RUN_ROUTES]
ERRORS = {
    "400": "Malformed JSON (body_validation_error)",
    "401": "Missing, unknown, revoked or expired token",
    "403": "The token lacks the permission",
    "404": "Not found (or another workspace's)",
    "409": "Conflict with the current state (conflict; details.reason says why)",
    "413": "The request body is larger than HERALD_MAX_REQUEST_BYTES (default 16 MB)",
    "422": "body_validation_error (the body) or validation_error (a query or path "
    "parameter), each problem in details.errors beside its field",
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
TOTAL = {
    "X-Total-Count": {
        "description": "How many items the whole list has (every list answers it)",
        "schema": {"type": "integer", "minimum": 0},
    }
}
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


def operation_id(method: str, path: str) -> str:
    """A stable name for generated clients: the method and the path's words, `one` for a
    trailing id (GET …/jobs/{jobIdOrCode} → get_jobs_one)."""
    parts = path.removeprefix("/api/v1/").removeprefix("ws/{workspaceId}/").split("/")
    words = [p.strip("_").replace("-", "_") for p in parts if not p.startswith("{")]
    if parts[-1].startswith("{"):
        words.append("one")
    return "_".join([method, *words])


@cache
def document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    error_ref = _schema(s.ErrorEnvelope, components)
    paths: dict[str, Any] = {}
    for method, path, summary, permission, params, body, status, response, lists in ROUTES:
        operation: dict[str, Any] = {
            "operationId": operation_id(method, path),
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
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "contentMediaType": "application/pdf",
                    }
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
        if lists:
            operation["responses"][str(status)]["headers"] = TOTAL
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
