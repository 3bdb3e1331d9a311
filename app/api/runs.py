"""API handlers for runs: start, list, read with a page of entries, status, and run actions."""

from __future__ import annotations

from typing import Any

from flask import g, request

from app.api.blueprint import bp
from app.api.common import (
    RUN_PATH,
    body,
    caller,
    choice_arg,
    job_of,
    list_args,
    listed,
    page_args,
    run_of,
    text_arg,
)
from app.api.errors import invalid_request
from app.api.schemas import JobRunRequest
from app.api.serializers import entry_out, run_created, run_status, run_summary
from app.review.document import request_review_document
from app.review.redeliver import deliver_held_entries, retry_failed_deliveries
from app.runs.buckets import BUCKETS, bucket_counts
from app.runs.create import cancel_run, start_run
from app.runs.progress import run_progress
from app.runs.queries import (
    ENTRY_SORTS,
    RUN_SORTS,
    entries_page,
    entries_window,
    entry_ids,
    runs_window,
)
from app.runs.states import RunStatus

RUN_STATUSES = [status.value for status in RunStatus]


@bp.post("/ws/<ws>/jobs/<job>/runs")
def start_job_run(ws: str, job: str) -> Any:
    _, found = job_of(ws, job, "jobs:write")
    request_body = body(JobRunRequest)
    key = request.headers.get("Idempotency-Key")
    if key is not None and request_body.idempotencyKey not in (None, key):
        raise invalid_request({"idempotencyKey": "differs from the Idempotency-Key header"})
    run = start_run(
        found,
        g.api_token.user,
        trigger="api",
        params=request_body.params,
        data=request_body.data,
        notify_url=request_body.webhook.url if request_body.webhook else None,
        notify_connection=request_body.webhook.secretConnection if request_body.webhook else None,
        notify_headers=request_body.webhook.headers if request_body.webhook else None,
        idempotency_key=key if key is not None else request_body.idempotencyKey,
    )
    return run_created(run, bucket_counts(run.id))


@bp.get("/ws/<ws>/jobs/<job>/runs")
def list_runs(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job)
    wanted = list_args(RUN_SORTS)
    status = choice_arg("status", RUN_STATUSES)
    runs = runs_window(found_ws.id, wanted, job_id=found.id, status=status)
    # Seed 000's page form too: the page this window starts on.
    page = {"page": runs.start // runs.limit + 1, "perPage": runs.limit}
    return listed(runs, [run_summary(run) for run in runs.items], **page)


@bp.get(RUN_PATH + "/entries")
def list_entries(ws: str, job: str, run_id: int) -> Any:
    found, run = run_of(ws, job, run_id)
    bucket = choice_arg("bucket", BUCKETS)
    entries = entries_window(run.id, list_args(ENTRY_SORTS), bucket=bucket)
    code = g.api_token.workspace_code
    return listed(entries, [entry_out(e, code, found.code) for e in entries.items])


@bp.get(RUN_PATH)
def get_run_detail(ws: str, job: str, run_id: int) -> Any:
    found, run = run_of(ws, job, run_id)
    page, per_page = page_args()
    bucket, q = choice_arg("bucket", BUCKETS), text_arg("q")
    entries = entries_page(run.id, bucket=bucket, q=q, page=page, per_page=per_page)
    return {
        **run_summary(run, bucket_counts(run.id)),
        "entriesPage": {"page": page, "perPage": per_page, "total": entries.total},
        "entryItems": [entry_out(e, g.api_token.workspace_code, found.code) for e in entries.items],
    }


@bp.get(RUN_PATH + "/status")
def get_run_status(ws: str, job: str, run_id: int) -> Any:
    progress = run_progress(caller(ws, "jobs:read").workspace_id, job, run_id)
    return run_status(progress, progress.counts)


@bp.post(RUN_PATH + "/generate-review-document")
def generate_review_document(ws: str, job: str, run_id: int) -> Any:
    found, run = run_of(ws, job, run_id, "jobs:write")
    file = request_review_document(
        g.api_token.workspace, g.api_token.user, entry_ids(run.id), f"{found.name}: run {run.id}"
    )
    return {"temporaryFileId": file.id}, 202


@bp.post(RUN_PATH + "/deliver")
def deliver_run(ws: str, job: str, run_id: int) -> Any:
    _, run = run_of(ws, job, run_id, "jobs:write")
    counts = deliver_held_entries(run, g.api_token.user)
    return {"queued": counts["approved"]}


@bp.post(RUN_PATH + "/cancel")
def cancel(ws: str, job: str, run_id: int) -> Any:
    _, run = run_of(ws, job, run_id, "jobs:write")
    cancelled = cancel_run(run, g.api_token.user)
    return {**run_status(run, bucket_counts(run.id)), "cancelledNow": cancelled}


@bp.post(RUN_PATH + "/retry-failed")
def retry_failed(ws: str, job: str, run_id: int) -> Any:
    _, run = run_of(ws, job, run_id, "jobs:write")
    return {"retried": retry_failed_deliveries(run, g.api_token.user)}
