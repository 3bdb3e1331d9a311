"""API handlers for jobs and runs: parse, load (token-scoped), call the domain, serialize."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Response, g, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import storage
from app.access import find_job_run, get_delivery, get_entry, get_job
from app.api import bp
from app.api.errors import ApiError, invalid_request
from app.api.schemas import JobRunRequest
from app.api.serializers import (
    entry_out,
    job_summary,
    run_status,
    run_summary,
    temporary_file_out,
)
from app.database import utcnow
from app.errors import NotFound
from app.extensions import db
from app.jobs.schedule import rule_of
from app.jobs.service import export_job, save_job
from app.models import (
    Artifact,
    Entry,
    Job,
    Role,
    Run,
    TemporaryFile,
    Workspace,
)
from app.review.decisions import approve_entries, reject_entries
from app.review.document import request_review_document
from app.review.redeliver import (
    deliver_held_entries,
    retry_delivery,
    retry_failed_deliveries,
)
from app.runs.create import cancel_run, start_run
from app.runs.progress import run_progress
from app.runs.states import BUCKETS, bucket_counts
from app.scheduling import describe, format_instant, preview
from app.tokens import ApiCaller, allows
from app.validation_messages import field_messages

MAX_PER_PAGE = 200


def _caller(ws: str, permission: str) -> ApiCaller:
    """The caller, when the path names its token's workspace (by id or code): 404 otherwise,
    403 without `permission`."""
    caller: ApiCaller = g.api_token
    if ws not in (str(caller.workspace_id), caller.workspace_code):
        raise ApiError(404, "workspace not found")
    if not allows(caller, permission):
        raise ApiError(403, f"this token lacks the {permission} permission")
    return caller


def _workspace(ws: str, permission: str) -> Workspace:
    return _caller(ws, permission).workspace


def _json_body(*, blank_as_empty: bool = False) -> Any:
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


def _body(model: type[BaseModel]) -> Any:
    """The JSON body validated by an API schema; 422 with one error per field."""
    body = _json_body(blank_as_empty=True)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid_request(field_messages(exc, body)) from None


def _page() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("perPage", 50))
    except ValueError:
        raise ApiError(422, "page and perPage must be whole numbers") from None
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(422, f"page ≥ 1 and 1 ≤ perPage ≤ {MAX_PER_PAGE}")
    return page, per_page


def _job(ws: str, job: str, permission: str = "jobs:read") -> tuple[Workspace, Job]:
    workspace = _workspace(ws, permission)
    return workspace, get_job(workspace, job, g.api_token.user)


def _run(ws: str, job: str, run_id: int, permission: str = "jobs:read") -> tuple[Job, Run]:
    # The caller's role was read with its token, so the job and run come in one query.
    return find_job_run(_caller(ws, permission).workspace_id, job, run_id)


@bp.get("/ws/<ws>/jobs")
def list_jobs(ws: str) -> Any:
    workspace = _workspace(ws, "jobs:read")
    jobs = db.session.scalars(select(Job).filter_by(workspace_id=workspace.id).order_by(Job.name))
    return [job_summary(job) for job in jobs]


@bp.post("/ws/<ws>/jobs")
def create_job(ws: str) -> Any:
    workspace = _workspace(ws, "jobs:write")
    data = _json_body()
    if (
        isinstance(data, dict)
        and db.session.scalars(
            select(Job).filter_by(workspace_id=workspace.id, code=data.get("code"))
        ).first()
    ):
        raise ApiError(409, f"a job with code '{data.get('code')}' exists; PUT to change it")
    job = save_job(workspace, g.api_token.user, data)
    return {**job_summary(job), "definition": export_job(job)}, 201


@bp.get("/ws/<ws>/jobs/<job>")
def get_job_definition(ws: str, job: str) -> Any:
    _, found = _job(ws, job)
    return {**job_summary(found), "definition": export_job(found)}


@bp.put("/ws/<ws>/jobs/<job>")
def update_job(ws: str, job: str) -> Any:
    workspace, found = _job(ws, job, "jobs:write")
    saved = save_job(workspace, g.api_token.user, _json_body(), job=found)
    return {**job_summary(saved), "definition": export_job(saved)}


@bp.delete("/ws/<ws>/jobs/<job>")
def delete_job(ws: str, job: str) -> Any:
    _, found = _job(ws, job, "jobs:write")
    db.session.delete(found)
    db.session.commit()
    return Response(status=204)


@bp.get("/ws/<ws>/jobs/<job>/fire-times")
def fire_times(ws: str, job: str) -> Any:
    _, found = _job(ws, job)
    rule = rule_of(found)
    if rule is None:
        raise ApiError(404, "this job has no schedule")
    try:
        count = int(request.args.get("count", 10))
        after_text = request.args.get("after")
        after = datetime.fromisoformat(after_text) if after_text else utcnow()
    except ValueError:
        raise ApiError(422, "count must be a number and after an ISO 8601 instant") from None
    if after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    if not 1 <= count <= 1000:
        raise ApiError(422, "count must be between 1 and 1000")
    return {
        "timezone": rule.timezone,
        "description": describe(rule),
        "fireTimes": [format_instant(t) for t in preview(rule, after, count)],
    }


@bp.post("/ws/<ws>/jobs/<job>/runs")
def start_job_run(ws: str, job: str) -> Any:
    _, found = _job(ws, job, "jobs:write")
    body = _body(JobRunRequest)
    run = start_run(
        found,
        g.api_token.user,
        trigger="api",
        params=body.params,
        data=body.data,
        notify_url=body.webhook.url if body.webhook else None,
        notify_connection=body.webhook.secretConnection if body.webhook else None,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return {"jobRunId": run.id}


@bp.get("/ws/<ws>/jobs/<job>/runs")
def list_runs(ws: str, job: str) -> Any:
    _, found = _job(ws, job)
    page, per_page = _page()
    query = select(Run).filter_by(job_id=found.id)
    if status := request.args.get("status"):
        query = query.filter_by(status=status)
    total = db.session.scalar(select(db.func.count()).select_from(query.subquery()))
    runs = db.session.scalars(
        query.order_by(Run.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return {
        "page": page,
        "perPage": per_page,
        "total": total,
        "items": [run_summary(run) for run in runs],
    }


@bp.get("/ws/<ws>/jobs/<job>/runs/<int:run_id>")
def get_run_detail(ws: str, job: str, run_id: int) -> Any:
    found, run = _run(ws, job, run_id)
    page, per_page = _page()
    query = select(Entry).filter_by(run_id=run.id)
    bucket = request.args.get("bucket")
    if bucket:
        if bucket not in BUCKETS:
            raise ApiError(422, f"bucket must be one of {', '.join(BUCKETS)}")
        query = query.where(Entry.status.in_([s.value for s in BUCKETS[bucket]]))
    total = db.session.scalar(select(db.func.count()).select_from(query.subquery()))
    entries = db.session.scalars(
        query.options(selectinload(Entry.artifacts), selectinload(Entry.deliveries))
        .order_by(Entry.seq)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return {
        **run_summary(run, bucket_counts(run.id)),
        "entriesPage": {"page": page, "perPage": per_page, "total": total},
        "entryItems": [entry_out(e, g.api_token.workspace_code, found.code) for e in entries],
    }


@bp.get("/ws/<ws>/jobs/<job>/runs/<int:run_id>/status")
def get_run_status(ws: str, job: str, run_id: int) -> Any:
    progress = run_progress(_caller(ws, "jobs:read").workspace_id, job, run_id)
    return run_status(progress, progress.counts)


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/generate-review-document")
def generate_review_document(ws: str, job: str, run_id: int) -> Any:
    found, run = _run(ws, job, run_id, "jobs:write")
    workspace = g.api_token.workspace
    ids = db.session.scalars(select(Entry.id).filter_by(run_id=run.id)).all()
    file = request_review_document(workspace, g.api_token.user, ids, f"{found.name}: run {run.id}")
    return {"temporaryFileId": file.id}, 202


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/deliver")
def deliver_run(ws: str, job: str, run_id: int) -> Any:
    _, run = _run(ws, job, run_id, "jobs:write")
    counts = deliver_held_entries(run, g.api_token.user)
    return {"queued": counts["approved"]}


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/cancel")
def cancel(ws: str, job: str, run_id: int) -> Any:
    _, run = _run(ws, job, run_id, "jobs:write")
    cancelled = cancel_run(run, g.api_token.user)
    db.session.refresh(run)
    return {**run_status(run, bucket_counts(run.id)), "cancelledNow": cancelled}


@bp.post(
    "/ws/<ws>/jobs/<job>/runs/<int:run_id>/entries/<int:entry_id>/<any(approve, reject):action>"
)
def decide_entry(ws: str, job: str, run_id: int, entry_id: int, action: str) -> Any:
    _, run = _run(ws, job, run_id, "jobs:write")
    workspace = g.api_token.workspace
    entry = get_entry(run, entry_id)
    decide = approve_entries if action == "approve" else reject_entries
    outcome = decide(workspace, g.api_token.user, [entry.id])
    if not outcome.decided:
        raise ApiError(409, "this entry is not awaiting review (already decided?)")
    return {"decided": outcome.decided, "alreadyDecided": outcome.already_decided}


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/deliveries/<int:delivery_id>/retry")
def retry(ws: str, job: str, run_id: int, delivery_id: int) -> Any:
    _, run = _run(ws, job, run_id, "jobs:write")
    caller = g.api_token
    of_run, _, delivery = get_delivery(caller.workspace, delivery_id, caller.user, Role.editor)
    if of_run.id != run.id:
        raise NotFound("delivery not found")
    retried = retry_delivery(delivery.id, caller.user)
    return {"id": retried.id, "status": retried.status, "attempts": retried.attempts}


@bp.post("/ws/<ws>/jobs/<job>/runs/<int:run_id>/retry-failed")
def retry_failed(ws: str, job: str, run_id: int) -> Any:
    _, run = _run(ws, job, run_id, "jobs:write")
    return {"retried": retry_failed_deliveries(run, g.api_token.user)}


@bp.get("/ws/<ws>/jobs/<job>/runs/<int:run_id>/entries/<int:entry_id>/artifacts/<int:artifact_id>")
def artifact(ws: str, job: str, run_id: int, entry_id: int, artifact_id: int) -> Any:
    _, run = _run(ws, job, run_id)
    entry = get_entry(run, entry_id)
    found = db.session.get(Artifact, artifact_id)
    if found is None or found.entry_id != entry.id or not found.storage_key:
        raise NotFound("artifact not found")
    return storage.send_stored(found.storage_key, found.filename, found.content_type)


def _temporary_file(ws: str, file_id: str) -> tuple[Workspace, TemporaryFile]:
    workspace = _workspace(ws, "jobs:read")
    file = db.session.get(TemporaryFile, file_id)
    if file is None or file.workspace_id != workspace.id:
        raise NotFound("temporary file not found or expired")
    return workspace, file


@bp.get("/ws/<ws>/temporary-files/<file_id>")
def temporary_file(ws: str, file_id: str) -> Any:
    workspace, file = _temporary_file(ws, file_id)
    return temporary_file_out(file, workspace.code)


@bp.get("/ws/<ws>/temporary-files/<file_id>/download")
def temporary_file_download(ws: str, file_id: str) -> Any:
    _, file = _temporary_file(ws, file_id)
    if file.status != "ready" or not file.storage_key:
        raise ApiError(409, f"the file is {file.status}, not ready")
    return storage.send_stored(file.storage_key, file.filename, "application/pdf")
