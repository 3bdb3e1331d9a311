"""What every API handler shares: the caller from its token, the JSON body, paging, lookups."""

from __future__ import annotations

import json
from typing import Any

from flask import g, request
from pydantic import BaseModel, ValidationError

from app.access import find_job_run, get_job
from app.api.errors import ApiError, invalid_request
from app.models import Job, Run, Workspace
from app.tokens import ApiCaller, allows
from app.validation_messages import field_messages

MAX_PER_PAGE = 200


def caller(ws: str, permission: str) -> ApiCaller:
    """The caller, when the path names its token's workspace (by id or code): 404 otherwise,
    403 without `permission`."""
    found: ApiCaller = g.api_token
    if ws not in (str(found.workspace_id), found.workspace_code):
        raise ApiError(404, "workspace not found")
    if not allows(found, permission):
        raise ApiError(403, f"this token lacks the {permission} permission")
    return found


def workspace(ws: str, permission: str) -> Workspace:
    """The token's workspace, named by the path (see `caller`)."""
    return caller(ws, permission).workspace


def json_body(*, blank_as_empty: bool = False) -> Any:
    """The request's JSON body (an empty body reads as {}); 415 / 400 envelopes otherwise."""
    if request.content_length and not request.is_json:
        raise ApiError(415, "send the body as application/json")
    raw = request.get_data(cache=True)
    if blank_as_empty and not raw.strip():
        return {}
    try:
        return json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"malformed JSON: {exc}") from None


def body(model: type[BaseModel]) -> Any:
    """The JSON body validated by an API schema; 422 with one error per field."""
    data = json_body(blank_as_empty=True)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_request(field_messages(exc, data)) from None


def page_args() -> tuple[int, int]:
    """(page, perPage) from the query string: page ≥ 1, 1 ≤ perPage ≤ MAX_PER_PAGE; 422."""
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("perPage", 50))
    except ValueError:
        raise ApiError(422, "page and perPage must be whole numbers") from None
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(422, f"page ≥ 1 and 1 ≤ perPage ≤ {MAX_PER_PAGE}")
    return page, per_page


def page_out(found: Any, items: list[Any]) -> dict[str, Any]:
    """A page of a list as the API answers it."""
    return {"page": found.page, "perPage": found.per_page, "total": found.total, "items": items}


def job_of(ws: str, job: str, permission: str = "jobs:read") -> tuple[Workspace, Job]:
    """The workspace and its job named by the path; 404 / 403 envelopes."""
    found = workspace(ws, permission)
    return found, get_job(found, job, g.api_token.user)


def run_of(ws: str, job: str, run_id: int, permission: str = "jobs:read") -> tuple[Job, Run]:
    """The job and its run named by the path; 404 / 403 envelopes."""
    # The caller's role was read with its token, so the job and run come in one query.
    return find_job_run(caller(ws, permission).workspace_id, job, run_id)
