"""What every API handler shares: the caller from its token, the JSON body, paging, lookups."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, g, jsonify, request
from pydantic import BaseModel, ValidationError

from app.access import MAX_ROW_ID, find_job_run, get_job
from app.api.errors import BODY_INVALID, ApiError, invalid_parameter, invalid_request
from app.models import Job, Run, Workspace
from app.pagination import Slice, Window
from app.tokens import ApiCaller, allows
from app.validation_messages import field_messages

MAX_PER_PAGE = 200
MAX_LIMIT = 200  # rows of one list answer (seed 002's `limit`; default DEFAULT_LIMIT)
DEFAULT_LIMIT = 30
MAX_START = 10**9  # list offsets beyond this are refused: the database counts in 64 bits
MAX_PAGE = 10**6
MAX_TEXT = 200  # characters of a search or sort parameter
# Path integers by their Flask names, with the names the OpenAPI document gives them.
PATH_IDS = {
    "run_id": "jobRunId",
    "entry_id": "entryId",
    "delivery_id": "deliveryId",
    "artifact_id": "artifactId",
    "report_id": "reportId",
}
TOTAL_HEADER = "X-Total-Count"
# Path ids of any size and sign, so that a bad one is a 422 naming it (check_parameters)
# rather than the routing's 404 (the app's own int converter stops at MAX_ROW_ID).
ANY_INT = "int(signed=True, max=None)"
RUN_PATH = f"/ws/<ws>/jobs/<job>/runs/<{ANY_INT}:run_id>"


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
        raise ApiError(415, "send the body as application/json", code=BODY_INVALID)
    raw = request.get_data(cache=True)
    if blank_as_empty and not raw.strip():
        return {}
    try:
        return json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400,
            f"malformed JSON: {exc}",
            {"errors": [{"field": "", "message": f"malformed JSON: {exc}"}]},
            code=BODY_INVALID,
        ) from None


def body(model: type[BaseModel]) -> Any:
    """The JSON body validated by an API schema; 422 with one error per field."""
    data = json_body(blank_as_empty=True)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_request(field_messages(exc, data)) from None


def check_parameters(view_args: dict[str, Any] | None) -> None:
    """Every path id within 1..MAX_ROW_ID (the database's INTEGER) and no parameter with a NUL
    character (PostgreSQL refuses it in any text): a 422 validation_error naming it."""
    for key, value in (view_args or {}).items():
        if key in PATH_IDS and not 1 <= value <= MAX_ROW_ID:
            raise invalid_parameter(PATH_IDS[key], f"must be between 1 and {MAX_ROW_ID}")
        if isinstance(value, str) and "\x00" in value:
            raise invalid_parameter(key, "must not contain a NUL character")
    for key, value in request.args.items(multi=True):
        if "\x00" in value:
            raise invalid_parameter(key, "must not contain a NUL character")


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole number from the query string within low..high; 422 naming it otherwise."""
    text = request.args.get(name)
    if text is None:  # present but blank is a mistake, not "the default"
        return default
    try:
        value = int(text.strip()) if len(text) <= 20 else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise invalid_parameter(name, f"must be a whole number from {low} to {high}")
    return value


def text_arg(name: str) -> str | None:
    """A text parameter (stripped; None when blank), at most MAX_TEXT characters; 422 beyond."""
    text = request.args.get(name) or ""
    if len(text) > MAX_TEXT:
        raise invalid_parameter(name, f"must be at most {MAX_TEXT} characters")
    return text.strip() or None


def choice_arg(name: str, choices: Any) -> str | None:
    """A parameter that must be one of `choices` when given (blank too); 422 naming it."""
    value = request.args.get(name)
    if value is not None and value not in choices:
        raise invalid_parameter(name, f"must be one of {', '.join(choices)}")
    return value


def page_args() -> tuple[int, int]:
    """(page, perPage) from the query string: 1 ≤ page ≤ MAX_PAGE, 1 ≤ perPage ≤
    MAX_PER_PAGE; a 422 naming the parameter otherwise."""
    return int_arg("page", 1, 1, MAX_PAGE), int_arg("perPage", 50, 1, MAX_PER_PAGE)


def list_args(sorts: Any, default_limit: int = DEFAULT_LIMIT) -> Slice:
    """Seed 002's list parameters: `q`, `sort` (a key of `sorts`, `-key` descending),
    `limit` (1..MAX_LIMIT) and `start` (0..MAX_START). A list that also takes page/perPage
    reads them when neither limit nor start is given. 422 naming the parameter."""
    sort = request.args.get("sort")
    descending = bool(sort and sort.startswith("-"))
    key = sort[1:] if sort and descending else sort
    if key is not None and key not in sorts:
        raise invalid_parameter("sort", f"must be one of {', '.join(sorts)}, or - and one")
    if (
        "limit" not in request.args
        and "start" not in request.args
        and ("page" in request.args or "perPage" in request.args)
    ):
        page, per_page = page_args()
        return Slice(text_arg("q"), key, descending, (page - 1) * per_page, per_page)
    limit = int_arg("limit", default_limit, 1, MAX_LIMIT)
    return Slice(text_arg("q"), key, descending, int_arg("start", 0, 0, MAX_START), limit)


def listed(found: Window, items: list[Any], envelope: bool = True, **extra: Any) -> Response:
    """A list answer: {"total", "start", "limit", "items", **extra} (or the bare array of
    items), with the total also in the X-Total-Count header, the one way every list gives it."""
    response = jsonify(
        {"total": found.total, "start": found.start, "limit": found.limit, "items": items, **extra}
        if envelope
        else items
    )
    response.headers[TOTAL_HEADER] = str(found.total)
    return response


def job_of(ws: str, job: str, permission: str = "jobs:read") -> tuple[Workspace, Job]:
    """The workspace and its job named by the path; 404 / 403 envelopes."""
    found = workspace(ws, permission)
    return found, get_job(found, job, g.api_token.user)


def run_of(ws: str, job: str, run_id: int, permission: str = "jobs:read") -> tuple[Job, Run]:
    """The job and its run named by the path; 404 / 403 envelopes."""
    # The caller's role was read with its token, so the job and run come in one query.
    return find_job_run(caller(ws, permission).workspace_id, job, run_id)
