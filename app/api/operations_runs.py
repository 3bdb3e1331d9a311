"""The run, review, token, file and system operations of /api/v1 for the OpenAPI document
(the job operations and the helpers are in app/api/operations.py)."""

from __future__ import annotations

from app.api import resources as r
from app.api import schemas as s
from app.api.operations import (
    A_JOB,
    BUCKET,
    ENTRY,
    FILE,
    FILES,
    ID,
    IDEMPOTENCY,
    JOB,
    PAGING,
    RUN,
    TEXT,
    WS,
    Operation,
    listing,
    path,
    query,
)
from app.api.system import SystemStatus
from app.review.queue import REVIEW_SORTS
from app.runs.queries import ENTRY_SORTS, RUN_SORTS
from app.runs.states import RunStatus
from app.tokens import TOKEN_SORTS

RUNS = A_JOB + "/runs/{jobRunId}"


def decision(verb: str) -> Operation:
    """The operation deciding one held entry: `verb` is "approve" or "reject"."""
    return Operation(
        "post",
        f"{RUNS}/entries/{{entryId}}/{verb}",
        f"{verb.capitalize()} one held entry",
        "write",
        [WS, JOB, RUN, ENTRY],
        None,
        200,
        s.DecisionResult,
    )


RUN_ROUTES: list[Operation] = [
    Operation(
        "post",
        A_JOB + "/runs",
        "Start a run",
        "write",
        [WS, JOB, IDEMPOTENCY],
        s.JobRunRequest,
        200,
        s.JobRunCreated,
    ),
    Operation(
        "get",
        A_JOB + "/runs",
        "List runs, newest first",
        "read",
        [
            WS,
            JOB,
            *listing(RUN_SORTS, "runs whose trigger, status or error contains q"),
            *PAGING,
            query("status", {"type": "string", "enum": [x.value for x in RunStatus]}),
        ],
        None,
        200,
        s.RunPage,
        True,
    ),
    Operation(
        "get",
        RUNS,
        "A run with a page of its entries",
        "read",
        [
            WS,
            JOB,
            RUN,
            *PAGING,
            BUCKET,
            query(
                "q",
                TEXT,
                "entries with a row value containing this text (any case)",
            ),
        ],
        None,
        200,
        s.RunDetail,
    ),
    Operation(
        "get",
        RUNS + "/entries",
        "A run's entries",
        "read",
        [WS, JOB, RUN, BUCKET, *listing(ENTRY_SORTS, "entries with a row value containing q")],
        None,
        200,
        r.EntryPage,
        True,
    ),
    Operation(
        "get",
        RUNS + "/status",
        "Poll a run until finished",
        "read",
        [WS, JOB, RUN],
        None,
        200,
        s.JobRunStatus,
    ),
    Operation(
        "post",
        RUNS + "/generate-review-document",
        "Build one PDF of all entries",
        "write",
        [WS, JOB, RUN],
        None,
        202,
        s.TemporaryFileCreated,
    ),
    Operation(
        "post",
        RUNS + "/deliver",
        "Approve and deliver every entry awaiting review",
        "write",
        [WS, JOB, RUN],
        None,
        200,
        s.DeliverResult,
    ),
    Operation(
        "post",
        RUNS + "/cancel",
        "Cancel the run and every unfinished entry, held ones too (409 once ended, none held)",
        "write",
        [WS, JOB, RUN],
        None,
        200,
        s.JobRunStatus,
    ),
    Operation(
        "post",
        RUNS + "/retry-failed",
        "Retry every failed delivery of the run",
        "write",
        [WS, JOB, RUN],
        None,
        200,
        r.RetryResult,
    ),
    *(decision(verb) for verb in ("approve", "reject")),
    Operation(
        "post",
        RUNS + "/deliveries/{deliveryId}/retry",
        "Retry one failed delivery (409 if it is not failed)",
        "write",
        [WS, JOB, RUN, path("deliveryId", ID)],
        None,
        200,
        s.DeliveryOut,
    ),
    Operation(
        "get",
        RUNS + "/entries/{entryId}/artifacts/{artifactId}",
        "Download a report file",
        "read",
        [WS, JOB, RUN, ENTRY, path("artifactId", ID)],
        None,
        200,
        "pdf",
    ),
    Operation(
        "get",
        "/api/v1/ws/{workspaceId}/review",
        "Entries awaiting review, oldest run first",
        "read",
        [
            WS,
            query("job", TEXT, "Only this job's (code)"),
            query("jobRunId", ID, "Only this run's"),
            *listing(REVIEW_SORTS, "entries with a row value containing q"),
        ],
        None,
        200,
        r.ReviewPage,
        True,
    ),
    Operation(
        "get",
        "/api/v1/ws/{workspaceId}/tokens",
        "Your tokens of this workspace, newest first",
        "read",
        [WS, *listing(TOKEN_SORTS, "tokens whose name contains q")],
        None,
        200,
        r.TokenPage,
        True,
    ),
    Operation(
        "get",
        FILES,
        "Status of a temporary file",
        "read",
        [WS, FILE],
        None,
        200,
        s.TemporaryFileOut,
    ),
    Operation(
        "get",
        FILES + "/download",
        "Download a ready temporary file",
        "read",
        [WS, FILE],
        None,
        200,
        "pdf",
    ),
    Operation(
        "get", "/api/v1/system", "Workers, queues, the clock", "admin", [], None, 200, SystemStatus
    ),
]
