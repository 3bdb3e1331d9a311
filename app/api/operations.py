"""Every operation of /api/v1 as the OpenAPI document describes it: path, parameters, bodies.

tests/api/test_document.py fails when a route of the blueprint is missing here."""

from __future__ import annotations

from typing import Any, NamedTuple

from app.access import MAX_ROW_ID
from app.api import resources as r
from app.api import schedule_schemas as fire
from app.api import schemas as s
from app.api.common import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, MAX_PER_PAGE, MAX_START, MAX_TEXT
from app.jobs.schema import JobDefinition
from app.runs.buckets import BUCKETS
from app.runs.queries import REPORT_SORTS


class Operation(NamedTuple):
    method: str
    path: str
    summary: str
    permission: str  # read | write | admin
    parameters: list[dict[str, Any]]
    body: Any  # a pydantic model, or None
    status: int
    response: Any  # a model, list[model], "pdf", or None (no content)
    lists: bool = False  # answers X-Total-Count


def path(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    found = {"name": name, "in": "path", "required": True, "schema": schema}
    return {**found, "description": description} if description else found


def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    found = {"name": name, "in": "query", "schema": schema}
    return {**found, "description": description} if description else found


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
WS = path("workspaceId", {"type": "string"}, "Workspace id or code")
JOB = path("jobIdOrCode", {"type": "string"}, "Job id or code")
RUN = path("jobRunId", ID)
ENTRY = path("entryId", ID)
TEXT = {"type": "string", "maxLength": MAX_TEXT}
PAGING = [
    query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
    query("perPage", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}),
]


def listing(sorts: Any, searches: str) -> list[dict[str, Any]]:
    """Seed 002's list parameters for a list whose sort keys are `sorts`."""
    keys = [*sorts, *(f"-{key}" for key in sorts)]
    return [
        query("q", TEXT, f"Only {searches} (any case)"),
        query("sort", {"type": "string", "enum": keys}, "A field; - before it for descending"),
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
        query("start", {"type": "integer", "minimum": 0, "maximum": MAX_START, "default": 0}),
    ]


JOBS = "/api/v1/ws/{workspaceId}/jobs"
A_JOB = JOBS + "/{jobIdOrCode}"
RUNS = A_JOB + "/runs/{jobRunId}"
FILES = "/api/v1/ws/{workspaceId}/temporary-files/{temporaryFileId}"
FILE = path("temporaryFileId", {"type": "string", "maxLength": 64})
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "Retry-safe start: the same key and body on this job answer the same run "
    "(kept 24 h by default); another body with the key is a 409. May come in the body as "
    "idempotencyKey instead; both, differing, is a 422.",
    "schema": {"type": "string", "maxLength": 200},
}
COUNT_AFTER = [
    query(
        "count", {"type": "integer", "minimum": 1, "maximum": fire.MAX_FIRE_TIMES, "default": 10}
    ),
    query("after", {"type": "string", "format": "date-time"}, "Default: now"),
]
BUCKET = query("bucket", {"type": "string", "enum": list(BUCKETS)})

JOB_ROUTES: list[Operation] = [
    Operation(
        "get",
        JOBS,
        "List jobs (seed 000's array; the total in X-Total-Count)",
        "read",
        [
            WS,
            *listing(
                ["name", "code", "nextRunAt", "lastRunAt"],
                "jobs whose name, code or description contains q",
            ),
        ],
        None,
        200,
        list[s.JobSummary],
        True,
    ),
    Operation(
        "post",
        JOBS,
        "Create a job from its definition",
        "write",
        [WS],
        JobDefinition,
        201,
        s.JobDetail,
    ),
    Operation(
        "get", A_JOB, "Get a job and its definition", "read", [WS, JOB], None, 200, s.JobDetail
    ),
    Operation(
        "put",
        A_JOB,
        "Replace a job's definition",
        "write",
        [WS, JOB],
        JobDefinition,
        200,
        s.JobDetail,
    ),
    Operation(
        "delete",
        A_JOB,
        "Delete a job (409 while runs are in progress)",
        "write",
        [WS, JOB],
        None,
        204,
        None,
    ),
    Operation(
        "post",
        A_JOB + "/_edit",
        "Open (or return) your draft of the job",
        "write",
        [WS, JOB],
        None,
        200,
        r.DraftOut,
    ),
    Operation(
        "put",
        A_JOB + "/_edit",
        "Change definition fields of your draft (checked as the wizard checks them)",
        "write",
        [WS, JOB],
        s.DraftChange,
        200,
        r.DraftOut,
    ),
    Operation(
        "delete", A_JOB + "/_edit", "Discard your draft", "write", [WS, JOB], None, 204, None
    ),
    Operation(
        "post",
        A_JOB + "/_commit",
        "Publish your draft as the job (409 if the job changed since)",
        "write",
        [WS, JOB],
        None,
        200,
        s.JobDetail,
    ),
    Operation(
        "get",
        A_JOB + "/fire-times",
        "Next fire times of the job's schedule",
        "read",
        [WS, JOB, *COUNT_AFTER],
        None,
        200,
        fire.FireTimes,
    ),
    Operation(
        "post",
        "/api/v1/ws/{workspaceId}/fire-times",
        "Fire times of any rule, as `schedule preview` prints them",
        "read",
        [WS],
        fire.FireTimesRequest,
        200,
        fire.FireTimes,
    ),
    Operation(
        "get",
        A_JOB + "/reports",
        "The job's latest reports, newest first",
        "read",
        [WS, JOB, *listing(REPORT_SORTS, "reports whose file name or report code contains q")],
        None,
        200,
        r.ReportPage,
        True,
    ),
    Operation(
        "get",
        "/api/v1/ws/{workspaceId}/reports/{reportId}",
        "A generated report by id",
        "read",
        [WS, path("reportId", ID)],
        None,
        200,
        r.ReportById,
    ),
]
