"""Request and response bodies of the JSON API; the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CompletionWebhook(Model):
    """POST {event: "run.finished", jobRunId, status, …} to `url` once the run ends; signed
    (X-Herald-Signature) with the secret of the workspace's webhook connection, if named."""

    url: str = Field(max_length=2000)
    secretConnection: str | None = None
    # Sent with the POST (e.g. the receiver's own Authorization); stored encrypted and never
    # shown back. Herald's own headers (X-Herald-*, Content-Type, …) cannot be replaced.
    headers: dict[str, str] | None = Field(default=None, max_length=20)


class JobRunRequest(Model):
    """Start a run: parameter overrides for this run only, and free-form data.

    Each parameter value may be at most HERALD_MAX_PARAMETER_BYTES (default 4 KB) and `data`
    at most HERALD_MAX_DATA_BYTES (default 64 KB) as compact JSON; larger is a 422 naming the
    field and the limit."""

    params: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    webhook: CompletionWebhook | None = None
    # The Idempotency-Key header's value, for clients that cannot set headers; when both
    # are sent they must be equal.
    idempotencyKey: str | None = Field(default=None, min_length=1, max_length=200)


class JobRunCreated(Model):
    """Seed 000's jobRunId (poll its status) and seed 003's first look at the run."""

    jobRunId: int
    status: Literal["queued", "running"]
    stage: str
    estimatedWaitSec: int | None


class JobSummary(Model):
    id: int
    code: str
    name: str
    description: str
    scheduled: bool
    holdForReview: bool
    nextRunAt: str | None
    lastRunAt: str | None
    lastRunStatus: str | None
    # Why the latest run went wrong: its error, or the first failed entry's; null if none.
    lastErrorMessage: str | None


class JobDetail(JobSummary):
    """A job with its whole definition (the body POST …/jobs takes)."""

    definition: dict[str, Any]


class BucketCounts(Model):
    queued: int
    completed: int
    errors: int
    review: int


class JobRunStatus(Model):
    """Poll until `finished` is true."""

    finished: bool
    entries: int
    status: BucketCounts
    runStatus: Literal["pending", "preparing", "running", "finished", "failed", "cancelled"]
    stage: Literal[
        "queued",
        "waiting_for_queue",
        "preparing",
        "generating",
        "awaiting_review",
        "done",
        "failed",
        "cancelled",
    ]
    estimatedWaitSec: int | None
    cancelled: int
    error: str | None


class RunSummary(Model):
    id: int
    jobId: int
    trigger: str
    runStatus: str
    createdAt: str
    finishedAt: str | None
    scheduledFor: str | None
    entries: int
    status: BucketCounts
    cancelled: int  # entries in no bucket
    params: dict[str, Any] | None
    error: str | None


class ReportOut(Model):
    id: int
    reportCode: str
    filename: str
    contentType: str
    size: int
    status: Literal["generated", "failed"]
    error: str | None
    downloadUrl: str | None


class RecipientOut(Model):
    address: str
    status: Literal["accepted", "deferred", "refused", "uncertain"]
    reply: str


class DeliveryOut(Model):
    id: int
    kind: str
    # partial: some recipients accepted it, others refused; uncertain: possibly delivered
    # (connection lost before the channel's answer), not resent automatically.
    status: Literal["pending", "sending", "sent", "skipped", "failed", "partial", "uncertain"]
    attempts: int
    lastError: str | None
    sentAt: str | None
    # Email: each envelope recipient's outcome, e.g.
    # {"address": "a@example.com", "status": "refused", "reply": "550 5.1.1 no such user"};
    # status is accepted | deferred | refused | uncertain. Empty for other channels.
    recipients: list[RecipientOut] = []
    # When a pending delivery is attempted next (retry, Retry-After or rate limit), UTC.
    nextAttemptAt: str | None = None
    # Why a pending delivery waits without an error, e.g. "rate limit 30/min" (the SMTP
    # connection's Max messages per minute, shared by every worker); null when it does not.
    waiting: str | None = None


class NarrativeReportOut(Model):
    report: str
    promptChars: int
    responseChars: int
    truncated: bool
    ok: bool


class NarrativeOut(Model):
    """The written summary (docs/SUMMARY.md): its text ("" when none could be written) and,
    per report that asked for one, the characters sent and received."""

    text: str
    reports: list[NarrativeReportOut]


class EntryOut(Model):
    id: int
    seq: int
    status: str
    row: dict[str, Any] | None
    error: str | None
    # Problems that did not stop the entry, e.g. "report: 1 character could not be drawn: …".
    warnings: list[str]
    # None when no report of the entry asks for a written summary.
    narrative: NarrativeOut | None = None
    reviewDecision: str | None
    reports: list[ReportOut]
    deliveries: list[DeliveryOut]


class Page(Model):
    page: int
    perPage: int
    total: int


class RunPage(Page):
    """Runs `start`.. of `total` (also in X-Total-Count); `page`/`perPage` name the same window."""

    start: int
    limit: int
    items: list[RunSummary]


class RunDetail(RunSummary):
    entriesPage: Page
    entryItems: list[EntryOut]


class DraftChange(BaseModel):
    """Fields of a job definition (POST …/jobs' names) to change in the draft; each wizard
    step they touch is checked as the wizard checks it. Unknown fields are refused."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})


class TemporaryFileCreated(Model):
    temporaryFileId: str


class TemporaryFileOut(Model):
    id: str
    status: Literal["pending", "ready", "failed"]
    filename: str
    pages: int
    size: int
    error: str | None
    expiresAt: str
    downloadUrl: str | None


class DeliverResult(Model):
    queued: int


class DecisionResult(Model):
    decided: int
    alreadyDecided: int


class ErrorBody(Model):
    code: Literal[
        "validation_error",
        "body_validation_error",
        "unauthorized",
        "forbidden",
        "not_found",
        "method_not_allowed",
        "conflict",
        "payload_too_large",
        "rate_limit_exceeded",
        "internal_error",
        "service_unavailable",
    ]
    message: str
    details: dict[str, Any] | None = None


class ErrorEnvelope(Model):
    error: ErrorBody
    request_id: str
