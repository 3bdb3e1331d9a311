"""API handlers for runs: start, list, read with a page of entries, status, and run actions."""

from __future__ import annotations

from typing import Any

from flask import g, request

from app.api.blueprint import bp
from app.api.common import body, caller, job_of, page_args, page_out, run_of
from app.api.errors import ApiError
from app.api.schemas import JobRunRequest
from app.api.serializers import entry_out, run_status, run_summary
from app.review.document import request_review_document
from app.review.redeliver import deliver_held_entries, retry_failed_deliveries
from app.runs.buckets import bucket_counts
from app.runs.create import cancel_run, start_run
from app.runs.progress import run_progress
from app.runs.queries import MAX_QUERY, entries_page, entry_ids, runs_page


@bp.post("/ws/<ws>/jobs/<job>/runs")
def start_job_run(ws: str, job: str) -> Any:
    _, found = job_of(ws, job, "jobs:write")
    request_body = body(JobRunRequest)
    run = start_run(
        found,
        g.api_token.user,
        trigger="api",
        params=request_body.params,
        data=request_body.data,
        notify_url=request_body.webhook.url if request_body.webhook else None,
        notify_connection=request_body.webhook.secretConnection if request_body.webhook else None,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return {"jobRunId": run.id}


@bp.get("/ws/<ws>/jobs/<job>/runs")
def list_runs(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job)
    page, per_page = page_args()
    runs = runs_page(
        found_ws.id,
        job_id=found.id,
        status=request.args.get("status"),
        page=page,
        per_page=per_page,
    )
    return page_out(runs, [run_summary(run) for run in runs.items])


@bp.get("/ws/<ws>/jobs/<job>/runs/<int:run_id>")
def get_run_detail(ws: str, job: str, run_id: int) -> Any:
    found, run = run_of(ws, job, run_id)
    page, per_page = page_args()
    q = (request.args.get("q") or "").strip()[:MAX_QUERY] or None
    try:
        entries = entries_page(
            run.id, bucket=request.args.get("bucket"), q=q, page=page, per_page=per_page
        )
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    return {
        **run_summary(run, bucket_counts(run.id)),
        "entriesPage": {"page": page, "perPage": per_page, "total": entries.total},
        "entryItems": [entry_out(e, g.api_token.workspace_code, found.code) for e in entries.items],
    }


@bp.get("/ws/<ws>/jobs/<job>/runs/<int:run_id>/status")
def get_run_status(ws: str, job: str, run_id: int) -> Any:
    progress = run_progress(caller(ws, "jobs:read").workspace_id, job, run_id)
    return run_status(progress, progress.counts)


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/generate-review-document")
def generate_review_document(ws: str, job: str, run_id: int) -> Any:
    found, run = run_of(ws, job, run_id, "jobs:write")
    file = request_review_document(
        g.api_token.workspace, g.api_token.user, entry_ids(run.id), f"{found.name}: run {run.id}"
    )
    return {"temporaryFileId": file.id}, 202


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/deliver")
def deliver_run(ws: str, job: str, run_id: int) -> Any:
    _, run = run_of(ws, job, run_id, "jobs:write")
    counts = deliver_held_entries(run, g.api_token.user)
    return {"queued": counts["approved"]}


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/cancel")
def cancel(ws: str, job: str, run_id: int) -> Any:
    _, run = run_of(ws, job, run_id, "jobs:write")
    cancelled = cancel_run(run, g.api_token.user)
    return {**run_status(run, bucket_counts(run.id)), "cancelledNow": cancelled}


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/retry-failed")
def retry_failed(ws: str, job: str, run_id: int) -> Any:
    _, run = run_of(ws, job, run_id, "jobs:write")
    return {"retried": retry_failed_deliveries(run, g.api_token.user)}
