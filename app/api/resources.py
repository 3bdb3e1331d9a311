"""Response bodies of the API's later resources (#18): lists with totals, the review queue,
tokens, drafts and reports by id. The OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Any

from app.api.schemas import EntryOut, Model


class Window(Model):
    """`items` from offset `start` (at most `limit`) of `total` (also in X-Total-Count)."""

    total: int
    start: int
    limit: int


class FieldProblem(Model):
    field: str
    message: str


class EntryPage(Window):
    items: list[EntryOut]


class JobRef(Model):
    id: int
    code: str
    name: str


class ReviewItem(EntryOut):
    jobRunId: int
    job: JobRef


class ReviewPage(Window):
    items: list[ReviewItem]


class TokenOut(Model):
    """A Personal Access Token as its list shows it; the secret itself is never stored."""

    id: int
    name: str
    prefix: str
    permissions: list[str]
    createdAt: str
    expiresAt: str | None
    lastUsedAt: str | None
    revokedAt: str | None


class TokenPage(Window):
    items: list[TokenOut]


class DraftOut(Model):
    """The caller's draft of a job: `errors` lists what keeps it from being committed."""

    id: int
    jobId: int | None
    definition: dict[str, Any]
    validSteps: list[str]
    errors: list[FieldProblem]
    createdAt: str
    updatedAt: str


class ReportById(Model):
    """Seed 003's report by id; `downloadUrl` is absolute (HERALD_BASE_URL) and, like every
    download, needs a token that may read the workspace; null when no file was stored."""

    id: int
    reportCode: str
    filename: str
    format: str
    contentType: str
    size: int
    status: str
    error: str | None
    createdAt: str
    entryId: int
    jobRunId: int
    job: JobRef
    downloadUrl: str | None


class ReportPage(Window):
    items: list[ReportById]


class RetryResult(Model):
    """How many failed deliveries of the run were queued again."""

    retried: int
